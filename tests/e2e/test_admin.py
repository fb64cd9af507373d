"""The admin console (/admin/) in real Chromium against the real app: companies, users, the
catalogue, the moderation queue, the audit log and search statistics; who may enter; axe and
screenshots of every tab at desktop and phone widths."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from proveo.cli import EMBEDDED_DATABASE
from proveo.companies import service as companies_service
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.integrations.storage import LocalImageStorage
from proveo.moderation import service as moderation_service
from tests.companies.support import ScoredAnalyser, close_shared_pipeline, jpeg
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer
from tests.e2e.support import (
    PASSWORD,
    PHONE,
    assert_no_serious_axe_violations,
    assert_no_sideways_scroll,
    read_outbox_link,
    screenshot,
    unique_email,
)

TABS = ["companies", "users", "products", "communes", "moderation", "audit", "stats"]


@dataclass(frozen=True)
class Owner:
    email: str
    company_uuid: str
    company_name: str


def _suffix() -> str:
    return str(time.time_ns())[-9:]


def _verified_client(live_server: LiveServer, name: str) -> tuple[httpx.Client, str, str]:
    """A signed-up, verified and logged-in API client; returns it, its email and CSRF token."""
    client = httpx.Client(base_url=live_server.url, timeout=30)
    address = unique_email("admin-e2e")
    response = client.post(
        "/api/v1/users/signup", json={"name": name, "email": address, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    assert client.get(read_outbox_link(live_server.outbox, address)).status_code == 200
    # The link signs its browser in (CSRF applies from then on); log in afresh for the token.
    client.cookies.clear()
    response = client.post("/api/v1/users/login", json={"email": address, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, address, str(response.json()["csrf_token"])


def make_owner(live_server: LiveServer, company_name: str) -> Owner:
    """A verified user with a published company, made through the public API."""
    client, address, csrf = _verified_client(live_server, "Dueña E2E")
    try:
        response = client.post(
            "/api/v1/companies",
            data={
                "name": company_name,
                "commune_name": "Valparaíso",
                "product_name": "Construcción",
                "address": "Av. Brasil 1500",
                "phone": "+56 9 8231 4576",
                "email": "ventas@example.com",
                "description_es": "Obras menores y remodelaciones en la región.",
                "lang": "es",
            },
            files={"image": ("logo.jpg", jpeg(colour="teal"), "image/jpeg")},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 201, response.text
        return Owner(address, str(response.json()["uuid"]), company_name)
    finally:
        client.close()


async def _hold(
    data_dir: Path, company_uuid: str, colour: str, score: float, *, photo: bool = False
) -> None:
    # The way the publish pipeline holds an upload: the real image pipeline stores it (with the
    # score set, as the company tests do), then the moderation service queues it.
    try:
        stored = await companies_service.store_image(
            ScoredAnalyser(score=score), LocalImageStorage(data_dir / "images"), jpeg(colour=colour)
        )
    finally:
        await close_shared_pipeline()  # this loop ends with the call
    assert stored.held
    dsn = EmbeddedPostgres(data_dir / "pg").dsn(EMBEDDED_DATABASE)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            company_id = await conn.fetchval(
                "SELECT id FROM proveo.company WHERE uuid = $1", UUID(company_uuid)
            )
            await moderation_service.hold_image(
                conn, company_id=company_id, image_key=stored.key, score=score
            )
            if photo:  # a gallery photo waits in the gallery, as an upload leaves it
                await conn.execute(
                    "INSERT INTO proveo.company_photo (company_id, image_key, position)"
                    " VALUES ($1, $2, 1)",
                    company_id,
                    stored.key,
                )
    finally:
        await conn.close()


def hold_image(
    live_server: LiveServer, company_uuid: str, colour: str, score: float, *, photo: bool = False
) -> None:
    # Off the test's thread: Playwright's sync API owns this thread's event loop.
    data_dir = live_server.outbox.parent
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _hold(data_dir, company_uuid, colour, score, photo=photo)).result()


def log_in(page: Page, address: str, password: str = PASSWORD) -> None:
    """Through the API, in the page's context: the cookies are the ones the log-in page gets."""
    response = page.request.post(
        "/api/v1/users/login", data={"email": address, "password": password}
    )
    assert response.status == 200, response.text()


def as_admin(page: Page, tab: str = "companies") -> None:
    log_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    open_tab(page, tab)


def open_tab(page: Page, tab: str) -> Locator:
    """Opens (or reloads, to see fresh data) the console on `tab`."""
    target = f"/admin/#{tab}"
    if page.url.endswith(target):
        page.reload()
    else:
        page.goto(target)
    expect(page.locator(f"#tab-{tab}")).to_have_attribute("aria-selected", "true")
    panel = page.locator(f"#panel-{tab}")
    expect(panel).to_be_visible()
    expect(panel.locator(".admin-loading")).to_have_count(0)
    return panel


def notice(panel: Locator) -> Locator:
    return panel.locator(".panel-notice .alert")


def find_row(panel: Locator, text: str) -> Locator:
    """The row holding `text`, paging forward through the list until it shows up."""
    row = panel.locator("tbody tr", has_text=text)
    while row.count() == 0:
        following = panel.get_by_role("button", name="Siguiente")
        assert following.is_enabled(), f"no row with {text}"
        following.click()
        expect(panel.locator(".admin-loading")).to_have_count(0)
    return row


def audit_rows(page: Page, action: str) -> Locator:
    panel = open_tab(page, "audit")
    panel.locator("#audit-action").select_option(action)
    panel.get_by_role("button", name=re.compile("^(Filtrar|Filter)$")).click()
    expect(panel.locator(".admin-loading")).to_have_count(0)
    return panel.locator(f"tbody tr[data-action='{action}']")


class TestWhoMayEnter:
    def test_anonymous_visitor_is_sent_to_log_in_and_back(self, page: Page) -> None:
        page.goto("/admin/#users")
        expect(page).to_have_url(re.compile(r"/login/\?next=%2Fadmin%2F%23users"))

    def test_signed_in_non_admin_is_told_the_page_is_for_admins(
        self, page: Page, live_server: LiveServer
    ) -> None:
        client, address, _ = _verified_client(live_server, "Pedro Soto")
        client.close()
        log_in(page, address)
        page.goto("/admin/")
        forbidden = page.locator(".admin-forbidden")
        expect(forbidden).to_contain_text("Solo para administradores")
        expect(forbidden).to_contain_text(address)
        expect(page.locator("[role=tablist]")).to_have_count(0)
        assert_no_serious_axe_violations(page)
        screenshot(page, "admin-forbidden")


def add_gallery_photo(live_server: LiveServer, owner: Owner, colour: str) -> None:
    """The owner adds a gallery photo through the API (the image service scores it)."""
    with httpx.Client(base_url=live_server.url, timeout=180) as client:
        login = client.post(
            "/api/v1/users/login", json={"email": owner.email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        response = client.post(
            "/api/v1/companies/user/my-company/photos",
            files={"image": ("photo.jpg", jpeg(colour=colour), "image/jpeg")},
            headers={"X-CSRF-Token": str(login.json()["csrf_token"])},
        )
        assert response.status_code in (200, 201), response.text


class TestCompanies:
    def test_admin_edits_the_profile_and_removes_a_gallery_photo(
        self, page: Page, live_server: LiveServer
    ) -> None:
        """Found by a newcomer: the editor had none of the profile fields nor the gallery."""
        suffix = _suffix()
        owner = make_owner(live_server, f"Imprenta Perfil {suffix}")  # in Valparaíso
        add_gallery_photo(live_server, owner, "navy")
        as_admin(page)
        panel = page.locator("#panel-companies")
        panel.locator("#companies-q").fill(f"Perfil {suffix}")
        panel.get_by_role("button", name="Filtrar").click()
        row = panel.locator(f"tr[data-uuid='{owner.company_uuid}']")
        row.get_by_role("button", name=f"Editar {owner.company_name}").click()
        dialog = page.locator("dialog[open]")
        dialog.locator("#ce-website").fill("https://imprenta.example.cl")
        # Not test_market's RUT: both modules may share one server, and a RUT is unique.
        dialog.locator("#ce-rut").fill("77.123.456-9")
        dialog.locator("#ce-year-founded").fill("1999")
        dialog.locator("#ce-size-band").select_option("10-49")
        own = dialog.locator('input[name=served_regions][value="Valparaíso"]')
        expect(own).to_be_checked()
        expect(own).to_be_disabled()
        dialog.get_by_label("Biobío").check()
        # The gallery: its photo removed at once.
        dialog.get_by_role("button", name="Quitar la foto 1").click()
        expect(dialog).to_contain_text("Quitamos la foto de la galería")
        expect(dialog).to_contain_text("Sin fotos.")
        assert_no_serious_axe_violations(page)
        dialog.get_by_role("button", name="Guardar").click()
        expect(page.locator("dialog[open]")).to_have_count(0)
        saved = httpx.get(f"{live_server.url}/api/v1/companies/{owner.company_uuid}").json()
        assert saved["website"] == "https://imprenta.example.cl"
        assert saved["rut"] == "77123456-9"
        assert saved["year_founded"] == 1999
        assert saved["size_band"] == "10-49"
        assert saved["served_regions"] == ["Valparaíso", "Biobío"]
        assert saved["photos"] == []

    def test_admin_edits_then_soft_deletes_a_company_and_the_audit_log_shows_both(
        self, page: Page, live_server: LiveServer
    ) -> None:
        suffix = _suffix()
        owner = make_owner(live_server, f"Ferretería Admin {suffix}")
        as_admin(page)
        panel = page.locator("#panel-companies")
        panel.locator("#companies-q").fill(f"Admin {suffix}")
        panel.get_by_role("button", name="Filtrar").click()
        row = panel.locator(f"tr[data-uuid='{owner.company_uuid}']")
        expect(row).to_contain_text(owner.company_name)
        expect(panel.locator("tbody tr")).to_have_count(1)
        # Phones read as on the public page, and the table fits 1280 px with its actions.
        expect(row).to_contain_text("+56 9 8231 4576")
        assert panel.locator(".table-wrap").evaluate("e => e.scrollWidth - e.clientWidth") <= 0
        edit_box = row.get_by_role("button", name=f"Editar {owner.company_name}").bounding_box()
        assert edit_box is not None
        assert edit_box["x"] + edit_box["width"] <= 1280

        row.get_by_role("button", name=f"Editar {owner.company_name}").click()
        dialog = page.locator("dialog[open]")
        expect(dialog.locator("#ce-name")).to_have_value(owner.company_name)
        dialog.locator("#ce-phone").fill("12")
        dialog.get_by_role("button", name="Guardar").click()
        expect(dialog.locator("#ce-phone")).to_have_attribute("aria-invalid", "true")
        dialog.locator("#ce-phone").fill("+56 2 2345 6789")
        renamed = f"Ferretería Renombrada {suffix}"
        dialog.locator("#ce-name").fill(renamed)
        dialog.get_by_role("button", name="Guardar").click()
        expect(page.locator("dialog[open]")).to_have_count(0)
        expect(notice(panel)).to_contain_text(renamed)
        panel.locator("#companies-q").fill(suffix)
        panel.get_by_role("button", name="Filtrar").click()
        expect(row).to_contain_text(renamed)

        row.get_by_role("button", name=f"Eliminar {renamed}").click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_contain_text(f"¿Eliminar «{renamed}»?")
        expect(dialog.locator(".dialog-actions button")).to_have_text(["Cancelar", "Eliminar"])
        dialog.get_by_role("button", name="Cancelar").click()
        expect(row.locator(".badge-danger")).to_have_count(0)
        row.get_by_role("button", name=f"Eliminar {renamed}").click()
        page.locator("dialog[open]").get_by_role("button", name="Eliminar").click()
        expect(notice(panel)).to_contain_text(renamed)
        expect(row.locator(".badge-danger")).to_have_text("Eliminada")
        expect(row.get_by_role("button")).to_have_count(0)
        screenshot(page, "admin-companies")

        public = httpx.get(f"{live_server.url}/api/v1/companies/{owner.company_uuid}")
        assert public.status_code == 404

        updates = audit_rows(page, "company.update")
        edit = updates.filter(has_text=renamed).first
        expect(edit.locator("del", has_text=owner.company_name)).to_have_count(1)
        expect(edit.locator("ins", has_text=renamed)).to_have_count(1)
        expect(edit.locator("ins", has_text="+56223456789")).to_have_count(1)
        # Field names are labels, not the snapshot's keys.
        expect(edit.locator("dt", has_text="Teléfono")).to_have_count(1)
        expect(edit.locator("dt", has_text="phone")).to_have_count(0)
        expect(edit).not_to_contain_text("company.update")
        deletes = audit_rows(page, "company.delete")
        expect(deletes.filter(has_text=owner.company_uuid[:8])).to_have_count(1)


class TestUsers:
    def test_admin_deletes_a_user_but_not_their_own_account(
        self, page: Page, live_server: LiveServer
    ) -> None:
        client, address, _ = _verified_client(live_server, "Usuario Borrable")
        client.close()
        as_admin(page, "users")
        panel = page.locator("#panel-users")
        # Newest first: the new user is on the first page, the seeded admin further on.
        row = panel.locator("tr", has_text=address)
        expect(row).to_have_count(1)
        row.get_by_role("button", name="Eliminar Usuario Borrable").click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_contain_text(address)
        dialog.get_by_role("button", name="Eliminar").click()
        expect(notice(panel)).to_contain_text("Usuario Borrable")
        expect(row.locator(".badge-danger")).to_have_text("Eliminado")
        expect(row.get_by_role("button", name="Eliminar")).to_be_disabled()

        mine = find_row(panel, ADMIN_EMAIL)
        expect(mine.get_by_role("button", name="Eliminar")).to_be_disabled()
        expect(mine).to_contain_text("No puedes eliminar tu propia cuenta")
        expect(audit_rows(page, "user.delete").first).to_be_visible()


class TestCatalogue:
    def test_products_are_created_renamed_and_deleted_with_clear_conflicts(
        self, page: Page
    ) -> None:
        suffix = _suffix()
        as_admin(page, "products")
        panel = page.locator("#panel-products")
        form = panel.locator("#products-create")
        form.locator("#products-new-name-es").fill(f"Drones agrícolas {suffix}")
        form.locator("#products-new-name-en").fill(f"Farm drones {suffix}")
        form.get_by_role("button", name="Agregar").click()
        expect(notice(panel)).to_contain_text(f"Drones agrícolas {suffix}")

        # The same name again, with other accents and case: 409 duplicate_name, said plainly.
        form.locator("#products-new-name-es").fill(f"DRONES AGRICOLAS {suffix}")
        form.locator("#products-new-name-en").fill(f"Other drones {suffix}")
        form.get_by_role("button", name="Agregar").click()
        expect(form.locator(".alert-error")).to_contain_text("Ya existe uno con ese nombre")
        expect(form.locator("#products-new-name-es")).to_have_attribute("aria-invalid", "true")

        panel.locator("#products-filter").fill(suffix)
        row = panel.locator("tbody tr")
        expect(row).to_have_count(1)
        row.get_by_role("button", name=re.compile("^Renombrar")).click()
        dialog = page.locator("dialog[open]")
        dialog.locator("#products-rename-name-es").fill(f"Drones de riego {suffix}")
        dialog.get_by_role("button", name="Guardar").click()
        expect(notice(panel)).to_contain_text(f"Drones de riego {suffix}")
        panel.locator("#products-filter").fill(suffix)
        expect(row).to_contain_text(f"Drones de riego {suffix}")

        # A product companies use cannot go: 400 in_use, explained in the dialog.
        panel.locator("#products-filter").fill("Construcción")
        panel.get_by_role("button", name="Eliminar Construcción", exact=True).click()
        dialog = page.locator("dialog[open]")
        dialog.get_by_role("button", name="Eliminar").click()
        expect(dialog.locator(".alert-error")).to_contain_text("hay empresas que lo usan")
        dialog.get_by_role("button", name="Cancelar").click()

        panel.locator("#products-filter").fill(suffix)
        row.get_by_role("button", name=re.compile("^Eliminar")).click()
        page.locator("dialog[open]").get_by_role("button", name="Eliminar").click()
        expect(notice(panel)).to_contain_text(f"Drones de riego {suffix}")
        panel.locator("#products-filter").fill(suffix)
        expect(panel.locator("tbody tr")).to_have_count(0)

        for action in ("product.create", "product.update", "product.delete"):
            expect(audit_rows(page, action).filter(has_text=suffix).first).to_be_visible()

    def test_communes_are_created_renamed_and_deleted(self, page: Page) -> None:
        suffix = _suffix()
        as_admin(page, "communes")
        panel = page.locator("#panel-communes")
        form = panel.locator("#communes-create")
        form.locator("#communes-new-name").fill(f"Villa Prueba {suffix}")
        form.locator("#communes-new-region").select_option("Valparaíso")
        form.get_by_role("button", name="Agregar").click()
        expect(notice(panel)).to_contain_text(f"Villa Prueba {suffix}")

        form.locator("#communes-new-name").fill(f"villa prueba {suffix}")
        form.locator("#communes-new-region").select_option("Valparaíso")
        form.get_by_role("button", name="Agregar").click()
        expect(form.locator(".alert-error")).to_contain_text("Ya existe uno con ese nombre")

        panel.locator("#communes-filter").fill(suffix)
        panel.get_by_role("button", name=f"Renombrar Villa Prueba {suffix}").click()
        dialog = page.locator("dialog[open]")
        dialog.locator("#communes-rename-name").fill(f"Villa Nueva {suffix}")
        dialog.get_by_role("button", name="Guardar").click()
        expect(notice(panel)).to_contain_text(f"Villa Nueva {suffix}")

        panel.locator("#communes-filter").fill(suffix)
        panel.get_by_role("button", name=f"Eliminar Villa Nueva {suffix}").click()
        page.locator("dialog[open]").get_by_role("button", name="Eliminar").click()
        expect(notice(panel)).to_contain_text(f"Villa Nueva {suffix}")
        panel.locator("#communes-filter").fill(suffix)
        expect(panel.locator("tbody tr")).to_have_count(0)
        expect(audit_rows(page, "commune.update").filter(has_text=suffix).first).to_be_visible()


class TestModeration:
    def test_admin_approves_one_held_image_and_rejects_another(
        self, page: Page, live_server: LiveServer
    ) -> None:
        owner = make_owner(live_server, f"Imprenta Moderada {_suffix()}")
        hold_image(live_server, owner.company_uuid, "orange", 0.45)
        as_admin(page, "moderation")
        panel = page.locator("#panel-moderation")
        card = panel.locator(".moderation-card", has_text=owner.company_name)
        expect(card).to_have_count(1)
        expect(card).to_contain_text("0,45")
        expect(card.locator(".moderation-kind")).to_have_text("Logo")
        expect(card.locator("img")).to_have_js_property("complete", True)
        assert card.locator("img").evaluate("img => img.naturalWidth") > 0
        screenshot(page, "admin-moderation-queue")
        card.get_by_role("button", name=f"Aprobar la imagen de {owner.company_name}").click()
        approved = f"Aprobada: ahora es el logo de «{owner.company_name}»"
        expect(notice(panel)).to_contain_text(approved)
        expect(card).to_have_count(0)
        logo = httpx.get(f"{live_server.url}/api/v1/companies/{owner.company_uuid}").json()
        approved_logo = logo["image_url"]

        hold_image(live_server, owner.company_uuid, "purple", 0.7)
        open_tab(page, "moderation")
        card.get_by_role("button", name=f"Rechazar la imagen de {owner.company_name}").click()
        expect(page.locator("dialog[open]")).to_contain_text("El logo se eliminará")
        page.locator("dialog[open]").get_by_role("button", name="Rechazar").click()
        expect(notice(panel)).to_contain_text(f"Rechazamos la imagen de «{owner.company_name}»")
        expect(card).to_have_count(0)
        after = httpx.get(f"{live_server.url}/api/v1/companies/{owner.company_uuid}").json()
        assert after["image_url"] == approved_logo

        # A gallery photo is called one, on its card and in the outcome, never a logo.
        hold_image(live_server, owner.company_uuid, "olive", 0.3, photo=True)
        open_tab(page, "moderation")
        expect(card.locator(".moderation-kind")).to_have_text("Foto de la galería")
        card.get_by_role("button", name=f"Aprobar la imagen de {owner.company_name}").click()
        expect(notice(panel)).to_contain_text(
            f"Aprobada: la foto ya está en la galería de «{owner.company_name}»"
        )
        expect(card).to_have_count(0)

        panel.locator("#moderation-status").select_option("rejected")
        expect(card.locator(".badge", has_text="Rechazadas")).to_be_visible()
        for action in ("moderation.approve", "moderation.reject"):
            expect(audit_rows(page, action).first).to_be_visible()


class TestSearchStatistics:
    def test_top_and_zero_result_queries_are_listed_for_the_chosen_period(
        self, page: Page, live_server: LiveServer
    ) -> None:
        missing = f"zzqx{_suffix()}"
        for query in ("Construcción", "construccion", "CONSTRUCCION", missing, missing):
            # A browser's User-Agent: a script's searches (httpx, curl…) are not counted.
            response = httpx.get(
                f"{live_server.url}/api/v1/companies/search",
                params={"q": query},
                headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"},
            )
            assert response.status_code == 200
        as_admin(page, "stats")
        panel = page.locator("#panel-stats")
        panel.locator("#stats-days").select_option("30")
        top = panel.locator(".stats-card", has_text="Búsquedas más frecuentes")
        zero = panel.locator(".stats-card", has_text="Búsquedas sin resultados")
        # Searches are recorded in batches, flushed about every 5 seconds, so the page is asked
        # again until the query shows. One client searching it twice counts once (a query
        # counts once per client and day).
        missing_count = zero.locator("tr", has_text=missing).locator(".col-count")
        deadline = time.monotonic() + 30
        while missing_count.count() == 0:
            assert time.monotonic() < deadline, "the zero-result query never showed up"
            page.wait_for_timeout(1000)
            for days in ("7", "30"):  # each change of period asks the API again
                panel.locator("#stats-days").select_option(days)
                expect(panel.locator(".admin-loading")).to_have_count(0)
        expect(missing_count).to_have_text("1")
        expect(top.locator("tr", has_text="construccion").first).to_be_visible()
        expect(top.locator("tr", has_text=missing)).to_have_count(1)
        screenshot(page, "admin-stats-data")


class TestLooks:
    @pytest.mark.parametrize("tab", TABS)
    def test_tab_is_accessible_and_fits_a_phone(self, page: Page, tab: str) -> None:
        as_admin(page, tab)
        expect(page.locator(f"#panel-{tab} .alert-error")).to_have_count(0)
        assert_no_serious_axe_violations(page)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)
        screenshot(page, f"admin-{tab}")

    @pytest.mark.parametrize("tab", ["audit", "weekly"])
    def test_every_tab_is_in_sight_at_1366_px_and_on_a_phone(self, page: Page, tab: str) -> None:
        as_admin(page, tab)
        for lang, audit_label in (("es", "Auditoría"), ("en", "Audit log")):
            page.evaluate("lang => localStorage.setItem('proveo.lang', lang)", lang)
            open_tab(page, tab)
            expect(page.locator("#tab-audit")).to_have_text(audit_label)
            for size in ({"width": 1366, "height": 768}, PHONE):
                page.set_viewport_size(size)
                page.wait_for_timeout(100)
                strip = page.locator(".admin-tabs").bounding_box()
                assert strip is not None
                right = min(strip["x"] + strip["width"], size["width"]) + 0.5
                for link in page.locator(".admin-tabs [role=tab]").all():
                    box = link.bounding_box()
                    where = (size, lang, link.text_content())
                    assert box is not None, where
                    # Inside the strip (nothing clipped by it) and inside the window.
                    assert box["x"] >= max(strip["x"], 0) - 0.5, where
                    assert box["x"] + box["width"] <= right, where
                assert_no_sideways_scroll(page)

    def test_tabs_follow_the_language_toggle_and_arrow_keys(self, page: Page) -> None:
        as_admin(page, "companies")
        page.locator(".lang-option[data-lang=en]").click()
        expect(page.locator("#tab-audit")).to_have_text("Audit log")
        expect(page.locator("#panel-companies th").first).to_have_text("Company")
        page.locator("#tab-companies").focus()
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(re.compile("#users$"))
        expect(page.locator("#tab-users")).to_be_focused()
        expect(page.locator("#panel-users")).to_be_visible()


def _admin_api(live_server: LiveServer) -> tuple[httpx.Client, dict[str, str]]:
    """The demo administrator, logged in through the API; returns the client and CSRF header."""
    client = httpx.Client(base_url=live_server.url, timeout=30)
    response = client.post(
        "/api/v1/users/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return client, {"X-CSRF-Token": str(response.json()["csrf_token"])}


class TestAuditLogReadable:
    def test_names_values_and_scores_read_in_the_consoles_language(
        self, page: Page, live_server: LiveServer
    ) -> None:
        owner = make_owner(live_server, f"Gasfitería Auditada {_suffix()}")
        hold_image(live_server, owner.company_uuid, "orange", 0.6789)
        admin, csrf = _admin_api(live_server)
        try:
            moved = admin.patch(
                f"/api/v1/companies/admin/companies/{owner.company_uuid}",
                data={"commune_name": "Ñuñoa"},
                headers=csrf,
            )
            assert moved.status_code == 200, moved.text
            queue = admin.get("/api/v1/admin/moderation", params={"limit": 100}).json()
            held = next(item for item in queue if item["company_uuid"] == owner.company_uuid)
            approved = admin.post(f"/api/v1/admin/moderation/{held['uuid']}/approve", headers=csrf)
            assert approved.status_code == 200, approved.text
        finally:
            admin.close()
        as_admin(page, "audit")

        edit = audit_rows(page, "company.update").filter(has_text=owner.company_name).first
        # The target by its name; the commune by its name, not its id.
        expect(edit.locator(".target-name")).to_have_text(owner.company_name)
        commune = edit.locator(".diff-row[data-field=commune_name]")
        expect(commune.locator("dt")).to_have_text("Comuna")
        expect(commune.locator("del")).to_contain_text("Valparaíso")
        expect(commune.locator("ins")).to_contain_text("Ñuñoa")
        expect(edit.locator(".diff-row[data-field=commune_uuid]")).to_have_count(0)
        expect(edit.locator(".col-changes")).not_to_contain_text("commune_")
        expect(edit.locator(".actor-link")).to_contain_text(ADMIN_EMAIL)

        decision = audit_rows(page, "moderation.approve").filter(has_text=owner.company_name).first
        score = decision.locator(".diff-row[data-field=nsfw_score]")
        expect(score.locator("dt")).to_have_text("Puntaje de contenido")
        expect(score.locator("dd")).to_contain_text("0,68")
        expect(score.locator("dd")).not_to_contain_text("0,678")
        status = decision.locator(".diff-row[data-field=status]")
        expect(status.locator("del")).to_contain_text("Pendiente")
        expect(status.locator("ins")).to_contain_text("Aprobada")
        expect(decision.locator(".diff-row[data-field=company_uuid]")).to_have_count(0)

        page.locator(".lang-option[data-lang=en]").click()
        expect(page.locator("#tab-audit")).to_have_text("Audit log")
        # The list still filtered on the approval, now in English: "0.68", "Pending → Approved".
        decision = page.locator("#panel-audit tbody tr", has_text=owner.company_name).first
        expect(decision.locator(".diff-row[data-field=status] dt")).to_have_text("Status")
        expect(decision.locator(".diff-row[data-field=status] ins")).to_contain_text("Approved")
        expect(decision.locator(".diff-row[data-field=nsfw_score] dd")).to_contain_text("0.68")
        screenshot(page, "admin-audit-readable")

    def test_the_actor_is_chosen_by_email(self, page: Page, live_server: LiveServer) -> None:
        make_owner(live_server, f"Actor Auditado {_suffix()}")
        as_admin(page, "audit")
        panel = page.locator("#panel-audit")
        actor = panel.locator("#audit-actor")
        expect(actor).to_have_attribute("list", "audit-actor-list")
        actor.fill("admin_test")
        expect(panel.locator(f"#audit-actor-list option[value='{ADMIN_EMAIL}']")).to_have_count(1)
        actor.fill(ADMIN_EMAIL.upper())
        panel.get_by_role("button", name="Filtrar").click()
        expect(panel.locator(".admin-loading")).to_have_count(0)
        rows = panel.locator("tbody tr[data-action]")
        expect(rows.first).to_be_visible()
        expect(panel.locator(".actor-link").first).to_contain_text(ADMIN_EMAIL)
        for cell in panel.locator(".actor-link").all():
            expect(cell).to_contain_text(ADMIN_EMAIL)

        actor.fill("nadie-actuo@example.com")
        panel.get_by_role("button", name="Filtrar").click()
        expect(panel.locator("tbody tr[data-action]")).to_have_count(0)
        expect(panel).to_contain_text("No hay acciones que coincidan.")

        actor.fill("no es un correo")
        panel.get_by_role("button", name="Filtrar").click()
        expect(actor).to_have_attribute("aria-invalid", "true")

    def test_a_long_email_wraps_at_its_seams_not_inside_a_word(
        self, page: Page, live_server: LiveServer
    ) -> None:
        suffix = _suffix()
        long_email = f"direccion.de.correo.bastante.larga.{suffix}@subdominio.ejemplo-largo.cl"
        created = httpx.post(
            f"{live_server.url}/api/v1/users/signup",
            json={"name": "Correo Largo", "email": long_email, "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        admin, csrf = _admin_api(live_server)
        try:
            deleted = admin.delete(
                f"/api/v1/users/admin/users/{created.json()['uuid']}", headers=csrf
            )
            assert deleted.status_code == 200, deleted.text
        finally:
            admin.close()
        as_admin(page, "audit")
        page.set_viewport_size(PHONE)
        row = audit_rows(page, "user.delete").filter(has_text=suffix).first
        name = row.locator(".target-name .email-text")
        expect(name).to_have_text(long_email)
        # Each piece between seams sits on one line: no break inside a word.
        lines = name.evaluate(
            """(el) => [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
                .map((n) => { const r = document.createRange(); r.selectNodeContents(n);
                              return new Set([...r.getClientRects()].map((c) => c.top)).size; })"""
        )
        assert lines
        assert all(count == 1 for count in lines), lines
        # And the address does wrap (it is wider than its cell).
        box = name.evaluate("(el) => el.getClientRects().length")
        assert box > 1
        assert_no_sideways_scroll(page)
