"""Latent explorers for the HTML book: a trained decoder exported for the page's JavaScript.

A chapter that trains a model calls :func:`export` once: it writes the decoder's weights
(and, for a map, the codes the map plots) into ``_explorer/<name>.safetensors`` next to the
notebook, and returns an :class:`Asset`. :func:`map_explorer` or :func:`traversal_explorer`
then returns the HTML placeholder that the book's script ``_static/latent_explorer.js``
turns into a working explorer: it fetches the file, runs the decoder in the browser
(plain ``Float32Array`` arithmetic) and draws on a ``<canvas>``. The book copies every
``_explorer`` folder next to the built pages (``_ext/explorer_assets.py``). In Jupyter or
Colab the export only writes that one file, and the placeholder shows one line of text; the
live explorer there is the ipywidgets one (``course_utils.widgets``).

The file format is safetensors (https://huggingface.co/docs/safetensors), written here
without the library:

* 8 bytes: ``N``, the header length, unsigned little-endian;
* ``N`` bytes: a UTF-8 JSON object, padded with spaces to a multiple of 8 bytes. Each tensor
  has an entry ``{"dtype": "F16" | "F32" | "I16" | "U8", "shape": [...], "data_offsets": [begin,
  end]}`` (byte offsets into the data that follows, in order, no gaps). ``"__metadata__"``
  maps ``"format"`` to ``"course-explorer"``, ``"version"`` to ``"1"`` and ``"explorer"``
  to a JSON string describing the network (below);
* the data: each tensor row-major (C order), little-endian.

Tensors: ``layer<i>.weight`` ``(out, in)`` and ``layer<i>.bias`` ``(out,)`` for the i-th
linear layer (PyTorch's layout: ``y = W x + b``); int16 weights come with
``layer<i>.weight_scale`` ``(out,)`` float32, and the weight is ``int16 value * scale`` of its
row (computed in float32); for a map, ``points.z`` ``(n, 2)`` and
``points.label`` ``(n,)`` uint8. The ``explorer`` description holds ``latent_dim``,
``image_shape`` ``[C, H, W]``, ``layers`` (one ``{"weight", "bias", "activation"}`` per
linear layer, plus ``"weight_scale"`` for int16 weights; activation ``"relu"``, ``"leaky_relu"`` (with ``"slope"``), ``"tanh"``,
``"sigmoid"`` or ``null``), ``output`` (``"sigmoid"``: the network returns Bernoulli
logits; ``"clamp"``: it returns Gaussian means, shown clipped to [0, 1]), ``dtype`` and
``max_abs_error`` (the largest pixel difference between the stored weights and the trained
model, measured at export), ``box`` (the explorer's range), ``profile`` (the run profile
that trained it), and whatever the chapter adds (``title``, ``extent``,
``kl_per_dim``, ...).

Weights are stored in two bytes each when that changes no decoded pixel by more than
``F16_TOLERANCE`` (measured on the exported points and on seeded codes spread over the
explorer's range): as float16 if it passes, else as int16 with one float32 scale per row
(the same size; a row's typical weights get several times finer steps, since float16
spends five of its bits on an exponent), else as float32. An asset must stay under
``MAX_BYTES``.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .runtime import profile

__all__ = ["ASSET_FOLDER", "F16_TOLERANCE", "MAX_BYTES", "Asset", "decoder_layers", "export",
           "write_asset", "read_asset", "load_decoder", "decode", "map_explorer",
           "traversal_explorer"]

ASSET_FOLDER = "_explorer"
F16_TOLERANCE = 1e-3          # pixel values in [0, 1]
MAX_BYTES = 1_000_000         # per asset, i.e. per decoder a page loads
FORMAT, VERSION = "course-explorer", "1"
OUTPUTS = ("sigmoid", "clamp")
_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "I16": np.dtype("<i2"),
           "U8": np.dtype("u1")}
ENCODINGS = ("float16", "int16", "float32")     # tried in this order by dtype="auto"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Asset:
    """One exported decoder: where it is and what it holds.

    ``src`` is the address the page's script fetches, relative to the page
    (``_explorer/<name>.safetensors``); ``path`` is the file on disk.
    """
    name: str
    path: Path
    src: str
    nbytes: int
    dtype: str               # "float16", "int16" or "float32"
    max_abs_error: float     # largest |pixel difference| to the trained model, [0, 1] scale
    n_probe: int             # codes on which it was measured
    latent_dim: int
    sha256: str

    def __str__(self):
        return (f"{self.src}: {self.nbytes / 1000:.0f} kB, {self.dtype} weights, largest pixel "
                f"difference to the trained decoder {self.max_abs_error:.1e} (on "
                f"{self.n_probe:,} codes)")


# ----------------------------------------------------------------------------- the network

_ACTIVATIONS = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh",
                nn.Sigmoid: "sigmoid"}


def decoder_layers(decoder: nn.Module) -> list[dict]:
    """The linear layers of ``decoder``, each with the activation that follows it.

    decoder: an ``nn.Linear`` or an ``nn.Sequential`` of ``nn.Linear`` layers, each optionally
        followed by ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.Tanh`` or ``nn.Sigmoid`` (the MLP
        decoders of the course: ``model.decoder``).
    Returns ``[{"weight": (out, in) float32 tensor, "bias": (out,), "activation": str | None,
    "slope": float (leaky_relu only)}, ...]`` on the CPU, detached.
    """
    modules = [decoder] if isinstance(decoder, nn.Linear) else None
    if modules is None:
        if not isinstance(decoder, nn.Sequential):
            raise TypeError(f"decoder must be an nn.Linear or an nn.Sequential of linear layers "
                            f"and activations (e.g. model.decoder of an MLPVAE); got "
                            f"{type(decoder).__name__}.")
        modules = list(decoder)
    layers = []
    for module in modules:
        if isinstance(module, nn.Linear):
            bias = module.bias if module.bias is not None else torch.zeros(module.out_features)
            layers.append({"weight": module.weight.detach().float().cpu(),
                           "bias": bias.detach().float().cpu(), "activation": None})
        elif type(module) in _ACTIVATIONS and layers and layers[-1]["activation"] is None:
            layers[-1]["activation"] = _ACTIVATIONS[type(module)]
            if isinstance(module, nn.LeakyReLU):
                layers[-1]["slope"] = float(module.negative_slope)
        else:
            kinds = ", ".join(k.__name__ for k in (nn.Linear, *_ACTIVATIONS))
            raise TypeError(f"the page's decoder runs {kinds} (one activation after each linear "
                            f"layer); the decoder has {type(module).__name__} at this place: "
                            f"{module}. Export an MLP decoder, or extend latent_explorer.js.")
    if not layers:
        raise ValueError("decoder has no linear layer to export.")
    for previous, layer in zip(layers, layers[1:]):
        if layer["weight"].shape[1] != previous["weight"].shape[0]:
            raise ValueError(f"layer sizes do not chain: {tuple(previous['weight'].shape)} "
                             f"then {tuple(layer['weight'].shape)}.")
    return layers


def _run(layers: list[dict], z: torch.Tensor, output: str) -> torch.Tensor:
    """The decoder of ``layers`` at ``z: (n, latent_dim)``: pixels in [0, 1], ``(n, D)``."""
    h = z.float()
    for layer in layers:
        h = h @ layer["weight"].float().T + layer["bias"].float()
        act = layer["activation"]
        if act == "relu":
            h = torch.relu(h)
        elif act == "leaky_relu":
            h = torch.nn.functional.leaky_relu(h, layer.get("slope", 0.01))
        elif act == "tanh":
            h = torch.tanh(h)
        elif act == "sigmoid":
            h = torch.sigmoid(h)
    return torch.sigmoid(h) if output == "sigmoid" else h.clamp(0.0, 1.0)


# ----------------------------------------------------------------------------- the file

def write_asset(path, tensors: dict, description: dict) -> int:
    """Write ``tensors`` (name -> (array, "F16" | "F32" | "I16" | "U8")) and ``description`` to ``path``
    in the format of the module docstring, atomically. Returns the file size in bytes."""
    header, blobs, offset = {}, [], 0
    for name, (array, dtype) in tensors.items():
        if dtype not in _DTYPES:
            raise ValueError(f"dtype of {name!r} must be one of {sorted(_DTYPES)}, got {dtype!r}.")
        data = np.ascontiguousarray(np.asarray(array), dtype=_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(array)),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": FORMAT, "version": VERSION,
                              "explorer": json.dumps(description, separators=(",", ":"))}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    payload = struct.pack("<Q", len(text)) + text + b"".join(blobs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(payload)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(f.name, 0o666 & ~umask)      # as an ordinary file (a temporary file is 0600)
    os.replace(f.name, path)
    return len(payload)


def read_asset(path) -> tuple[dict, dict]:
    """``(tensors, description)`` of an asset file: numpy arrays by name, and the JSON
    description of the network (see the module docstring)."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for an explorer asset.")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file "
                         f"({len(raw)} bytes); the file is truncated or not an explorer asset.")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (metadata format {meta.get('format')!r}).")
    data = raw[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(entry["shape"])
    return tensors, json.loads(meta["explorer"])


def load_decoder(path) -> tuple[list[dict], dict]:
    """The decoder stored in an asset, as ``decoder_layers`` returns it (float32 tensors
    holding exactly the stored values), and its description; see :func:`decode`."""
    tensors, description = read_asset(path)
    layers = []
    for spec in description["layers"]:
        weight = torch.from_numpy(tensors[spec["weight"]].astype(np.float32))
        if "weight_scale" in spec:          # int16 values times their row's scale
            weight = weight * torch.from_numpy(tensors[spec["weight_scale"]].copy())[:, None]
        layer = {"weight": weight,
                 "bias": torch.from_numpy(tensors[spec["bias"]].astype(np.float32)),
                 "activation": spec["activation"]}
        if "slope" in spec:
            layer["slope"] = spec["slope"]
        layers.append(layer)
    return layers, description


def decode(layers_or_path, z, output: str | None = None, image_shape=None) -> torch.Tensor:
    """Pixels in [0, 1] decoded in float32 by the network the page runs, ``(n, C, H, W)``.

    layers_or_path: an asset file (its stored weights, output and image shape are used), or
        ``decoder_layers(...)`` together with ``output`` and ``image_shape``.
    z: ``(n, latent_dim)`` codes.
    """
    if isinstance(layers_or_path, (str, Path)):
        layers, description = load_decoder(layers_or_path)
        output, image_shape = description["output"], description["image_shape"]
    else:
        layers = layers_or_path
    if output not in OUTPUTS or image_shape is None:
        raise ValueError(f"output must be one of {OUTPUTS} and image_shape (C, H, W) given; "
                         f"got output={output!r}, image_shape={image_shape!r}.")
    z = torch.as_tensor(z, dtype=torch.float32)
    with torch.no_grad():
        return _run(layers, z, output).reshape(len(z), *image_shape)


# ----------------------------------------------------------------------------- export

def _int16_rows(weight: torch.Tensor):
    """``weight`` (out, in) as int16 values and one float32 scale per row (max |w| / 32767)."""
    scale = weight.abs().amax(dim=1) / 32767
    scale = torch.where(scale > 0, scale, torch.ones_like(scale)).float()
    values = torch.round(weight / scale[:, None]).clamp(-32767, 32767).to(torch.int16)
    return values, scale


def _encoded(layers: list[dict], encoding: str) -> list[dict]:
    """``layers`` as the page will compute them after storing them as ``encoding``."""
    if encoding == "float32":
        return layers
    if encoding == "float16":
        return [{**l, "weight": l["weight"].half().float(), "bias": l["bias"].half().float()}
                for l in layers]
    out = []
    for l in layers:
        values, scale = _int16_rows(l["weight"])
        out.append({**l, "weight": values.float() * scale[:, None]})
    return out


def _probe_codes(points, latent_dim: int, box: float) -> torch.Tensor:
    """Codes on which the stored weights' error is measured: the points (up to 2,000), 512 prior
    draws and 512 uniform draws in the explorer's box, from a private generator (the
    notebook's random state is left alone)."""
    gen = torch.Generator().manual_seed(0)
    parts = [torch.randn(512, latent_dim, generator=gen),
             (2 * torch.rand(512, latent_dim, generator=gen) - 1) * box]
    if points is not None:
        parts.insert(0, points[:2000])
    return torch.cat(parts)


def export(decoder: nn.Module, name: str, *, output: str, image_shape=(1, 28, 28),
           points=None, labels=None, meta: dict | None = None, folder=ASSET_FOLDER,
           dtype: str = "auto", box: float = 3.0, tolerance: float = F16_TOLERANCE,
           max_bytes: int = MAX_BYTES) -> Asset:
    """Write ``decoder`` (and the codes a map plots) to ``folder/<name>.safetensors``.

    decoder: the decoder network, e.g. ``vae.decoder`` (see :func:`decoder_layers`).
    name: file name without extension, letters, digits, ``_`` and ``-`` (``"ch07_vae2"``).
    output: ``"sigmoid"`` (the decoder returns Bernoulli logits) or ``"clamp"`` (Gaussian
        means, shown clipped to [0, 1]).
    image_shape: ``(C, H, W)`` of the decoded image (C = 1: grey).
    points, labels: ``(n, latent_dim)`` codes and ``(n,)`` integer classes 0..255 to plot.
    meta: JSON-serialisable extras for the page (``title``, ``kl_per_dim``, ...).
    dtype: ``"auto"`` (the first of float16, int16 with a scale per row, float32 whose
        measured error is at most ``tolerance``), or one of ``"float16"``, ``"int16"``,
        ``"float32"``.
    box: the explorer's range, ``[-box, box]`` per coordinate (error probes are drawn there).
    max_bytes: the largest file allowed; a larger one raises ``ValueError``.
    Returns an :class:`Asset`. Writes that one file and nothing else.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be letters, digits, '_' or '-' (e.g. 'ch07_vae2'); "
                         f"got {name!r}.")
    if output not in OUTPUTS:
        raise ValueError(f"output must be 'sigmoid' (Bernoulli logits) or 'clamp' (Gaussian "
                         f"means); got {output!r}.")
    if dtype not in ("auto", *ENCODINGS):
        raise ValueError(f"dtype must be 'auto', 'float16', 'int16' or 'float32'; got {dtype!r}.")
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 3 or image_shape[0] not in (1, 3):
        raise ValueError(f"image_shape must be (C, H, W) with C = 1 or 3; got {image_shape}.")
    layers = decoder_layers(decoder)
    latent_dim = layers[0]["weight"].shape[1]
    n_pixels = int(np.prod(image_shape))
    if layers[-1]["weight"].shape[0] != n_pixels:
        raise ValueError(f"the decoder returns {layers[-1]['weight'].shape[0]} values per code, "
                         f"but image_shape {image_shape} has {n_pixels} pixels.")
    tensors = {}
    if points is not None:
        points = torch.as_tensor(points, dtype=torch.float32).detach().cpu()
        if points.ndim != 2 or points.shape[1] != latent_dim:
            raise ValueError(f"points must be (n, {latent_dim}) codes; got shape "
                             f"{tuple(points.shape)}.")
        tensors["points.z"] = (points.numpy(), "F16")
        if labels is not None:
            labels = torch.as_tensor(labels).detach().cpu().long()
            if labels.shape != (len(points),) or labels.min() < 0 or labels.max() > 255:
                raise ValueError(f"labels must be {len(points)} integers in 0..255 (one per "
                                 f"point); got shape {tuple(labels.shape)}.")
            tensors["points.label"] = (labels.numpy().astype(np.uint8), "U8")

    probe = _probe_codes(points, latent_dim, box)
    reference = _run(layers, probe, output)
    errors = {}
    for encoding in ENCODINGS if dtype == "auto" else (dtype,):
        stored = _run(_encoded(layers, encoding), probe, output)
        errors[encoding] = (stored - reference).abs().max().item()
        if errors[encoding] <= tolerance:
            break
    encoding = encoding if dtype == "auto" else dtype
    error = errors[encoding]

    specs = []
    for i, layer in enumerate(layers):
        weight, bias = layer["weight"].numpy(), layer["bias"].numpy()
        spec = {"weight": f"layer{i}.weight", "bias": f"layer{i}.bias",
                "activation": layer["activation"]}
        if encoding == "int16":
            values, scale = _int16_rows(layer["weight"])
            tensors[f"layer{i}.weight"] = (values.numpy(), "I16")
            tensors[f"layer{i}.weight_scale"] = (scale.numpy(), "F32")
            tensors[f"layer{i}.bias"] = (bias, "F32")
            spec["weight_scale"] = f"layer{i}.weight_scale"
        else:
            code = "F16" if encoding == "float16" else "F32"
            tensors[f"layer{i}.weight"] = (weight, code)
            tensors[f"layer{i}.bias"] = (bias, code)
        if "slope" in layer:
            spec["slope"] = layer["slope"]
        specs.append(spec)
    description = {**(meta or {}), "name": name, "latent_dim": int(latent_dim),
                   "image_shape": list(image_shape), "layers": specs, "output": output,
                   "dtype": encoding, "max_abs_error": error,
                   "box": float(box), "profile": profile()}
    if points is not None:
        description["points"] = "points.z"
        if labels is not None:
            description["labels"] = "points.label"
    path = Path(folder) / f"{name}.safetensors"
    nbytes = write_asset(path, tensors, description)
    if nbytes > max_bytes:
        path.unlink()
        raise ValueError(f"{name}: the asset would be {nbytes:,} bytes, over max_bytes="
                         f"{max_bytes:,} ({encoding} weights; largest pixel error of each "
                         f"encoding tried: {errors}); export fewer points, a smaller decoder, "
                         f"or pass a larger tolerance.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    src = f"{Path(folder).name}/{name}.safetensors" if Path(folder).name else path.name
    return Asset(name=name, path=path, src=src, nbytes=nbytes,
                 dtype=description["dtype"], max_abs_error=error, n_probe=len(probe),
                 latent_dim=int(latent_dim), sha256=digest)


# ----------------------------------------------------------------------------- the page

NOTEBOOK_NOTE = ("The in-page explorer appears here in the HTML book: your browser runs the "
                 "decoder saved in {files}. In a live notebook, use the ipywidgets explorer "
                 "(course_utils.widgets.latent_explorer).")


class _PageExplorer:
    """The placeholder a notebook cell displays; the book's script makes it an explorer."""

    def __init__(self, kind: str, assets: list[dict], note: str):
        self.kind, self.assets, self.note = kind, assets, note

    def _repr_html_(self) -> str:
        data = html.escape(json.dumps(self.assets, separators=(",", ":")), quote=True)
        return (f'<div class="latent-explorer" data-kind="{self.kind}" data-assets="{data}">'
                f'<p class="latent-explorer-note">{html.escape(self.note)}</p></div>')

    def __repr__(self):
        return self.note


def _asset_entries(assets, titles) -> list[dict]:
    if isinstance(assets, Asset):
        assets = [assets]
    assets = list(assets)
    if not assets or not all(isinstance(a, Asset) for a in assets):
        raise TypeError(f"assets must be Asset objects returned by export(); got "
                        f"{[type(a).__name__ for a in assets]}.")
    titles = list(titles) if titles is not None else [a.name for a in assets]
    if len(titles) != len(assets):
        raise ValueError(f"got {len(assets)} assets but {len(titles)} titles; give one title "
                         f"per asset.")
    return [{"src": a.src, "sha256": a.sha256, "title": str(t)} for a, t in zip(assets, titles)]


def map_explorer(asset: Asset, title: str | None = None, note: str | None = None):
    """The 2-D explorer (latent map and decoded image) for ``asset``; display it in a cell.

    ``asset`` must hold a 2-d decoder and the points to plot (``export(..., points=...)``).
    """
    entries = _asset_entries(asset, None if title is None else [title])
    if asset.latent_dim != 2:
        raise ValueError(f"the map explorer shows a 2-d latent space; {asset.name} has "
                         f"latent_dim={asset.latent_dim}. Use traversal_explorer instead.")
    return _PageExplorer("map", entries, note or NOTEBOOK_NOTE.format(files=asset.src))


def traversal_explorer(assets, titles=None, note: str | None = None):
    """One slider per latent dimension, driving every decoder in ``assets`` at once.

    assets: one :class:`Asset` or several with the same ``latent_dim`` (shown side by side).
    titles: one caption per asset (default: the asset names).
    """
    entries = _asset_entries(assets, titles)
    assets = [assets] if isinstance(assets, Asset) else list(assets)
    dims = {a.latent_dim for a in assets}
    if len(dims) != 1:
        raise ValueError(f"the decoders of one traversal panel need the same latent_dim; got "
                         f"{[a.latent_dim for a in assets]}.")
    files = ", ".join(a.src for a in assets)
    return _PageExplorer("traversal", entries, note or NOTEBOOK_NOTE.format(files=files))
