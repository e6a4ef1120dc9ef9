"""The report as a page: ``jaxrnn check FILE --html`` and the notebook's rich output. The
suspect equation rendered beside the learner's line, each wrong output drawn entry by entry, a
sequence's error step by step; nothing fetched from anywhere. (Rendered in a real browser by
tests/test_pages_in_browser.py.)"""

from __future__ import annotations

import html
import pathlib
import re

import pytest

from jaxrnn import cli, solution
from jaxrnn._html import pictures
from jaxrnn.cells import lstm

SOLUTIONS = pathlib.Path(__file__).with_name("solutions")


@pytest.fixture(scope="module")
def eq20_report():
    """eq. (20) without its second ft, and a loop that carries nothing."""
    return solution.check(SOLUTIONS / "eq20_and_loop.py")


def section(page: str, number: int) -> str:
    """One exercise's section, its entities read as text."""
    return html.unescape(page.split(f'id="exercise-{number}"', 1)[1].split("</section>", 1)[0])


def marked_lines(html_text: str) -> list[int]:
    return [
        int(n) for n in re.findall(r'class="line marked"><span class="number">\s*(\d+)', html_text)
    ]


def test_the_suspect_equation_beside_the_line_that_computes_it(eq20_report):
    page = section(eq20_report.to_html(), 7)
    assert 'data-equation="(20)"' in page and "<math" in page
    # the equation as MathML, read from the one source of the LSTM's equations
    assert ">Γ<" in page and "<msubsup>" in page
    source = (SOLUTIONS / "eq20_and_loop.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if text.strip().startswith("dc_prev ="))
    assert marked_lines(page) == [line]
    assert f"eq20_and_loop.py, line {line}" in page


def test_the_wrong_gradient_is_drawn_entry_by_entry(eq20_report):
    page = section(eq20_report.to_html(), 7)
    assert page.count("<svg") == 1  # dc_prev, the one wrong output
    assert "dc_prev: the error of each entry" in page and "worst at [4, 3]" in page


def test_a_loops_error_is_drawn_step_by_step_with_the_first_departing_step(eq20_report):
    page = section(eq20_report.to_html(), 8)
    assert "first departs: t = 2" in page
    # the learner's loop, and the same loop with jaxrnn's cell function in place of theirs
    assert "your lstm_backward" in page and "your loop with jaxrnn's lstm_cell_backward" in page
    assert "Suspect: the loop over the steps" in page
    source = (SOLUTIONS / "eq20_and_loop.py").read_text().splitlines()
    loop = next(i for i, text in enumerate(source, 1) if text.strip().startswith("for t in"))
    assert loop in marked_lines(page)
    assert "carries-nothing" in page  # the slip, with its fix


def test_the_page_keeps_the_reports_words(eq20_report):
    page = eq20_report.to_html()
    text = " ".join(html.unescape(page).split())
    for line in str(eq20_report).splitlines()[8:13]:  # exercise 7, under its heading
        assert " ".join(line.split()) in text


def test_the_page_fetches_nothing(eq20_report):
    page = eq20_report.to_html()
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", page)
    assert not re.search(r"url\((?!#)", page) and "@import" not in page  # #: within the page
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing


def test_the_notebooks_rich_output_is_the_page(eq20_report):
    inline = eq20_report._repr_html_()
    assert inline.startswith('<div class="jaxrnn-report">') and "<!DOCTYPE" not in inline
    assert section(inline, 7) == section(eq20_report.to_html(), 7)


def test_every_exercise_wrong_makes_a_page_under_a_megabyte():
    report = solution.check(SOLUTIONS / "all_wrong.py")
    assert report.summary().startswith("8 exercises checked: 8 wrong")
    page = report.to_html()
    assert len(page.encode()) < 1_000_000
    for number in range(1, 9):
        assert "<svg" in section(page, number)


def test_without_matplotlib_the_page_says_how_to_draw(eq20_report, monkeypatch):
    monkeypatch.setattr(pictures, "available", lambda: False)
    page = eq20_report.to_html()
    assert "<svg" not in page and pictures.MISSING in html.unescape(page)
    assert 'data-equation="(20)"' in page  # the equations need nothing


def test_jaxrnn_check_file_html_writes_the_page(tmp_path, capsys):
    target = tmp_path / "report.html"
    status = cli.main(["check", str(SOLUTIONS / "eq20_and_loop.py"), "--html", str(target)])
    printed = capsys.readouterr().out
    assert status == 1
    assert "✗ Exercise 7 — lstm_cell_backward" in printed  # the text report, as it was
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert 'data-equation="(20)"' in target.read_text()


def test_an_equation_found_by_the_documents_name_or_a_comment():
    from jaxrnn.solution._page import _lines_computing

    lines = [
        "def f(cache):",
        "    dft = 1  # eq (10)",
        "    gradients['dWf'] = dft",
        "    return {'dc_prev': 2 * dft}",
    ]
    assert _lines_computing((10, lines), "lstm", "(10)") == [11]
    assert _lines_computing((10, lines), "lstm", "(11)") == [12]
    assert _lines_computing((10, lines), "lstm", "(20)") == [13]
    assert _lines_computing((10, lines), "lstm", "(19)") == []
    assert set(lstm.EQUATIONS) >= {"(10)", "(11)", "(20)"}
