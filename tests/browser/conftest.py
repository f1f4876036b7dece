"""Fixtures for end-to-end tests in a real headless Chromium, on SQLite and on PostgreSQL.

Every test in ``tests/browser`` is marked ``browser`` (``pytest -m "not browser"`` skips them).

- ``live_server``: the test's ``app`` served over HTTP on a free port; yields the base URL.
- ``browser`` (session): Debian's Chromium, headless, driven by Playwright's sync API.
  Nothing is downloaded: ``make setup`` installs ``/usr/bin/chromium``; without it these tests
  are skipped, saying so.
- ``new_mobile_context(**overrides)``: factory for phone-sized browser contexts pointed at the
  live server (``page.goto("/login")`` works). Several contexts per test are fine (two people,
  two devices); ``user_data_dir=path`` gives a persistent profile instead (a phone that keeps
  its service worker and caches across "restarts"). All are closed after the test.
- ``mobile_page``: one page in one such context, for the common case.
- ``screenshot(page, name)``: writes ``docs/screenshots/<name>.png`` on the SQLite run only.

Contexts depend on ``live_server``, so they are closed before the server stops; the server
stops before ``app`` disposes of its database engine.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: Set on top of Playwright's "Pixel 7" descriptor (412×839 CSS px, 2.625 device pixels per
#: px, touch, Android Chrome user agent): a phone used in Chinese, on Beijing time.
PHONE = {
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


#: Werkzeug's development server (the live server below) leaves a static file open when
#: Chromium drops the connection half-way through downloading it — e.g. the manifest's icons
#: fetched just as a test closes the page; the garbage collector then closes it with a
#: ResourceWarning. That is the test server's behaviour, not the product's (gunicorn serves it
#: in production), so only that exact warning is tolerated here.
_DROPPED_STATIC_FILE = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name='[^']*/static/"
    r":pytest.PytestUnraisableExceptionWarning")


def pytest_collection_modifyitems(items):
    """Mark every test under ``tests/browser`` as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(_DROPPED_STATIC_FILE)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's ``app`` served on 127.0.0.1 at a free port; yields ``http://127.0.0.1:<port>``.

    A threaded werkzeug server runs in a background thread. Each request gets its own app
    context (Flask pushes one per request), separate from the one the test holds, so what the
    test wants a page to see must be committed first, as the factory fixtures do.
    """
    in_flight = _InFlight(app)
    server = make_server("127.0.0.1", 0, in_flight, threaded=True)
    # a short poll: stopping waits for the server's next look at its shutdown flag
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        in_flight.wait(timeout=10)


class _InFlight:
    """WSGI middleware counting the requests the app is still handling.

    Werkzeug's threaded server does not wait for its request threads when it stops, and a
    browser that closes a page does not stop the requests it had sent. One still running when
    ``app`` disposes of its engine would return its connection to a pool nobody closes any
    more, and the garbage collector would later find it open (a ResourceWarning from psycopg,
    at some other test). The server's teardown waits for them with :meth:`wait`.
    """

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.count += 1
        try:
            # Flask pops the request's app context, returning its connection, before it
            # returns the response: the body is sent after the count drops.
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait(self, timeout: float) -> None:
        with self.idle:
            if not self.idle.wait_for(lambda: self.count == 0, timeout=timeout):
                raise RuntimeError(f"{self.count} request(s) still running after {timeout} s")


@pytest.fixture(scope="session")
def playwright():
    """Playwright's sync API, started once per run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make setup` installs Debian's Chromium "
                    "(browsers are never downloaded at run time)")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


def launch_options() -> dict:
    """How Chromium is started: the system binary, headless, nothing phoning home."""
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser(playwright):
    """One headless Chromium for the whole run; tests isolate themselves with contexts."""
    chromium = playwright.chromium.launch(**launch_options())
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def new_mobile_context(playwright, browser, live_server) -> Iterator[Callable]:
    """Factory: ``new_mobile_context(**overrides)`` → a phone-sized ``BrowserContext``.

    Defaults: :data:`PHONE` on Playwright's "Pixel 7", ``base_url`` set to the live server.
    Any ``Browser.new_context`` option may be overridden (``offline=True``,
    ``viewport={...}``, ``locale="en-US"``, ``service_workers="block"`` …); offline can also
    be toggled later with ``context.set_offline(True)``. With ``user_data_dir=path`` the
    context is a persistent profile (``launch_persistent_context``): close it and open a new
    one on the same directory to simulate reopening the app on the same phone.
    """
    opened = []

    def make(user_data_dir: str | Path | None = None, **overrides):
        options = {**phone_descriptor(playwright), **PHONE, "base_url": live_server,
                   **overrides}
        if user_data_dir is None:
            context = browser.new_context(**options)
        else:
            context = playwright.chromium.launch_persistent_context(
                str(user_data_dir), **launch_options(), **options)
        opened.append(context)
        return context

    yield make
    for context in reversed(opened):
        context.close()  # closing twice is harmless if a test closed it already


def phone_descriptor(playwright) -> dict:
    """Playwright's "Pixel 7" device, minus the key ``new_context`` does not accept."""
    descriptor = dict(playwright.devices["Pixel 7"])
    descriptor.pop("default_browser_type", None)
    return descriptor


@pytest.fixture
def mobile_page(new_mobile_context):
    """A page on a phone-sized screen, in a fresh context (no cookies, no storage)."""
    return new_mobile_context().new_page()


@pytest.fixture
def screenshot(backend) -> Callable:
    """``screenshot(page, name)``: save ``docs/screenshots/<name>.png`` (full page, or what
    the screen shows with ``full_page=False``).

    Only the SQLite run writes, so the two database runs do not overwrite each other; returns
    the path written, or None.
    """

    def take(page, name: str, *, full_page: bool = True) -> Path | None:
        if backend.name != "sqlite":
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if full_page:
            # from the top: scrolled down, the sticky sync bar would be drawn down there and
            # leave a blank band where it belongs
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
