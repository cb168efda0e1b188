"""Open a page in Debian's headless Chromium with every network request blocked, and say what
it tried: the requests, console errors, the charts it holds, which of its scrolling boxes
scroll, whether it fits a narrow window.

Playwright for Python drives the system's /usr/bin/chromium (`apt-get install chromium`);
no browser is downloaded (never `playwright install`).
"""

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Request, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own traffic (updates, safe browsing, metrics) off: only the page's requests remain.
QUIET_CHROMIUM = [
    "--no-sandbox",  # the tests run as root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
]


@dataclass
class PageVisit:
    """What a page did when it loaded offline."""

    requests: list[str] = field(default_factory=list)  # every URL asked for, the page's own too
    blocked: list[str] = field(default_factory=list)  # the ones refused (all but the page)
    console_errors: list[str] = field(default_factory=list)
    charts: int = 0  # <svg> elements inside figure.chart
    title: str = ""
    overflows_narrow: bool = False  # wider than a 420 px window
    scrolled: list[str] = field(default_factory=list)  # ids of .scroll boxes that scroll at `width`


def visit_offline(page_path: Path, screenshot: Path, width: int = 1000) -> PageVisit:
    """Load `page_path` (file://) with every other request aborted; screenshot its top."""
    visit = PageVisit()
    url = page_path.resolve().as_uri()

    def route(route: Route, request: Request) -> None:
        if request.url == url:
            route.continue_()
        else:
            visit.blocked.append(request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=QUIET_CHROMIUM)
        try:
            context = browser.new_context(viewport={"width": width, "height": 1300})
            context.route("**/*", route)
            page = context.new_page()
            page.on("request", lambda request: visit.requests.append(request.url))
            page.on(
                "console",
                lambda message: (
                    message.type == "error" and visit.console_errors.append(message.text)
                ),
            )
            page.on("pageerror", lambda error: visit.console_errors.append(str(error)))
            page.goto(url, wait_until="load", timeout=30_000)
            visit.title = page.title()
            visit.charts = page.locator("figure.chart svg").count()
            page.screenshot(path=str(screenshot))
            visit.scrolled = page.evaluate(
                "[...document.querySelectorAll('.scroll')]"
                ".filter(box => box.scrollWidth > box.clientWidth).map(box => box.id)"
            )
            page.set_viewport_size({"width": 420, "height": 900})
            visit.overflows_narrow = page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth"
            )
        finally:
            browser.close()
    return visit
