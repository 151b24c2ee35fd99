"""course_utils.runtime: device choice, seeding, run profiles and budgets."""
import random

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import runtime


@pytest.fixture
def restore_threads():
    """Tests here change torch's global thread count; put it back afterwards."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _set_availability(monkeypatch, *, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


# --- get_device -----------------------------------------------------------------------------

def test_get_device_prefers_cuda_over_mps_and_cpu(monkeypatch):
    _set_availability(monkeypatch, cuda=True, mps=True)
    assert cu.get_device() == torch.device("cuda")


def test_get_device_uses_mps_when_there_is_no_cuda(monkeypatch):
    _set_availability(monkeypatch, cuda=False, mps=True)
    assert cu.get_device() == torch.device("mps")


def test_get_device_falls_back_to_cpu(monkeypatch):
    _set_availability(monkeypatch, cuda=False, mps=False)
    assert cu.get_device() == torch.device("cpu")


def test_get_device_works_when_torch_has_no_mps_backend(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delattr(torch.backends, "mps")
    assert cu.get_device() == torch.device("cpu")


# --- seed_everything ------------------------------------------------------------------------

def _draws():
    return (random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist(),
            torch.randn(2, 2).tolist())


def test_seed_everything_reproduces_python_numpy_and_torch_draws(restore_threads):
    cu.seed_everything(123)
    first = _draws()
    cu.seed_everything(123)
    assert _draws() == first


def test_seed_everything_different_seeds_give_different_draws(restore_threads):
    cu.seed_everything(1)
    a = _draws()
    cu.seed_everything(2)
    b = _draws()
    for x, y in zip(a, b):
        assert x != y


def test_seed_everything_accepts_seeds_beyond_numpys_32_bit_range(restore_threads):
    cu.seed_everything(2**40 + 5)
    first = _draws()
    cu.seed_everything(2**40 + 5)
    assert _draws() == first


def test_seed_everything_sets_the_thread_count_given(restore_threads):
    torch.set_num_threads(1)
    cu.seed_everything(0, threads=2)
    assert torch.get_num_threads() == 2


def test_seed_everything_takes_the_thread_count_from_course_threads(monkeypatch, restore_threads):
    torch.set_num_threads(1)
    monkeypatch.setenv("COURSE_THREADS", "2")
    cu.seed_everything(0)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("threads", [0, -1])
def test_seed_everything_rejects_a_thread_count_below_one(threads, restore_threads):
    """threads=0 used to mean "the default" silently."""
    with pytest.raises(ValueError, match=rf"threads must be a whole number >= 1 \(a positive int.*got {threads}\."):
        cu.seed_everything(0, threads=threads)


@pytest.mark.parametrize("threads", [2.5, "2", True])
def test_seed_everything_rejects_a_thread_count_that_is_not_an_int(threads, restore_threads):
    with pytest.raises(TypeError, match="threads must be a whole number >= 1"):
        cu.seed_everything(0, threads=threads)


def test_seed_everything_with_threads_none_uses_course_threads(monkeypatch, restore_threads):
    torch.set_num_threads(1)
    monkeypatch.setenv("COURSE_THREADS", "2")
    cu.seed_everything(0, threads=None)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("seed", [1.5, "0", True, None])
def test_seed_everything_rejects_non_integer_seeds(seed):
    with pytest.raises(TypeError, match="seed must be a whole number from 0 to "):
        cu.seed_everything(seed)


@pytest.mark.parametrize("seed", [-1, 2**64, 2**70])
def test_seed_everything_rejects_seeds_torch_cannot_take_naming_the_range(seed):
    """2**70 used to fail inside torch with "Overflow when unpacking long"."""
    with pytest.raises(ValueError, match=rf"seed must be a whole number from 0 to "
                                         rf"{2**64 - 1}, got {seed}\."):
        cu.seed_everything(seed)


def test_seed_everything_takes_the_largest_seed_torch_takes(restore_threads):
    cu.seed_everything(2**64 - 1)
    assert torch.initial_seed() == 2**64 - 1


# --- default_threads ------------------------------------------------------------------------

def test_default_threads_reads_course_threads(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert runtime.default_threads() == 3


def test_default_threads_without_course_threads_is_cores_capped_at_eight(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 64)
    assert runtime.default_threads() == 8
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 2)
    assert runtime.default_threads() == 2
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: None)
    assert runtime.default_threads() == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", ""])
def test_default_threads_rejects_a_bad_course_threads(monkeypatch, value):
    monkeypatch.setenv("COURSE_THREADS", value)
    with pytest.raises(ValueError, match="COURSE_THREADS must be a positive integer"):
        runtime.default_threads()


# --- profile and budget ---------------------------------------------------------------------

def test_profile_defaults_to_standard_without_a_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cu.profile() == "standard"


def test_profile_defaults_to_full_on_a_cuda_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert cu.profile() == "full"


def test_profile_treats_an_empty_course_profile_as_unset(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "  ")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cu.profile() == "standard"


@pytest.mark.parametrize("value, expected", [("smoke", "smoke"), ("standard", "standard"),
                                             ("full", "full"), (" Smoke ", "smoke"),
                                             ("FULL", "full")])
def test_profile_parses_course_profile_ignoring_case_and_spaces(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_PROFILE", value)
    assert cu.profile() == expected


def test_profile_rejects_an_unknown_value_naming_the_valid_ones(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    with pytest.raises(ValueError) as err:
        cu.profile()
    message = str(err.value)
    assert "quick" in message and "COURSE_PROFILE" in message
    for name in ("smoke", "standard", "full"):
        assert name in message


@pytest.mark.parametrize("name", ["smoke", "standard", "full"])
def test_budget_returns_the_value_of_the_active_profile(monkeypatch, name):
    monkeypatch.setenv("COURSE_PROFILE", name)
    values = {"full": 30, "standard": [5], "smoke": "one"}
    assert cu.budget(**values) is values[name]


def test_budget_needs_all_three_values_by_keyword():
    with pytest.raises(TypeError):
        cu.budget(30, 5, 1)  # positional: easy to mix up the order
    with pytest.raises(TypeError):
        cu.budget(full=30, standard=5)  # a profile without a value


def test_budget_with_a_bad_profile_raises_the_profile_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="not a run profile"):
        cu.budget(full=3, standard=2, smoke=1)


# --- describe and print_setup ---------------------------------------------------------------

def test_describe_names_device_profile_torch_version_and_threads(monkeypatch, restore_threads):
    _set_availability(monkeypatch, cuda=False, mps=False)
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    torch.set_num_threads(1)
    line = cu.describe()
    assert "device: cpu" in line
    assert "profile: smoke" in line
    assert torch.__version__ in line
    assert "CPU threads: 1" in line


def test_describe_names_the_cpu_model_and_its_logical_cores(monkeypatch):
    _set_availability(monkeypatch, cuda=False, mps=False)
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setattr(runtime, "_cpu_name", lambda: "Test CPU 9000")
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 6)
    assert "CPU: Test CPU 9000, 6 logical cores" in cu.describe()


def test_describe_names_the_device_it_is_given(monkeypatch):
    """tools/bench.py describes the device it was told to use, not the best one."""
    _set_availability(monkeypatch, cuda=False, mps=True)
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert cu.describe().startswith("device: mps |")
    assert cu.describe("cpu").startswith("device: cpu |")
    assert cu.describe(torch.device("cpu")) == cu.describe("cpu")


def test_cpu_name_is_a_non_empty_string():
    name = runtime._cpu_name()
    assert isinstance(name, str) and name.strip()


def test_runtime_all_lists_exactly_its_public_functions():
    public = {n for n, v in vars(runtime).items()
              if not n.startswith("_") and getattr(v, "__module__", None) == runtime.__name__}
    assert set(runtime.__all__) == public | {"PROFILES", "SEED_MAX"}
    for name in runtime.__all__:
        assert hasattr(runtime, name)


def test_print_setup_seeds_prints_the_setup_line_and_returns_the_device(
        monkeypatch, capsys, restore_threads):
    _set_availability(monkeypatch, cuda=False, mps=False)
    monkeypatch.setenv("COURSE_PROFILE", "standard")
    cu.seed_everything(7)
    expected = _draws()
    device = cu.print_setup(seed=7)
    assert _draws() == expected
    assert device == torch.device("cpu")
    out = capsys.readouterr().out
    assert "device: cpu" in out and "profile: standard" in out
