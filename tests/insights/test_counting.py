"""What is counted: company page views, companies shown in search results and landing pages,
contact clicks; and what is not: the owner, bots, HEAD requests."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import UserRecord
from proveo.companies.schemas import CompanyRecord
from proveo.core.db import Connection
from proveo.insights.service import is_bot
from tests.factories import create_company, create_user, log_in
from tests.insights.support import BROWSER, flushed, recorder


@pytest.fixture
async def owner(conn: Connection) -> UserRecord:
    return await create_user(conn)


@pytest.fixture
async def company(conn: Connection, owner: UserRecord) -> CompanyRecord:
    return await create_company(
        conn, owner.id, name="Zorzal Andino Limitada", product_name="Gasfitería"
    )


def _page(app: FastAPI, company: CompanyRecord, lang: str = "es") -> str:
    name = "site:company_es" if lang == "es" else "site:company_en"
    return app.url_path_for(name, slug=company.slug)


def _visitor(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


def _clicks(app: FastAPI, company_uuid: object) -> str:
    return app.url_path_for("insights:contact_click", company_uuid=str(company_uuid))


class TestBots:
    @pytest.mark.parametrize(
        "agent",
        [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko; "
            "Google Page Speed Insights) Chrome/91.0 Safari/537.36 PagePreview",
            "WhatsApp/2.23.20.0",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.32.3",
            "python-httpx/0.28.1",
            "AhrefsBot/7.0",
            "",
        ],
    )
    def test_obvious_bots(self, agent: str) -> None:
        assert is_bot(agent)

    @pytest.mark.parametrize(
        "agent",
        [
            BROWSER["User-Agent"],
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
            "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ],
    )
    def test_browsers_headless_chrome_included(self, agent: str) -> None:
        assert not is_bot(agent)


class TestViews:
    async def test_each_visitor_is_a_view_in_either_language(
        self, app: FastAPI, conn: Connection, company: CompanyRecord
    ) -> None:
        for n, lang in enumerate(("es", "en", "es")):
            async with _visitor(app, f"203.0.113.{n}") as client:
                response = await client.get(_page(app, company, lang), headers=BROWSER)
            assert response.status_code == 200
        assert (await flushed(app, conn, company.uuid))["views"] == 3

    async def test_one_client_reloading_the_page_is_one_view(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        """Found by the adversary: 1,500 reloads from one address were 1,500 views."""
        for lang in ("es", "en", "es", "es"):
            response = await client.get(_page(app, company, lang), headers=BROWSER)
            assert response.status_code == 200
        assert (await flushed(app, conn, company.uuid))["views"] == 1

    async def test_addresses_of_one_ipv6_64_are_one_client(
        self, app: FastAPI, conn: Connection, company: CompanyRecord
    ) -> None:
        """Found by the adversary: 20 addresses of one /64 were 20 views (the rate limits see one
        client there)."""
        for host in range(1, 21):
            async with _visitor(app, f"2001:db8:1234:5678::{host:x}") as client:
                response = await client.get(_page(app, company), headers=BROWSER)
            assert response.status_code == 200
            async with _visitor(app, f"2001:db8:1234:5678::{host + 100:x}") as client:
                click = await client.post(
                    _clicks(app, company.uuid), content='{"kind": "phone"}', headers=BEACON
                )
            assert click.status_code == 204
        async with _visitor(app, "2001:db8:1234:5679::1") as client:
            await client.get(_page(app, company), headers=BROWSER)
        counts = await flushed(app, conn, company.uuid)
        assert (counts["views"], counts["phone_clicks"]) == (2, 1)

    async def test_a_signed_in_visitor_who_is_not_the_owner_counts(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        await log_in(client, await create_user(conn))
        await client.get(_page(app, company), headers=BROWSER)
        assert (await flushed(app, conn, company.uuid))["views"] == 1

    async def test_the_owner_viewing_their_own_page_does_not_count(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        owner: UserRecord,
    ) -> None:
        await log_in(client, owner)
        response = await client.get(_page(app, company), headers=BROWSER)
        assert response.status_code == 200
        assert (await flushed(app, conn, company.uuid))["views"] == 0

    async def test_bots_and_head_requests_do_not_count(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        for agent in ("Googlebot/2.1", "curl/8.5.0", ""):
            response = await client.get(_page(app, company), headers={"User-Agent": agent})
            assert response.status_code == 200
        head = await client.head(_page(app, company), headers=BROWSER)
        assert head.status_code == 200
        assert (await flushed(app, conn, company.uuid))["views"] == 0

    async def test_redirects_missing_pages_and_the_api_read_do_not_count(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        missing = await client.get(
            app.url_path_for("site:company_es", slug="no-existe"), headers=BROWSER
        )
        assert missing.status_code == 404
        old = await client.get(
            app.url_path_for("site:company_by_id"), params={"id": str(company.uuid)},
            headers=BROWSER,
        )  # fmt: skip
        assert old.status_code == 301
        api = await client.get(
            app.url_path_for("companies:get", company_uuid=str(company.uuid)), headers=BROWSER
        )
        assert api.status_code == 200
        assert (await flushed(app, conn, company.uuid))["views"] == 0


class TestImpressions:
    async def test_every_company_on_every_page_of_results_counts_cached_or_not(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        other = await create_company(
            conn, (await create_user(conn)).id, name="Zorzal Costero SpA", product_name="Gasfitería"
        )
        path = app.url_path_for("companies:search")
        first = await client.get(path, params={"q": "zorzal", "limit": 1}, headers=BROWSER)
        assert first.headers["X-Total-Count"] == "2"
        [shown] = first.json()
        again = await client.get(path, params={"q": "zorzal", "limit": 1}, headers=BROWSER)
        assert again.json() == first.json()  # from the result cache: still an impression
        second = await client.get(
            path, params={"q": "zorzal", "limit": 1, "offset": 1}, headers=BROWSER
        )
        [next_one] = second.json()
        assert {shown["uuid"], next_one["uuid"]} == {str(company.uuid), str(other.uuid)}
        counts = {
            str(c.uuid): (await flushed(app, conn, c.uuid))["impressions"] for c in (company, other)
        }
        # One client: each company once (the repeated page too), cached or not.
        assert counts == {shown["uuid"]: 1, next_one["uuid"]: 1}
        async with _visitor(app, "198.51.100.20") as another:
            await another.get(path, params={"q": "zorzal", "limit": 1}, headers=BROWSER)
        assert (await flushed(app, conn, UUID(shown["uuid"])))["impressions"] == 2

    async def test_a_bots_search_does_not_count(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        path = app.url_path_for("companies:search")
        response = await client.get(path, params={"q": "zorzal"}, headers={"User-Agent": "bingbot"})
        assert response.headers["X-Total-Count"] == "1"
        assert (await flushed(app, conn, company.uuid))["impressions"] == 0

    async def test_a_landing_page_counts_the_companies_it_lists(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        path = app.url_path_for("site:category_es", category="gasfiteria")
        response = await client.get(path, headers=BROWSER)
        assert response.status_code == 200
        assert "Zorzal Andino" in response.text
        await client.get(path, headers={"User-Agent": "Googlebot/2.1"})
        assert (await flushed(app, conn, company.uuid))["impressions"] == 1

    async def test_nothing_is_counted_when_insights_are_off(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        app.state.insights_recorder = None
        page = await client.get(_page(app, company), headers=BROWSER)
        assert page.status_code == 200
        found = await client.get(
            app.url_path_for("companies:search"), params={"q": "zorzal"}, headers=BROWSER
        )
        assert found.status_code == 200
        click = await client.post(_clicks(app, company.uuid), json={"kind": "phone"})
        assert click.status_code == 204
        count = await conn.fetchval("SELECT count(*) FROM proveo.company_daily_stat")
        assert count == 0


BEACON = {**BROWSER, "Content-Type": "text/plain;charset=UTF-8"}


class TestContactClicks:
    async def test_a_beacon_with_a_text_body_counts_by_kind(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        for kind in ("phone", "whatsapp", "whatsapp", "email", "website"):
            response = await client.post(
                _clicks(app, company.uuid), content=json.dumps({"kind": kind}), headers=BEACON
            )
            assert response.status_code == 204, response.text
            assert response.content == b""
        json_body = await client.post(
            _clicks(app, company.uuid), json={"kind": "email"}, headers=BROWSER
        )
        assert json_body.status_code == 204
        counts = await flushed(app, conn, company.uuid)
        # One client: each kind once (the second WhatsApp and email clicks are the same contact).
        assert counts == {
            "views": 0, "impressions": 0, "phone_clicks": 1, "whatsapp_clicks": 1,
            "email_clicks": 1, "website_clicks": 1,
        }  # fmt: skip

    async def test_works_signed_in_without_a_csrf_token(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        await log_in(client, await create_user(conn))
        response = await client.post(
            _clicks(app, company.uuid), content='{"kind":"phone"}', headers=BEACON
        )
        assert response.status_code == 204, response.text
        assert (await flushed(app, conn, company.uuid))["phone_clicks"] == 1

    async def test_other_writes_still_need_the_csrf_token(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, owner: UserRecord
    ) -> None:
        await create_company(conn, owner.id)
        signed_in = await log_in(client, owner)
        order = app.url_path_for("companies:order_photos")
        refused = await client.put(order, json={"photos": []})
        assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
        logout = await client.post(app.url_path_for("users:logout"), headers=BEACON)
        assert (logout.status_code, logout.json()["code"]) == (403, "csrf_failed")
        # A path that only looks like the beacon's is not exempt.
        lookalike = await client.post(
            f"/api/v1/companies/{uuid4()}/contact-clicks/x", content='{"kind":"phone"}',
            headers=BEACON,
        )  # fmt: skip
        assert lookalike.status_code == 403
        accepted = await client.put(order, json={"photos": []}, headers=signed_in.headers)
        assert accepted.status_code == 200

    async def test_a_cross_origin_click_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        response = await client.post(
            _clicks(app, company.uuid), content='{"kind":"phone"}',
            headers={**BEACON, "Origin": "https://evil.example"},
        )  # fmt: skip
        assert (response.status_code, response.json()["code"]) == (403, "cross_origin_refused")
        assert (await flushed(app, conn, company.uuid))["phone_clicks"] == 0

    async def test_the_owner_and_bots_are_answered_but_not_counted(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        owner: UserRecord,
    ) -> None:
        bot = await client.post(
            _clicks(app, company.uuid), content='{"kind":"phone"}',
            headers={**BEACON, "User-Agent": "Googlebot/2.1"},
        )  # fmt: skip
        assert bot.status_code == 204
        await log_in(client, owner)
        mine = await client.post(
            _clicks(app, company.uuid), content='{"kind":"phone"}', headers=BEACON
        )
        assert mine.status_code == 204
        assert (await flushed(app, conn, company.uuid))["phone_clicks"] == 0

    async def test_an_unknown_or_deleted_company_is_a_404(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        unknown = await client.post(
            _clicks(app, uuid4()), content='{"kind":"phone"}', headers=BEACON
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "company_not_found")
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE uuid = $1", company.uuid
        )
        gone = await client.post(
            _clicks(app, company.uuid), content='{"kind":"phone"}', headers=BEACON
        )
        assert (gone.status_code, gone.json()["code"]) == (404, "company_not_found")

    @pytest.mark.parametrize(
        "body",
        [
            '{"kind":"fax"}',
            '{"kind":"phone","extra":1}',
            "{}",
            '["phone"]',
            '"phone"',
            "kind=phone",
            "",
            '{"kind":',
            "\xff",
            '{"kind":"phone"}' + " " * 300,
        ],
    )
    async def test_a_bad_body_is_a_422(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        conn: Connection,
        company: CompanyRecord,
        body: str,
    ) -> None:
        response = await client.post(
            _clicks(app, company.uuid), content=body.encode("latin-1"), headers=BEACON
        )
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
        assert (await flushed(app, conn, company.uuid))["phone_clicks"] == 0

    async def test_a_bad_uuid_is_a_422(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/companies/not-a-uuid/contact-clicks", content='{"kind":"phone"}',
            headers=BEACON,
        )  # fmt: skip
        assert response.status_code == 422

    async def test_thirty_clicks_a_minute_per_address(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, company: CompanyRecord
    ) -> None:
        for _ in range(30):
            response = await client.post(
                _clicks(app, company.uuid), content='{"kind":"website"}', headers=BEACON
            )
            assert response.status_code == 204
        refused = await client.post(
            _clicks(app, company.uuid), content='{"kind":"website"}', headers=BEACON
        )
        assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await flushed(app, conn, company.uuid))["website_clicks"] == 1  # one client
        assert recorder(app).pending == 0
