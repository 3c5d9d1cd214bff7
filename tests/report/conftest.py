"""A real headless Chromium for the report pages (Debian's ``chromium``, driven by playwright).

The browser is the system one (``/usr/bin/chromium``, or ``$TOKENPLAN_CHROMIUM``): playwright's own browser
downloads are never used. Where either is missing the browser tests skip with the reason; CI installs both.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from report_browser import _CHARTS_JS, _NUMBERS_JS, CHROMIUM_FLAGS, PageView, chromium_path


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; CI installs it in .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install 'tokenplan[test]')")
    # playwright gives the browser a fresh temporary profile (its --user-data-dir) and removes it.
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_report(browser):
    """open_report(path) -> PageView: load a report from file:// and wait until every chart is drawn."""
    pages = []

    def _open(path: Path, *, screenshot: Path | None = None, width: int = 1200) -> PageView:
        page = browser.new_page(viewport={"width": width, "height": 900})
        pages.append(page)
        errors: list[str] = []
        requests: list[str] = []
        page.on(
            "console",
            lambda m: (
                errors.append(f"console.{m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith(("file://", "data:", "blob:")) else requests.append(r.url)
            ),
        )
        t0 = time.perf_counter()
        page.goto(Path(path).resolve().as_uri())
        page.wait_for_function("document.body.dataset.rendered !== 'no'", timeout=30_000)
        elapsed = time.perf_counter() - t0
        view = PageView(
            render_seconds=elapsed,
            state=page.evaluate("document.body.dataset.rendered"),
            errors=errors,
            external_requests=requests,
            charts={c[0]: (c[1], c[2], c[3]) for c in page.evaluate(_CHARTS_JS)},
            numbers=[tuple(n) for n in page.evaluate(_NUMBERS_JS)],
            page=page,
        )
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        return view

    yield _open
    for p in pages:
        p.close()
