"""Browser fixtures: a live server on a fresh database, Debian's Chromium through Playwright,
and a clock the tests can stop and move (the server thread reads ``recruit.clock.now``)."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from recruit import clock, create_app
from recruit.config import set_public_url
from recruit.db import get_db, make_engine, utcnow
from recruit.migrate import upgrade
from tests.conftest import _free_port, app_config, wait_for_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class LiveServer:
    """The app served on 127.0.0.1 from a thread; ``db()`` opens a session on its database."""

    def __init__(self, app):
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def run(self, work):
        """Run ``work(db)`` in an app context and commit (test set-up and checks)."""
        with self.app.app_context():
            db = get_db()
            result = work(db)
            db.commit()
            return result


class Clock:
    """A clock that stands still unless a test moves it."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def frozen_clock(monkeypatch) -> Clock:
    """Stop ``recruit.clock.now`` at the present second."""
    state = Clock(utcnow().replace(microsecond=0))
    monkeypatch.setattr(clock, "now", state)
    return state


@contextmanager
def serving(new_database, folder, **config):
    """The app on a fresh migrated database with real commits, served from a thread;
    ``config`` adds settings (``DEMO=True``, say)."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(app_config(url, folder, **config))
    server = LiveServer(app)
    # Links in e-mails point at this server, as `recruit run` makes them point at its port.
    set_public_url(app, server.url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        app.extensions["recruit.engine"].dispose()


@pytest.fixture
def live_server(new_database, tmp_path):
    """The app on a fresh migrated database with real commits, served from a thread."""
    with serving(new_database, tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab at desktop size (own cookies and local storage)."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshots(tmp_path, browser):
    """Save a page at desktop and phone width; RECRUIT_SCREENSHOTS names a folder to keep them."""
    folder = Path(os.environ.get("RECRUIT_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    take.folder = folder
    return take
