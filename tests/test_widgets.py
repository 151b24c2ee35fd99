"""The latent explorer widget: builds without a front end, and redraws on slider changes."""
import io

import ipywidgets
import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import widgets


def _decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _bar_decoder(calls):
    """A toy decoder: a bright column whose position follows z1 and whose row follows z2."""
    def decode(z):
        calls.append(z.clone())
        img = torch.zeros(1, 1, 28, 28)
        col = int(round(float(z[0, 0]) * 4)) + 14
        row = int(round(float(z[0, 1]) * 2)) + 14
        img[0, 0, :, col] = 1.0
        img[0, 0, row, :] = 0.5
        return img
    return decode


def test_image_to_png_is_grey_enlarged_and_ink_dark():
    img = torch.zeros(1, 1, 5, 7)
    img[..., 2, 3] = 1.0
    arr = _decoded(widgets.image_to_png(img, scale=3))
    assert arr.shape == (15, 21)
    assert arr[0, 0] == 255                 # background (0) is white
    assert arr[2 * 3 + 1, 3 * 3 + 1] == 0   # full ink (1) is black


def test_image_to_png_rejects_batches_and_nan():
    with pytest.raises(ValueError, match="one grey image"):
        widgets.image_to_png(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="NaN"):
        widgets.image_to_png(torch.full((28, 28), float("nan")))


def test_explorer_draws_first_image_when_built():
    calls = []
    explorer = widgets.latent_explorer(_bar_decoder(calls), latent_dim=2)
    assert isinstance(explorer, ipywidgets.Widget) and len(explorer.sliders) == 2
    assert len(calls) == 1 and torch.equal(calls[0], torch.zeros(1, 2))
    assert _decoded(explorer.image.value).shape == (28 * 4, 28 * 4)


def test_setting_a_slider_redraws_the_image():
    calls = []
    explorer = widgets.latent_explorer(_bar_decoder(calls), latent_dim=2)
    before = explorer.image.value
    explorer.sliders[0].value = 2.0
    assert len(calls) == 2
    torch.testing.assert_close(calls[-1], torch.tensor([[2.0, 0.0]]))
    torch.testing.assert_close(explorer.z, torch.tensor([[2.0, 0.0]]))
    assert explorer.image.value != before
    column = _decoded(explorer.image.value)[0].argmin() // 4   # darkest column, image pixels
    assert column == 14 + 8


def test_explorer_uses_ranges_and_initial_values():
    calls = []
    explorer = widgets.latent_explorer(_bar_decoder(calls), latent_dim=2,
                                       ranges=[(-1, 1), (-2, 5)], initial=[0.5, 4.0])
    assert (explorer.sliders[1].min, explorer.sliders[1].max) == (-2.0, 5.0)
    torch.testing.assert_close(explorer.z, torch.tensor([[0.5, 4.0]]))


def test_explorer_refuses_an_initial_code_outside_the_ranges_instead_of_clipping_it():
    with pytest.raises(ValueError, match=r"initial\[1\] = 9 lies outside its slider's range "
                                         r"\[-2, 5\]"):
        widgets.latent_explorer(_bar_decoder([]), latent_dim=2, ranges=[(-1, 1), (-2, 5)],
                                initial=[0.5, 9.0])


def test_image_to_png_refuses_values_outside_the_unit_range_instead_of_clipping():
    with pytest.raises(ValueError, match=r"values from -3 to 2; decode to probabilities"):
        widgets.image_to_png(torch.linspace(-3, 2, 16).reshape(4, 4))


def test_explorer_rejects_bad_arguments():
    decode = _bar_decoder([])
    with pytest.raises(TypeError, match="callable"):
        widgets.latent_explorer("not a function")
    with pytest.raises(ValueError, match="ranges"):
        widgets.latent_explorer(decode, latent_dim=3, ranges=[(-1, 1), (-1, 1)])
    with pytest.raises(ValueError, match="low < high"):
        widgets.latent_explorer(decode, latent_dim=2, ranges=(1, -1))
    with pytest.raises(ValueError, match="initial"):
        widgets.latent_explorer(decode, latent_dim=2, initial=[0.0])


def test_explorer_displays_without_a_front_end():
    """What a notebook shows: a widget view (plus a text fallback); building it never blocks."""
    explorer = widgets.latent_explorer(_bar_decoder([]), latent_dim=2)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
