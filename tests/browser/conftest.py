"""Browser tests: Playwright's sync API driving Debian's chromium, as a phone would.

Chromium comes from the system (`apt-get install chromium`, which `.ci/run` does), never from
`playwright install`: the build machines cannot download Playwright's own browsers.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

TIMEOUT_MS = 10_000
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (a stable sort after pytest-django's own ordering). The flush that
    ends each of them empties every table, data-migration rows included, which would break a
    transactional test that runs after them; and Playwright's loop stays marked as running on
    this thread until the session ends."""
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.is_relative_to(here))


def chromium_path() -> str:
    return os.environ.get("ZHUCUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium for the run. Missing chromium fails every browser test: a skip
    would let CI pass without ever running them."""
    executable = chromium_path()
    if not (Path(executable).is_file() and os.access(executable, os.X_OK)):
        pytest.fail(
            f"chromium not found at {executable!r}: `apt-get install chromium` "
            "(or point ZHUCUN_CHROMIUM at a chromium binary)",
            pytrace=False,
        )
    # Playwright's sync API keeps its asyncio loop marked as running on this thread from start()
    # to stop(): its dispatcher greenlet is parked inside the loop, and
    # playwright/_impl/_greenlets.py sets the mark again after every call. Two consequences:
    # - Django's async-unsafe guard raises SynchronousOnlyOperation for every ORM call here (in
    #   the test body, and in pytest-django's set-up and flush of `transactional_db`). Nothing
    #   runs concurrently (the loop only turns while this thread waits inside a Playwright call),
    #   so the guard does not apply: it is switched off for as long as Playwright runs, which is
    #   only the browser tests, since they run last.
    # - asgiref's thread-critical Local behind `django.db.connections` serves this thread a
    #   second, empty set of connections: pin the thread's own ones, so that the test body,
    #   `live_server` and the flush share one connection per alias, and the connection keeps what
    #   `setup_databases` left on it (the snapshot the serialized rollback restores).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        own = {alias: connections[alias] for alias in connections}
        playwright = sync_playwright().start()
        for alias, connection in own.items():
            connections[alias] = connection
        try:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
        finally:
            playwright.stop()


@pytest.fixture(scope="package", autouse=True)
def _empty_tables(django_db_setup: None, django_db_blocker) -> None:
    """Empty tables before the first browser test, so that the serialized rollback below
    restores the migrated database exactly. A transactional test that ran earlier leaves the
    content types and permissions that `flush` re-creates, under new ids, and restoring the
    snapshot over them breaks their unique constraints."""
    with django_db_blocker.unblock():
        for alias in connections:
            call_command(
                "flush", database=alias, interactive=False, verbosity=0, inhibit_post_migrate=True
            )


@pytest.fixture(autouse=True)
def _migration_rows(django_db_serialized_rollback: None) -> None:
    """Every browser test starts from the migrated database, data-migration rows (household
    statuses, content types, permissions) included: `live_server` needs `transactional_db`,
    which empties every table when a test ends, so without the snapshot taken at database set-up
    (and restored before each test) only the first browser test would see those rows."""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh phone-sized page (own cookies and storage) for one test."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _login(
    page: Page, live_server, username: str, password: str, path: str = "/work/login/"
) -> None:
    """Log in through the login form at `path` (fields `username` and `password`, one submit
    button), as a person does; fails the test with the form's message if the login is refused."""
    page.goto(live_server.url + path)
    form = page.locator("form", has=page.locator('[name="password"]'))
    form.locator('[name="username"]').fill(username)
    form.locator('[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('[type="submit"], button:not([type])').click()
    if urlsplit(page.url).path == urlsplit(path).path:
        pytest.fail(f"login as {username!r} refused: {page.locator('body').inner_text()[:500]}")


@pytest.fixture
def login() -> Callable[..., None]:
    """`login(page, live_server, username, password, path="/work/login/")`."""
    return _login
