"""The server-rendered pages in Chromium: an anonymous first visit has no failed request and no
console error, the pages work with JavaScript off, the language toggle goes to the other
language's address, and axe finds nothing serious."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    DESKTOP,
    PHONE,
    assert_no_serious_axe_violations,
    assert_no_sideways_scroll,
    screenshot,
)


@pytest.fixture(scope="module")
def company_path(live_server: LiveServer) -> str:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        hits = http.get("/api/v1/companies/search", params={"q": "construccion"}).json()
        moved = http.get("/company/", params={"id": hits[0]["uuid"]})
    assert moved.status_code == 301
    return str(moved.headers["location"])


class Recorder:
    """Every failed request and console error of a page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url}"))
        page.on("response", self._response)

    def _console(self, message: object) -> None:
        if getattr(message, "type", "") == "error":
            self.problems.append(f"console: {getattr(message, 'text', '')}")

    def _response(self, response: object) -> None:
        status = getattr(response, "status", 0)
        if status >= 400:
            self.problems.append(f"{status}: {getattr(response, 'url', '')}")


@pytest.fixture
def anonymous(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="es-CL")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def without_js(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, locale="es-CL", java_script_enabled=False
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


class TestAnonymousFirstVisit:
    @pytest.mark.parametrize(
        "path", ["/", "/?q=construccion", "COMPANY", "/proveedores/construccion"]
    )
    def test_no_failed_request_and_no_console_error(
        self, anonymous: BrowserContext, company_path: str, path: str
    ) -> None:
        page = anonymous.new_page()
        recorder = Recorder(page)
        page.goto(company_path if path == "COMPANY" else path, wait_until="networkidle")
        page.wait_for_timeout(500)
        assert recorder.problems == []

    def test_the_who_am_i_probe_is_not_sent_without_a_session(
        self, anonymous: BrowserContext
    ) -> None:
        page = anonymous.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto("/", wait_until="networkidle")
        assert not [url for url in asked if "/users/me" in url]
        expect(page.locator(".auth-links")).to_have_count(1)

    def test_an_unknown_address_is_the_404_page_in_the_sites_frame(
        self, anonymous: BrowserContext
    ) -> None:
        page = anonymous.new_page()
        response = page.goto("/no/such/page")
        assert response is not None
        assert response.status == 404
        expect(page).to_have_title("Página no encontrada · Proveo")
        expect(page.get_by_role("link", name="Ir a la búsqueda")).to_be_visible()
        # Found by a newcomer: the card touched the header, at both widths.
        sizes: tuple[ViewportSize, ...] = (
            {"width": 1280, "height": 800},
            {"width": 375, "height": 740},
        )
        for viewport in sizes:
            page.set_viewport_size(viewport)
            header = page.locator("#site-header").bounding_box()
            card = page.locator(".not-found").bounding_box()
            assert header is not None
            assert card is not None
            assert card["y"] - (header["y"] + header["height"]) >= 16, (viewport, header, card)


class TestWithoutJavaScript:
    def test_the_company_page_is_complete(
        self, without_js: BrowserContext, company_path: str
    ) -> None:
        page = without_js.new_page()
        page.goto(company_path)
        expect(page.locator("h1#company-name")).not_to_be_empty()
        expect(page.locator(".contact-actions a").first).to_be_visible()
        expect(page.locator('script[type="application/ld+json"]')).to_have_count(1)
        assert "· Proveo" in page.title()

    def test_a_landing_page_lists_companies_that_open(self, without_js: BrowserContext) -> None:
        page = without_js.new_page()
        page.goto("/proveedores/construccion")
        expect(page.locator("h1")).to_have_text("Construcción en Chile")
        first = page.locator(".landing-card-title a").first
        name = first.inner_text()
        first.click()
        expect(page.locator("h1#company-name")).to_have_text(name)

    def test_the_language_links_go_to_the_english_page(
        self, without_js: BrowserContext, company_path: str
    ) -> None:
        page = without_js.new_page()
        slug = company_path.rsplit("/", 1)[-1]
        page.goto(company_path)
        page.locator('a.lang-option[hreflang="en"]').click()
        expect(page).to_have_url(re.compile(r"/en/companies/" + re.escape(slug) + "$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="About the company")).to_be_visible()


class TestEnhanced:
    def test_the_toggle_goes_to_the_other_languages_address(
        self, anonymous: BrowserContext, company_path: str
    ) -> None:
        page = anonymous.new_page()
        page.goto(company_path)
        page.get_by_role("button", name="Menú").click()
        page.locator('button.lang-option[data-lang="en"]').click()
        expect(page).to_have_url(re.compile(r"/en/companies/[a-z0-9-]+$"))
        expect(page.get_by_role("heading", name="About the company")).to_be_visible()
        # The page's language stays the address's, whatever was chosen before.
        page.goto(company_path)
        expect(page.locator("html")).to_have_attribute("lang", "es")

    @pytest.mark.parametrize("path", ["COMPANY", "/proveedores/construccion", "/no/such/page"])
    def test_axe_finds_nothing_serious_and_nothing_scrolls_sideways(
        self, anonymous: BrowserContext, company_path: str, path: str
    ) -> None:
        page = anonymous.new_page()
        page.goto(company_path if path == "COMPANY" else path, wait_until="networkidle")
        assert_no_serious_axe_violations(page)
        assert_no_sideways_scroll(page)
        page.set_viewport_size(DESKTOP)
        assert_no_serious_axe_violations(page)
        name = {"COMPANY": "site-company", "/no/such/page": "site-404"}.get(path, "site-landing")
        screenshot(page, name)
