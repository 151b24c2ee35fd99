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

__all__ = ["IMAGE_CMAP", "CLASS_CMAP", "VALUE_CMAP", "make_grid", "show_images",
           "latent_scatter", "plot_history"]

IMAGE_CMAP = "gray_r"
CLASS_CMAP = "tab10"
VALUE_CMAP = "viridis"


def _numpy(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().float().cpu().numpy()
    return np.asarray(t)


def make_grid(images, nrow: int = 8, pad: int = 1, pad_value: float = 0.0) -> np.ndarray:
    """Tile images into one array.

    Args:
        images: ``(n, 1, H, W)``, ``(n, H, W)`` or ``(n, 3, H, W)`` with values in [0, 1].
        nrow: images per row.
    Returns:
        ``(rows*(H+pad)+pad, nrow*(W+pad)+pad)`` for grey images, with a trailing ``3`` for RGB.
    """
    arr = _numpy(images)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(f"images must be (n, H, W), (n, 1, H, W) or (n, 3, H, W); got {arr.shape}.")
    n, c, h, w = arr.shape
    if n == 0:
        raise ValueError("make_grid got no images (a batch of size 0); pass at least one.")
    if nrow < 1:
        raise ValueError(f"nrow (images per row) must be >= 1, got {nrow}.")
    ncol = min(nrow, n)
    rows = int(np.ceil(n / ncol))
    grid = np.full((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, dtype=arr.dtype)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top:top + h, left:left + w] = arr[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def show_images(images, nrow: int = 8, title: str | None = None, ax=None, pad_value: float = 0.0):
    """Show a grid of images (values in [0, 1]) with the course's grey colour map."""
    grid = make_grid(images, nrow=nrow, pad_value=pad_value)
    if ax is None:
        n = len(images)
        rows = int(np.ceil(n / min(nrow, n)))
        _, ax = plt.subplots(figsize=(min(nrow, n) * 0.6 + 0.4, rows * 0.6 + 0.6))
    if grid.ndim == 2:
        ax.imshow(grid, cmap=IMAGE_CMAP, vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(grid, 0, 1), interpolation="nearest")
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
    z, labels = _numpy(z), _numpy(labels).astype(int)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"z must be (N, 2) or wider, got {z.shape}.")
    if labels.shape != (z.shape[0],):
        raise ValueError(f"got {z.shape[0]} codes but {labels.size} labels (shape "
                         f"{labels.shape}); pass one integer class per code.")
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
    """Train (solid) and test (dashed) curves of ``history`` (a :class:`course_utils.train.History`)."""
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
