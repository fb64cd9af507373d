"""Quote requests in Chromium: a buyer asks from a company page, confirms from the email
(opening the link sends nothing, the page's button does), the matching demo provider finds it
in My company and replies, the buyer reads the reply on the private page and closes the
request; the form's own checks in English on a phone; the entry points of the search and
landing pages."""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer
from tests.e2e.support import (
    DESKTOP,
    LINK_PATTERNS,
    PHONE,
    assert_no_serious_axe_violations,
    assert_no_sideways_scroll,
    read_outbox_link,
    screenshot,
    unique_email,
)

# The demo provider the requests are about (src/proveo/demo: company 1, owner testuser01):
# Construcción in Maipú, with a website and a mobile phone.
PROVIDER_EMAIL = "testuser01@proveo.com"
PROVIDER_PASSWORD = "TestPass123!"
PROVIDER_NAME = "Constructora Los Aromos"
CATEGORY_ES = "Construcción"
CATEGORY_EN = "Construction"

LINK_PATTERNS.setdefault(
    "quote_confirm",
    re.compile(r"https?://[^\s\"'<>]+/quote-requests/confirm/#token=[^\s\"'<>]+"),
)


def emails_to(
    outbox: Path, address: str, containing: str, timeout: float = 15.0, missing_ok: bool = False
) -> list[str]:
    """The plain texts of the emails to `address` that contain `containing` (waits for one, or
    with `missing_ok` answers an empty list after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() not in str(message["To"] or "").lower():
                continue
            part = message.get_body(preferencelist=("plain", "html"))
            text = str(part.get_content()) if part is not None else ""
            if containing in text:
                found.append(text)
        if found:
            return found
        if time.monotonic() > deadline:
            if missing_ok:
                return []
            raise AssertionError(f"no email to {address} containing {containing!r} in {outbox}")
        time.sleep(0.1)


def open_confirmation_link(page: Page, outbox: Path, link: str, buyer: str) -> list[str]:
    """Opens the emailed link and proves that opening it sends nothing (as a mail scanner that
    runs the page's scripts would): no confirmation request, the request waiting behind the
    page's button, and the buyer's only email still the confirmation (no "sent to N providers"
    with the private page's link). Returns the list the page's confirmation requests are
    recorded in from then on."""
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/api/v1/quote-requests/confirm"):
            posts.append(request.method)

    page.on("request", record)
    page.goto(link)
    expect(page.locator("#quote-pending")).to_be_visible()
    expect(page.locator("#quote-send")).to_be_enabled()
    assert "#token=" not in page.url  # single use: not left in the history
    page.wait_for_load_state("networkidle")
    assert posts == []
    assert len(emails_to(outbox, buyer, "")) == 1
    return posts


def provider_slug(context: BrowserContext) -> str:
    hits = context.request.get(
        "/api/v1/companies/search", params={"q": PROVIDER_NAME, "limit": 5}
    ).json()
    items = hits if isinstance(hits, list) else hits["items"]
    return str(next(item["slug"] for item in items if item["name"] == PROVIDER_NAME))


def log_in_as_provider(browser: Browser, live_server: LiveServer, **options: object) -> Page:
    context = browser.new_context(base_url=live_server.url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    login = context.request.post(
        "/api/v1/users/login", data={"email": PROVIDER_EMAIL, "password": PROVIDER_PASSWORD}
    )
    assert login.ok, login.text()
    return context.new_page()


def confirmed_request(
    context: BrowserContext, live_server: LiveServer, *, title: str, buyer: str
) -> str:
    """A request for the demo provider's category and commune, sent and confirmed through the
    API; returns its private page's path."""
    products = context.request.get("/api/v1/products/").json()
    communes = context.request.get("/api/v1/communes/").json()
    sent = context.request.post(
        "/api/v1/quote-requests",
        data={
            "product_uuid": next(p["uuid"] for p in products if p["name_es"] == CATEGORY_ES),
            "commune_uuid": next(c["uuid"] for c in communes if c["name"] == "Maipú"),
            "title": title,
            "description": "Goteras en una nave de 300 m².",
            "contact_name": "Luis Soto",
            "contact_email": buyer,
            "lang": "es",
            "website": "",
        },
    )
    assert sent.status == 202, sent.text()
    token = read_outbox_link(live_server.outbox, buyer, "quote_confirm").split("#token=")[1]
    confirmed = context.request.post("/api/v1/quote-requests/confirm", data={"token": token})
    assert confirmed.ok, confirmed.text()
    answer = confirmed.json()
    return f"/quote-requests/view/#id={answer['uuid']}&token={answer['page_token']}"


class TestBuyerAndProvider:
    def test_a_request_reaches_the_provider_and_its_reply_reaches_the_buyer(
        self, page: Page, browser: Browser, live_server: LiveServer
    ) -> None:
        tag = time.time_ns()
        title = f"Ampliación de bodega {tag}"
        buyer = unique_email("buyer")
        slug = provider_slug(page.context)

        # The company page's "Pedir cotizaciones" opens the form with its category and commune.
        page.goto(f"/empresas/{slug}")
        page.locator("#quote-cta-link").click()
        page.wait_for_url(re.compile(r"/quote-requests/\?"))
        form = page.locator("#quote-form")
        expect(form.locator("#quote-product")).to_have_value(CATEGORY_ES)
        expect(form.locator("input[name=place_kind][value=commune]")).to_be_checked()
        expect(form.locator("#quote-commune")).to_have_value("Maipú")
        expect(form.locator("#quote-region")).to_be_hidden()

        form.locator("#quote-title").fill(title)
        description = form.locator("#quote-description")
        description.fill("Necesitamos ampliar una bodega de 200 m².\nPlazo: dos meses.")
        expect(form.locator("#quote-description-counter")).to_contain_text("de 2000 caracteres")
        form.locator("#quote-needed-by").fill((date.today() + timedelta(days=40)).isoformat())
        form.locator("#quote-budget").select_option("5m-20m")
        form.locator("#quote-contact-name").fill("Paula Díaz")
        form.locator("#quote-contact-email").fill(buyer)
        form.locator("#quote-contact-phone").fill("9 8231 4576")
        form.locator("#quote-contact-company").fill("Bodegas Díaz")
        # The honeypot is out of reach: hidden from assistive technology and the tab order.
        expect(page.locator(".hp-field")).to_have_attribute("aria-hidden", "true")
        expect(page.locator("#quote-website")).to_have_attribute("tabindex", "-1")
        assert_no_serious_axe_violations(page)
        screenshot(page, "quotes-form")
        form.locator("button[type=submit]").click()
        done = page.locator("#quote-done")
        expect(done).to_contain_text("Revisa tu correo")
        expect(done).to_contain_text(buyer)

        # Opening the emailed link sends nothing: the request waits for the page's button.
        link = read_outbox_link(live_server.outbox, buyer, "quote_confirm")
        posts = open_confirmation_link(page, live_server.outbox, link, buyer)
        expect(page.locator("#quote-pending h1")).to_have_text(
            "Tu solicitud espera tu confirmación"
        )
        assert_no_serious_axe_violations(page)
        screenshot(page, "quotes-confirm")
        # (A second's wait: time enough for an email the link might have caused to land.)
        assert not emails_to(live_server.outbox, PROVIDER_EMAIL, title, timeout=1, missing_ok=True)

        # The button sends it, once however quickly it is pressed twice, to the providers that fit.
        send = page.locator("#quote-send")
        expect(send).to_have_text("Enviar mi solicitud a los proveedores")
        send.dblclick()
        confirmed = page.locator("#quote-confirmed")
        expect(confirmed).to_be_visible()
        notified = int(confirmed.get_attribute("data-notified") or "0")
        assert notified >= 1
        expect(confirmed.locator(".quote-notified")).to_contain_text(
            "1 proveedor" if notified == 1 else f"{notified} proveedores"
        )
        assert posts == ["POST"]
        assert "#token=" not in page.url  # single use: not left in the history
        assert_no_serious_axe_violations(page)
        view_href = page.locator("#quote-view-link").get_attribute("href")
        assert view_href
        assert view_href.startswith("/quote-requests/view/#id=")
        page.locator("#quote-view-link").click()
        expect(page.locator("#quote-title")).to_have_text(title)
        expect(page.locator("#no-replies")).to_be_visible()
        expect(page.locator("[data-request-status=open]")).to_be_visible()

        # The matching demo provider got an email, and finds the request in My company.
        emails_to(live_server.outbox, PROVIDER_EMAIL, title)
        provider = log_in_as_provider(browser, live_server, viewport=DESKTOP, locale="es-CL")
        provider.goto("/my-company/#quote-requests")
        row = provider.locator(".inbox-item", has_text=title)
        expect(row.locator("[data-status=new]")).to_be_visible()
        row.locator(".inbox-open").click()
        detail = provider.locator(".inbox-detail")
        expect(detail.locator("#inbox-item-title")).to_have_text(title)
        expect(detail).to_contain_text("Paula Díaz")
        expect(detail.locator(f'a[href="mailto:{buyer}"]')).to_be_visible()
        expect(detail).to_contain_text("Bodegas Díaz")
        expect(detail).to_contain_text("Entre $5 y $20 millones")
        assert_no_serious_axe_violations(provider)
        screenshot(provider, "quotes-inbox")
        replied = provider.locator("[data-total=quotesReplied] .insight-value")
        expect(replied).to_have_text(re.compile(r"^\d+$"))
        replied_before = int(replied.inner_text())
        reply = f"Podemos hacerlo en 6 semanas. Presupuesto detallado sin costo ({tag})."
        provider.locator("#inbox-reply").fill(reply)
        provider.locator("#inbox-reply-form button[type=submit]").click()
        expect(provider.locator("#inbox-flash")).to_contain_text("Respuesta enviada")
        # Found by the newcomer: the insights said 0 replied until the page was reloaded.
        expect(replied).to_have_text(str(replied_before + 1))
        expect(detail.locator("[data-state=replied]")).to_contain_text(reply)
        provider.locator("#inbox-back").click()
        expect(row.locator("[data-status=replied]")).to_be_visible()
        provider.context.close()

        # The buyer sees the reply, the provider's profile link and contact, and closes it.
        page.reload()
        card = page.locator("#reply-list .reply-card", has_text=PROVIDER_NAME)
        expect(card.locator(".reply-message")).to_have_text(reply)
        expect(card.locator(f'a[href="/empresas/{slug}"]')).to_be_visible()
        expect(card.locator('a[href^="tel:"]')).to_be_visible()
        expect(card.locator('a[href^="mailto:"]')).to_be_visible()
        page.set_viewport_size(PHONE)
        overflowing = page.evaluate(
            "() => [...document.querySelectorAll('#reply-list .btn')]"
            ".filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.textContent)"
        )
        assert overflowing == [], overflowing  # found by the newcomer with a long address
        page.set_viewport_size(DESKTOP)
        expect(page.locator("#quote-summary")).to_contain_text("1 respondi")
        assert_no_serious_axe_violations(page)
        screenshot(page, "quotes-view")
        page.locator("#close-request").click()
        dialog = page.locator("#close-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator(".btn-secondary")).to_be_focused()
        dialog.locator("#confirm-close").click()
        expect(page.locator("#quote-flash")).to_contain_text("Cerraste la solicitud")
        expect(page.locator("[data-request-status=closed]")).to_be_visible()
        expect(page.locator("#close-request")).to_have_count(0)

    def test_a_used_or_unknown_link_says_so(self, page: Page) -> None:
        page.goto("/quote-requests/confirm/#token=not-a-real-token")
        expect(page.locator("#quote-pending")).to_be_visible()
        page.locator("#quote-send").click()
        expect(page.locator("[data-state=invalid]")).to_contain_text("No pudimos confirmar")
        page.goto("/quote-requests/confirm/")
        expect(page.locator("[data-state=missing]")).to_contain_text("Falta el código")
        expect(page.locator("#quote-send")).to_have_count(0)
        page.goto("/quote-requests/view/#id=00000000-0000-0000-0000-000000000000&token=nope")
        expect(page.locator("[data-state=invalid]")).to_contain_text("No encontramos")


class TestProviderDeclines:
    def test_a_provider_declines_after_confirming_and_the_buyer_sees_it(
        self, page: Page, browser: Browser, live_server: LiveServer
    ) -> None:
        title = f"Reparación de techumbre {time.time_ns()}"
        buyer = unique_email("buyer-decline")
        view = confirmed_request(page.context, live_server, title=title, buyer=buyer)

        provider = log_in_as_provider(browser, live_server, viewport=PHONE, locale="es-CL")
        # Signed in, the form starts with the account's name and email.
        provider.goto("/quote-requests/")
        expect(provider.locator("#quote-contact-email")).to_have_value(PROVIDER_EMAIL)
        expect(provider.locator("#quote-contact-name")).not_to_have_value("")
        provider.goto("/my-company/#quote-requests")
        row = provider.locator(".inbox-item", has_text=title)
        row.locator(".inbox-open").click()
        provider.locator("#inbox-decline").click()
        dialog = provider.locator("#decline-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator(".btn-secondary")).to_be_focused()
        assert_no_serious_axe_violations(provider)
        dialog.locator("#confirm-decline").click()
        expect(provider.locator("[data-state=declined]")).to_have_text("Rechazaste esta solicitud.")
        expect(provider.locator("#inbox-reply-form")).to_have_count(0)
        assert_no_sideways_scroll(provider)
        provider.locator("#inbox-back").click()
        expect(row.locator("[data-status=declined]")).to_be_visible()
        provider.context.close()

        page.goto(view)
        expect(page.locator("#quote-summary")).to_contain_text("1 proveedor no puede")
        expect(page.locator("#no-replies")).to_be_visible()


class TestForm:
    def test_in_english_on_a_phone_the_form_checks_before_sending(
        self, browser: Browser, live_server: LiveServer
    ) -> None:
        context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="en-US")
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        products = context.request.get("/api/v1/products/").json()
        construction = next(p["uuid"] for p in products if p["name_es"] == CATEGORY_ES)

        # The results page's button carries the search's category and region.
        page.goto(f"/?product={construction}&region=metropolitana-de-santiago")
        cta = page.locator("#quote-cta-link")
        expect(cta).to_have_text("Request quotes")
        expect(cta).to_have_attribute("href", re.compile(rf"product={construction}"))
        cta.click()
        page.wait_for_url(re.compile(r"/quote-requests/\?"))
        form = page.locator("#quote-form")
        expect(page.locator("h1")).to_have_text("Request quotes")
        expect(form.locator("#quote-product")).to_have_value(CATEGORY_EN)
        expect(form.locator("input[name=place_kind][value=region]")).to_be_checked()
        expect(form.locator("#quote-region")).to_have_value("Metropolitana de Santiago")
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)

        # Nothing filled in: each field says what it needs, and nothing is sent.
        form.locator("#quote-contact-name").fill("")
        form.locator("button[type=submit]").click()
        expect(page.locator("#quote-form-alert")).to_contain_text("check the highlighted fields")
        expect(page.locator("#quote-title-error")).to_have_text("Fill in this field.")
        expect(page.locator("#quote-title")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#quote-title")).to_be_focused()

        form.locator("#quote-title").fill("Office refurbishment")
        links = "See https://a.example, https://b.example and www.c.example"
        form.locator("#quote-description").fill(links)
        form.locator("#quote-contact-name").fill("Sam Lee")
        form.locator("#quote-contact-email").fill("not-an-email")
        form.locator("button[type=submit]").click()
        expect(page.locator("#quote-description-error")).to_have_text("Include at most 2 links.")
        expect(page.locator("#quote-contact-email-error")).to_contain_text("valid email")
        over = "x" * 2001
        form.locator("#quote-description").fill(over)
        expect(page.locator("#quote-description-counter")).to_contain_text("1 characters too many")

        # Corrected, it is sent (in English) and the page says to check the email.
        form.locator("#quote-description").fill("An 80 m² office, two weeks of work.")
        address = unique_email("buyer-en")
        form.locator("#quote-contact-email").fill(address)
        form.locator("button[type=submit]").click()
        expect(page.locator("#quote-done")).to_contain_text("Check your email to confirm")
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)
        screenshot(page, "quotes-sent")
        link = read_outbox_link(live_server.outbox, address, "quote_confirm")
        posts = open_confirmation_link(page, live_server.outbox, link, address)
        expect(page.locator("#quote-pending h1")).to_have_text(
            "Your request is waiting for your confirmation"
        )
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)
        # From the keyboard: Enter on the focused button sends it.
        send = page.locator("#quote-send")
        expect(send).to_have_text("Send my request to the providers")
        send.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#quote-confirmed")).to_contain_text("Request confirmed")
        assert posts == ["POST"]
        assert_no_sideways_scroll(page)
        page.locator("#quote-view-link").click()
        expect(page.locator("#quote-title")).to_have_text("Office refurbishment")
        expect(page.locator("#no-replies")).to_contain_text("No replies yet")
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)
        context.close()
        assert not errors, errors

    def test_a_landing_page_opens_the_form_with_its_category_and_place(self, page: Page) -> None:
        page.goto("/proveedores/construccion/maipu")
        cta = page.locator("#quote-cta-link")
        expect(cta).to_have_text("Pedir cotizaciones")
        expect(cta).to_have_attribute(
            "href", re.compile(r"/quote-requests/\?product=.+&place=maipu")
        )
        cta.click()
        form = page.locator("#quote-form")
        expect(form.locator("#quote-product")).to_have_value(CATEGORY_ES)
        expect(form.locator("#quote-commune")).to_have_value("Maipú")
        page.goto("/proveedores/construccion/region-metropolitana-de-santiago")
        page.locator("#quote-cta-link").click()
        expect(form.locator("input[name=place_kind][value=region]")).to_be_checked()
        expect(form.locator("#quote-region")).to_have_value("Metropolitana de Santiago")


class TestAdmin:
    def test_an_admin_removes_a_request_and_reads_the_weekly_totals(
        self, page: Page, live_server: LiveServer
    ) -> None:
        api = page.context.request
        title = f"Spam de prueba {time.time_ns()}"
        buyer = unique_email("buyer-admin")
        view = confirmed_request(page.context, live_server, title=title, buyer=buyer)
        login = api.post(
            "/api/v1/users/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert login.ok, login.text()

        page.goto("/admin/#quotes")
        panel = page.locator("#panel-quotes")
        row = panel.locator("tr", has_text=title)
        expect(row).to_contain_text("Abierta")
        expect(row).to_contain_text(buyer)
        # Each count agrees with its number: "1 enviada", never "1 enviadas".
        answers = row.locator("td").nth(2)
        expect(answers).to_have_text(
            re.compile(r"^(1 enviada|\d+ enviadas) · 0 respondidas · 0 rechazadas$")
        )
        expect(answers).not_to_contain_text(re.compile(r"(^|\D)1 (enviadas|respondidas)"))
        assert_no_serious_axe_violations(page)
        row.get_by_role("button", name=f"Eliminar «{title}»").click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_contain_text(f"¿Eliminar «{title}»?")
        # Focus starts on Cancel: Enter alone removes nothing.
        expect(dialog.get_by_role("button", name="Cancelar")).to_be_focused()
        page.keyboard.press("Enter")
        expect(dialog).to_have_count(0)
        expect(row).to_contain_text("Abierta")
        row.get_by_role("button", name=f"Eliminar «{title}»").click()
        dialog.locator("button[type=submit]").click()
        expect(panel.locator(".panel-notice")).to_contain_text("eliminada")
        expect(panel.locator("tr", has_text=title)).to_contain_text("Eliminada")
        screenshot(page, "admin-quotes-data")

        # The audit log names the action, offers it as a filter, and shows the title in the
        # console's language, not struck through as if it had changed.
        page.goto("/admin/#audit")
        audit = page.locator("#panel-audit")
        audit.locator("#audit-action").select_option("quote_request.remove")
        audit.locator("#audit-filters button[type=submit]").click()
        entry = audit.locator("tr[data-action='quote_request.remove']", has_text=title).first
        expect(entry).to_contain_text("Solicitud de cotización eliminada")
        expect(entry).not_to_contain_text("quote_request")
        expect(entry).not_to_contain_text("Title")
        expect(entry.locator("[data-field=title] del")).to_have_count(0)
        expect(entry.locator("[data-field=status]")).to_contain_text("Abierta")
        expect(entry.locator("[data-field=status]")).to_contain_text("Eliminada")

        # The buyer's page says once, plainly, that the moderators removed it.
        page.goto(view)
        expect(page.locator("#request-closed")).to_contain_text("moderadores de Proveo")
        expect(page.locator("#quote-view-root")).not_to_contain_text("Te avisaremos")
        expect(page.locator("#quote-view-root")).not_to_contain_text("está cerrada")
        expect(page.locator("#quote-summary")).not_to_contain_text("no puede")

        page.goto("/admin/#weekly")
        weekly = page.locator("#panel-weekly")
        expect(weekly.locator("tbody tr")).to_have_count(12)
        expect(weekly.locator("thead")).to_contain_text("Tasa de respuesta")
        assert_no_serious_axe_violations(page)
