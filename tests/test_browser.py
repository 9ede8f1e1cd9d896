"""The notebooks as learners meet them: JupyterLab and Voila in a real Chromium.

Each notebook runs top to bottom with no error or warning output; its panel opens on a stolen model (a screenshot
of it, `*-stolen.png`), and its budget slider and rounding control, moved with the keyboard, change the readout
and the plot's pixels. Screenshots of every notebook before and after go to artifacts/browser/ (git-ignored) for a
person to look at.
"""

import os
from pathlib import Path

import pytest

from .browser import harness

pytestmark = pytest.mark.browser
NOTEBOOKS = sorted(path.name for path in (harness.ROOT / "notebooks").glob("*.ipynb"))
BROKEN = Path(__file__).parent / "fixtures" / "broken.ipynb"
SHOTS = harness.ROOT / "artifacts" / "browser"


@pytest.fixture(scope="module")
def chromium_path():
    path = harness.find_chromium()
    if path is None:
        message = "no Chromium found: install it (Debian: apt-get install chromium) or set KIT_CHROMIUM to its path"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI, but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path):
    with harness.chromium(chromium_path) as browser:
        yield browser


@pytest.fixture(scope="module")
def notebooks_copy(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("browser")
    return scratch, harness.copy_notebooks(scratch, extra=[BROKEN])


@pytest.fixture(scope="module")
def lab(notebooks_copy):
    scratch, notebooks = notebooks_copy
    with harness.jupyterlab(scratch, notebooks) as (base, token):
        yield base, token


@pytest.fixture(scope="module")
def voila(notebooks_copy):
    scratch, notebooks = notebooks_copy
    with harness.voila(scratch, notebooks) as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


PANELS = ("ExtractionPanel(", "LeakagePanel(", "DefensePanel(")


def has_panel(name):
    """Whether the notebook builds a panel (a `.kit-panel` with a `kit-budget` slider and a `.kit-readout`)."""
    text = (harness.ROOT / "notebooks" / name).read_text(encoding="utf-8")
    return any(panel in text for panel in PANELS)


def check_panel(page, name, where):
    """Move the budget slider of the first panel, then its rounding control if it has one: each must change
    what is shown (the readout, and for the budget the picture too: an ipympl canvas or an image)."""
    if not has_panel(name):
        assert page.locator(".kit-panel").count() == 0
        page.screenshot(path=str(SHOTS / f"{where}-{name}-after.png"), full_page=True)
        return
    panel = page.locator(".kit-panel").first
    panel.wait_for(state="visible", timeout=60_000)
    panel.scroll_into_view_if_needed()
    readout = panel.locator(".kit-readout").first
    plot = panel.locator("canvas, img").first
    plot.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)
    text, pixels = readout.inner_text(), harness.image_hash(plot)
    assert "No stolen model" not in text, f"{name}: the panel opens without a stolen model: {text[:300]}"
    page.screenshot(path=str(SHOTS / f"{where}-{name}-stolen.png"))  # the first picture a learner sees of a theft
    harness.press_slider(page, panel, "kit-budget", "Home")  # the fewest queries: a different copy
    harness.wait_for_change(readout.inner_text, text, timeout_s=60)
    harness.wait_for_change(lambda: harness.image_hash(plot), pixels, timeout_s=60)
    if not panel.locator(".kit-decimals").count():  # a panel without rounding (notebook 06's leakage panel)
        page.screenshot(path=str(SHOTS / f"{where}-{name}-after.png"), full_page=True)
        return
    toggle = panel.locator(".kit-output button", has_text="probabilities")
    if toggle.count() and toggle.first.is_enabled():  # rounding only shows when the API gives confidences
        toggle.first.click()
        page.wait_for_timeout(3000)
    text = readout.inner_text()
    harness.press_slider(page, panel, "kit-decimals", "End")
    harness.wait_for_change(readout.inner_text, text, timeout_s=60)
    page.screenshot(path=str(SHOTS / f"{where}-{name}-after.png"), full_page=True)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_jupyterlab(page, lab, name):
    base, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    harness.run_notebook_in_lab(page, base, token, name)
    page.screenshot(path=str(SHOTS / f"lab-{name}-before.png"), full_page=True)
    stderr = page.locator(harness.STDERR_OUTPUT)
    assert stderr.count() == 0, f"{name}: {stderr.first.inner_text()[:500]}"
    check_panel(page, name, "lab")


def test_jupyterlab_check_sees_errors_and_warnings(page, lab):
    base, token = lab
    harness.run_notebook_in_lab(page, base, token, BROKEN.name)
    assert page.locator(harness.STDERR_OUTPUT).count() >= 2  # the warning, the stderr print, the traceback


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_as_voila_app(page, voila, name):
    page.goto(f"{voila}/voila/render/{name}", timeout=180_000)  # Voila runs the whole notebook first
    page.wait_for_selector(".kit-panel" if has_panel(name) else ".jp-OutputArea-output", timeout=180_000)
    page.screenshot(path=str(SHOTS / f"voila-{name}-before.png"), full_page=True)
    stderr = page.locator(harness.STDERR_OUTPUT)
    assert stderr.count() == 0, f"{name}: {stderr.first.inner_text()[:500]}"
    check_panel(page, name, "voila")
