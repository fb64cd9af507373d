"""The marketplace pages in Chromium: search (`/`), company profile, publish and my company."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from proveo.demo.logo import generate_logo
from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    PASSWORD,
    PHONE,
    assert_no_serious_axe_violations,
    assert_no_sideways_scroll,
    read_outbox_link,
    screenshot,
    unique_email,
)

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def verified_user(context: BrowserContext, outbox: Path, *, name: str = "Marta Rojas") -> str:
    """A new account, verified and logged in within `context` (through the API: the sign-up
    pages have their own tests); returns its address."""
    address = unique_email("market")
    signup = context.request.post(
        "/api/v1/users/signup", data={"name": name, "email": address, "password": PASSWORD}
    )
    assert signup.status == 201, signup.text()
    # The context holds the sign-up proof cookie the verification link asks for, and the link
    # signs it in.
    assert context.request.get(read_outbox_link(outbox, address, "verify")).ok
    me = context.request.get("/api/v1/users/me")
    assert me.ok, me.text()
    return address


def unverified_user(context: BrowserContext) -> str:
    address = unique_email("unverified")
    signup = context.request.post(
        "/api/v1/users/signup", data={"name": "Nico", "email": address, "password": PASSWORD}
    )
    assert signup.status == 201, signup.text()
    assert context.request.post(
        "/api/v1/users/login", data={"email": address, "password": PASSWORD}
    ).ok
    return address


def csrf(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "csrf_token")


def catalogue_uuids(context: BrowserContext) -> tuple[str, str]:
    products = context.request.get("/api/v1/products/").json()
    communes = context.request.get("/api/v1/communes/").json()
    return products[0]["uuid"], communes[0]["uuid"]


def publish_through_api(
    context: BrowserContext, name: str, *, phone: str = "+56 9 8765 4321"
) -> dict[str, str]:
    product, commune = catalogue_uuids(context)
    response = context.request.post(
        "/api/v1/companies",
        headers={"X-CSRF-Token": csrf(context)},
        multipart={
            "name": name,
            "product_uuid": product,
            "commune_uuid": commune,
            "address": "Calle Falsa 123",
            "phone": phone,
            "email": "ventas@example.com",
            "description_es": f"Descripción de {name}",
            "description_en": f"Description of {name}",
            "lang": "es",
            "image": {
                "name": "logo.png",
                "mimeType": "image/png",
                "buffer": generate_logo(name, size=256),
            },
        },
    )
    assert response.status == 201, response.text()
    company: dict[str, str] = response.json()
    return company


def logo_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "logo.png"
    path.write_bytes(generate_logo(name, size=256))
    return path


def fill_company_form(page: Page, *, name: str, logo: Path) -> None:
    form = page.locator("#publish-form")
    form.locator("#publish-form-name").fill(name)
    form.locator("#publish-form-product-uuid").select_option(index=1)
    choose_commune(page, "#publish-form-commune-uuid", "ñuño", "Ñuñoa")
    form.locator("#publish-form-address").fill("Av. Irarrázaval 2401, oficina 504")
    form.locator("#publish-form-phone").fill("9 8231 4576")
    form.locator("#publish-form-email").fill("contacto@example.cl")
    form.get_by_label("Descripción en español").fill(
        "Diseñamos y fabricamos muebles de oficina a medida.\nDespacho a todo Chile."
    )
    form.locator("#publish-form-image").set_input_files(str(logo))


def choose_commune(page: Page, selector: str, typed: str, label: str) -> None:
    """The commune combobox, by keyboard: type part of the name, take the first match."""
    box = page.locator(selector)
    box.fill(typed)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(".+"))
    box.press("Enter")
    expect(box).to_have_value(label)
    expect(box).to_have_attribute("aria-expanded", "false")


def drop_file(page: Page, target: str, path: Path, mime: str = "image/png") -> None:
    """Drag a file from the desktop and drop it on `target` (a drop event with the file)."""
    transfer = page.evaluate_handle(
        """([b64, name, type]) => { const dt = new DataTransfer();
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], name, { type })); return dt; }""",
        [base64.b64encode(path.read_bytes()).decode(), path.name, mime],
    )
    page.dispatch_event(target, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def photo_file(tmp_path: Path, name: str, colour: tuple[int, int, int]) -> Path:
    path = tmp_path / name
    Image.new("RGB", (320, 240), colour).save(path, format="PNG")
    return path


class TestPublishEditDelete:
    def test_a_verified_user_publishes_edits_and_deletes_a_company(
        self, page: Page, context: BrowserContext, live_server: LiveServer, tmp_path: Path
    ) -> None:
        verified_user(context, live_server.outbox)
        name = f"Mueblería Ñandú {tmp_path.name[-6:]}"
        page.goto("/publish/")
        fill_company_form(page, name=name, logo=logo_file(tmp_path, name))
        # The preview is an object URL of the chosen file, shown before anything is sent.
        expect(page.locator(".logo-preview img")).to_have_attribute("src", re.compile(r"^blob:"))
        page.get_by_role("button", name="Publicar empresa").click()
        done = page.locator("[data-state=published]")
        # The module's first upload may wait for the image workers on a loaded machine.
        expect(done).to_be_visible(timeout=60_000)
        expect(done).to_contain_text(name)

        # Found by search within moments, misspelt and without accents, from the search box.
        page.goto("/")
        page.locator("#q").fill("mubleria nandu")
        page.locator("#q").press("Enter")
        expect(page).to_have_url(re.compile(r"/\?q=mubleria\+nandu$"))
        page.locator(".company-card").get_by_role("link", name=name).click()
        expect(page.locator("h1#company-name")).to_have_text(name)
        page.go_back()
        expect(page.locator("#q")).to_have_value("mubleria nandu")

        page.goto("/my-company/")
        page.get_by_role("link", name="Ver página pública").click()
        expect(page.locator("h1#company-name")).to_have_text(name)
        expect(page.get_by_role("link", name=re.compile("^Llamar"))).to_have_attribute(
            "href", "tel:+56982314576"
        )
        expect(page.get_by_role("link", name=re.compile("WhatsApp"))).to_have_attribute(
            "href", "https://wa.me/56982314576"
        )
        expect(page.get_by_role("link", name=re.compile("^Escribir un correo"))).to_have_attribute(
            "href", "mailto:contacto@example.cl"
        )
        expect(page.locator(".company-description")).to_contain_text("muebles de oficina")
        expect(page.locator(".profile-head .logo img")).to_have_attribute(
            "src", re.compile(r"^/images/")
        )
        data = json.loads(page.locator("script[type='application/ld+json']").text_content() or "")
        assert data["@type"] == "LocalBusiness"
        assert data["name"] == name
        assert data["address"]["addressLocality"] == "Ñuñoa"
        assert data["telephone"] == "+56982314576"

        # English: the description is the machine translation (or the original, with a note,
        # when no translator is configured), and the page's own words switch.
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="About the company")).to_be_visible()
        # The e2e server has no translator: the original is shown, marked as such.
        expect(page.locator(".translation-note")).to_have_text("(original in Spanish)")
        expect(page.locator(".company-description")).to_contain_text("muebles de oficina")

        page.get_by_role("button", name="Español").click()
        page.goto("/my-company/")
        expect(page.locator("#owner-name")).to_have_text(name)
        # No translation will come: the owner is offered to write the English text.
        expect(page.get_by_text("Traducción pendiente")).to_have_count(0)
        page.get_by_role("button", name="Escribir la versión en inglés").click()
        expect(page.locator("#edit-form textarea[name=description_en]")).to_be_focused()
        page.get_by_role("button", name="Cancelar").click()
        page.get_by_role("button", name="Editar").click()
        edit = page.locator("#edit-form")
        expect(edit.locator("#edit-form-name")).to_have_value(name)
        new_name = name + " SpA"
        edit.locator("#edit-form-name").fill(new_name)
        edit.locator("#edit-form-image").set_input_files(str(logo_file(tmp_path, new_name)))
        # Record the form fields the page sends (Chromium does not expose multipart bodies).
        page.evaluate(
            """() => { const send = window.fetch; window.sentFields = [];
            window.fetch = (url, opts) => { if (opts && opts.body instanceof FormData)
            window.sentFields.push([...opts.body.keys()]); return send(url, opts); }; }"""
        )
        page.get_by_role("button", name="Guardar cambios").click()
        expect(page.locator("#my-company-flash")).to_be_visible()
        # Only what changed travels: the name and the new logo, not the untouched fields.
        assert page.evaluate("() => window.sentFields") == [["name", "image"]]
        expect(page.locator("#my-company-flash")).to_contain_text("Cambios guardados")
        expect(page.locator("#owner-name")).to_have_text(new_name)

        page.get_by_role("button", name="Eliminar empresa").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(new_name)
        expect(dialog.locator(".dialog-actions button")).to_have_text(["Cancelar", "Sí, eliminar"])
        dialog.get_by_role("button", name="Cancelar").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#owner-name")).to_be_visible()
        page.get_by_role("button", name="Eliminar empresa").click()
        page.get_by_role("dialog").get_by_role("button", name="Sí, eliminar").click()
        expect(page.locator("[data-state=deleted]")).to_be_visible()
        assert context.request.get("/api/v1/companies/user/my-company").status == 404


class TestPublishForm:
    def test_mistakes_are_shown_per_field_before_anything_is_sent(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox)
        page.goto("/publish/")
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        page.locator("#publish-form-phone").fill("12")
        page.locator("#publish-form-email").fill("not-an-email")
        page.get_by_role("button", name="Publicar empresa").click()
        expect(page.locator("#publish-form-name")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#publish-form-name")).to_be_focused()
        expect(page.locator("#publish-form-phone-error")).to_contain_text("teléfono válido")
        expect(page.locator("#publish-form-email-error")).to_contain_text("correo válido")
        expect(page.locator("#publish-form-description-es-error")).to_contain_text("al menos una")
        expect(page.locator("#publish-form-image-error")).to_contain_text("logo")
        assert sent == []

    def test_a_file_that_is_not_an_image_gets_the_servers_415_explained(
        self, page: Page, context: BrowserContext, live_server: LiveServer, tmp_path: Path
    ) -> None:
        verified_user(context, live_server.outbox)
        fake = tmp_path / "fake.png"
        fake.write_bytes(b"this is text, not a picture " * 20)
        page.goto("/publish/")
        fill_company_form(page, name="Imagen Falsa Ltda", logo=fake)
        page.get_by_role("button", name="Publicar empresa").click()
        expect(page.locator("#publish-form-image-error")).to_contain_text("JPEG, PNG o WebP")
        expect(page.locator("#publish-form-alert [role=alert]")).to_be_visible()

    def test_an_unverified_user_is_told_to_verify(
        self, page: Page, context: BrowserContext
    ) -> None:
        address = unverified_user(context)
        page.goto("/publish/")
        notice = page.locator("[data-state=verify]")
        expect(notice).to_contain_text(address)
        expect(page.locator("#publish-form")).to_have_count(0)
        notice.get_by_role("button", name="Reenviar el correo").click()
        expect(notice.get_by_role("status")).to_be_visible()

    def test_an_owner_is_sent_to_their_company(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox)
        publish_through_api(context, "Ya Publicada Ltda")
        page.goto("/publish/")
        exists = page.locator("[data-state=exists]")
        exists.get_by_role("link", name="Ir a Mi empresa").click()
        expect(page).to_have_url(re.compile(r"/my-company/$"))
        expect(page.locator("#owner-name")).to_have_text("Ya Publicada Ltda")

    def test_the_publish_page_asks_a_visitor_to_log_in(self, page: Page) -> None:
        page.goto("/publish/")
        expect(page).to_have_url(re.compile(r"/login/\?next=%2Fpublish%2F"))


class TestHostileContent:
    def test_a_company_named_like_markup_is_shown_as_text_and_runs_nothing(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox)
        company = publish_through_api(context, HOSTILE_NAME)
        dialogs: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(f"/company/?id={company['uuid']}")
        expect(page.locator("h1#company-name")).to_have_text(HOSTILE_NAME)
        assert page.title().startswith(HOSTILE_NAME)
        page.goto("/?q=onerror")
        expect(page.locator(".company-card .card-link").first).to_have_text(HOSTILE_NAME)
        page.goto("/my-company/")
        expect(page.locator("#owner-name")).to_have_text(HOSTILE_NAME)
        page.get_by_role("button", name="Eliminar empresa").click()
        expect(page.get_by_role("dialog")).to_contain_text(HOSTILE_NAME)
        assert page.locator("img[src='x']").count() == 0
        page.wait_for_timeout(300)
        assert dialogs == []

    def test_json_ld_never_holds_a_closing_script_tag_from_company_text(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox)
        name = "</script><script>alert(2)</script> & <b>"
        company = publish_through_api(context, name)
        page.goto(f"/company/?id={company['uuid']}")
        expect(page.locator("h1#company-name")).to_have_text(name)
        block = page.locator("#company-jsonld")
        raw = block.text_content() or ""
        assert not set("<>&") & set(raw)
        assert json.loads(raw)["name"] == name
        assert "</script><script>alert(2)" not in page.content()


class TestSearch:
    def test_suggestions_form_a_keyboard_combobox(self, page: Page) -> None:
        page.goto("/")
        box = page.get_by_role("combobox", name="Buscar empresas, productos o comunas")
        box.press_sequentially("transp", delay=40)
        listbox = page.get_by_role("listbox")
        expect(listbox).to_be_visible()
        expect(box).to_have_attribute("aria-expanded", "true")
        box.press("ArrowDown")
        first = listbox.get_by_role("option").first
        expect(first).to_have_attribute("aria-selected", "true")
        expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
        box.press("Escape")
        expect(listbox).to_be_hidden()
        expect(box).to_have_attribute("aria-expanded", "false")
        expect(box).to_have_value("transp")
        # Choosing a product suggestion filters by that product.
        options = listbox.get_by_role("option")
        box.press("ArrowDown")
        texts = [text.strip() for text in options.all_inner_texts()]
        target = next(
            i for i, text in enumerate(texts) if text.startswith("Transporte y logística")
        )
        for _ in range(target):
            box.press("ArrowDown")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"/\?product=[0-9a-f-]{36}$"))
        expect(page.locator("#active-filters .chip")).to_contain_text("Transporte y logística")
        expect(page.get_by_role("link", name="Transportes Biobío Express")).to_be_visible()

    def test_filters_live_in_the_url_and_back_replays_them(self, page: Page) -> None:
        page.goto("/?q=contabilidad")
        expect(page.get_by_role("link", name="Contadores Ñuñoa Asociados")).to_be_visible()
        communes = page.locator(".facet-group").filter(has_text="Comuna")
        communes.get_by_role("link", name=re.compile("^Ñuñoa")).click()
        expect(page).to_have_url(re.compile(r"q=contabilidad&commune=[0-9a-f-]{36}"))
        expect(page.locator("#active-filters .chip")).to_contain_text("Ñuñoa")
        shared = page.url
        page.go_back()
        expect(page).to_have_url(re.compile(r"/\?q=contabilidad$"))
        expect(page.locator("#active-filters .chip")).to_have_count(0)
        page.goto(shared)
        expect(page.locator("#active-filters .chip")).to_contain_text("Ñuñoa")
        expect(page.get_by_role("link", name="Contadores Ñuñoa Asociados")).to_be_visible()
        page.locator("#active-filters .chip").click()
        expect(page).to_have_url(re.compile(r"/\?q=contabilidad$"))

    def test_a_chosen_commune_keeps_the_others_listed_and_names_the_heading(
        self, page: Page
    ) -> None:
        page.goto("/")
        communes = page.locator(".facet-group").filter(has_text="Comuna")
        first = communes.locator(".facet-link:not(.is-selected)").first
        expect(first).to_be_visible()
        name = first.locator(".facet-name").inner_text()
        first.click()
        expect(page).to_have_url(re.compile(r"/\?commune=[0-9a-f-]{36}$"))
        expect(page.locator("#results-title")).to_have_text(f"Proveedores en {name}")
        expect(communes.locator(".facet-link.is-selected")).to_contain_text(name)
        # "Todas las comunas" plus the chosen one plus at least one other to switch to.
        others = communes.locator(".facet-link:not(.is-selected) .facet-count")
        expect(others.first).to_be_visible()
        other = communes.locator(".facet-link:not(.is-selected)").nth(1)
        other_name = other.locator(".facet-name").inner_text()
        other.click()
        expect(page.locator("#results-title")).to_have_text(f"Proveedores en {other_name}")

    def test_a_page_past_the_last_says_there_are_no_more_and_leads_back(self, page: Page) -> None:
        page.goto("/?page=9")
        past = page.locator("[data-state=past-end]")
        expect(past).to_contain_text("No hay más resultados")
        expect(page.get_by_text("No encontramos empresas")).to_have_count(0)
        expect(page.locator("#pagination")).to_be_hidden()
        past.get_by_role("link", name="Volver a la página 1").click()
        expect(page).to_have_url(re.compile(r"/$"))
        expect(page.locator(".card-link").first).to_be_visible()

    def test_a_result_links_to_the_company_page_at_its_readable_address(self, page: Page) -> None:
        page.goto("/")
        link = page.locator("#results-body:not([aria-busy]) .card-link").first
        expect(link).to_have_attribute("href", re.compile(r"^/empresas/[a-z0-9-]+$"))
        link.click()
        expect(page).to_have_url(re.compile(r"/empresas/[a-z0-9-]+$"))
        expect(page.locator("h1")).to_be_visible()

    def test_a_search_without_results_says_so_and_offers_to_clear_the_filters(
        self, page: Page
    ) -> None:
        product = page.request.get("/api/v1/products/").json()[0]["uuid"]
        page.goto(f"/?q=zzqxwv&product={product}")
        expect(page.get_by_text("No encontramos empresas para tu búsqueda")).to_be_visible()
        page.get_by_role("link", name="Quitar filtros").click()
        expect(page).to_have_url(re.compile(r"/\?q=zzqxwv$"))

    def test_a_failed_search_says_so_and_can_be_retried(
        self, page: Page, context: BrowserContext
    ) -> None:
        page.goto("/")
        expect(page.locator(".card-link").first).to_be_visible()
        context.set_offline(True)
        page.locator("#q").fill("imprenta")
        page.locator("#q").press("Enter")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("No pudimos completar la búsqueda")
        context.set_offline(False)
        alert.get_by_role("button", name="Reintentar").click()
        expect(page.get_by_role("link", name="Imprenta La Portada")).to_be_visible()

    def test_a_corrected_search_says_what_it_searched_for(self, page: Page) -> None:
        # Found by a newcomer: corrected results looked like matches for the typo itself.
        page.goto("/?q=imprneta")
        expect(page.get_by_role("status")).to_contain_text(
            "Ninguna empresa coincide con «imprneta»: mostramos resultados para «imprenta»."
        )
        expect(page.get_by_role("link", name="Imprenta La Portada")).to_be_visible()

    def test_a_link_to_a_removed_filter_searches_without_it(self, page: Page) -> None:
        # Found by a newcomer: an unknown product in a shared link was a dead end.
        page.goto("/?q=imprenta&product=7d1f6a56-0000-4000-8000-000000000000")
        expect(page.get_by_role("status")).to_contain_text(
            "Ese filtro ya no existe: mostramos la búsqueda sin él."
        )
        expect(page).to_have_url(re.compile(r"/\?q=imprenta$"))
        expect(page.get_by_role("link", name="Imprenta La Portada")).to_be_visible()

    def test_results_and_labels_follow_the_language_toggle(self, page: Page) -> None:
        page.goto("/?q=imprenta")
        expect(page.get_by_role("heading", name="Resultados para «imprenta»")).to_be_visible()
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Results for “imprenta”")).to_be_visible()
        expect(page.locator(".company-card .badge-product").first).to_have_text(
            "Printing and advertising"
        )


class TestCompanyPage:
    def test_an_unknown_or_malformed_id_says_the_company_is_not_there(self, page: Page) -> None:
        for query in ("?id=00000000-0000-4000-8000-000000000000", "?id=nonsense", ""):
            page.goto(f"/company/{query}")
            expect(page.get_by_role("heading", name="No encontramos esta empresa")).to_be_visible()
            expect(page.get_by_role("link", name="Buscar proveedores")).to_have_attribute(
                "href", "/"
            )

    def test_a_chilean_landline_gets_a_call_button_but_no_whatsapp(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox, name="Rosa Fijo")
        company = publish_through_api(context, "Ferretería Teléfono Fijo", phone="+56 2 2345 6789")
        page.goto(f"/company/?id={company['uuid']}")
        expect(page.get_by_role("link", name=re.compile("^Llamar"))).to_have_attribute(
            "href", "tel:+56223456789"
        )
        expect(page.get_by_role("link", name=re.compile("WhatsApp"))).to_have_count(0)


class TestLooks:
    @pytest.mark.parametrize("which", ["search", "company", "publish", "my-company"])
    def test_market_pages_pass_axe_and_fit_a_phone(
        self, which: str, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        path = {"search": "/", "publish": "/publish/", "my-company": "/my-company/"}.get(which)
        ready = {
            "search": "#results-body:not([aria-busy]) .card-link",
            "company": "h1#company-name",
            "publish": "#publish-form",
            "my-company": "#owner-name",
        }[which]
        verified_user(context, live_server.outbox, name="Paula Soto")
        if which in ("company", "my-company"):
            company = publish_through_api(context, "Ferretería Los Álamos")
            path = path or f"/company/?id={company['uuid']}"
        assert path is not None
        page.goto(path)
        expect(page.locator(ready).first).to_be_visible()
        assert_no_serious_axe_violations(page)
        screenshot(page, f"market-{which}")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)


class TestRicherProfiles:
    def test_publishing_with_the_profile_fields_and_a_gallery_shows_them_on_the_profile(
        self, page: Page, context: BrowserContext, live_server: LiveServer, tmp_path: Path
    ) -> None:
        verified_user(context, live_server.outbox)
        name = f"Climatización Austral {tmp_path.name[-6:]}"
        page.goto("/publish/")
        form = page.locator("#publish-form")
        form.locator("#publish-form-name").fill(name)
        form.locator("#publish-form-product-uuid").select_option(index=1)
        choose_commune(page, "#publish-form-commune-uuid", "valdiv", "Valdivia")
        form.locator("#publish-form-address").fill("Picarte 123")
        form.locator("#publish-form-phone").fill("9 8231 4576")
        form.locator("#publish-form-email").fill("ventas@example.cl")
        form.get_by_label("Descripción en español").fill("Climatización para oficinas.")
        form.locator("#publish-form-website").fill("www.austral.example.cl")
        form.locator("#publish-form-rut").fill("76.086.428-k")
        form.locator("#publish-form-year-founded").fill("1998")
        form.locator("#publish-form-size-band").select_option("10-49")
        form.locator("#publish-form-extra-product-1").select_option(index=2)
        # A wrong check digit is caught before anything is sent.
        form.get_by_role("button", name="Publicar empresa").click()
        expect(page.locator("#publish-form-rut-error")).to_contain_text("dígito verificador")
        form.locator("#publish-form-rut").fill("76.086.428-5")
        form.get_by_label("Atiendo todo Chile").check()
        # The logo by drag and drop, the photos one dropped and one chosen with the file input.
        drop_file(page, "[data-drop=logo]", logo_file(tmp_path, name))
        expect(page.locator(".logo-preview img")).to_have_attribute("src", re.compile(r"^blob:"))
        drop_file(page, "[data-drop=gallery]", photo_file(tmp_path, "taller.png", (30, 160, 60)))
        form.locator("#publish-form-photos").set_input_files(
            str(photo_file(tmp_path, "equipo.png", (20, 80, 200)))
        )
        expect(page.locator(".gallery-preview img")).to_have_count(2)
        page.get_by_role("button", name="Quitar la foto 2").click()
        expect(page.locator(".gallery-preview img")).to_have_count(1)
        form.locator("#publish-form-photos").set_input_files(
            str(photo_file(tmp_path, "equipo.png", (20, 80, 200)))
        )
        form.get_by_role("button", name="Publicar empresa").click()
        expect(page.locator("[data-state=published]")).to_be_visible()
        expect(page.locator("#photo-report")).to_contain_text("Subimos 2 fotos")

        # The owner's page shows the profile as buyers get it (the public page is rendered by
        # the server from the same API fields).
        page.get_by_role("link", name="Ir a Mi empresa").click()
        expect(page.locator("#owner-name")).to_have_text(name)
        website = page.locator(".profile-facts a.website-link")
        expect(website).to_have_attribute("href", "https://www.austral.example.cl")
        expect(website).to_have_attribute("rel", "nofollow ugc noopener")
        expect(page.locator("[data-fact=rut] dd")).to_have_text("76.086.428-5")
        expect(page.locator("[data-fact=yearFounded] dd")).to_have_text("1998")
        expect(page.locator("[data-fact=sizeBand] dd")).to_have_text("10-49 personas")
        expect(page.locator("[data-fact=serves] dt")).to_have_text("Atiende")
        expect(page.locator("[data-fact=serves] dd")).to_have_text("todo Chile")
        expect(page.locator("[data-fact=categories] dd")).to_contain_text(" · ")
        expect(page.locator("#gallery-card img")).to_have_count(2)
        page.get_by_role("button", name="English").click()
        expect(page.locator("[data-fact=serves] dt")).to_have_text("Serves")
        expect(page.locator("[data-fact=serves] dd")).to_have_text("all of Chile")
        page.get_by_role("button", name="Español").click()
        mine = context.request.get("/api/v1/companies/user/my-company").json()
        public = context.request.get(f"/api/v1/companies/{mine['uuid']}").json()
        assert public["rut_formatted"] == "76.086.428-5"
        assert public["serves_all_chile"] is True
        assert len(public["photos"]) == 2
        assert len(public["extra_products"]) == 1

    def test_the_commune_combobox_works_by_keyboard(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        verified_user(context, live_server.outbox)
        page.goto("/publish/")
        box = page.locator("#publish-form-commune-uuid")
        expect(box).to_have_attribute("role", "combobox")
        listbox_id = box.get_attribute("aria-controls")
        listbox = page.locator(f"#{listbox_id}")
        expect(listbox).to_have_attribute("role", "listbox")
        box.focus()
        box.press("ArrowDown")  # opens the whole list
        expect(box).to_have_attribute("aria-expanded", "true")
        expect(listbox).to_be_visible()
        box.press("Escape")
        expect(box).to_have_attribute("aria-expanded", "false")
        expect(listbox).to_be_hidden()
        # Without accents or case: "NUNO" finds Ñuñoa.
        box.press_sequentially("NUNO")
        options = listbox.get_by_role("option")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("Ñuñoa")
        # Typing "san" lists several; arrows move the active option, which stays in view.
        box.fill("")
        box.press_sequentially("san")
        first = box.get_attribute("aria-activedescendant")
        box.press("ArrowDown")
        second = box.get_attribute("aria-activedescendant")
        assert first is not None
        assert second not in (None, first)
        expect(page.locator(f"#{second}")).to_have_attribute("aria-selected", "true")
        box.press("ArrowUp")
        expect(box).to_have_attribute("aria-activedescendant", first)
        chosen = (page.locator(f"#{first}").text_content() or "").split(" · ")[0]
        box.press("Enter")  # chooses; it does not submit the form
        expect(box).to_have_value(chosen)
        expect(page.locator("#publish-form-name-error")).to_be_hidden()
        # Escape on a closed list clears the choice.
        box.press("Escape")
        expect(box).to_have_value("")
        page.get_by_role("button", name="Publicar empresa").click()
        expect(page.locator("#publish-form-commune-uuid-error")).to_contain_text("Elige una comuna")

    def test_the_owner_adds_reorders_and_removes_gallery_photos(
        self, page: Page, context: BrowserContext, live_server: LiveServer, tmp_path: Path
    ) -> None:
        verified_user(context, live_server.outbox)
        company = publish_through_api(context, f"Galería {tmp_path.name[-6:]}")
        page.goto("/my-company/")
        expect(page.locator("#gallery-card")).to_contain_text("0 de 6 fotos")
        page.locator("#gallery-input").set_input_files(
            [
                str(photo_file(tmp_path, "uno.png", (40, 40, 160))),
                str(photo_file(tmp_path, "dos.png", (30, 140, 70))),
            ]
        )
        expect(page.locator("#gallery-card")).to_contain_text("2 de 6 fotos")
        drop_file(
            page,
            "#gallery-card [data-drop=gallery]",
            photo_file(tmp_path, "tres.png", (30, 30, 200)),
        )
        expect(page.locator("#gallery-card")).to_contain_text("3 de 6 fotos")
        before = [
            p["uuid"]
            for p in context.request.get("/api/v1/companies/user/my-company").json()["photos"]
        ]
        page.get_by_role("button", name="Mover la foto 1 después").click()
        expect(page.get_by_role("button", name="Mover la foto 2 después")).to_be_focused()
        after = [
            p["uuid"]
            for p in context.request.get("/api/v1/companies/user/my-company").json()["photos"]
        ]
        assert after == [before[1], before[0], before[2]]
        page.get_by_role("button", name="Quitar la foto 3").click()
        expect(page.locator("#gallery-card")).to_contain_text("2 de 6 fotos")
        public = context.request.get(f"/api/v1/companies/{company['uuid']}").json()
        assert [p["uuid"] for p in public["photos"]] == after[:2]
        gallery_status = page.locator("#gallery-status")
        expect(gallery_status).to_contain_text("Foto quitada.")
        # Found by a newcomer: the gallery's old message stayed beside "Cambios guardados.".
        page.get_by_role("button", name="Editar").click()
        page.locator("#edit-form-name").fill(f"Galería Editada {tmp_path.name[-6:]}")
        page.get_by_role("button", name="Guardar cambios").click()
        expect(page.locator("#my-company-flash")).to_contain_text("Cambios guardados.")
        expect(gallery_status).to_be_empty()
        # And the other way: a gallery action replaces the "saved" message.
        page.get_by_role("button", name="Quitar la foto 2").click()
        expect(gallery_status).to_contain_text("Foto quitada.")
        expect(page.locator("#my-company-flash")).to_be_empty()

    def test_the_owner_edits_and_removes_profile_fields_sending_only_those(
        self, page: Page, context: BrowserContext, live_server: LiveServer, tmp_path: Path
    ) -> None:
        verified_user(context, live_server.outbox)
        company = publish_through_api(context, f"Perfil {tmp_path.name[-6:]}")
        page.goto("/my-company/")
        page.get_by_role("button", name="Editar").click()
        edit = page.locator("#edit-form")
        # The commune combobox starts on the company's commune.
        expect(edit.locator("#edit-form-commune-uuid")).to_have_value(company["commune_name"])
        edit.locator("#edit-form-website").fill("www.perfil.example.cl")
        edit.get_by_label("Atiendo todo Chile").check()
        page.evaluate(
            """() => { const send = window.fetch; window.sentFields = [];
            window.fetch = (url, opts) => { if (opts && opts.body instanceof FormData)
            window.sentFields.push([...opts.body.entries()].map(([k, v]) => `${k}=${v}`));
            return send(url, opts); }; }"""
        )
        page.get_by_role("button", name="Guardar cambios").click()
        expect(page.locator("#my-company-flash")).to_contain_text("Cambios guardados")
        assert page.evaluate("() => window.sentFields") == [
            ["website=www.perfil.example.cl", "serves_all_chile=true"]
        ]
        expect(page.locator("[data-fact=website] a")).to_have_attribute(
            "href", "https://www.perfil.example.cl"
        )
        expect(page.locator("[data-fact=serves] dd")).to_have_text("todo Chile")
        # Emptying an optional field removes it.
        page.get_by_role("button", name="Editar").click()
        page.locator("#edit-form-website").fill("")
        page.get_by_role("button", name="Guardar cambios").click()
        expect(page.locator("#my-company-flash")).to_contain_text("Cambios guardados")
        assert page.evaluate("() => window.sentFields")[-1] == ["website="]
        expect(page.locator("[data-fact=website]")).to_have_count(0)
