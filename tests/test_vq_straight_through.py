"""Chapter 10's vector quantiser routes each gradient as the VQ-VAE estimator does
(van den Oord et al. 2017, eq. 3): the reconstruction loss reaches the encoder and never the
codebook, the codebook term moves only the codes, the commitment term only the encoder.

The quantiser tested is the one the learner reads: the source of the chapter's code cells
tagged ``vq-quantizer`` (and ``vq-cosine`` for the l2-normalised variant), executed here.
"""
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import nn

CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "10_vq_vae_fsq.ipynb"
PAPER_LINE = "z + (e - z).detach()"
# The line chapter 10 once had: the right value, but the reconstruction loss then also
# trains the codebook (gradient of e + z - sg[z] with respect to e is the identity).
OLD_LINE = "e + (z - z.detach())"


def tagged_source(tag: str) -> str:
    """The source of the one code cell of chapter 10 tagged ``tag``."""
    cells = [c for c in nbformat.read(CHAPTER, as_version=4).cells
             if c.cell_type == "code" and tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, (f"{CHAPTER.name}: expected exactly one code cell tagged {tag!r} "
                             f"(cell metadata 'tags'), found {len(cells)}")
    return cells[0].source


def load_quantizers(replace: tuple[str, str] | None = None) -> dict:
    """Execute the tagged cells; ``replace`` swaps one expression in the quantiser first."""
    source = tagged_source("vq-quantizer")
    if replace is not None:
        assert replace[0] in source, f"the quantiser no longer contains {replace[0]!r}"
        source = source.replace(replace[0], replace[1])
    namespace = {"torch": torch, "nn": nn, "F": F}
    exec(compile(source, f"{CHAPTER.name}[vq-quantizer]", "exec"), namespace)
    exec(compile(tagged_source("vq-cosine"), f"{CHAPTER.name}[vq-cosine]", "exec"), namespace)
    return namespace


def max_gradients(quantizer_class, term: str) -> dict:
    """Largest |gradient| at the codebook and at the encoder after backward() of one term."""
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(3, 4), nn.Linear(4, 3)
    vq = quantizer_class(K=8, D=4)
    vq.codebook.data.normal_()
    x = torch.randn(64, 3)
    z_q, indices, codebook_term, commitment = vq(encoder(x))
    loss = {"reconstruction": (decoder(z_q) - x).pow(2).sum(),
            "codebook": codebook_term.sum(), "commitment": commitment.sum()}[term]
    loss.backward()

    def largest(p):
        return 0.0 if p.grad is None else p.grad.abs().max().item()
    return {"codebook": largest(vq.codebook), "encoder": largest(encoder.weight)}


@pytest.fixture(scope="module")
def chapter():
    return load_quantizers()


@pytest.fixture(params=["VectorQuantizer", "CosineVectorQuantizer"])
def quantizer_class(request, chapter):
    return chapter[request.param]


def test_chapter_writes_the_straight_through_as_the_paper(chapter):
    assert PAPER_LINE in tagged_source("vq-quantizer")


def test_reconstruction_gradient_reaches_the_encoder_and_not_the_codebook(quantizer_class):
    g = max_gradients(quantizer_class, "reconstruction")
    assert g["codebook"] == 0.0
    assert g["encoder"] > 0.0


def test_codebook_term_moves_the_codes_and_not_the_encoder(quantizer_class):
    g = max_gradients(quantizer_class, "codebook")
    assert g["encoder"] == 0.0
    assert g["codebook"] > 0.0


def test_commitment_term_moves_the_encoder_and_not_the_codes(quantizer_class):
    g = max_gradients(quantizer_class, "commitment")
    assert g["codebook"] == 0.0
    assert g["encoder"] > 0.0


def test_value_is_the_nearest_code_and_gradient_the_identity(quantizer_class):
    torch.manual_seed(1)
    vq = quantizer_class(K=8, D=4)
    vq.codebook.data.normal_()
    z = torch.randn(50, 4, requires_grad=True)
    z_q, indices, _, _ = vq(z)
    assert torch.allclose(z_q, vq.codes()[indices], rtol=0, atol=1e-6)
    (grad,) = torch.autograd.grad(z_q.sum(), z)
    if quantizer_class.__name__ == "VectorQuantizer":   # the cosine one normalises z first
        assert torch.equal(grad, torch.ones_like(z))
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_the_old_line_sends_reconstruction_gradient_into_the_codebook():
    # The checks above can fail: with chapter 10's former line they catch the leak.
    old = load_quantizers(replace=(PAPER_LINE, OLD_LINE))
    g = max_gradients(old["VectorQuantizer"], "reconstruction")
    assert g["codebook"] > 0.0
