"""The report pages rendered by a real browser, headless Chromium driven by Playwright: the
math is rendered (MathML laid out, no TeX left as text), every picture has a size, the page
asks for nothing over the network, and its verdicts and headings are there. The screenshot of
a report with a wrong ``lstm_backward``, which the README and the documentation show, is taken
here (``docs/images/report.png``).

Chromium is Debian's package (``.ci/run`` installs it where it is missing); ``JAXRNN_CHROMIUM``
names another binary. Without one these tests are skipped, saying why."""

from __future__ import annotations

import os
import pathlib
import shutil

import jax
import numpy as np
import pytest

import jaxrnn
from jaxrnn import cli, solution
from jaxrnn.gradcheck import check_backward

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tests" / "solution" / "solutions"
SCREENSHOT = ROOT / "docs" / "images" / "report.png"
CHROMIUM = os.environ.get("JAXRNN_CHROMIUM") or next(
    (found for name in ("chromium", "chromium-browser", "google-chrome")
     if (found := shutil.which(name))), None)  # fmt: skip

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium (or set JAXRNN_CHROMIUM)"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def render(browser, path: pathlib.Path):
    """The page opened from its file: ``(page, the URLs it asked for)``."""
    page = browser.new_page(viewport={"width": 1000, "height": 1200})
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, asked


def assert_rendered(page, asked, url: str) -> None:
    """What every page must be, as the browser shows it."""
    assert [u for u in asked if not u.startswith("data:")] == [url]  # nothing from a network
    text = page.inner_text("body")
    for tex in ("\\Gamma", "\\tag", "\\frac", "^{", "_{", "\\langle"):
        assert tex not in text  # no TeX left as text
    for math in page.locator("math").all():
        assert "math" in math.evaluate("m => getComputedStyle(m).display")  # laid out as math
        box = math.bounding_box()
        assert box["width"] > 20 and box["height"] > 10
    for picture in page.locator("figure svg").all():
        box = picture.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    for image in page.locator("figure svg image").all():  # a heatmap's pixels, its colour bar's
        box = image.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0


@pytest.fixture(scope="module")
def eq20_page(tmp_path_factory):
    """The page of eq20_and_loop.py, checked from the repository's root as a reader would."""
    path = tmp_path_factory.mktemp("pages") / "eq20.html"
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        report = solution.check(SOLUTIONS.relative_to(ROOT) / "eq20_and_loop.py")
    finally:
        os.chdir(here)
    path.write_text(report.to_html(), encoding="utf-8")
    return path


def test_a_wrong_lstm_backward_as_the_browser_shows_it(browser, eq20_page):
    page, asked = render(browser, eq20_page)
    assert_rendered(page, asked, eq20_page.as_uri())
    headings = page.locator("h2").all_inner_texts()
    assert any("✗ wrong Exercise 7 — lstm_cell_backward" in h for h in headings)
    assert any("✗ wrong Exercise 8 — lstm_backward" in h for h in headings)
    assert page.locator("math").count() >= 1
    assert page.locator("#exercise-7 span.line.marked").count() == 1
    assert page.locator("#exercise-7 figure svg").count() == 1  # dc_prev
    assert page.locator("#exercise-8 figure svg").count() == 4  # dx, da0, dWf; dx by step
    # the screenshot the README and the documentation show: exercise 7 and the start of 8
    SCREENSHOT.parent.mkdir(exist_ok=True)
    bottom = page.locator("#exercise-8 figure").first.bounding_box()
    height = bottom["y"] + bottom["height"] + 10  # down to lstm_backward's error by step
    page.screenshot(
        path=SCREENSHOT, full_page=True, clip={"x": 0, "y": 0, "width": 1000, "height": height}
    )
    assert SCREENSHOT.stat().st_size > 50_000


def test_every_exercise_wrong_renders(browser, tmp_path):
    path = tmp_path / "all_wrong.html"
    path.write_text(solution.check(SOLUTIONS / "all_wrong.py").to_html(), encoding="utf-8")
    page, asked = render(browser, path)
    assert_rendered(page, asked, path.as_uri())
    for number in range(1, 9):
        assert page.locator(f"#exercise-{number} figure svg").count() >= 1
    assert "8 exercises checked: 8 wrong" in page.inner_text("h2.summary")


def test_the_gradient_checkers_report_renders(browser, tmp_path):
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        p = jaxrnn.cells.RNN.random_parameters(rng, 3, 4, 2, np.float64)
        x, a0 = rng.standard_normal((3, 2, 5)), rng.standard_normal((4, 2))

        def backward(da, caches):  # dx wrong at every step but the last
            gradients = dict(jaxrnn.rnn_backward(da, caches))
            gradients["dx"] = gradients["dx"].at[:, :, :-1].multiply(1.1)
            return gradients

        inputs = {"x": x, "a0": a0, "parameters": p}
        da = rng.standard_normal((4, 2, 5))
        report = check_backward(jaxrnn.rnn_forward, backward, inputs, da, dims={"dx": "n_x m T_x"})
    assert report.failed == ["dx"]
    path = tmp_path / "check_backward.html"
    path.write_text(report.to_html(), encoding="utf-8")
    page, asked = render(browser, path)
    assert_rendered(page, asked, path.as_uri())
    assert "✗ wrong" in page.inner_text("table") and "✓ right" in page.inner_text("table")
    assert page.locator("figure svg").count() == 2  # dx entry by entry, and step by step


def test_the_self_reports_page_renders(browser, tmp_path):
    path = tmp_path / "self.html"
    arguments = ["check", "--cell", "rnn", "--level", "cell", "--dtype", "float64"]
    assert cli.main([*arguments, "--html", str(path)]) == 0
    page, asked = render(browser, path)
    assert_rendered(page, asked, path.as_uri())
    assert "✓ right" in page.inner_text("table")
    assert page.locator("figure svg").count() == 1
