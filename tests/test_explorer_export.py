"""course_utils.explorer: the decoder file the book's latent explorers load, and the step
that puts it next to the page (_ext/explorer_assets.py)."""
import hashlib
import html
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import explorer, models

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import explorer_assets  # noqa: E402


@pytest.fixture
def vae2():
    torch.manual_seed(0)
    return models.MLPVAE(latent_dim=2)


def _export(model, folder, **kw):
    points = torch.randn(300, model.latent_dim, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(300) % 10
    kw.setdefault("output", "sigmoid")
    return explorer.export(model.decoder, "toy", points=points, labels=labels,
                           folder=folder / "_explorer", **kw)


def test_the_file_is_safetensors_with_shapes_dtypes_and_contiguous_offsets(vae2, tmp_path):
    asset = _export(vae2, tmp_path)
    raw = asset.path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "the header is padded to 8 bytes"
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    assert meta["format"] == "course-explorer" and meta["version"] == "1"
    spans = sorted(tuple(e["data_offsets"]) for e in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(raw) - 8 - n
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "no gaps, no overlaps"
    assert header["layer0.weight"] == {"dtype": "F16", "shape": [400, 2],
                                       "data_offsets": header["layer0.weight"]["data_offsets"]}
    assert header["layer1.weight"]["shape"] == [784, 400]
    assert header["points.z"]["shape"] == [300, 2] and header["points.label"]["dtype"] == "U8"
    description = json.loads(meta["explorer"])
    assert [l["activation"] for l in description["layers"]] == ["relu", None]
    assert description["output"] == "sigmoid" and description["image_shape"] == [1, 28, 28]
    assert asset.nbytes == len(raw) and asset.sha256 == hashlib.sha256(raw).hexdigest()
    assert asset.src == "_explorer/toy.safetensors"


def test_read_asset_returns_the_exported_weights_rounded_to_float16(vae2, tmp_path):
    asset = _export(vae2, tmp_path)
    tensors, _ = explorer.read_asset(asset.path)
    w = vae2.decoder[2].weight.detach()
    assert tensors["layer1.weight"].dtype == np.float16
    assert np.array_equal(tensors["layer1.weight"], w.half().numpy())
    assert not np.array_equal(tensors["layer1.weight"].astype(np.float32), w.numpy())


def test_the_stored_decoder_matches_the_model_within_the_recorded_error(vae2, tmp_path):
    asset = _export(vae2, tmp_path)
    tensors, description = explorer.read_asset(asset.path)
    z = torch.from_numpy(tensors["points.z"].astype(np.float32))
    with torch.no_grad():
        reference = torch.sigmoid(vae2.decode(z))
    stored = explorer.decode(asset.path, z)
    difference = (stored - reference).abs().max().item()
    assert 0 < difference <= asset.max_abs_error <= explorer.F16_TOLERANCE
    assert description["max_abs_error"] == asset.max_abs_error


def test_float16_is_chosen_by_the_measured_error(vae2, tmp_path):
    half = _export(vae2, tmp_path)
    strict = _export(vae2, tmp_path, tolerance=1e-9, max_bytes=2_000_000)  # float16 misses it
    assert (half.dtype, strict.dtype) == ("float16", "float32")
    assert strict.max_abs_error == 0.0 and strict.nbytes > 1.9 * (half.nbytes - 300 * 5)
    tensors, _ = explorer.read_asset(strict.path)
    assert np.array_equal(tensors["layer1.weight"], vae2.decoder[2].weight.detach().numpy())


def test_int16_with_a_scale_per_row_is_the_fallback_when_float16_misses(vae2, tmp_path):
    half = _export(vae2, tmp_path, dtype="float16")
    ints = _export(vae2, tmp_path, dtype="int16")
    assert 0 < ints.max_abs_error < half.max_abs_error, "int16 rows should be finer here"
    between = (ints.max_abs_error + half.max_abs_error) / 2
    auto = _export(vae2, tmp_path, tolerance=between)
    assert auto.dtype == "int16" and auto.max_abs_error == ints.max_abs_error
    assert abs(auto.nbytes - half.nbytes) < 10_000, "both store two bytes per weight"
    tensors, description = explorer.read_asset(auto.path)
    assert tensors["layer1.weight"].dtype == np.int16
    assert description["layers"][1]["weight_scale"] == "layer1.weight_scale"
    w = vae2.decoder[2].weight.detach()
    stored = explorer.load_decoder(auto.path)[0][1]["weight"]
    step = w.abs().amax(dim=1, keepdim=True) / 32767
    assert ((stored - w).abs() <= 0.51 * step).all(), "within half a step (float32 rounding aside)"


def test_an_asset_over_the_size_limit_is_refused_and_not_left_behind(vae2, tmp_path):
    with pytest.raises(ValueError, match=r"over max_bytes=100,000"):
        _export(vae2, tmp_path, max_bytes=100_000)
    assert list((tmp_path / "_explorer").iterdir()) == []


def test_export_writes_one_file_and_leaves_the_random_state_alone(vae2, tmp_path):
    state = torch.random.get_rng_state()
    _export(vae2, tmp_path)
    assert torch.equal(state, torch.random.get_rng_state())
    assert [p.name for p in tmp_path.rglob("*")] == ["_explorer", "toy.safetensors"]


def test_every_activation_and_the_clamp_output_round_trip(tmp_path):
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.Tanh(),
                            nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 3 * 2 * 2))
    asset = explorer.export(decoder, "acts", output="clamp", image_shape=(3, 2, 2),
                            folder=tmp_path, dtype="float32")
    _, description = explorer.read_asset(asset.path)
    assert [l["activation"] for l in description["layers"]] == ["leaky_relu", "tanh",
                                                                "sigmoid", None]
    z = torch.randn(50, 3)
    with torch.no_grad():
        expected = decoder(z).clamp(0, 1).reshape(50, 3, 2, 2)
    assert torch.allclose(explorer.decode(asset.path, z), expected, atol=1e-6)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": "bad name"}, ValueError, "name must be letters"),
    ({"output": "softmax"}, ValueError, "output must be 'sigmoid'"),
    ({"dtype": "int8"}, ValueError, "dtype must be 'auto', 'float16', 'int16'"),
    ({"image_shape": (1, 20, 20)}, ValueError, "784 values per code.*400 pixels"),
    ({"points": torch.zeros(5, 3)}, ValueError, r"points must be \(n, 2\)"),
    ({"points": torch.zeros(5, 2), "labels": torch.zeros(4)}, ValueError, "labels must be 5"),
])
def test_bad_arguments_are_named(vae2, tmp_path, kwargs, error, match):
    args = {"name": "toy", "output": "sigmoid", "folder": tmp_path, **kwargs}
    with pytest.raises(error, match=match):
        explorer.export(vae2.decoder, args.pop("name"), **args)


def test_a_decoder_the_page_cannot_run_is_refused_by_name(tmp_path):
    conv = nn.Sequential(nn.Linear(2, 16), nn.Unflatten(1, (1, 4, 4)),
                         nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1))
    with pytest.raises(TypeError, match="has Unflatten"):
        explorer.export(conv, "conv", output="sigmoid", image_shape=(1, 8, 8), folder=tmp_path)
    with pytest.raises(TypeError, match="decoder must be an nn.Linear or an nn.Sequential"):
        explorer.export(models.MLPVAE(2), "m", output="sigmoid", folder=tmp_path)


def test_a_truncated_or_foreign_file_is_reported(tmp_path):
    (tmp_path / "short.bin").write_bytes(b"abc")
    with pytest.raises(ValueError, match="too short"):
        explorer.read_asset(tmp_path / "short.bin")
    (tmp_path / "long.bin").write_bytes(struct.pack("<Q", 10_000) + b"{}")
    with pytest.raises(ValueError, match="runs past the end"):
        explorer.read_asset(tmp_path / "long.bin")


def test_the_placeholder_names_the_file_and_its_hash_and_says_what_it_is(vae2, tmp_path):
    asset = _export(vae2, tmp_path)
    page = explorer.map_explorer(asset, title="2-D VAE")._repr_html_()
    assert page.startswith('<div class="latent-explorer" data-kind="map"')
    entries = explorer_assets.page_assets(page)
    assert entries == [{"src": asset.src, "sha256": asset.sha256, "title": "2-D VAE"}]
    assert "HTML book" in html.unescape(page) and "latent_explorer" in page


def test_the_map_needs_two_dimensions_and_a_panel_one_latent_size(tmp_path):
    torch.manual_seed(0)
    a2 = explorer.export(models.MLPVAE(2).decoder, "a2", output="sigmoid", folder=tmp_path)
    a3 = explorer.export(models.MLPVAE(3).decoder, "a3", output="sigmoid", folder=tmp_path)
    with pytest.raises(ValueError, match="latent_dim=3. Use traversal_explorer"):
        explorer.map_explorer(a3)
    with pytest.raises(ValueError, match="same latent_dim"):
        explorer.traversal_explorer([a2, a3])
    with pytest.raises(ValueError, match="2 assets but 1 titles"):
        explorer.traversal_explorer([a2, a2], titles=["one"])
    panel = explorer.traversal_explorer([a2, a2], titles=["x", "y"])._repr_html_()
    assert [e["title"] for e in explorer_assets.page_assets(panel)] == ["x", "y"]


# ----------------------------------------------------------------- _ext/explorer_assets.py

def _book(tmp_path, vae2, page_html=None):
    """A source tree with a notebook's exported asset and a built page that names it."""
    src, out = tmp_path / "src", tmp_path / "out"
    asset = explorer.export(vae2.decoder, "ch", output="sigmoid",
                            folder=src / "chapters" / "_explorer")
    (out / "chapters").mkdir(parents=True)
    body = page_html if page_html is not None else explorer.traversal_explorer(asset)._repr_html_()
    (out / "chapters" / "page.html").write_text(f"<html><body>{body}</body></html>")
    (out / "index.html").write_text("<html><body>no explorer</body></html>")
    return src, out, asset


def test_the_build_copies_each_asset_next_to_its_page(vae2, tmp_path):
    src, out, asset = _book(tmp_path, vae2)
    copied, problems = explorer_assets.copy_assets(src, out)
    assert problems == []
    assert copied == [out / "chapters" / "_explorer" / "ch.safetensors"]
    assert copied[0].read_bytes() == asset.path.read_bytes()


def test_the_build_reports_a_missing_or_changed_asset_and_copies_neither(vae2, tmp_path):
    src, out, asset = _book(tmp_path, vae2)
    asset.path.write_bytes(asset.path.read_bytes() + b"x")      # overwritten after the page
    copied, problems = explorer_assets.copy_assets(src, out)
    assert copied == [] and "changed after the page was built" in problems[0]
    asset.path.unlink()
    copied, problems = explorer_assets.copy_assets(src, out)
    assert copied == [] and "was not written" in problems[0]


def test_the_build_refuses_an_asset_outside_the_page_folder(vae2, tmp_path):
    entry = html.escape(json.dumps([{"src": "../secret.bin", "sha256": "0", "title": "x"}]))
    src, out, _ = _book(tmp_path, vae2, f'<div class="latent-explorer" data-kind="map" '
                                        f'data-assets="{entry}"></div>')
    copied, problems = explorer_assets.copy_assets(src, out)
    assert copied == [] and "not inside the page's folder" in problems[0]
