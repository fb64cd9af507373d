"""The provider's inbox (only what was sent to its own company) and the buyer's private page."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from proveo.config import Settings
from proveo.core.db import Connection
from tests.factories import LoggedIn, create_user, log_in
from tests.quotes.support import (
    INBOX_URL,
    QUOTES_URL,
    body,
    commune_uuid,
    link_in,
    messages_to,
    product_uuid,
    provider,
    submit_and_confirm,
    text_of,
)


async def _sent(
    client: httpx.AsyncClient, conn: Connection, settings: Settings, **overrides: Any
) -> dict[str, Any]:
    return await submit_and_confirm(
        client, settings.outbox_dir, body(await product_uuid(conn), **overrides)
    )


def _page_url(answer: dict[str, Any]) -> str:
    return f"{QUOTES_URL}/{answer['uuid']}"


async def _buyer_page(client: httpx.AsyncClient, answer: dict[str, Any]) -> httpx.Response:
    return await client.get(_page_url(answer), params={"token": answer["page_token"]})


class TestInbox:
    async def test_lists_what_was_sent_to_my_company_newest_first(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        first = await _sent(client, conn, settings, title="Primera")
        second = await _sent(
            client, conn, settings, title="Segunda", contact_phone="+56 2 2345 6789",
            contact_company="Compras SpA", region="Metropolitana", budget_band="1m-5m",
        )  # fmt: skip
        session = await log_in(client, owner)

        response = await client.get(INBOX_URL)

        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 2
        assert page["page"] == 1
        assert page["pages"] == 1
        assert [item["uuid"] for item in page["items"]] == [second["uuid"], first["uuid"]]
        item = page["items"][0]
        assert item["title"] == "Segunda"
        assert item["status"] == "new"
        assert item["request_status"] == "open"
        assert item["product"]["name"] == "Construcción"
        assert item["place"] == {"kind": "region", "name": "Metropolitana de Santiago"}
        assert item["budget_band"] == "1m-5m"
        assert item["reply"] is None
        assert item["contact"] == {
            "name": "Ana Compradora",
            "email": "ana@compras.cl",
            "phone": "+56223456789",
            "company": "Compras SpA",
        }
        assert session.headers  # logged in

    async def test_status_filter_and_paging(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn)
        answer = await _sent(client, conn, settings)
        await log_in(client, owner)
        await client.get(f"{INBOX_URL}/{answer['uuid']}")
        assert (await client.get(INBOX_URL, params={"status": "new"})).json()["total"] == 0
        assert (await client.get(INBOX_URL, params={"status": "read"})).json()["total"] == 1
        assert (await client.get(INBOX_URL, params={"page": 2})).json()["items"] == []
        for bad in ({"status": "lost"}, {"page": 0}):
            assert (await client.get(INBOX_URL, params=bad)).status_code == 422

    async def test_opening_a_new_request_marks_it_read(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        owner, _ = await provider(conn, lang="en")
        answer = await _sent(
            client, conn, settings, commune_uuid=str(await commune_uuid(conn, "Santiago"))
        )
        await log_in(client, owner)
        response = await client.get(f"{INBOX_URL}/{answer['uuid']}")
        assert response.status_code == 200
        assert response.json()["status"] == "read"
        assert response.json()["product"]["name"] == "Construction"  # the owner's language
        assert response.json()["place"] == {"kind": "commune", "name": "Santiago"}

    async def test_another_companys_request_is_a_404(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        await provider(conn)
        answer = await _sent(client, conn, settings)
        stranger, _ = await provider(conn, product="Gasfitería")
        session = await log_in(client, stranger)
        for method, path in (
            ("GET", f"{INBOX_URL}/{answer['uuid']}"),
            ("POST", f"{INBOX_URL}/{answer['uuid']}/reply"),
            ("POST", f"{INBOX_URL}/{answer['uuid']}/decline"),
            ("GET", f"{INBOX_URL}/{uuid4()}"),
        ):
            json = {"message": "Hola"} if path.endswith("reply") else None
            response = await client.request(method, path, json=json, headers=session.headers)
            assert response.status_code == 404, (method, path)
            assert response.json()["code"] == "quote_request_not_found"
        assert (await client.get(INBOX_URL)).json()["total"] == 0

    async def test_no_company_is_a_404_and_no_session_a_401(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        assert (await client.get(INBOX_URL)).status_code == 401
        await log_in(client, await create_user(conn))
        response = await client.get(INBOX_URL)
        assert response.status_code == 404
        assert response.json()["code"] == "company_not_found"


async def _provider_with_request(
    client: httpx.AsyncClient, conn: Connection, settings: Settings, **overrides: Any
) -> tuple[LoggedIn, dict[str, Any], str]:
    owner, company = await provider(conn, website="https://nandu.example")
    answer = await _sent(client, conn, settings, **overrides)
    return await log_in(client, owner), answer, company.slug


class TestReplyAndDecline:
    async def test_a_reply_reaches_the_buyer_with_the_profile_and_contact(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, slug = await _provider_with_request(client, conn, settings, lang="en")
        response = await client.post(
            f"{INBOX_URL}/{answer['uuid']}/reply",
            json={"message": "  Podemos hacerlo en 3 semanas.\r\nSaludos  "},
            headers=session.headers,
        )

        assert response.status_code == 200, response.text
        item = response.json()
        assert item["status"] == "replied"
        assert item["reply"] == "Podemos hacerlo en 3 semanas.\nSaludos"
        assert item["replied_at"] is not None
        email = messages_to(settings.outbox_dir, "ana@compras.cl")[-1]
        assert "answered your request" in email["Subject"]
        text = text_of(email)
        assert "Podemos hacerlo en 3 semanas." in text
        assert "ventas" in text  # the company's email
        assert "+56 9 8231 4576" in text  # as the pages write it (found by the newcomer)
        assert "https://nandu.example" in text
        assert link_in(email, "/companies/") == f"{settings.public_base_url}/en/companies/{slug}"

    async def test_a_spanish_request_links_the_spanish_profile(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, slug = await _provider_with_request(client, conn, settings)
        await client.post(
            f"{INBOX_URL}/{answer['uuid']}/reply", json={"message": "Sí"}, headers=session.headers
        )
        email = messages_to(settings.outbox_dir, "ana@compras.cl")[-1]
        assert link_in(email, "/empresas/") == f"{settings.public_base_url}/empresas/{slug}"

    async def test_one_answer_per_provider(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, _ = await _provider_with_request(client, conn, settings)
        url = f"{INBOX_URL}/{answer['uuid']}"
        assert (
            await client.post(f"{url}/reply", json={"message": "Sí"}, headers=session.headers)
        ).status_code == 200
        for path, json in (("reply", {"message": "Otra vez"}), ("decline", None)):
            again = await client.post(f"{url}/{path}", json=json, headers=session.headers)
            assert again.status_code == 409
            assert again.json()["code"] == "already_answered"

    async def test_declining(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, _ = await _provider_with_request(client, conn, settings)
        before = len(messages_to(settings.outbox_dir, "ana@compras.cl"))
        url = f"{INBOX_URL}/{answer['uuid']}"
        response = await client.post(f"{url}/decline", headers=session.headers)
        assert response.status_code == 200
        assert response.json()["status"] == "declined"
        assert len(messages_to(settings.outbox_dir, "ana@compras.cl")) == before
        reply = await client.post(f"{url}/reply", json={"message": "Sí"}, headers=session.headers)
        assert reply.json()["code"] == "already_answered"
        page = (await _buyer_page(client, answer)).json()
        assert page["declined"] == 1
        assert page["replies"] == []

    @pytest.mark.parametrize(
        "change",
        [
            "status = 'closed', closed_at = now()",
            "expires_at = now() - interval '1 minute'",  # before the job has run
            "status = 'expired', expires_at = now() - interval '1 day'",
        ],
    )
    async def test_a_closed_or_expired_request_takes_no_answer(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings, change: str
    ) -> None:
        session, answer, _ = await _provider_with_request(client, conn, settings)
        await conn.execute(f"UPDATE proveo.quote_request SET {change}")  # noqa: S608
        url = f"{INBOX_URL}/{answer['uuid']}"
        for path, json in (("reply", {"message": "Sí"}), ("decline", None)):
            response = await client.post(f"{url}/{path}", json=json, headers=session.headers)
            assert response.status_code == 409
            assert response.json()["code"] == "request_closed"
        item = (await client.get(url)).json()
        assert item["request_status"] in ("closed", "expired")

    @pytest.mark.parametrize(
        "message", ["", "   ", "x" * 2001, "a https://a.example b www.b.example c http://c.example"]
    )
    async def test_bad_replies_are_422_and_change_nothing(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings, message: str
    ) -> None:
        session, answer, _ = await _provider_with_request(client, conn, settings)
        url = f"{INBOX_URL}/{answer['uuid']}"
        response = await client.post(
            f"{url}/reply", json={"message": message}, headers=session.headers
        )
        assert response.status_code == 422
        assert (await client.get(url)).json()["status"] == "read"

    async def test_writes_need_the_csrf_token(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, answer, _ = await _provider_with_request(client, conn, settings)
        response = await client.post(f"{INBOX_URL}/{answer['uuid']}/decline")
        assert response.status_code == 403

    async def test_a_removed_request_leaves_the_inbox(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, _ = await _provider_with_request(client, conn, settings)
        await conn.execute("UPDATE proveo.quote_request SET status = 'removed', removed_at = now()")
        assert (await client.get(INBOX_URL)).json()["total"] == 0
        response = await client.post(
            f"{INBOX_URL}/{answer['uuid']}/reply", json={"message": "Sí"}, headers=session.headers
        )
        assert response.status_code == 404

    async def test_an_erased_contact_is_null(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        _, answer, _ = await _provider_with_request(client, conn, settings)
        await conn.execute(
            "UPDATE proveo.quote_request SET contact_name = NULL, contact_email = NULL, "
            "contact_phone = NULL, contact_company = NULL, contact_erased_at = now(), "
            "status = 'expired'"
        )
        item = (await client.get(f"{INBOX_URL}/{answer['uuid']}")).json()
        assert item["contact"] is None


class TestBuyerPage:
    async def test_shows_the_request_and_its_replies(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        session, answer, slug = await _provider_with_request(client, conn, settings)
        await provider(conn)  # a second recipient, who does not answer
        await client.post(
            f"{INBOX_URL}/{answer['uuid']}/reply", json={"message": "Sí"}, headers=session.headers
        )

        response = await _buyer_page(client, answer)

        assert response.status_code == 200
        page = response.json()
        assert page["uuid"] == answer["uuid"]
        assert page["status"] == "open"
        assert page["title"] == "Remodelación de oficina"
        assert page["place"] == {"kind": "chile", "name": "Todo Chile"}
        assert page["product"]["uuid"] == str(await product_uuid(conn))
        assert page["notified"] == 1
        assert page["declined"] == 0
        [reply] = page["replies"]
        assert reply["message"] == "Sí"
        assert reply["company"]["slug"] == slug
        assert reply["company"]["website"] == "https://nandu.example"
        assert set(reply["company"]) == {"uuid", "name", "slug", "phone", "email", "website"}

    async def test_a_wrong_token_and_an_unknown_request_answer_alike(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        answer = await _sent(client, conn, settings)
        wrong = await client.get(_page_url(answer), params={"token": "not-the-token"})
        unknown = await client.get(
            f"{QUOTES_URL}/{uuid4()}", params={"token": answer["page_token"]}
        )
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json() == unknown.json()
        assert (await client.get(_page_url(answer))).status_code == 422  # no token

    async def test_the_token_may_travel_in_a_header_instead(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        answer = await _sent(client, conn, settings)
        good = await client.get(_page_url(answer), headers={"X-Page-Token": answer["page_token"]})
        assert good.status_code == 200
        assert good.json()["uuid"] == answer["uuid"]
        wrong = await client.get(_page_url(answer), headers={"X-Page-Token": "wrong"})
        assert wrong.status_code == 404

    async def test_a_pending_request_has_no_page(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await client.post(QUOTES_URL, json=body(await product_uuid(conn)))
        pending: UUID = await conn.fetchval("SELECT uuid FROM proveo.quote_request")
        response = await client.get(f"{QUOTES_URL}/{pending}", params={"token": "x"})
        assert response.status_code == 404

    async def test_closing(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        answer = await _sent(client, conn, settings)
        url = f"{_page_url(answer)}/close"
        closed = await client.post(url, json={"token": answer["page_token"]})
        assert closed.status_code == 200
        assert closed.json()["status"] == "closed"
        assert await conn.fetchval("SELECT closed_at IS NOT NULL FROM proveo.quote_request")
        again = await client.post(url, json={"token": answer["page_token"]})
        assert again.status_code == 200
        assert again.json()["status"] == "closed"
        assert (await client.post(url, json={"token": "wrong"})).status_code == 404

    async def test_an_expired_request_cannot_be_closed(
        self, client: httpx.AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        answer = await _sent(client, conn, settings)
        await conn.execute("UPDATE proveo.quote_request SET expires_at = now()")
        assert (await _buyer_page(client, answer)).json()["status"] == "expired"
        response = await client.post(
            f"{_page_url(answer)}/close", json={"token": answer["page_token"]}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "request_closed"
