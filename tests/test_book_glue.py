"""course_utils.book.glue: what a Markdown cell's {glue:text} role reads."""
import numpy as np
import pytest
import torch

from course_utils import book


def test_glue_outside_a_kernel_returns_the_plain_value():
    assert book.glue("ch00_x", torch.tensor(1.5)) == 1.5
    assert isinstance(book.glue("ch00_y", np.float32(2.0)), float)
    assert book.glue("ch00_z", 3) == 3


@pytest.mark.parametrize("bad", [torch.ones(3), np.ones(2), [1.0], None, True])
def test_glue_refuses_what_is_not_one_number(bad):
    with pytest.raises(TypeError, match="ch00_bad"):
        book.glue("ch00_bad", bad)


@pytest.mark.parametrize("name", ["", "ch 05", "5abc", None])
def test_glue_refuses_a_name_the_role_cannot_use(name):
    with pytest.raises(ValueError, match="identifier"):
        book.glue(name, 1.0)


def test_glue_in_a_kernel_writes_myst_nb_record(monkeypatch):
    shown = []
    import IPython
    import IPython.display
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw, metadata: shown.append((data, metadata)))
    book.glue("ch05_test_nll", torch.tensor(98.25), headline="test NLL (nats/image)")
    data, meta = shown[0]
    assert data == {"application/papermill.record/text/plain": "98.25"}
    assert meta["scrapbook"] == {"name": "ch05_test_nll", "mime_prefix": "application/papermill.record/"}
    assert meta["course_utils"] == {"headline": "test NLL (nats/image)"}
    # The prefix is myst-nb's own, so its {glue:text} role finds the value.
    from myst_nb.ext.glue import GLUE_PREFIX
    assert book.GLUE_PREFIX == GLUE_PREFIX
