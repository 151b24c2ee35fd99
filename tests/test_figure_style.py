"""The book's figure style: every notebook's setup cell (course_utils.print_setup) renders
figures at 150 dpi, so that they are sharp at the book's column width and when zoomed."""
import matplotlib

import course_utils
from course_utils import runtime


def test_print_setup_sets_figures_to_at_least_150_dpi(capsys):
    matplotlib.rcParams["figure.dpi"] = 72
    course_utils.print_setup(seed=0)
    assert matplotlib.rcParams["figure.dpi"] >= 150
    assert runtime.FIGURE_RC["figure.dpi"] >= 150
    assert "device:" in capsys.readouterr().out


def test_the_figure_style_changes_no_layout():
    """Only resolution: sizes in inches and points stay Matplotlib's, so figures that chapter
    authors laid out keep their layout."""
    assert set(runtime.FIGURE_RC) == {"figure.dpi"}
