"""The package's front matter: every module declares its public names and is listed in the
package docstring (issue 9)."""
import importlib
import inspect
import pkgutil

import pytest

import course_utils

MODULES = sorted(m.name for m in pkgutil.iter_modules(course_utils.__path__))


def test_the_package_has_the_modules_its_docstring_promises():
    assert set(MODULES) >= {"runtime", "data", "losses", "models", "train", "metrics", "viz",
                            "widgets", "checks"}


@pytest.mark.parametrize("name", MODULES)
def test_the_package_docstring_lists_every_module(name):
    assert f"``{name}``" in course_utils.__doc__, f"course_utils' docstring does not list {name}"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all_and_it_lists_every_public_function_and_class(name):
    module = importlib.import_module(f"course_utils.{name}")
    assert hasattr(module, "__all__"), f"course_utils.{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"course_utils.{name}.__all__ names what it lacks: {missing}"
    defined_here = {n for n, v in vars(module).items()
                    if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                    and getattr(v, "__module__", "") == module.__name__}
    unlisted = sorted(defined_here - set(module.__all__))
    assert not unlisted, f"course_utils.{name} defines public {unlisted} outside __all__"
