"""The publish form's wording and widgets in Chromium, for a verified provider without a company
(the publish → edit → delete journey itself is in `test_market.py`)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from proveo.catalog.data import REGIONS
from tests.e2e.conftest import LiveServer
from tests.e2e.support import PASSWORD, read_outbox_link, unique_email


def verified_provider(context: BrowserContext, outbox: Path) -> str:
    """A new account, verified (the link signs the context in) and without a company."""
    address = unique_email("publish-form")
    signup = context.request.post(
        "/api/v1/users/signup", data={"name": "Rosa Díaz", "email": address, "password": PASSWORD}
    )
    assert signup.status == 201, signup.text()
    assert context.request.get(read_outbox_link(outbox, address, "verify")).ok
    assert context.request.get("/api/v1/users/me").ok
    return address


class TestUploadHints:
    def test_the_logo_and_gallery_hints_read_as_sentences_in_both_languages(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_provider(context, live_server.outbox)
        page.goto("/publish/")
        logo_hint = page.locator("#publish-form-image-hint")
        gallery_hint = page.locator("#publish-form-photos-hint")
        expect(logo_hint).to_have_text(
            "JPEG, PNG o WebP, hasta 5 MB. Un logo cuadrado se ve mejor. Elígela o arrástrala aquí."
        )
        expect(gallery_hint).to_have_text(
            "Hasta 6 fotos de tu trabajo, tu local o tu equipo: JPEG, PNG o WebP, hasta 5 MB "
            "cada una. Elígelas o arrástralas aquí."
        )
        page.locator(".lang-option[data-lang=en]").click()
        expect(logo_hint).to_have_text(
            "JPEG, PNG or WebP, up to 5 MB. A square logo looks best. Choose it or drag it here."
        )
        expect(gallery_hint).to_contain_text("up to 5 MB each. Choose them or drag them here.")


class TestServedRegions:
    def test_regions_run_north_to_south_and_the_communes_own_is_checked_and_locked(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_provider(context, live_server.outbox)
        page.goto("/publish/")
        boxes = page.locator('#publish-form input[name="served_regions"]')
        expect(boxes.first).to_be_attached()
        shown = boxes.evaluate_all("els => els.map((el) => el.value)")
        assert len(shown) > 1
        assert shown == sorted(shown, key=REGIONS.index), shown
        commune = page.locator("#publish-form-commune-uuid")
        own = boxes.and_(page.locator('[value="Metropolitana de Santiago"]'))
        other = boxes.and_(page.locator('[value="Valparaíso"]'))
        expect(own).not_to_be_checked()
        for name, chosen, left in (("Providencia", own, other), ("Viña del Mar", other, own)):
            commune.fill(name)
            page.locator(".combobox-list [role=option]", has_text=name).first.click()
            expect(chosen).to_be_checked()
            expect(chosen).to_be_disabled()
            expect(left).not_to_be_checked()
            expect(left).to_be_enabled()


class TestNoFailingRequest:
    def test_a_provider_without_a_company_opens_publish_without_a_404(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        """Found by a newcomer: each visit asked for the missing company (a 404 in the console)."""
        verified_provider(context, live_server.outbox)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto("/publish/", wait_until="networkidle")
        expect(page.locator("#publish-form")).to_be_visible()
        assert failed == []
