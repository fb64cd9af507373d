"""Accounts in the browser: sign up, verify, log in and out, passwords, the account page."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import asyncpg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from proveo.cli import EMBEDDED_DATABASE
from proveo.core.embedded_pg import EmbeddedPostgres
from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    PASSWORD,
    PHONE,
    assert_no_serious_axe_violations,
    assert_no_sideways_scroll,
    login,
    read_outbox_link,
    screenshot,
    signup,
    signup_and_verify,
    unique_email,
)

NEW_PASSWORD = "Otra-clave-2027"


def _run_sql(live_server: LiveServer, statement: str, *args: object) -> None:
    """One statement on the live server's database, off Playwright's thread (its loop)."""

    async def run() -> None:
        dsn = EmbeddedPostgres(live_server.outbox.parent / "pg").dsn(EMBEDDED_DATABASE)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def _set_lang(page: Page, lang: str) -> None:
    page.locator(f".lang-option[data-lang={lang}]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


class TestSignUpAndVerification:
    def test_sign_up_read_the_email_verify_log_in_and_log_out(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = unique_email("flow")
        signup(page, name="Camila Rojas", address=address)
        expect(page.locator("#signup-done-email")).to_have_text(address)
        screenshot(page, "signup-done")

        page.goto(read_outbox_link(live_server.outbox, address, "verify"))
        expect(page.locator("[data-outcome=verified]")).to_be_visible()
        expect(page.locator(".verify-lang:visible h1")).to_have_count(1)
        assert_no_serious_axe_violations(page)
        screenshot(page, "verify-email")

        login(page, address, next_path="/account/")
        expect(page).to_have_url(re.compile(r"/account/$"))
        expect(page.locator("#profile-email")).to_have_text(address)
        expect(page.locator("#profile-status")).to_have_class(re.compile("badge-success"))

        page.locator(".nav-logout").click()
        expect(page).to_have_url(f"{live_server.url}/")
        page.goto("/account/")
        expect(page).to_have_url(re.compile(r"/login/\?next=%2Faccount%2F$"))

    def test_a_taken_address_offers_log_in_and_a_password_reset(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = unique_email("taken")
        signup(page, name="Primera", address=address)
        page.goto("/signup/")
        page.locator("#signup-name").fill("Segunda")
        page.locator("#signup-email").fill(address)
        page.locator("#signup-password").fill(PASSWORD)
        page.locator("#signup-form button[type=submit]").click()
        alert = page.locator("#signup-alert .alert-warning")
        expect(alert).to_be_visible()
        expect(alert.locator("a[href^='/login/?email=']")).to_be_visible()
        expect(alert.locator("a[href^='/forgot-password/?email=']")).to_be_visible()
        screenshot(page, "signup-taken")

    def test_a_password_error_sits_below_the_show_button_not_over_it(self, page: Page) -> None:
        page.goto("/signup/")
        page.locator("#signup-name").fill("Corta")
        page.locator("#signup-email").fill(unique_email("short"))
        page.locator("#signup-password").fill("abc")
        page.locator("#signup-form button[type=submit]").click()
        error = page.locator("#signup-password-error")
        expect(error).to_be_visible()
        wrap = page.locator(".password-wrap:has(#signup-password)")
        assert error.evaluate("e => e.parentElement.classList.contains('password-wrap')") is False
        wrap_box, error_box = wrap.bounding_box(), error.bounding_box()
        assert wrap_box is not None
        assert error_box is not None
        assert error_box["y"] >= wrap_box["y"] + wrap_box["height"] - 1
        screenshot(page, "signup-password-error")

    def test_an_invalid_link_offers_a_new_one(self, page: Page) -> None:
        page.goto("/api/v1/users/verify-email/forged-token")
        expect(page.locator("[data-outcome=invalid]")).to_be_visible()
        page.locator(".verify-lang:visible a.btn-primary").click()
        expect(page.locator("#resend-form")).to_be_visible()
        page.locator("#resend-email").fill(unique_email("resend"))
        page.locator("#resend-form button[type=submit]").click()
        expect(page.locator("#resend-alert .alert-success")).to_be_visible()


class TestVerifyOnAnotherDevice:
    def test_the_password_typed_on_the_second_device_confirms_and_signs_it_in(
        self, page: Page, browser: Browser, live_server: LiveServer
    ) -> None:
        address = unique_email("device")
        signup(page, name="Ana Pérez", address=address)
        link = read_outbox_link(live_server.outbox, address, "verify")
        # The phone: a fresh browser context, with no signup cookie and no session.
        phone_context = browser.new_context(
            base_url=live_server.url, viewport=PHONE, locale="es-CL"
        )
        phone_context.set_default_timeout(15_000)
        try:
            phone = phone_context.new_page()
            phone.goto(link)
            expect(phone.locator("[data-outcome=needs_proof]")).to_be_visible()
            lead = phone.locator(".verify-lang:visible .lead")
            expect(lead).to_have_count(1)
            assert len(lead.inner_text().split()) <= 15
            form = phone.locator(".verify-form:visible")
            expect(form).to_have_count(1)
            assert_no_serious_axe_violations(phone)
            screenshot(phone, "verify-email-other-device")

            form.locator("input[type=password]").fill("not-the-password-1")
            form.locator("button[type=submit]").click()
            expect(form.locator(".field-error")).to_contain_text("no es correcta")
            expect(phone.locator(".user-chip")).to_have_count(0)

            form.locator("input[type=password]").fill(PASSWORD)
            form.locator("button[type=submit]").click()
            expect(phone.locator("[data-outcome=verified]")).to_be_visible()
            expect(phone.locator(".verify-lang:visible h1")).to_have_text("Correo confirmado")
            # Signed in: the header names the account (in the phone's menu), the API agrees.
            expect(phone.locator(".user-chip")).to_have_count(1)
            me = phone.request.get("/api/v1/users/me")
            assert me.status == 200
            assert me.json()["email_verified"] is True
            screenshot(phone, "verify-email-other-device-done")
            phone.locator(".verify-lang:visible a[href='/publish/']").click()
            expect(phone).to_have_url(re.compile(r"/publish/$"))
            phone.goto("/account/")
            expect(phone.locator("#profile-email")).to_have_text(address)
            expect(phone.locator("#profile-status")).to_have_class(re.compile("badge-success"))
        finally:
            phone_context.close()

    def test_the_form_speaks_english_after_the_toggle(
        self, page: Page, browser: Browser, live_server: LiveServer
    ) -> None:
        address = unique_email("device-en")
        signup(page, name="Ann Smith", address=address)
        link = read_outbox_link(live_server.outbox, address, "verify")
        other = browser.new_context(base_url=live_server.url, locale="en-US")
        other.set_default_timeout(15_000)
        try:
            tab = other.new_page()
            tab.goto(link)
            expect(tab.locator("[data-outcome=needs_proof]")).to_be_visible()
            _set_lang(tab, "en")
            expect(tab.locator(".verify-lang:visible h1")).to_have_text("Confirm your email")
            form = tab.locator(".verify-form:visible")
            expect(form.locator("label")).to_have_text("Password")
            form.locator("input[type=password]").fill(PASSWORD)
            form.locator("button[type=submit]").click()
            expect(tab.locator(".verify-lang:visible h1")).to_have_text("Email confirmed")
        finally:
            other.close()


class TestLogIn:
    def test_wrong_password_says_so(self, page: Page, live_server: LiveServer) -> None:
        address = signup_and_verify(page, live_server.outbox)
        expect(page.locator(".user-chip")).to_have_count(1)  # the link signed this browser in
        page.context.clear_cookies()
        page.goto("/login/")
        page.locator("#login-email").fill(address)
        page.locator("#login-password").fill("not-the-password-1")
        page.locator("#login-form button[type=submit]").click()
        expect(page.locator("#login-alert .alert-error")).to_be_visible()
        expect(page.locator(".user-chip")).to_have_count(0)

    def test_a_lockout_offers_the_password_reset(self, page: Page, live_server: LiveServer) -> None:
        address = signup_and_verify(page, live_server.outbox)
        page.goto("/login/")
        page.locator("#login-email").fill(address)
        for _ in range(10):
            page.locator("#login-password").fill("not-the-password-1")
            page.locator("#login-form button[type=submit]").click()
            expect(page.locator("#login-alert .alert-error")).to_be_visible()
            if page.locator("#locked-reset").count():
                break
        reset = page.locator("#locked-reset")
        expect(reset).to_be_visible()
        screenshot(page, "login-locked")
        reset.click()
        expect(page).to_have_url(re.compile(r"/forgot-password/\?email="))
        expect(page.locator("#forgot-email")).to_have_value(address)

    def test_a_lost_session_leads_back_to_log_in_with_a_message(
        self, page: Page, context: BrowserContext, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        login(page, address, next_path="/account/")
        expect(page.locator("#profile-email")).to_have_text(address)
        # The server forgets the session (as after a password change elsewhere): the cookie stays.
        session = next(c for c in context.cookies() if c["name"] == "access_token")
        context.add_cookies([{**session, "value": "forged." + session["value"]}])
        page.goto("/account/")
        expect(page).to_have_url(re.compile(r"/login/\?next=%2Faccount%2F&reason=expired$"))
        expect(page.locator("#login-alert .alert-info")).to_be_visible()
        page.locator("#login-email").fill(address)
        page.locator("#login-password").fill(PASSWORD)
        page.locator("#login-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/account/$"))

    @pytest.mark.parametrize(
        "target", ["https://example.com/", "//example.com/x", "/.//example.com/x"]
    )
    def test_next_never_leaves_the_site(
        self, page: Page, live_server: LiveServer, target: str
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        page.goto(f"/login/?next={quote(target, safe='')}")
        page.locator("#login-email").fill(address)
        page.locator("#login-password").fill(PASSWORD)
        page.locator("#login-form button[type=submit]").click()
        # An unsafe `next` is ignored: a provider without a company goes to Publish.
        expect(page).to_have_url(f"{live_server.url}/publish/")

    def test_a_provider_without_a_company_lands_on_publish(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        page.goto("/login/")
        page.locator("#login-email").fill(address)
        page.locator("#login-password").fill(PASSWORD)
        page.locator("#login-form button[type=submit]").click()
        expect(page).to_have_url(f"{live_server.url}/publish/")
        expect(page.locator(".user-chip")).to_be_visible()

    def test_a_provider_with_a_company_and_an_explicit_next_keep_their_destination(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        # An explicit same-site `next` wins over Publish.
        login(page, address, next_path="/account/")
        expect(page).to_have_url(re.compile(r"/account/$"))
        page.locator(".nav-logout").click()
        expect(page).to_have_url(f"{live_server.url}/")
        # A demo provider has a company: the front page, as before.
        page.goto("/login/")
        page.locator("#login-email").fill("testuser01@proveo.com")
        page.locator("#login-password").fill("TestPass123!")
        page.locator("#login-form button[type=submit]").click()
        expect(page.locator(".user-chip")).to_be_visible()
        expect(page).to_have_url(f"{live_server.url}/")

    def test_next_with_dot_segments_or_backslashes_never_names_another_host(
        self, page: Page
    ) -> None:
        # Each of these resolves to a path starting with `//`, which the browser would read
        # as another host; a same-site path survives with its query and fragment.
        page.goto("/login/")
        cases = {
            "/.//evil.example/phish": None,
            "/./\\evil.example/phish": None,
            "/..//evil.example/x": None,
            "/a/..//evil.example/x": None,
            "/%2e//evil.example/x": None,
            "/\\evil.example/x": None,
            "//evil.example/x": None,
            "https://evil.example/": None,
            "javascript:alert(1)": None,
            "/account/?tab=1#pw": "/account/?tab=1#pw",
            "/a/../my-company/": "/my-company/",
        }
        results = page.evaluate(
            """async (values) => {
                const { safeNext } = await import('/js/forms.js');
                return values.map((value) => safeNext(value));
            }""",
            list(cases),
        )
        assert dict(zip(cases, results, strict=True)) == cases


class TestPasswords:
    def test_forgot_password_reset_then_log_in_with_the_new_one(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        page.goto("/login/")
        page.locator("#forgot-link").click()
        page.locator("#forgot-email").fill(address)
        page.locator("#forgot-form button[type=submit]").click()
        expect(page.locator("#forgot-alert .alert-success")).to_be_visible()
        screenshot(page, "forgot-password-sent")

        page.goto(read_outbox_link(live_server.outbox, address, "reset"))
        expect(page).to_have_url(f"{live_server.url}/reset-password/")  # the token left the bar
        page.locator("#reset-password").fill(NEW_PASSWORD)
        page.locator("#reset-confirm").fill("something-else-1")
        page.locator("#reset-form button[type=submit]").click()
        expect(page.locator("#reset-confirm-error")).to_be_visible()
        page.locator("#reset-confirm").fill(NEW_PASSWORD)
        page.locator("#reset-form button[type=submit]").click()
        expect(page.locator("#reset-alert .alert-success")).to_be_visible()
        screenshot(page, "reset-password-done")

        login(page, address, NEW_PASSWORD)

    def test_the_old_reset_address_still_reaches_the_page_with_its_token(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        page.goto("/forgot-password/")
        page.locator("#forgot-email").fill(address)
        page.locator("#forgot-form button[type=submit]").click()
        link = read_outbox_link(live_server.outbox, address, "reset")
        page.goto(link.replace("/reset-password/#", "/reset-password.html#"))
        page.locator("#reset-password").fill(NEW_PASSWORD)
        page.locator("#reset-confirm").fill(NEW_PASSWORD)
        page.locator("#reset-form button[type=submit]").click()
        expect(page.locator("#reset-alert .alert-success")).to_be_visible()

    def test_an_unknown_reset_link_says_so_before_the_form(self, page: Page) -> None:
        page.goto("/reset-password/#token=not-a-real-token")
        alert = page.locator("#reset-alert .alert-error")
        expect(alert).to_contain_text(re.compile("invalid|no es válido"))
        expect(alert.locator("a[href='/forgot-password/']")).to_be_visible()
        expect(page.locator("#reset-form")).to_be_hidden()

    def _reset_link(self, page: Page, live_server: LiveServer) -> tuple[str, str]:
        address = signup_and_verify(page, live_server.outbox)
        page.goto("/forgot-password/")
        page.locator("#forgot-email").fill(address)
        page.locator("#forgot-form button[type=submit]").click()
        expect(page.locator("#forgot-alert .alert-success")).to_be_visible()
        return address, read_outbox_link(live_server.outbox, address, "reset")

    def test_a_used_reset_link_says_so_before_the_form(
        self, page: Page, live_server: LiveServer
    ) -> None:
        _, link = self._reset_link(page, live_server)
        page.goto(link)
        page.locator("#reset-password").fill(NEW_PASSWORD)
        page.locator("#reset-confirm").fill(NEW_PASSWORD)
        page.locator("#reset-form button[type=submit]").click()
        expect(page.locator("#reset-alert .alert-success")).to_be_visible()
        page.goto("/")
        page.goto(link)
        expect(page.locator("#reset-used")).to_contain_text("ya se usó")
        expect(page.locator("#reset-form")).to_be_hidden()
        expect(page.locator("#reset-alert a[href='/forgot-password/']")).to_be_visible()

    def test_an_expired_reset_link_says_so_before_the_form_in_both_languages(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address, link = self._reset_link(page, live_server)
        _run_sql(
            live_server,
            "UPDATE proveo.password_reset_token t SET expires_at = now() - interval '1 second' "
            "FROM proveo.user_account u WHERE u.id = t.user_id AND u.email = $1",
            address,
        )
        page.goto(link)
        expect(page.locator("#reset-expired")).to_contain_text("venció")
        expect(page.locator("#reset-form")).to_be_hidden()
        screenshot(page, "reset-password-expired")
        _set_lang(page, "en")
        expect(page.locator("#reset-expired")).to_contain_text("expired")
        expect(page.locator("#reset-form")).to_be_hidden()


class TestAccountPage:
    def test_change_password_then_delete_the_account(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        login(page, address, next_path="/account/")
        page.locator("#current-password").fill("wrong-password-1")
        page.locator("#new-password").fill(NEW_PASSWORD)
        page.locator("#confirm-password").fill(NEW_PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#current-password-error")).to_be_visible()
        page.locator("#current-password").fill(PASSWORD)
        page.locator("#password-form button[type=submit]").click()
        expect(page.locator("#password-alert .alert-success")).to_be_visible()

        page.locator("#delete-open").click()
        dialog = page.locator("#delete-dialog")
        expect(dialog).to_be_visible()
        # Cancel first, then the destructive action, as in every delete dialog.
        expect(dialog.locator(".form-actions button")).to_have_text(
            ["Cancelar", "Eliminar definitivamente"]
        )
        assert_no_serious_axe_violations(page)
        screenshot(page, "account-delete-dialog")
        page.locator("#delete-confirm").fill("someone-else@example.com")
        page.locator("#delete-submit").click()
        expect(page.locator("#delete-confirm-error")).to_be_visible()
        page.locator("#delete-confirm").fill(address)
        page.locator("#delete-submit").click()
        expect(page.locator("#account-deleted")).to_be_visible()
        expect(page.locator(".auth-links")).to_be_visible()

        page.goto("/login/")
        page.locator("#login-email").fill(address)
        page.locator("#login-password").fill(NEW_PASSWORD)
        page.locator("#login-form button[type=submit]").click()
        expect(page.locator("#login-alert .alert-error")).to_be_visible()


class TestLanguage:
    def test_the_toggle_persists_and_changes_strings_and_dates(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox)
        login(page, address, next_path="/account/")
        _set_lang(page, "en")
        expect(page.locator("h1")).to_have_text("Your account")
        expect(page.locator("#profile-since")).to_have_text(
            re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$")
        )
        expect(page.locator(".lang-option[data-lang=en]")).to_have_attribute("aria-pressed", "true")
        page.goto("/login/")
        expect(page.locator("h1")).to_have_text("Log in to Proveo")
        page.goto("/account/")
        expect(page.locator("h1")).to_have_text("Your account")
        assert page.title() == "Your account · Proveo"

        _set_lang(page, "es")
        expect(page.locator("h1")).to_have_text("Tu cuenta")
        expect(page.locator("#profile-since")).to_have_text(
            re.compile(r"^\d{1,2} de [a-z]+ de \d{4}$")
        )
        page.reload()
        expect(page.locator("h1")).to_have_text("Tu cuenta")
        expect(page.locator(".nav-logout")).to_have_text("Salir")


PAGES = {
    "signup": "/signup/",
    "login": "/login/?reason=expired",
    "forgot-password": "/forgot-password/",
    "reset-password": "/reset-password/#token=abc",
    "verify-email-invalid": "/api/v1/users/verify-email/forged-token",
}


class TestEveryPage:
    @pytest.mark.parametrize("name", list(PAGES))
    def test_passes_axe_fits_a_phone_and_is_screenshotted(self, page: Page, name: str) -> None:
        page.goto(PAGES[name])
        expect(page.locator("#site-header .brand")).to_be_visible()
        expect(page.locator(".lang-option").first).to_be_visible()
        assert_no_serious_axe_violations(page)
        screenshot(page, name)
        page.set_viewport_size(PHONE)
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)

    def test_account_passes_axe_fits_a_phone_and_is_screenshotted(
        self, page: Page, live_server: LiveServer
    ) -> None:
        address = signup_and_verify(page, live_server.outbox, name="Ignacio Fuentes Valdés")
        login(page, address, next_path="/account/")
        expect(page.locator("#profile-email")).to_have_text(address)
        assert_no_serious_axe_violations(page)
        screenshot(page, "account")
        page.set_viewport_size(PHONE)
        assert_no_sideways_scroll(page)
        page.locator(".menu-toggle").click()
        expect(page.locator(".nav-logout")).to_be_visible()
        assert_no_sideways_scroll(page)
        assert_no_serious_axe_violations(page)
        screenshot(page, "account-menu-open")

    def test_the_seed_front_page_url_sends_to_the_front_page(
        self, page: Page, live_server: LiveServer
    ) -> None:
        page.goto("/front-page/front-page.html")
        expect(page).to_have_url(f"{live_server.url}/")

    def test_a_second_view_downloads_no_file_or_catalogue_again(self, page: Page) -> None:
        responses: list[Response] = []

        def view() -> None:
            page.goto("/login/")
            expect(page.locator(".lang-option").first).to_be_visible()
            for path in ("/api/v1/products/", "/api/v1/communes/"):
                assert page.evaluate("(p) => fetch(p).then((r) => r.status)", path) == 200

        view()
        page.goto("/signup/")
        page.on("response", lambda response: responses.append(response))
        view()
        # The browser fetches the favicon on its own schedule, not the page's: the first view's
        # request may still be answered after the second view began (seen once in CI).
        reused = [r for r in responses if "/users/me" not in r.url and "/favicon." not in r.url]
        urls = {r.url.removeprefix(page.url.split("/login/")[0]) for r in reused}
        assert {"/login/", "/css/app.css", "/js/api.js", "/api/v1/products/"} <= urls, urls
        # Chromium reports a revalidated document as 200: its empty body tells the 304.
        downloaded = [
            (r.url, r.status)
            for r in reused
            if r.request.sizes()["responseBodySize"] != 0
            or r.request.header_value("if-none-match") != r.header_value("etag")
        ]
        assert not downloaded
