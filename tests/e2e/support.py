"""Helpers for the browser tests: the email outbox, axe, screenshots, signing up and logging in."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, ViewportSize, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_DIR = ROOT / "artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
PASSWORD = "Proveo-e2e-2026"
# What each kind of email links to (the page or endpoint path before the token).
LINK_PATTERNS = {
    "verify": re.compile(
        r"https?://[^\s\"'<>]+/api/v1/users/verify-email/[^\s\"'<>?]+(?:\?[^\s\"'<>]*)?"
    ),
    "reset": re.compile(r"https?://[^\s\"'<>]+/reset-password/#token=[^\s\"'<>]+"),
}
SERIOUS = {"serious", "critical"}


def _body_text(path: Path) -> tuple[str, str]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    return str(message["To"] or ""), str(text)


def read_outbox_link(
    outbox: Path, address: str, kind: str = "verify", timeout: float = 15.0
) -> str:
    """The newest link of `kind` ('verify' or 'reset') emailed to `address` (waits for it)."""
    pattern = LINK_PATTERNS[kind]
    deadline = time.monotonic() + timeout
    while True:
        found: list[tuple[float, str]] = []
        for path in outbox.glob("*.eml") if outbox.exists() else []:
            to, text = _body_text(path)
            if address.lower() not in to.lower():
                continue
            for link in pattern.findall(text):
                found.append((path.stat().st_mtime_ns, link))
        if found:
            return max(found)[1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} email to {address} in {outbox}")
        time.sleep(0.1)


def settle_transitions(page: Page) -> None:
    """Wait for running transitions (a fade back from the loading state) to end.

    axe measures contrast with the opacity of the moment: text half-way through a fade fails.
    Endless animations (spinners, skeleton shimmer) are left running.
    """
    page.evaluate(
        """() => Promise.all(document.getAnimations()
              .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
              .map((a) => a.finished.catch(() => null)))"""
    )


def assert_no_serious_axe_violations(page: Page) -> None:
    """axe-core (the copy in the axe-playwright-python wheel) finds no serious or critical issue."""
    settle_transitions(page)
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(node.get("target")) for node in v.get("nodes", [])[:5])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert not serious, "\n".join(serious)


def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at desktop (1280×800) and phone (375×740) widths, for people to see."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    paths = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)
        path = SCREENSHOTS_DIR / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(original)
    return paths


def assert_no_sideways_scroll(page: Page) -> None:
    """At the page's current viewport nothing is wider than the screen."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def unique_email(tag: str) -> str:
    return f"{tag}-{time.time_ns()}@example.com"


def signup(page: Page, *, name: str, address: str, password: str = PASSWORD) -> None:
    page.goto("/signup/")
    page.locator("#signup-name").fill(name)
    page.locator("#signup-email").fill(address)
    page.locator("#signup-password").fill(password)
    page.locator("form#signup-form button[type=submit]").click()
    expect(page.locator("#signup-done")).to_be_visible()


def signup_and_verify(
    page: Page,
    outbox: Path,
    *,
    name: str = "Ana Pérez",
    address: str | None = None,
    password: str = PASSWORD,
) -> str:
    """Sign up in the browser and open the emailed verification link; returns the address."""
    address = address or unique_email("user")
    signup(page, name=name, address=address, password=password)
    page.goto(read_outbox_link(outbox, address, "verify"))
    expect(page.locator("[data-outcome=verified]")).to_be_visible()
    return address


def login(
    page: Page, address: str, password: str = PASSWORD, *, next_path: str = "/account/"
) -> None:
    """Log in through the form; lands on `next_path` (a page with the site header)."""
    page.goto(f"/login/?next={next_path}")
    page.locator("#login-email").fill(address)
    page.locator("#login-password").fill(password)
    page.locator("form#login-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    expect(page.locator(".user-chip")).to_be_visible()
