"""Figures used across the course: image grids, latent scatters, training curves.

One look across the course: grey images (``gray_r``: ink is dark), ``tab10`` for the ten
classes, ``viridis`` for continuous values. Every function draws into a Matplotlib axes
(a new figure when ``ax`` is None), titles and labels it, and returns the axes. Nothing is
saved to disk unless the reader asks.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from ._validate import ArgumentTypeError, got, real_number, whole_number

__all__ = ["IMAGE_CMAP", "CLASS_CMAP", "VALUE_CMAP", "make_grid", "show_images",
           "latent_scatter", "plot_history"]

IMAGE_CMAP = "gray_r"
CLASS_CMAP = "tab10"
VALUE_CMAP = "viridis"


def _numpy(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().float().cpu().numpy()
    return np.asarray(t)


def _images_array(images) -> np.ndarray:
    """``images`` as an ``(n, C, H, W)`` float array in [0, 1], or the error saying why not."""
    if not isinstance(images, (torch.Tensor, np.ndarray)):
        raise ArgumentTypeError(f"images must be a tensor or a NumPy array of images, got "
                                f"{got(images)}; stack a list first: torch.stack(images).")
    floating = (images.is_floating_point() if isinstance(images, torch.Tensor)
                else np.issubdtype(images.dtype, np.floating))
    if not floating:
        raise ValueError(f"images must be floating point in [0, 1], got dtype {images.dtype}; "
                         "scale 0..255 pixels first: images.float() / 255.")
    arr = _numpy(images)
    if arr.ndim == 3 and arr.shape[0] == 3:
        raise ValueError(f"images of shape {arr.shape} are ambiguous: one colour image "
                         f"(3, H, W) or three grey images (3, H, W)? Pass images[None] for one "
                         "colour image, or images[:, None] for three grey ones.")
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(f"images must be (n, H, W), (n, 1, H, W) or (n, 3, H, W); got "
                         f"{arr.shape}" + ("; one image needs a batch dimension: images[None]"
                                           if arr.ndim in (2, 3) else "") + ".")
    if arr.shape[0] == 0:
        raise ValueError("make_grid got no images (a batch of size 0); pass at least one.")
    if not np.isfinite(arr).all():
        raise ValueError(f"images hold {int((~np.isfinite(arr)).sum())} NaN or infinite "
                         "value(s); check the model's output.")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        hint = ("these look like logits: pass torch.sigmoid(logits)" if lo < 0.0 else
                "scale 0..255 pixels first: images / 255")
        raise ValueError(f"images must have values in [0, 1], got values from {lo:g} to "
                         f"{hi:g}; {hint}. (Nothing is clipped: a picture of clipped values "
                         "would hide the mistake.)")
    return arr


def make_grid(images, nrow: int = 8, pad: int = 1, pad_value: float = 0.0) -> np.ndarray:
    """Tile images into one array.

    Args:
        images: ``(n, 1, H, W)``, ``(n, H, W)`` or ``(n, 3, H, W)`` with values in [0, 1]
            (a tensor or a NumPy array). One colour image is ``(1, 3, H, W)``: a bare
            ``(3, H, W)`` is refused as ambiguous (one colour or three grey images?).
        nrow: images per row, >= 1; pad: pixels between images, >= 0; pad_value: their value.
    Returns:
        ``(rows*(H+pad)+pad, nrow*(W+pad)+pad)`` for grey images, with a trailing ``3`` for RGB.
    Raises:
        ValueError: any other shape, integer pixels (uint8: divide by 255 first), values
            outside [0, 1] (logits: pass ``torch.sigmoid(logits)``), NaN: nothing is clipped.
    """
    arr = _images_array(images)
    n, c, h, w = arr.shape
    nrow = whole_number("nrow", nrow, what="images per row")
    pad = whole_number("pad", pad, minimum=0, what="pixels between images")
    pad_value = real_number("pad_value", pad_value, what="the value between images")
    ncol = min(nrow, n)
    rows = int(np.ceil(n / ncol))
    grid = np.full((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, dtype=arr.dtype)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top:top + h, left:left + w] = arr[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def show_images(images, nrow: int = 8, title: str | None = None, ax=None, pad_value: float = 0.0):
    """Show a grid of images (values in [0, 1]) with the course's grey colour map.

    ``images`` as for :func:`make_grid` (which raises on logits, uint8 pixels, NaN or an
    ambiguous ``(3, H, W)``; nothing is clipped).
    """
    pad_value = real_number("pad_value", pad_value, minimum=0.0, maximum=1.0,
                            what="the grey level between images")
    grid = make_grid(images, nrow=nrow, pad_value=pad_value)
    if ax is None:
        n = len(images)
        rows = int(np.ceil(n / min(nrow, n)))
        _, ax = plt.subplots(figsize=(min(nrow, n) * 0.6 + 0.4, rows * 0.6 + 0.6))
    if grid.ndim == 2:
        ax.imshow(grid, cmap=IMAGE_CMAP, vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")  # in [0, 1]: make_grid checked
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def latent_scatter(z, labels, ax=None, title: str = "latent space", class_names=None,
                   s: float = 4.0, alpha: float = 0.6):
    """Scatter 2-D codes coloured by class.

    Args:
        z: ``(N, 2)`` codes (only the first two columns are drawn).
        labels: ``(N,)`` integer classes 0..9.
        class_names: legend names (default the class numbers).
    """
    for name, value in (("z", z), ("labels", labels)):
        if not isinstance(value, (torch.Tensor, np.ndarray, list, tuple)):
            raise ArgumentTypeError(f"{name} must be a tensor or an array, got {got(value)}.")
    z, labels = _numpy(z), _numpy(labels)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"z must be (N, 2) or wider, got {z.shape}.")
    if not np.issubdtype(z.dtype, np.number) or not np.isfinite(z).all():
        raise ValueError(f"z must hold finite numbers (N, 2); got dtype {z.dtype}"
                         + (f" with {int((~np.isfinite(z)).sum())} NaN/inf value(s), which "
                            "would be left out of the plot silently"
                            if np.issubdtype(z.dtype, np.number) else "") + ".")
    if labels.shape != (z.shape[0],):
        raise ValueError(f"got {z.shape[0]} codes but {labels.size} labels (shape "
                         f"{labels.shape}); pass one integer class per code.")
    if not np.issubdtype(labels.dtype, np.number) or not np.isfinite(labels).all() \
            or (labels != np.round(labels)).any() or (labels < 0).any():
        raise ValueError(f"labels must be whole class numbers >= 0, got values such as "
                         f"{labels[:5].tolist()}; pass integer classes (y.long()).")
    labels = labels.astype(int)
    if class_names is not None and labels.max() >= len(class_names):
        raise ValueError(f"labels go up to {labels.max()} but class_names has "
                         f"{len(class_names)} names; give one name per class.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    cmap = plt.get_cmap(CLASS_CMAP)
    for k in np.unique(labels):
        m = labels == k
        name = class_names[k] if class_names is not None else str(k)
        ax.scatter(z[m, 0], z[m, 1], s=s, alpha=alpha, color=cmap(k % 10), label=name)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    ax.legend(markerscale=3, fontsize=7, loc="best", frameon=True, ncol=2)
    return ax


def plot_history(history, terms=("loss",), ax=None, title: str = "training curves",
                 unit: str = "nats/image"):
    """Train (solid) and test (dashed) curves of ``history`` (a :class:`course_utils.train.History`).

    ``terms``: the loss terms to draw, a name (``"kl"``) or a sequence of names.
    """
    if not (isinstance(getattr(history, "train", None), dict)
            and isinstance(getattr(history, "test", None), dict)):
        hint = ""
        if isinstance(history, (tuple, list)) and any(hasattr(h, "train") for h in history):
            hint = " (a tuple holding one: unpack it first)"
        raise ArgumentTypeError(f"history must be the History that train.fit returns, got "
                                f"{got(history)}{hint}; e.g. history = train.fit(...); "
                                "viz.plot_history(history).")
    if isinstance(terms, str):
        terms = (terms,)
    if not terms or not all(isinstance(t, str) for t in terms):
        raise ValueError(f"terms must be loss-term names such as ('loss',) or ('recon', 'kl'), "
                         f"got {got(terms)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    for i, term in enumerate(terms):
        color = plt.get_cmap(CLASS_CMAP)(i)
        train = history.train.get(term, [])
        if not train:
            raise KeyError(f"the history has no train values for {term!r}; it has "
                           f"{sorted(history.train)}.")
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, "-o", ms=3, color=color, label=f"train {term}")
        if history.test.get(term):
            ax.plot(epochs, history.test[term], "--s", ms=3, color=color, label=f"test {term}")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
