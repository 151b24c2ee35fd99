"""_ext/build_status.py: the status page is made from the executed notebooks, never typed."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import build_status  # noqa: E402


def _nb(*cells):
    return {"cells": list(cells)}


def _code(source, outputs=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs)}


SETUP = _code("device = cu.print_setup()", [{"output_type": "stream", "name": "stdout",
    "text": "device: cpu | profile: standard | torch 2.4 | CPU: x, 2 logical cores | CPU threads: 2\n"}])


def _glued(value, headline=None):
    meta = {"scrapbook": {"name": "k", "mime_prefix": "application/papermill.record/"}}
    if headline:
        meta["course_utils"] = {"headline": headline}
    return {"output_type": "display_data", "metadata": meta,
            "data": {"application/papermill.record/text/plain": value}}


def test_count_asserts_counts_statements_and_skips_ipython_lines():
    nb = _nb(_code("%pip install x\nassert 1 == 1\nfor i in range(3):\n    assert i >= 0"),
             {"cell_type": "markdown", "source": "assert nothing"}, _code("x = 1"))
    assert build_status.count_asserts(nb) == 2


def test_setup_line_reads_device_and_profile():
    assert build_status.setup_line(_nb(SETUP)) == {"device": "cpu", "profile": "standard"}
    assert build_status.setup_line(_nb(_code("print(1)"))) is None


def test_headlines_are_only_the_glued_values_marked_as_headline():
    nb = _nb(_code("glue", [_glued("98.2512", "test NLL (nats/image)"), _glued("3.0")]),
             _code("glue", [_glued("60000", "training images")]))
    assert build_status.headlines(nb) == [("test NLL (nats/image)", "98.251"),
                                          ("training images", "60,000")]


def test_headlines_are_read_from_myst_nb_glue_file_too():
    glue = {"ch05_a": {"metadata": {"scrapbook": {}, "course_utils": {"headline": "test NLL (nats/image)"}},
                       "data": {"text/plain": "153.98194"}},
            "ch05_b": {"metadata": {"scrapbook": {}}, "data": {"text/plain": "6"}}}
    assert build_status.glued_headlines(glue) == [("test NLL (nats/image)", "153.98")]


def test_recorded_checks_are_the_solution_check_lines(tmp_path):
    path = tmp_path / "s.ipynb"
    path.write_text(json.dumps(_nb(_code("checks.check_beta_vae_loss(beta_vae_loss)",
        [{"output_type": "stream", "text": "β-VAE loss: 6/6 checks passed\n"}]), _code("x"))))
    assert build_status.recorded_checks(path) == ["β-VAE loss: 6/6 checks passed"]


def _app(tmp_path, docs, executed=None, mode="force"):
    """A stand-in for the Sphinx application: found docs, exec data, the executed folder."""
    out = tmp_path / "_build" / "html"
    out.mkdir(parents=True)
    (tmp_path / "_build" / "jupyter_execute" / "chapters").mkdir(parents=True)
    for docname, nb in (executed or {}).items():
        (tmp_path / "_build" / "jupyter_execute" / f"{docname}.ipynb").write_text(json.dumps(nb))
    env = SimpleNamespace(found_docs=set(docs), titles={}, metadata={}, nb_metadata={})
    builder = SimpleNamespace(get_relative_uri=lambda a, b: b + ".html", format="html")
    config = SimpleNamespace(nb_execution_mode=mode,
                             nb_execution_cache_path=str(tmp_path / "_build" / ".jupyter_cache"))
    return SimpleNamespace(env=env, outdir=str(out), srcdir=str(tmp_path), builder=builder,
                           config=config)


def test_a_chapter_the_build_did_not_execute_is_a_warning(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(build_status.logger, "warning", warnings.append)
    from myst_nb.sphinx_ import NbMetadataCollector
    monkeypatch.setattr(NbMetadataCollector, "get_exec_data", classmethod(lambda cls, env, doc: None))
    app = _app(tmp_path, ["chapters/01_x", "intro"])
    rows = build_status.chapter_rows(app)
    assert rows[0][3] == "not executed"
    assert any("chapters/01_x was not executed" in w for w in warnings)


def test_an_executed_chapter_becomes_a_row_with_its_numbers(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(build_status.logger, "warning", warnings.append)
    from myst_nb.sphinx_ import NbMetadataCollector
    nb = _nb(SETUP, _code("assert True", [_glued("0.9871", "AUROC")]))
    app = _app(tmp_path, ["chapters/11_x"], {"chapters/11_x": nb})
    monkeypatch.setattr(NbMetadataCollector, "get_exec_data",
                        classmethod(lambda cls, env, doc: {"succeeded": True, "runtime": 52.04}))
    [row] = build_status.chapter_rows(app)
    assert row[1:4] == ["standard", "cpu", "52.0 s"]
    assert "AUROC: <b>0.9871</b>" in row[4] and row[5] == "1"
    assert warnings == []


def test_under_make_book_the_outputs_come_from_the_cache_it_filled(tmp_path, monkeypatch):
    """myst-nb's cache mode writes jupyter_execute/<doc>.ipynb without the outputs it took
    from the cache (as `make book` builds): the row must still have them."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.sphinx_ import NbMetadataCollector

    warnings = []
    monkeypatch.setattr(build_status.logger, "warning", warnings.append)
    def notebook(with_outputs):
        cells = [nbformat.v4.new_code_cell(c["source"], outputs=[nbformat.from_dict(o) for o in
                                                                 c["outputs"]] if with_outputs else [])
                 for c in (SETUP, _code("assert True", [_glued("0.9871", "AUROC")]))]
        return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
            "name": "python3", "display_name": "Python 3", "language": "python"}})

    ran, bare = notebook(True), notebook(False)
    app = _app(tmp_path, ["chapters/11_x"], {"chapters/11_x": bare}, mode="cache")
    (tmp_path / "chapters").mkdir()
    nbformat.write(bare, tmp_path / "chapters" / "11_x.ipynb")
    get_cache(app.config.nb_execution_cache_path).cache_notebook_bundle(
        CacheBundleIn(ran, str(tmp_path / "chapters" / "11_x.ipynb")), check_validity=False)
    monkeypatch.setattr(NbMetadataCollector, "get_exec_data",
                        classmethod(lambda cls, env, doc: {"succeeded": True, "runtime": 52.04}))
    [row] = build_status.chapter_rows(app)
    assert row[1:4] == ["standard", "cpu", "52.0 s"]
    assert row[4] == "AUROC: <b>0.9871</b>" and row[5] == "1"
    assert warnings == []
    # the same notebook read in "force" mode, from the bare copy, has neither
    app.config.nb_execution_mode = "force"
    [row] = build_status.chapter_rows(app)
    assert row[1] == "?" and len(warnings) == 2


def test_a_chapter_without_a_headline_number_is_a_warning(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(build_status.logger, "warning", warnings.append)
    from myst_nb.sphinx_ import NbMetadataCollector
    app = _app(tmp_path, ["chapters/02_x"], {"chapters/02_x": _nb(SETUP)})
    monkeypatch.setattr(NbMetadataCollector, "get_exec_data",
                        classmethod(lambda cls, env, doc: {"succeeded": True, "runtime": 1.0}))
    build_status.chapter_rows(app)
    assert any("glues no headline number" in w for w in warnings)


def test_the_status_page_is_in_the_toc_and_uses_the_directive():
    assert "- file: status" in (ROOT / "_toc.yml").read_text()
    assert "```{build-status}" in (ROOT / "status.md").read_text()
    assert "build_status: _ext" in (ROOT / "_config.yml").read_text()
