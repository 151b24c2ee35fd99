"""ConvVAE: shapes, parameter count, and that it plugs into the course's loss and loop."""
import pytest
import torch

from course_utils import data, losses, metrics, models, train


def test_conv_vae_shapes_match_mlp_vae_interface():
    torch.manual_seed(0)
    model = models.ConvVAE(latent_dim=5)
    x = torch.rand(7, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (7, 5)
    assert model.decode(mu).shape == (7, 1, 28, 28)
    logits, mu2, logvar2 = model(x)
    assert logits.shape == x.shape and mu2.shape == (7, 5) and logvar2.shape == (7, 5)
    assert model.latent_dim == 5


def test_conv_vae_accepts_flat_images():
    torch.manual_seed(0)
    model = models.ConvVAE(latent_dim=3)
    x = torch.rand(4, 1, 28, 28)
    mu_img, _ = model.encode(x)
    mu_flat, _ = model.encode(x.reshape(4, 784))
    torch.testing.assert_close(mu_img, mu_flat)


def test_conv_vae_parameter_count_follows_its_layers():
    latent, c1, c2 = 7, 8, 16
    model = models.ConvVAE(latent_dim=latent, channels=(c1, c2))
    features = c2 * 7 * 7
    expected = ((1 * c1 * 16 + c1) + (c1 * c2 * 16 + c2)            # encoder convolutions
                + 2 * (features * latent + latent)                  # mu and logvar heads
                + (latent * features + features)                    # decoder linear
                + (c2 * c1 * 16 + c1) + (c1 * 1 * 16 + 1))          # transposed convolutions
    assert models.count_parameters(model) == expected


def test_conv_vae_handles_other_sizes_and_channels():
    model = models.ConvVAE(latent_dim=4, input_shape=(3, 32, 16))
    x = torch.rand(2, 3, 32, 16)
    logits, mu, _ = model(x)
    assert logits.shape == x.shape and mu.shape == (2, 4)


def test_conv_vae_rejects_sizes_not_divisible_by_four():
    with pytest.raises(ValueError, match="divisible by 4"):
        models.ConvVAE(input_shape=(1, 30, 30))


def test_conv_vae_samples_are_probabilities_and_reproducible():
    torch.manual_seed(0)
    model = models.ConvVAE(latent_dim=4)
    a = model.sample(6, generator=torch.Generator().manual_seed(1))
    b = model.sample(6, generator=torch.Generator().manual_seed(1))
    assert a.shape == (6, 1, 28, 28)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    torch.testing.assert_close(a, b)


def test_conv_vae_forward_samples_z():
    """Two forward passes differ (z is drawn), while encode is deterministic."""
    torch.manual_seed(0)
    model = models.ConvVAE(latent_dim=4)
    x = torch.rand(3, 1, 28, 28)
    assert not torch.equal(model(x)[0], model(x)[0])
    torch.testing.assert_close(model.encode(x)[0], model.encode(x)[0])


def test_conv_vae_trains_with_vae_loss_and_fit():
    torch.manual_seed(0)
    # Two binary templates (a bar and a square), a structure the model can learn quickly.
    templates = torch.zeros(2, 1, 28, 28)
    templates[0, :, 12:16, 2:26] = 1.0
    templates[1, :, 6:22, 6:22] = 1.0
    y = torch.arange(256) % 2
    split = data.Split(templates[y], y)
    model = models.ConvVAE(latent_dim=4, channels=(8, 16))
    before = train.evaluate(model, losses.vae_loss, split)["loss"]
    history = train.fit(model, losses.vae_loss, split, split, epochs=5, batch_size=32,
                        lr=1e-2, device="cpu")
    assert history.last("test", "loss") < 0.5 * before


def test_conv_vae_works_with_iwae_nll():
    torch.manual_seed(0)
    model = models.ConvVAE(latent_dim=3, channels=(4, 8))
    x = torch.rand(5, 1, 28, 28)
    nll = metrics.iwae_nll(model, x, k=4)
    assert nll.shape == (5,)
    assert torch.isfinite(nll).all() and (nll > 0).all()


@pytest.mark.parametrize("shape", [(10, 3, 28, 28), (10, 1, 32, 32), (10, 1568), (10, 28, 28)])
def test_conv_vae_rejects_wrong_sized_input_instead_of_inventing_examples(shape):
    model = models.ConvVAE(latent_dim=5, channels=(4, 8))
    with pytest.raises(ValueError, match=r"ConvVAE expects images \(batch, 1, 28, 28\) or flat "
                                         r"\(batch, 784\); got shape"):
        model.encode(torch.rand(shape))


def test_conv_vae_gives_one_code_per_input_image():
    model = models.ConvVAE(latent_dim=5, channels=(4, 8), input_shape=(3, 28, 28))
    mu, _ = model.encode(torch.rand(10, 3, 28, 28))
    assert mu.shape == (10, 5)
