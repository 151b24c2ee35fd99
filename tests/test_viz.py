"""course_utils.viz: image grids, latent scatters and training curves."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import train, viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _numbered_images(n, h=3, w=4, c=1):
    """Image i is filled with the value (i + 1) / 100, so its place in a grid can be found."""
    return torch.stack([torch.full((c, h, w), (i + 1) / 100) for i in range(n)])


# --- make_grid ------------------------------------------------------------------------------

def test_make_grid_shape_for_grey_images():
    grid = viz.make_grid(_numbered_images(10), nrow=4, pad=1)
    rows, cols = 3, 4  # 10 images, 4 per row
    assert grid.shape == (rows * (3 + 1) + 1, cols * (4 + 1) + 1)


def test_make_grid_places_each_image_at_its_row_and_column():
    n, h, w, pad = 7, 3, 4, 2
    grid = viz.make_grid(_numbered_images(n, h, w), nrow=3, pad=pad, pad_value=-1.0)
    for i in range(n):
        r, c = divmod(i, 3)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        assert np.all(grid[top:top + h, left:left + w] == np.float32((i + 1) / 100)), i
    # Everything else is padding (including the two empty slots of the last row).
    assert (grid == -1.0).sum() == grid.size - n * h * w


def test_make_grid_accepts_images_without_a_channel_axis_and_numpy_input():
    images = _numbered_images(5)
    expected = viz.make_grid(images, nrow=2)
    np.testing.assert_array_equal(viz.make_grid(images[:, 0], nrow=2), expected)
    np.testing.assert_array_equal(viz.make_grid(images.numpy(), nrow=2), expected)


def test_make_grid_uses_one_row_when_nrow_exceeds_the_number_of_images():
    grid = viz.make_grid(_numbered_images(3), nrow=8, pad=1)
    assert grid.shape == (3 + 2, 3 * (4 + 1) + 1)


def test_make_grid_keeps_rgb_channels_last():
    grid = viz.make_grid(_numbered_images(4, c=3), nrow=2, pad=1)
    assert grid.shape == (2 * 4 + 1, 2 * 5 + 1, 3)


@pytest.mark.parametrize("shape", [(4, 2, 5, 5), (25,), (5, 5), (2, 1, 1, 5, 5)])
def test_make_grid_rejects_bad_shapes_naming_the_expected_ones(shape):
    with pytest.raises(ValueError, match=r"\(n, 1, H, W\)"):
        viz.make_grid(torch.zeros(shape))


def test_make_grid_rejects_an_empty_batch_and_a_bad_nrow():
    with pytest.raises(ValueError, match="no images"):
        viz.make_grid(torch.zeros(0, 1, 28, 28))
    with pytest.raises(ValueError, match="nrow"):
        viz.make_grid(torch.zeros(2, 1, 28, 28), nrow=0)


# --- show_images ----------------------------------------------------------------------------

def test_show_images_draws_the_grid_in_grey_with_a_title_and_no_ticks():
    images = _numbered_images(6, 28, 28)
    ax = viz.show_images(images, nrow=3, title="six digits")
    assert ax.get_title() == "six digits"
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), viz.make_grid(images, nrow=3))
    assert im.get_cmap().name == viz.IMAGE_CMAP
    assert im.get_clim() == (0, 1)


def test_show_images_draws_into_the_given_axes():
    _, (left, right) = plt.subplots(1, 2)
    ax = viz.show_images(_numbered_images(2), ax=right, title="right")
    assert ax is right and right.get_title() == "right" and not left.get_images()


@pytest.mark.parametrize("c", [1, 3])
def test_show_images_refuses_values_outside_the_unit_range_instead_of_clipping(c):
    """Values above 1 used to be clipped (RGB) or saturated (grey) without a word."""
    images = _numbered_images(2, c=c)
    with pytest.raises(ValueError, match=r"values in \[0, 1\], got values from 2 to 4"):
        viz.show_images(images * 200, title="rgb")
    with pytest.raises(ValueError, match=r"look like logits: pass torch.sigmoid\(logits\)"):
        viz.show_images(images * 8 - 4)
    with pytest.raises(ValueError, match=r"got dtype torch.uint8; .*images.float\(\) / 255"):
        viz.show_images((images * 255).to(torch.uint8))


def test_make_grid_refuses_one_bare_colour_image_as_ambiguous():
    """(3, H, W) used to be drawn as three grey panels."""
    image = _numbered_images(1, c=3)[0]
    with pytest.raises(ValueError, match=r"ambiguous.*images\[None\] for one colour image"):
        viz.make_grid(image)
    grid = viz.make_grid(image[None], pad=0)
    assert grid.shape == (3, 4, 3)
    np.testing.assert_array_equal(grid, image.permute(1, 2, 0).numpy())


def test_show_images_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images must be"):
        viz.show_images(torch.zeros(3, 2, 8, 8))


# --- latent_scatter -------------------------------------------------------------------------

def test_latent_scatter_colours_each_class_and_labels_the_axes():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(60, 2, generator=gen)
    y = torch.arange(60) % 3
    names = ["zero", "one", "two"]
    ax = viz.latent_scatter(z, y, title="codes of 60 digits", class_names=names)
    assert ax.get_title() == "codes of 60 digits"
    assert ax.get_xlabel() == "$z_1$" and ax.get_ylabel() == "$z_2$"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == names
    cmap = plt.get_cmap(viz.CLASS_CMAP)
    for k, collection in enumerate(ax.collections):
        np.testing.assert_allclose(collection.get_offsets(), z[y == k].numpy())
        np.testing.assert_allclose(collection.get_facecolor()[0, :3], cmap(k)[:3])


def test_latent_scatter_draws_the_first_two_columns_of_wider_codes():
    z = np.arange(12.0).reshape(4, 3)
    ax = viz.latent_scatter(z, np.zeros(4))
    np.testing.assert_allclose(ax.collections[0].get_offsets(), z[:, :2])
    assert ax.get_title() == "latent space"


@pytest.mark.parametrize("shape", [(10,), (10, 1), (2, 5, 2)])
def test_latent_scatter_rejects_codes_that_are_not_n_by_2(shape):
    with pytest.raises(ValueError, match=r"z must be \(N, 2\)"):
        viz.latent_scatter(np.zeros(shape), np.zeros(10))


def test_latent_scatter_rejects_labels_of_another_length():
    with pytest.raises(ValueError, match="10 codes but 9 labels"):
        viz.latent_scatter(np.zeros((10, 2)), np.zeros(9))


# --- plot_history ---------------------------------------------------------------------------

def _history():
    return train.History(train={"loss": [300.0, 200.0, 150.0], "kl": [5.0, 10.0, 12.0]},
                         test={"loss": [310.0, 210.0, 160.0], "kl": [5.5, 10.5, 12.5]},
                         seconds=[1.0, 1.0, 1.0])


def test_plot_history_draws_train_and_test_curves_per_term_with_labels():
    h = _history()
    ax = viz.plot_history(h, terms=("loss", "kl"), title="MLP VAE")
    assert ax.get_title() == "MLP VAE"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "nats/image"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train loss", "test loss", "train kl", "test kl"}
    np.testing.assert_array_equal(lines["train loss"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["test kl"].get_ydata(), h.test["kl"])
    assert lines["test loss"].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)


def test_plot_history_without_test_values_draws_only_training_and_takes_a_unit():
    h = train.History(train={"loss": [3.0, 2.0]}, seconds=[1.0, 1.0])
    ax = viz.plot_history(h, unit="bits/dim")
    assert [line.get_label() for line in ax.get_lines()] == ["train loss"]
    assert ax.get_ylabel() == "bits/dim"


def test_plot_history_rejects_a_term_that_was_not_recorded():
    with pytest.raises(KeyError, match="no train values for 'recon'"):
        viz.plot_history(_history(), terms=("recon",))
