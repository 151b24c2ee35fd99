"""Argument checks shared by the package's public functions (private: not for notebooks).

The rule of the package: a public function checks what it is given (type, dtype, shape,
range, finiteness) before it computes anything, and a bad argument raises one error that
names the argument, says what it got, and what to pass instead. Nothing is silently
clipped, replaced or dropped. These helpers write those messages the same way everywhere::

    size = whole_number("size", size, minimum=1, what="pixels per side, e.g. 64")
    # size=32.5 -> ArgumentTypeError: size must be a whole number >= 1 (pixels per side,
    #              e.g. 64), got 32.5; convert it: size=int(...).
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = ["ArgumentTypeError", "got", "whole_number", "optional_limit", "real_number", "flag",
           "tensor"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a float where a whole number goes, a NumPy array where a
    tensor goes...). Both a ``TypeError`` and a ``ValueError``, so that code written to catch
    either, as the package's functions raised before, still catches it."""


def got(value) -> str:
    """A short description of ``value`` for an error message: type, and value or shape."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if value is None or isinstance(value, (str, numbers.Number)):
        return text  # True, 2.5, '8', np.float64(2.5): the repr says the type
    return f"{type(value).__name__} {text}"


def _range_words(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def whole_number(name: str, value, *, minimum: int | None = 1, maximum: int | None = None,
                 what: str = "") -> int:
    """``value`` as an ``int`` (Python or NumPy integers; no bool, float, str), in range.

    Raises:
        ArgumentTypeError: not an integer (a float says ``int(...)``), ValueError: out of range.
    """
    need = f"{name} must be a whole number{_range_words(minimum, maximum)}" + \
           (f" ({what})" if what else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        hint = ""
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            hint = f"; convert it: {name.split()[0]}=int(...)"
        elif isinstance(value, str):
            hint = "; pass a number, not a string"
        raise ArgumentTypeError(f"{need}, got {got(value)}{hint}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{need}, got {value}.")
    return value


def optional_limit(name: str, value) -> int | None:
    """``None`` (no limit: all examples) or a whole number >= 1 of examples to keep."""
    if value is None:
        return None
    return whole_number(name, value, minimum=1,
                        what="how many examples to keep; None keeps them all")


def real_number(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
                above: float | None = None, what: str = "") -> float:
    """``value`` as a finite ``float`` (ints, floats, NumPy scalars, one-element tensors), in range.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound.
    """
    bounds = _range_words(minimum, maximum)
    if above is not None:
        bounds = f" > {above}" + (f" and <= {maximum}" if maximum is not None else "")
    need = f"{name} must be a finite number{bounds}" + (f" ({what})" if what else "")
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.requires_grad:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        hint = "; pass a number, not a string" if isinstance(value, str) else ""
        raise ArgumentTypeError(f"{need}, got {got(value)}{hint}.")
    value = float(value)
    if not math.isfinite(value) or (minimum is not None and value < minimum) \
            or (maximum is not None and value > maximum) or (above is not None and value <= above):
        raise ValueError(f"{need}, got {value!r}.")
    return value


def flag(name: str, value) -> bool:
    """``value`` as a bool: ``True``/``False`` (NumPy bools too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {got(value)}.")
    return bool(value)


def tensor(name: str, value, *, floating: bool = False, what: str = "") -> torch.Tensor:
    """``value`` itself if it is a ``torch.Tensor`` (floating point when ``floating``).

    A NumPy array or a list is refused with the conversion to use, never converted silently.
    """
    shape = f" ({what})" if what else ""
    if not isinstance(value, torch.Tensor):
        hint = ("convert it first: torch.from_numpy(a).float()" if isinstance(value, np.ndarray)
                else "convert it first: torch.tensor(...)")
        raise ArgumentTypeError(f"{name} must be a torch.Tensor{shape}, got {got(value)}; {hint}.")
    if floating and not value.is_floating_point():
        scale = (" (and scale 0..255 pixels into [0, 1]: x.float() / 255)"
                 if value.dtype == torch.uint8 else "")
        raise ArgumentTypeError(f"{name} must be a floating-point tensor{shape}, got dtype "
                                f"{value.dtype}; convert it first: {name}.float(){scale}.")
    return value

