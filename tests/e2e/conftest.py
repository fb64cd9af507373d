"""The real app (`proveo serve`, embedded PostgreSQL, demo data, console email) in real Chromium.

One server per xdist worker (session scope): tests keep apart by using addresses of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e.support import DESKTOP
from tests.fixtures.servers import running_proveo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
# Assertions wait as long as actions do (the context's default below): on a loaded CI machine
# an image through the NSFW model or a batch of emails can take more than expect's 5 s.
expect.set_options(timeout=15_000)

# The demo administrator `proveo serve` seeds with PROVEO_SEED_DEMO.
ADMIN_EMAIL = "admin_test@mail.com"
ADMIN_PASSWORD = "password"


@dataclass(frozen=True)
class LiveServer:
    url: str
    outbox: Path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    # Every page view, signup and login comes from one loopback address: the per-address budgets
    # are raised, the per-account lockout stays at its default so the log-in page's 429 shows.
    # Emails asked for by address (resend, reset) keep their fixed 10 per address and hour: a
    # test module asks for a few.
    # The demo data goes through the image pipeline (NSFW model included): on a machine busy
    # with other suites that start-up alone has taken over two minutes.
    with running_proveo(
        data_dir,
        start_timeout=420,
        PROVEO_EMAIL_BACKEND="console",
        PROVEO_RATE_LIMIT_PER_IP_PER_MINUTE="100000",
        PROVEO_MAX_IN_FLIGHT_PER_CLIENT="64",
        PROVEO_SIGNUP_PER_IP_PER_HOUR="1000",
        PROVEO_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE="1000",
        # Every visit is from 127.0.0.1: each must count for the insights tests to see it.
        PROVEO_INSIGHTS_DEDUPE_SECONDS="0",
    ) as url:
        yield LiveServer(url=url, outbox=data_dir.resolve() / "outbox")


# Module scope, not session: while Playwright's sync driver runs, its event loop counts as
# running in this thread, and the worker's next (asyncio) test module could not start its own.
# `--dist loadfile` runs a module's tests together, so the driver is gone before the next module.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="es-CL")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A fresh page in a fresh context; a script error or a CSP violation fails the test."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield tab
    assert not errors, "errors in the page:\n" + "\n".join(errors)
