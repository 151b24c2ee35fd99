"""course_utils.models: the MLP autoencoder and the 784-400-20 MLP VAE."""
import pytest
import torch

from course_utils import models


@pytest.fixture
def images():
    return torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))


# --- MLPAutoencoder -------------------------------------------------------------------------

def test_autoencoder_returns_image_shaped_logits_and_codes(images):
    torch.manual_seed(0)
    model = models.MLPAutoencoder(latent_dim=3, hidden_dim=32)
    logits, z = model(images)
    assert logits.shape == (5, 1, 28, 28)
    assert z.shape == (5, 3)
    assert torch.equal(model.encode(images), z)
    assert torch.equal(model.decode(z), logits)


def test_autoencoder_accepts_flattened_images(images):
    model = models.MLPAutoencoder(latent_dim=2, hidden_dim=16)
    logits, z = model(images.view(5, 784))
    torch.testing.assert_close(z, model.encode(images))
    assert logits.shape == (5, 1, 28, 28)


def test_autoencoder_is_deterministic(images):
    model = models.MLPAutoencoder(latent_dim=2, hidden_dim=16)
    a, b = model(images), model(images)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_autoencoder_supports_other_input_shapes():
    model = models.MLPAutoencoder(latent_dim=4, hidden_dim=8, input_shape=(3, 8, 8))
    logits, z = model(torch.rand(2, 3, 8, 8))
    assert logits.shape == (2, 3, 8, 8) and z.shape == (2, 4)


# --- MLPVAE ---------------------------------------------------------------------------------

def test_vae_encode_decode_and_forward_shapes(images):
    model = models.MLPVAE(latent_dim=20)
    mu, logvar = model.encode(images)
    assert mu.shape == logvar.shape == (5, 20)
    assert model.decode(mu).shape == (5, 1, 28, 28)
    logits, mu2, logvar2 = model(images)
    assert logits.shape == (5, 1, 28, 28)
    assert mu2.shape == logvar2.shape == (5, 20)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_vae_forward_samples_z_so_two_passes_differ_but_mu_and_logvar_do_not(images, mode):
    torch.manual_seed(0)
    model = models.MLPVAE(latent_dim=8, hidden_dim=32)
    model.train(mode == "train")
    logits1, mu1, logvar1 = model(images)
    logits2, mu2, logvar2 = model(images)
    assert not torch.allclose(logits1, logits2), "z must be sampled in every forward pass"
    assert torch.equal(mu1, mu2) and torch.equal(logvar1, logvar2)


def test_vae_reparameterize_draws_from_n_mu_sigma_and_is_differentiable():
    torch.manual_seed(0)
    mu = torch.tensor([[2.0, -1.0]]).repeat(100_000, 1).requires_grad_()
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(3.0))]]).repeat(100_000, 1)
    logvar.requires_grad_()
    z = models.MLPVAE.reparameterize(mu, logvar)
    torch.testing.assert_close(z.mean(0), torch.tensor([2.0, -1.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 3.0]), atol=0.05, rtol=0)
    z.sum().backward()
    assert torch.equal(mu.grad, torch.ones_like(mu))
    assert logvar.grad.abs().sum() > 0


def test_vae_sample_returns_probabilities_of_the_right_shape():
    torch.manual_seed(0)
    model = models.MLPVAE(latent_dim=5, hidden_dim=16)
    x = model.sample(7)
    assert x.shape == (7, 1, 28, 28)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert not x.requires_grad


def test_vae_sample_is_reproducible_with_a_generator():
    model = models.MLPVAE(latent_dim=5, hidden_dim=16)
    a = model.sample(4, generator=torch.Generator().manual_seed(1))
    b = model.sample(4, generator=torch.Generator().manual_seed(1))
    c = model.sample(4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_count_parameters_of_the_784_400_20_vae_equals_the_hand_count():
    model = models.MLPVAE(latent_dim=20, hidden_dim=400)
    encoder = 784 * 400 + 400          # x -> hidden
    heads = 2 * (400 * 20 + 20)        # hidden -> mu, hidden -> logvar
    decoder = (20 * 400 + 400) + (400 * 784 + 784)
    assert models.count_parameters(model) == encoder + heads + decoder == 652_824


def test_count_parameters_of_the_autoencoder_equals_the_hand_count():
    model = models.MLPAutoencoder(latent_dim=2, hidden_dim=400)
    expected = (784 * 400 + 400) + (400 * 2 + 2) + (2 * 400 + 400) + (400 * 784 + 784)
    assert models.count_parameters(model) == expected


def test_count_parameters_skips_frozen_parameters():
    model = models.MLPVAE(latent_dim=20, hidden_dim=400)
    total = models.count_parameters(model)
    for p in model.decoder.parameters():
        p.requires_grad_(False)
    assert models.count_parameters(model) == total - ((20 * 400 + 400) + (400 * 784 + 784))


def test_gaussian_vae_base_gives_any_encoder_decoder_the_vae_interface():
    class Tiny(models.GaussianVAE):
        def __init__(self):
            super().__init__()
            self.latent_dim = 3
            self.enc = torch.nn.Linear(4, 6)
            self.dec = torch.nn.Linear(3, 4)

        def encode(self, x):
            mu, logvar = self.enc(x.reshape(len(x), 4)).chunk(2, dim=1)
            return mu, logvar

        def decode(self, z):
            return self.dec(z).view(-1, 1, 2, 2)

    torch.manual_seed(0)
    model = Tiny()
    x = torch.rand(5, 1, 2, 2)
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 1, 2, 2) and mu.shape == logvar.shape == (5, 3)
    assert not torch.equal(model(x)[0], logits)  # z is sampled afresh on every pass
    samples = model.sample(7)
    assert samples.shape == (7, 1, 2, 2) and samples.min() >= 0 and samples.max() <= 1


# --- input checks (issue 8) -----------------------------------------------------------------

@pytest.mark.parametrize("cls", [models.MLPVAE, models.MLPAutoencoder])
@pytest.mark.parametrize("shape", [(4, 1, 32, 32), (4, 3, 28, 28), (4, 1024), (784,),
                                   (4, 28, 28)])
def test_mlp_models_name_the_input_they_expect_for_a_wrong_shape(cls, shape):
    model = cls(latent_dim=2, hidden_dim=8)
    with pytest.raises(ValueError, match=rf"{cls.__name__} expects images \(batch, 1, 28, 28\) "
                                         r"or flat \(batch, 784\); got shape"):
        model(torch.rand(shape))


def test_mlp_vae_rejects_uint8_pixels_saying_how_to_scale():
    with pytest.raises(ValueError, match=r"dtype torch.uint8; scale 0..255 pixels first: "
                                         r"x = x.float\(\) / 255"):
        models.MLPVAE(latent_dim=2, hidden_dim=8)(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


def test_mlp_vae_built_for_rgb_32x32_accepts_those_images():
    model = models.MLPVAE(latent_dim=2, hidden_dim=8, input_shape=(3, 32, 32))
    logits, mu, _ = model(torch.rand(4, 3, 32, 32))
    assert logits.shape == (4, 3, 32, 32) and mu.shape == (4, 2)


def test_eval_mode_switches_to_eval_and_restores_the_previous_mode_even_on_error():
    model = models.MLPVAE(latent_dim=2, hidden_dim=8)
    for before in (True, False):
        model.train(before)
        with models.eval_mode(model):
            assert not model.training
        assert model.training is before
        with pytest.raises(RuntimeError, match="boom"):
            with models.eval_mode(model):
                raise RuntimeError("boom")
        assert model.training is before


def test_reparameterize_with_given_eps_is_mu_plus_sigma_times_eps():
    mu, logvar, eps = torch.randn(3, 2), torch.randn(3, 2), torch.randn(3, 2)
    z = models.GaussianVAE.reparameterize(mu, logvar, eps)
    assert torch.allclose(z, mu + torch.exp(0.5 * logvar) * eps)
