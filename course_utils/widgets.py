"""Interactive widgets (ipywidgets) for exploring trained models in a live notebook.

Widgets need a running Python kernel: in Jupyter, JupyterLab, VS Code or Colab the sliders
decode a new image on every move. In the static HTML book no Python runs, so a chapter shows
a static figure next to every widget. Nothing here blocks or waits for a front end: a widget
is built, its callbacks are attached with ``observe``, and the first image is drawn at once,
so tests and the book build can construct it without a browser.
"""
from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import torch
from PIL import Image as PILImage

from ._validate import ArgumentTypeError, got, real_number, whole_number

__all__ = ["image_to_png", "LatentExplorer", "latent_explorer"]


def image_to_png(image, scale: int = 4) -> bytes:
    """One grey image as PNG bytes, ink dark (the course's ``gray_r`` look), enlarged.

    Args:
        image: ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)`` values in [0, 1] (tensor or array).
        scale: each pixel becomes a ``scale x scale`` block (nearest neighbour), >= 1.
    Returns:
        PNG-encoded bytes of a ``(H*scale, W*scale)`` 8-bit grey image.
    Raises:
        ValueError: not one grey image, NaN, or values outside [0, 1] (logits: pass
            ``torch.sigmoid``; nothing is clipped).
    """
    if not isinstance(image, (torch.Tensor, np.ndarray)):
        raise ArgumentTypeError(f"image must be a tensor or a NumPy array, got {got(image)}.")
    if isinstance(image, torch.Tensor):
        image = image.detach().float().cpu().numpy()
    arr = np.asarray(image, dtype=np.float64)
    while arr.ndim > 2 and arr.shape[0] == 1:  # drop leading batch / channel axes of size 1
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"expected one grey image, (H, W) or (1, H, W) or (1, 1, H, W); got "
                         f"shape {np.shape(image)}.")
    if not np.isfinite(arr).all():
        raise ValueError("the image contains NaN or infinite values.")
    scale = whole_number("scale", scale, what="screen pixels per image pixel")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"the image must have values in [0, 1], got values from {lo:g} to "
                         f"{hi:g}; decode to probabilities (torch.sigmoid(logits)), not logits. "
                         "Nothing is clipped.")
    ink = np.round(255 * (1 - arr)).astype(np.uint8)
    pil = PILImage.fromarray(ink, mode="L")
    pil = pil.resize((arr.shape[1] * int(scale), arr.shape[0] * int(scale)), PILImage.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def _as_ranges(ranges, latent_dim: int):
    latent_dim = whole_number("latent_dim", latent_dim, what="number of sliders")
    try:
        pairs = np.asarray(ranges, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"ranges must be one (low, high) pair, or one pair per dimension; got "
                         f"{got(ranges)}.") from err
    if pairs.shape == (2,):
        pairs = np.tile(pairs, (int(latent_dim), 1))
    if pairs.shape != (latent_dim, 2):
        raise ValueError(f"ranges must be one (low, high) pair for every dimension, or a list of "
                         f"{latent_dim} such pairs; got shape {np.shape(ranges)}.")
    if not np.isfinite(pairs).all() or not (pairs[:, 0] < pairs[:, 1]).all():
        raise ValueError(f"every range needs low < high; got {pairs.tolist()}.")
    return pairs


class LatentExplorer(widgets.HBox):
    """Sliders for each latent coordinate, and the image decoded from them.

    Built by :func:`latent_explorer`. Attributes: ``sliders`` (one ``FloatSlider`` per latent
    dimension), ``image`` (an ``ipywidgets.Image`` holding PNG bytes) and ``z`` (the current
    code, ``(1, latent_dim)`` float32). Setting a slider's ``value`` in Python redraws the
    image, exactly as dragging it does.
    """

    def __init__(self, decode_fn, latent_dim: int, ranges, step: float, initial, scale: int):
        pairs = _as_ranges(ranges, latent_dim)
        latent_dim = int(latent_dim)
        start = np.zeros(latent_dim) if initial is None else np.asarray(initial, dtype=float)
        if start.shape != (latent_dim,):
            raise ValueError(f"initial must hold {latent_dim} values, got shape {start.shape}.")
        outside = (start < pairs[:, 0]) | (start > pairs[:, 1]) | ~np.isfinite(start)
        if outside.any():
            j = int(np.flatnonzero(outside)[0])
            raise ValueError(f"initial[{j}] = {start[j]:g} lies outside its slider's range "
                             f"[{pairs[j, 0]:g}, {pairs[j, 1]:g}]; start inside the ranges, or "
                             "widen them (ranges=...).")
        step = real_number("step", step, above=0.0, what="slider resolution")
        if step > float((pairs[:, 1] - pairs[:, 0]).min()):
            raise ValueError(f"step={step:g} is wider than the narrowest range; use a step "
                             "smaller than high - low.")
        scale = whole_number("scale", scale, what="screen pixels per image pixel")
        self._decode_fn = decode_fn
        self._scale = scale
        self.sliders = [
            widgets.FloatSlider(value=float(v), min=float(lo), max=float(hi), step=step,
                                description=f"z{j + 1}", continuous_update=True,
                                readout_format=".2f")
            for j, (v, (lo, hi)) in enumerate(zip(start, pairs))]
        self.image = widgets.Image(format="png", width=28 * scale, height=28 * scale)
        self._redraw()  # the first image, drawn now: no front end needed
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        super().__init__([widgets.VBox(self.sliders), self.image])

    @property
    def z(self) -> torch.Tensor:
        """The code the sliders show: ``(1, latent_dim)`` float32."""
        return torch.tensor([[s.value for s in self.sliders]], dtype=torch.float32)

    def _on_change(self, change):
        self._redraw()

    def _redraw(self):
        with torch.no_grad():
            picture = self._decode_fn(self.z)
        png = image_to_png(picture, scale=self._scale)
        self.image.value = png
        shape = np.shape(picture)
        self.image.width, self.image.height = shape[-1] * self._scale, shape[-2] * self._scale


def latent_explorer(decode_fn, latent_dim: int = 2, ranges=(-3.0, 3.0), step: float = 0.05,
                    initial=None, scale: int = 4) -> LatentExplorer:
    """A widget that decodes the latent code set by sliders (a live notebook only).

    Display it as the last expression of a cell. It never blocks: the first image is drawn
    when it is built, and each slider change calls ``decode_fn`` once.

    Args:
        decode_fn: ``decode_fn(z) -> image`` with ``z: (1, latent_dim)`` float32 (CPU) and
            the image ``(1, 1, H, W)``, ``(1, H, W)`` or ``(H, W)`` with values in [0, 1],
            e.g. ``lambda z: torch.sigmoid(model.decode(z.to(device)))``. Called without
            gradients.
        latent_dim: number of sliders.
        ranges: ``(low, high)`` for every slider, or one pair per dimension (in units of the
            prior's standard deviation for a VAE: (-3, 3) covers 99.7 % of N(0, 1)).
        step: slider resolution.
        initial: starting code, ``latent_dim`` values (default zeros, clipped to the ranges).
        scale: display enlargement, pixels per image pixel.
    Returns:
        :class:`LatentExplorer`, an ``ipywidgets.HBox`` with ``.sliders``, ``.image``, ``.z``.
    """
    if not callable(decode_fn):
        raise TypeError(f"decode_fn must be callable, z -> image; got {type(decode_fn).__name__}.")
    return LatentExplorer(decode_fn, latent_dim, ranges, step, initial, scale)
