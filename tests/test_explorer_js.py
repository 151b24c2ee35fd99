"""The page's JavaScript decoder (_static/latent_explorer.js) is the PyTorch model: run under
Node on latent points read from the exported file, it gives PyTorch's pixels to within
1e-3 with float16 weights and 1e-5 with float32 ones, and a broken export is caught.

Node: ``/usr/bin/node`` (or ``$NODE``); without it these tests are skipped, saying so.
"""
import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import data, explorer, losses, models, train

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "_static" / "latent_explorer.js"
NODE = os.environ.get("NODE") or shutil.which("node") or "/usr/bin/node"
TOLERANCE = {"float16": 1e-3, "int16": 1e-3, "float32": 1e-5}
pytestmark = pytest.mark.slow   # runs Node in a subprocess

# Decode every code read from stdin (a JSON list) with the page's decoder; print the pixels
# as base64 float32, so no digit is lost on the way.
RUNNER = r"""
const api = require(process.argv[1]);
const buf = require('fs').readFileSync(process.argv[2]);
const model = api.parseAsset(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const codes = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const n = model.imageShape.reduce((a, b) => a * b, 1);
const out = new Float32Array(codes.length * n);
codes.forEach((z, k) => api.decode(model, z, out.subarray(k * n, (k + 1) * n)));
process.stdout.write(Buffer.from(out.buffer).toString('base64'));
"""


def js_decode(asset_path, z: np.ndarray) -> np.ndarray:
    """Pixels ``(n, C*H*W)`` decoded by latent_explorer.js under Node."""
    if not Path(NODE).exists():
        pytest.skip(f"no Node.js at {NODE} (apt-get install nodejs, or set $NODE)")
    result = subprocess.run([NODE, "-e", RUNNER, str(SCRIPT), str(asset_path)],
                            input=json.dumps(np.asarray(z, dtype=np.float64).tolist()),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return np.frombuffer(base64.b64decode(result.stdout), dtype=np.float32).reshape(len(z), -1)


def assert_js_matches_torch(asset, pixels_fn, tolerance=None):
    """JS on the file's own points (and seeded codes for a file without points) against
    ``pixels_fn(z) -> (n, C*H*W)``, PyTorch's decoder. Returns the largest difference."""
    tensors, description = explorer.read_asset(asset.path)
    if "points.z" in tensors:
        z = tensors["points.z"][:200].astype(np.float32)
    else:
        g = torch.Generator().manual_seed(3)
        z = (torch.randn(100, description["latent_dim"], generator=g) * 1.5).numpy()
    with torch.no_grad():
        expected = pixels_fn(torch.from_numpy(z)).reshape(len(z), -1).numpy()
    difference = float(np.abs(js_decode(asset.path, z) - expected).max())
    limit = TOLERANCE[asset.dtype] if tolerance is None else tolerance
    assert difference <= limit, (f"JS decoder differs from PyTorch by {difference:.2e} "
                                 f"(allowed {limit:.0e}, {asset.dtype} weights)")
    return difference


@pytest.fixture(scope="module")
def trained():
    """A 2-d and a 20-d MLP VAE after a short real training (weights of a trained size)."""
    mnist = data.load_mnist(limit_train=1000, limit_test=200, verbose=False)
    out = {}
    for dim in (2, 20):
        torch.manual_seed(0)
        model = models.MLPVAE(latent_dim=dim)
        train.fit(model, losses.vae_loss, mnist.train, mnist.test, epochs=3, batch_size=64,
                  lr=1e-3, desc=f"{dim}-d", verbose=False)
        out[dim] = model.eval()
        mu, _ = model.encode(mnist.test.x)
        out[f"mu{dim}"] = mu.detach()
        out["labels"] = mnist.test.y
    return out


def _pixels(model):
    return lambda z: torch.sigmoid(model.decode(z))


@pytest.mark.parametrize("dim", [2, 20])
def test_js_equals_pytorch_with_float16_weights(trained, tmp_path, dim):
    model = trained[dim]
    asset = explorer.export(model.decoder, f"v{dim}", output="sigmoid", folder=tmp_path,
                            points=trained[f"mu{dim}"], labels=trained["labels"])
    assert asset.dtype == "float16"
    difference = assert_js_matches_torch(asset, _pixels(model))
    assert difference > 1e-7, "float16 weights should differ a little from the model's"
    print(f"{dim}-d, float16: max |JS - torch| = {difference:.2e}")


@pytest.mark.parametrize("dim", [2, 20])
@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_js_equals_pytorch_with_int16_or_float32_weights(trained, tmp_path, dim, dtype):
    model = trained[dim]
    asset = explorer.export(model.decoder, f"v{dim}", output="sigmoid", folder=tmp_path,
                            points=trained[f"mu{dim}"], dtype=dtype, max_bytes=2_000_000)
    difference = assert_js_matches_torch(asset, _pixels(model))
    print(f"{dim}-d, {dtype}: max |JS - torch| = {difference:.2e}")


def test_js_runs_every_activation_and_the_clamp_output(tmp_path):
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(4, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.Tanh(),
                            nn.Linear(32, 32), nn.Sigmoid(), nn.Linear(32, 3 * 5 * 5))
    for dtype in ("float32", "int16"):
        asset = explorer.export(decoder, "acts", output="clamp", image_shape=(3, 5, 5),
                                folder=tmp_path, dtype=dtype)
        assert_js_matches_torch(asset, lambda z: decoder(z).clamp(0, 1))


def _transposed_export(monkeypatch, layer):
    """export() with one weight written in the wrong order: its transpose, in the declared
    shape (the classic row-major / column-major mistake)."""
    write = explorer.write_asset

    def broken(path, tensors, description):
        array, dtype = tensors[layer]
        tensors[layer] = (np.ascontiguousarray(array.T).reshape(array.shape), dtype)
        return write(path, tensors, description)

    monkeypatch.setattr(explorer, "write_asset", broken)


@pytest.mark.parametrize("layer", ["layer0.weight", "layer1.weight"])
def test_a_transposed_weight_in_the_export_fails_the_comparison(trained, tmp_path,
                                                                monkeypatch, layer):
    _transposed_export(monkeypatch, layer)
    model = trained[2]
    asset = explorer.export(model.decoder, "broken", output="sigmoid", folder=tmp_path,
                            points=trained["mu2"], labels=trained["labels"])
    with pytest.raises(AssertionError, match="JS decoder differs from PyTorch"):
        assert_js_matches_torch(asset, _pixels(model))


def test_a_wrong_output_function_fails_the_comparison(trained, tmp_path):
    # The page must apply the sigmoid the model's likelihood implies: logits shown clamped
    # (a plausible slip) are caught too.
    model = trained[2]
    asset = explorer.export(model.decoder, "clamped", output="clamp", folder=tmp_path,
                            points=trained["mu2"])
    with pytest.raises(AssertionError, match="JS decoder differs from PyTorch"):
        assert_js_matches_torch(asset, _pixels(model))


def test_js_reports_a_truncated_file(tmp_path, trained):
    asset = explorer.export(trained[2].decoder, "t", output="sigmoid", folder=tmp_path)
    asset.path.write_bytes(asset.path.read_bytes()[:-100])
    with pytest.raises(AssertionError, match="bytes for shape"):
        js_decode(asset.path, np.zeros((1, 2)))
