"""Learners' answers, one file each, against the exercise checkers.

Every file under ``tests/checker_answers/<exercise>/`` is an answer a learner could write:
a docstring, ``EXPECT = "pass"`` or ``"fail"``, ``MISTAKE = "..."`` (what is wrong, or
"none"), and the same names as the solution (``beta_vae_loss``, ``CVAE``,
``linear_schedule``...). Files directly in the exercise folder were written blind, by
someone who had not read the checkers; files in ``<exercise>/own/`` by the checkers' author,
one per class of mistake of issue 19.

For each file, the checkers of the names it defines run on it:

* ``EXPECT = "pass"``: every one of them passes;
* ``EXPECT = "fail"``: at least one raises ``AssertionError``, and its one-line hint matches
  the regular expression that ``HINTS`` below assigns to the file: the hint must name the
  mistake the file makes, not merely fail. A wrong answer without a row in ``HINTS`` fails
  the test, and so does a row without its file.
"""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from course_utils import checks

ROOT = Path(__file__).resolve().parent
ANSWERS = ROOT / "checker_answers"

# The checker of each name an answer file may define, per exercise.
CHECKERS = {
    "beta_vae": {"beta_vae_loss": "check_beta_vae_loss"},
    "conditional_vae": {"CVAE": "check_cvae"},
    "kl_annealing": {"linear_schedule": "check_linear_schedule",
                     "cyclical_schedule": "check_cyclical_schedule"},
    "latent_size": {"rate_distortion": "check_rate_distortion",
                    "count_active_units": "check_active_units"},
    "mse_vs_bce": {"gaussian_recon": "check_gaussian_recon",
                   "bernoulli_recon": "check_bernoulli_recon"},
}

NO_GRADIENT = r"no gradient flows back|carries no gradient|no gradient reaches"
OVERFLOW = r"overflows for float32 logits of ±100.*F\.softplus"
NAN_GRAD = r"gradient of .* is NaN or inf for float32 logits of ±100"

# Wrong answer (path under checker_answers, without .py) -> regex its hint must match.
HINTS = {
    # ------------------------------------------------------------ β-VAE (blind)
    "beta_vae/bce_args_swapped": r"recon passes the arguments in the wrong order",
    "beta_vae/bce_on_sigmoid": r"recon is inexact for large logits.*probabilities",
    "beta_vae/beta_ignored": r"beta is ignored",
    "beta_vae/beta_on_recon": r"beta is applied to the reconstruction term",
    "beta_vae/kl_logvar_as_logsigma": r"kl treats logvar as log\(sigma\)",
    "beta_vae/kl_mean_latents": r"kl is the mean over latent dimensions",
    "beta_vae/kl_mu_times_two": r"kl has mu \* 2 where the closed form has mu squared",
    "beta_vae/kl_no_half": r"kl is twice too large: the closed form has a factor 1/2",
    "beta_vae/kl_numpy": r"no gradient reaches `mu`.*NumPy",
    "beta_vae/kl_sigma_for_var": r"kl uses sigma = exp\(logvar / 2\) where .* variance",
    "beta_vae/kl_sign_flipped": r"kl has the wrong sign",
    "beta_vae/kl_times_beta_twice": r"out\['kl'\] is already multiplied by beta",
    "beta_vae/log1p_exp": OVERFLOW,
    "beta_vae/log_of_sigmoid": r"recon is NaN/inf for large logits.*log\(0\)",
    "beta_vae/logits_detached": r"no gradient reaches `logits`",
    "beta_vae/loss_batch_mean": r"out\['loss'\] is a single number.*not over the batch",
    "beta_vae/loss_via_item": r"no gradient flows back from out\['loss'\].*\.item\(\)",
    "beta_vae/mu_detached": r"no gradient reaches `mu`.*\.detach\(\)",
    "beta_vae/recon_mean_pixels": r"recon is the mean over pixels",
    "beta_vae/recon_sign_flipped": r"recon has the wrong sign",
    "beta_vae/recon_summed_over_batch": r"out\['recon'\] is a single number.*not over the batch",
    # ------------------------------------------------------------ conditional VAE (blind)
    "conditional_vae/batchnorm_leaks_labels": r"in training mode .*mixes examples across the "
                                              r"batch.*BatchNorm",
    "conditional_vae/decode_cat_dim0": r"torch\.cat joins along dim=0",
    "conditional_vae/decoder_ignores_label": r"the decoder ignores the label",
    "conditional_vae/encoder_ignores_label": r"the encoder ignores the label",
    "conditional_vae/first_label_broadcast": r"example i must see only its own label",
    "conditional_vae/flatten_reshape_T": r"encoder mixes images across the batch.*reshape\(784, "
                                         r"-1\)\.T",
    "conditional_vae/label_as_number": r"takes the label as a number",
    "conditional_vae/logits_reshaped_hwn": r"decoder mixes examples across the batch",
    "conditional_vae/logvar_as_std": r"the noise is scaled by logvar itself",
    "conditional_vae/logvar_clamped": r"the sample clamps logvar",
    "conditional_vae/logvar_softplus": r"logvar is never negative.*softplus",
    "conditional_vae/mu_detached": r"mu is detached in the sample",
    "conditional_vae/no_noise": r"forward decodes mu",
    "conditional_vae/noise_fixed_seed": r"the same z on every call.*without reseeding",
    "conditional_vae/noise_shared_by_batch": r"the noise is shared: every example needs its own",
    "conditional_vae/noise_uniform": r"eps is uniform on \[0, 1\)",
    "conditional_vae/one_hot_no_num_classes": r"F\.one_hot\(y\) without num_classes",
    "conditional_vae/relu_on_mu": r"mu is never negative.*ReLU",
    "conditional_vae/sigmoid_decoder": r"values of one sign only \(a sigmoid",
    "conditional_vae/std_exp_logvar": r"scaled by exp\(logvar\) = sigma\^2, the variance",
    # ------------------------------------------------------------ KL annealing (blind)
    "kl_annealing/cyclical_floor_division": r"integer division",
    "kl_annealing/cyclical_hardcoded_cycles": r"repeats every cycle_steps // 4 steps: cycle_steps "
                                              r"is the length of one cycle",
    "kl_annealing/cyclical_hardcoded_period": r"cycle_steps is ignored.*hard-coded period",
    "kl_annealing/cyclical_int_ramp": r"ramp length is cut to whole steps, int\(ratio",
    "kl_annealing/cyclical_mod_ramp": r"restarts every ratio \* cycle_steps steps",
    "kl_annealing/cyclical_no_ceiling": r"keeps growing past 1.*cap it",
    "kl_annealing/cyclical_no_modulo": r"never restarts",
    "kl_annealing/cyclical_one_element_array": r"NumPy array of shape \(1,\)",
    "kl_annealing/cyclical_ramp_whole_cycle": r"the ramp takes the whole cycle",
    "kl_annealing/cyclical_ratio_ignored": r"ratio is ignored",
    "kl_annealing/cyclical_step_plus_one": r"off by one: \(step \+ 1\) % cycle_steps",
    "kl_annealing/cyclical_tensor": r"returns a 0-d tensor",
    "kl_annealing/linear_0d_array": r"NumPy array of shape \(\)",
    "kl_annealing/linear_floor_division": r"integer division: step // warmup_steps",
    "kl_annealing/linear_floor_eps": r"the weight has a floor: it never goes below 0\.01",
    "kl_annealing/linear_minus_one_denominator": r"reaches 1 one step early.*not warmup_steps - 1",
    "kl_annealing/linear_no_ceiling": r"keeps growing past 1: cap it",
    "kl_annealing/linear_one_element_array": r"NumPy array of shape \(1,\)",
    "kl_annealing/linear_one_step_late": r"off by one: the weight is \(step - 1\)",
    "kl_annealing/linear_step_plus_one": r"off by one: the weight is \(step \+ 1\)",
    "kl_annealing/linear_tensor": r"returns a 0-d tensor",
    "kl_annealing/linear_zero_division": r"warmup_steps=0 means no annealing: return 1\.0 instead "
                                         r"of dividing by zero",
    "kl_annealing/linear_zero_is_zero": r"warmup_steps=0 means no annealing: the weight must be 1",
    # ------------------------------------------------------------ latent size (blind)
    "latent_size/au_fraction": r"return a whole number of dimensions, not a fraction",
    "latent_size/au_greater_equal": r"counts a variance equal to the threshold",
    "latent_size/au_minibatch_variance": r"variance within mini-batches",
    "latent_size/au_returns_tensor": r"returns a 0-d tensor .* not an int",
    "latent_size/au_std": r"compares the standard deviation with the threshold",
    "latent_size/au_threshold_ignored": r"ignores its threshold argument",
    "latent_size/au_unbiased": r"unbiased variance \(dividing by N - 1",
    "latent_size/au_uncentred": r"uses the mean of mu\^2",
    "latent_size/au_wrong_axis": r"variance over the wrong axis",
    "latent_size/decode_mu": r"distortion is computed at z = mu",
    "latent_size/distortion_mean_over_pixels": r"distortion is the mean over pixels",
    "latent_size/distortion_squared_error": r"distortion is the squared error",
    "latent_size/distortion_summed_over_batch": r"distortion is summed over the batch",
    "latent_size/noise_shared_by_batch": r"every image got the same noise eps",
    "latent_size/per_image_not_mean": r"rate has shape \(2000,\): average over the images",
    "latent_size/rate_mean_over_dims": r"rate is the mean over latent dimensions",
    "latent_size/rate_monte_carlo": r"one-sample Monte-Carlo estimate.*closed form",
    "latent_size/returns_swapped": r"returns \(distortion, rate\)",
    "latent_size/sigma_shared_over_batch": r"one sigma shared by the batch",
    "latent_size/std_exp_logvar": r"z uses exp\(logvar\), the variance, as the scale",
    # ------------------------------------------------------------ MSE vs BCE (blind)
    "mse_vs_bce/bern_args_swapped": r"passes the arguments in the wrong order",
    "mse_vs_bce/bern_bce_on_sigmoid": r"inexact for large logits.*probabilities",
    "mse_vs_bce/bern_default_mean": r"is a single number.*not over the batch",
    "mse_vs_bce/bern_double_sigmoid": r"applies the sigmoid twice",
    "mse_vs_bce/bern_eps_in_log": r"inexact for large logits.*probabilities",
    "mse_vs_bce/bern_log1p_exp": OVERFLOW,
    "mse_vs_bce/bern_logits_detached": r"no gradient flows back from bernoulli_recon.*\.detach\(\)",
    "mse_vs_bce/bern_mean_over_pixels": r"bernoulli_recon is the mean over pixels",
    "mse_vs_bce/bern_sign_flipped": r"bernoulli_recon has the wrong sign",
    "mse_vs_bce/bern_summed_over_batch": r"is a single number.*not over the batch",
    "mse_vs_bce/gauss_float_sigma": r"float\(\) or \.item\(\) of a tensor with several values",
    "mse_vs_bce/gauss_log_sigma_as_log_var": r"log_sigma is used as log\(sigma\^2\)",
    "mse_vs_bce/gauss_log_sigma_sign": r"log\(sigma\) is subtracted",
    "mse_vs_bce/gauss_mean_over_pixels": r"gaussian_recon is the mean over pixels",
    "mse_vs_bce/gauss_mse_loss_mean": r"is a single number.*not over the batch",
    "mse_vs_bce/gauss_no_constant": r"normalising constant 0\.5 \* log\(2 pi\) per pixel is "
                                    r"missing",
    "mse_vs_bce/gauss_no_log_sigma": r"the log\(sigma\) term is missing",
    "mse_vs_bce/gauss_numpy": r"no gradient flows back from gaussian_recon.*\.numpy\(\)",
    "mse_vs_bce/gauss_scalar_sigma_only": r"counted for 784 pixels, a hard-coded image size",
    "mse_vs_bce/gauss_sigma_not_squared": r"divide the squared error by sigma\^2, not sigma",
    "mse_vs_bce/gauss_summed_over_batch": r"is a single number.*not over the batch",
    "mse_vs_bce/gauss_torch_tensor_copy": r"no gradient reaches `log_sigma`.*torch\.tensor",
    "mse_vs_bce/gauss_wrong_constant": r"not log\(2 pi\)",
    # ------------------------------------------------------------ disagreements (see OVERRIDES)
    "latent_size/pass_rd_distributions": r"rate carries no gradient.*not float\(\.\.\.\)",

    # ------------------------------------------------------------ β-VAE (own)
    "beta_vae/own/loss_via_item": r"no gradient flows back from out\['loss'\]",
    "beta_vae/own/kl_mu_detached": r"no gradient reaches `mu`",
    "beta_vae/own/kl_in_numpy": r"no gradient reaches `mu`",
    "beta_vae/own/logits_detached": r"no gradient reaches `logits`",
    "beta_vae/own/kl_already_times_beta": r"already multiplied by beta",
    "beta_vae/own/recon_log1p_exp": OVERFLOW,
    "beta_vae/own/recon_where_branches": NAN_GRAD,
    "beta_vae/own/recon_times_beta": r"out\['recon'\] changes with beta",
    # ------------------------------------------------------------ conditional VAE (own)
    "conditional_vae/own/torch_normal": r"no gradient reaches mu or logvar through the sample",
    "conditional_vae/own/sample_not_rsample": r"the sample z carries no gradient",
    "conditional_vae/own/logvar_clamped": r"clamps logvar",
    "conditional_vae/own/sigma_clamped": r"clamps logvar \(or sigma\)",
    "conditional_vae/own/mu_detached": r"mu is detached in the sample",
    "conditional_vae/own/sigma_detached": r"logvar \(or sigma\) is detached in the sample",
    "conditional_vae/own/encoder_transpose_mixes": r"encoder mixes images across the batch",
    "conditional_vae/own/decoder_transpose_mixes": r"decoder mixes examples across the batch",
    "conditional_vae/own/encode_under_no_grad": r"encode's mu carries no gradient",
    "conditional_vae/own/decode_detaches_z": r"no gradient reaches z through decode",
    # ------------------------------------------------------------ KL annealing (own)
    "kl_annealing/own/linear_numpy_0d": r"NumPy array of shape \(\)",
    "kl_annealing/own/linear_tensor_shape_1": r"tensor of shape \(1,\)",
    "kl_annealing/own/linear_floor": r"the weight has a floor: it never goes below 0\.05",
    "kl_annealing/own/linear_hardcoded_warmup": r"warmup_steps is ignored",
    "kl_annealing/own/linear_off_by_one": r"off by one: the weight is \(step \+ 1\)",
    "kl_annealing/own/cyclical_period_8": r"repeats every 8 steps",
    "kl_annealing/own/cyclical_four_cycles": r"stops cycling after 4 cycles",
    "kl_annealing/own/cyclical_numpy_array": r"NumPy array of shape \(1,\)",
    "kl_annealing/own/cyclical_floor": r"the weight has a floor",
    # ------------------------------------------------------------ latent size (own)
    "latent_size/own/rate_monte_carlo": r"one-sample Monte-Carlo estimate",
    "latent_size/own/sigma_shared_by_batch": r"one sigma shared by the batch",
    "latent_size/own/sigma_shared_per_dimension": r"one sigma shared by the batch",
    "latent_size/own/floats_via_item": r"rate carries no gradient",
    "latent_size/own/under_no_grad": r"rate carries no gradient",
    "latent_size/own/z_detached": r"no gradient reaches the encoder through the sampled z",
    "latent_size/own/z_torch_normal": r"no gradient reaches the encoder through the sampled z",
    "latent_size/own/distortion_log1p_exp": r"distortion overflows for float32 logits",
    "latent_size/own/active_per_batch": r"variance within mini-batches",
    "latent_size/own/active_last_batch": r"variance within mini-batches",
    # ------------------------------------------------------------ MSE vs BCE (own)
    "mse_vs_bce/own/gaussian_mean_detached": r"no gradient flows back from gaussian_recon\(\.\.\.\) "
                                             r"to `mean`",
    "mse_vs_bce/own/gaussian_in_numpy": r"got a NumPy array",
    "mse_vs_bce/own/gaussian_log_sigma_float": r"no gradient reaches `log_sigma`",
    "mse_vs_bce/own/bernoulli_log1p_exp": OVERFLOW,
    "mse_vs_bce/own/bernoulli_log_one_plus_exp": OVERFLOW,
    "mse_vs_bce/own/bernoulli_where_branches": NAN_GRAD,
    "mse_vs_bce/own/bernoulli_via_item": r"no gradient flows back from bernoulli_recon",
}


# Blind answers whose label the exercise now disagrees with, and why. The test holds them
# to the verdict here instead of their EXPECT.
OVERRIDES = {
    "kl_annealing/linear_int_one": (
        "pass", "min(1, step / warmup_steps) is the task's own formula; the int 1 it returns "
                "after the warm-up equals 1.0 and works everywhere a float does (no array, no "
                "tensor): not a mistake"),
    "latent_size/pass_rd_distributions": (
        "fail", "written when the task allowed floats; the task now asks for tensors that "
                "carry gradients (issue 19: a loss through float() trains nothing), and this "
                "answer returns float(...)"),
}


def answer_files():
    return sorted(p for p in ANSWERS.glob("*/**/*.py") if p.name != "__init__.py")


def key(path: Path) -> str:
    return path.relative_to(ANSWERS).with_suffix("").as_posix()


def load(path: Path):
    """The answer file as a module (its own namespace, nothing shared between files)."""
    name = "checker_answer_" + re.sub(r"\W", "_", key(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def run_checkers(path: Path):
    """[(checker name, None if it passed else its AssertionError message)] for the file."""
    module = load(path)
    exercise = key(path).split("/")[0]
    ran = []
    for name, checker in CHECKERS[exercise].items():
        if hasattr(module, name):
            try:
                getattr(checks, checker)(getattr(module, name))
                ran.append((checker, None))
            except AssertionError as err:
                ran.append((checker, str(err)))
    return module, ran


FILES = answer_files()


@pytest.mark.parametrize("path", FILES, ids=key)
def test_answer_gets_its_verdict_and_hint(path, capsys):
    module, ran = run_checkers(path)
    assert module.EXPECT in ("pass", "fail"), f"{key(path)}: EXPECT must be 'pass' or 'fail'"
    assert isinstance(module.MISTAKE, str) and module.__doc__, f"{key(path)}: MISTAKE, docstring"
    assert ran, f"{key(path)} defines none of {sorted(CHECKERS[key(path).split('/')[0]])}"
    failures = [message for _, message in ran if message is not None]
    expect = OVERRIDES.get(key(path), (module.EXPECT,))[0]
    if expect == "pass":
        assert not failures, f"{key(path)} is right ({module.__doc__.strip()}) but: {failures}"
        return
    assert key(path) in HINTS, f"{key(path)}: add the regex of the hint it must get to HINTS"
    assert failures, f"{key(path)} is wrong ({module.MISTAKE or OVERRIDES[key(path)][1]}) " \
                     "but every checker passed"
    pattern = re.compile(HINTS[key(path)])
    assert any(pattern.search(m) for m in failures), \
        f"{key(path)} ({module.MISTAKE}): expected a hint matching {pattern.pattern!r}, got {failures}"
    assert all("\n" not in m for m in failures), "a hint is one line"


def test_every_hint_row_has_its_answer_file():
    keys = {key(p) for p in FILES}
    assert sorted(set(HINTS) - keys) == []


def test_every_override_names_an_answer_file_and_a_reason():
    keys = {key(p) for p in FILES}
    assert all(k in keys and v[0] in ("pass", "fail") and v[1] for k, v in OVERRIDES.items())


def test_the_battery_is_large_enough():
    expect = [OVERRIDES.get(key(p), (load(p).EXPECT,))[0] for p in FILES]
    assert expect.count("fail") >= 40 and expect.count("pass") >= 10, \
        (expect.count("fail"), expect.count("pass"))
