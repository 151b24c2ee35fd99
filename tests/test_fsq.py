"""course_utils.models.FSQ: finite scalar quantisation (Mentzer et al. 2023).

The reference below is the authors' published bound (paper appendix A.1, google-research
fsq.ipynb) written out again in float64 NumPy, independently of the module.
"""
import itertools

import numpy as np
import pytest
import torch

from course_utils.models import FSQ

LEVELS = [[8, 6, 5], [8, 5, 5, 5], [7, 5], [4, 4]]


def reference_quantise(z: np.ndarray, levels, eps=1e-3) -> np.ndarray:
    """The authors' formula, float64: round(tanh(z + shift) * half_l - offset) / (L // 2)."""
    L = np.asarray(levels, dtype=np.float64)
    half_l = (L - 1) * (1 - eps) / 2
    offset = np.where(L % 2 == 0, 0.5, 0.0)
    shift = np.tan(offset / half_l)
    return np.round(np.tanh(z + shift) * half_l - offset) / (np.asarray(levels) // 2)


@pytest.mark.parametrize("levels", LEVELS)
def test_every_code_round_trips_through_its_index(levels):
    fsq = FSQ(levels)
    assert fsq.codebook_size == int(np.prod(levels))
    indices = torch.arange(fsq.codebook_size)
    codes = fsq.indices_to_codes(indices)
    assert codes.shape == (fsq.codebook_size, len(levels))
    assert torch.equal(fsq.codes_to_indices(codes), indices)
    assert torch.equal(fsq.indices_to_codes(fsq.codes_to_indices(codes)), codes)
    # the codes are distinct and are exactly the grid: all combinations of per-dim values
    assert len({tuple(c) for c in codes.tolist()}) == fsq.codebook_size
    grid = [sorted({c[i] for c in codes.tolist()}) for i in range(len(levels))]
    assert sorted(itertools.product(*grid)) == sorted(tuple(c) for c in codes.tolist())


@pytest.mark.parametrize("levels", LEVELS)
def test_forward_gives_implicit_codebook_rows_and_their_indices(levels):
    torch.manual_seed(0)
    fsq = FSQ(levels)
    z = 2 * torch.randn(5, 7, 7, len(levels))
    z_q, indices = fsq(z)
    assert z_q.shape == z.shape and indices.shape == (5, 7, 7) and indices.dtype == torch.int64
    assert torch.equal(fsq.indices_to_codes(indices), z_q)          # exactly, not allclose
    assert torch.equal(fsq.implicit_codebook()[indices], z_q)
    assert z_q.abs().max() <= 1.0


@pytest.mark.parametrize("levels", LEVELS)
def test_each_dimension_takes_exactly_its_number_of_levels(levels):
    fsq = FSQ(levels)
    z = torch.linspace(-8, 8, 4001)[:, None].repeat(1, len(levels))
    z_q, _ = fsq(z)
    for i, L in enumerate(levels):
        values = torch.unique(z_q[:, i])
        assert len(values) == L, (i, values)
        assert values.min() == -1.0 and values.max() <= 1.0
        # evenly spaced by 1 / (L // 2)
        assert torch.allclose(values.diff(), torch.full((L - 1,), 1.0 / (L // 2)))


@pytest.mark.parametrize("levels", [[8, 6, 5], [4, 4], [2, 3], [8, 5, 5, 5]])
def test_matches_the_papers_formula_including_even_level_offset(levels):
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(2000, len(levels)))
    z_q, _ = FSQ(levels)(torch.from_numpy(z))
    assert z_q.dtype == torch.float64
    np.testing.assert_array_equal(z_q.numpy(), reference_quantise(z, levels))


def test_even_levels_are_offset_so_zero_is_a_code_but_the_grid_is_asymmetric():
    z_q, _ = FSQ([4])(torch.linspace(-10, 10, 1001)[:, None])
    assert torch.unique(z_q).tolist() == [-1.0, -0.5, 0.0, 0.5]     # -L/2 .. L/2 - 1, over L/2
    assert FSQ([4])(torch.zeros(1, 1))[0].item() == 0.0


@pytest.mark.parametrize("levels", [[8, 6, 5], [4, 4]])
def test_gradient_passes_straight_through_as_the_bounds_derivative(levels):
    fsq = FSQ(levels)
    z = torch.randn(64, len(levels), dtype=torch.float64, requires_grad=True)
    z_q, _ = fsq(z)
    (grad,) = torch.autograd.grad(z_q.sum(), z)
    L = torch.tensor(levels, dtype=torch.float64)
    half_l = (L - 1) * (1 - 1e-3) / 2
    shift = torch.tan(torch.where(L % 2 == 0, 0.5, 0.0) / half_l)
    expected = (1 - torch.tanh(z.detach() + shift) ** 2) * half_l / (L // 2)
    assert torch.allclose(grad, expected)
    assert (grad > 0).all()                  # rounding alone would give zero gradient


def test_batched_indices_keep_their_shape_and_reject_out_of_range_values():
    fsq = FSQ([7, 5])
    indices = torch.tensor([[0, 34], [12, 5]])
    assert fsq.indices_to_codes(indices).shape == (2, 2, 2)
    with pytest.raises(ValueError, match=r"\[0, 35\)"):
        fsq.indices_to_codes(torch.tensor([35]))
    with pytest.raises(ValueError, match=r"\[0, 35\)"):
        fsq.indices_to_codes(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integers"):
        fsq.indices_to_codes(torch.tensor([1.0]))


def test_wrong_last_dimension_is_a_clear_error():
    fsq = FSQ([8, 5, 5, 5])
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\).*got \(2, 3\)"):
        fsq(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="channel axis last"):
        fsq(torch.zeros(2, 4, 7, 7)[:, :, :, :3])


@pytest.mark.parametrize("levels", [[8, 1], [], [0], [2.5], [True, 3]])
def test_bad_levels_are_a_clear_error(levels):
    with pytest.raises(ValueError, match="whole numbers >= 2"):
        FSQ(levels)


def test_integer_or_nan_inputs_are_rejected():
    fsq = FSQ([3, 3])
    with pytest.raises(TypeError, match="floating-point"):
        fsq(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        fsq(torch.tensor([[0.0, float("nan")]]))


def test_infinite_inputs_saturate_to_the_extreme_codes():
    z_q, indices = FSQ([5, 4])(torch.tensor([[float("inf"), -float("inf")]]))
    assert z_q.tolist() == [[1.0, -1.0]]
    assert indices.tolist() == [4]                       # digits (4, 0): 4 + 0 * 5


def test_the_largest_codebook_an_int64_index_can_number_round_trips_and_one_more_is_refused():
    """[2] * 64 has 2**64 codes: its indices used to wrap around int64 into wrong codes."""
    fsq = FSQ([2] * 63)  # 2**63 codes: indices up to 2**63 - 1
    assert fsq.codebook_size == 2**63
    last = torch.tensor([2**63 - 1])
    codes = fsq.indices_to_codes(last)
    assert torch.equal(codes, torch.zeros(1, 63))  # every digit 1: value (1 - 1) / 1 = 0
    assert torch.equal(fsq.codes_to_indices(codes), last)
    with pytest.raises(ValueError, match=r"more than an int64 index can number"):
        FSQ([2] * 64)


@pytest.mark.parametrize("levels, hint", [(8, r"got 8; for one dimension write \[8\]"),
                                          (None, r"got None"), ("8555", r"got '8555'")])
def test_levels_that_are_not_a_list_are_a_clear_error(levels, hint):
    """FSQ(8) and FSQ(None) used to fail inside list() with "'int' object is not iterable"."""
    with pytest.raises(TypeError, match=rf"levels must be a non-empty list .*{hint}"):
        FSQ(levels)
