"""What the quote request tests share: the request body, providers, and the email round trip."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from proveo.accounts.schemas import UserRecord
from proveo.companies.schemas import CompanyRecord
from proveo.core.db import Connection
from tests.factories import LoggedIn, create_company, create_user, log_in, outbox_messages

QUOTES_URL = "/api/v1/quote-requests"
CONFIRM_URL = f"{QUOTES_URL}/confirm"
INBOX_URL = "/api/v1/companies/user/my-company/quote-requests"
ADMIN_URL = "/api/v1/admin/quote-requests"

_names = itertools.count(1)


async def product_uuid(conn: Connection, name_es: str = "Construcción") -> UUID:
    found: UUID = await conn.fetchval("SELECT uuid FROM proveo.product WHERE name_es = $1", name_es)
    assert found is not None, name_es
    return found


async def commune_uuid(conn: Connection, name: str) -> UUID:
    found: UUID = await conn.fetchval("SELECT uuid FROM proveo.commune WHERE name = $1", name)
    assert found is not None, name
    return found


def body(product: UUID, **overrides: Any) -> dict[str, Any]:
    """A valid request for `product` (all of Chile), with `overrides`; None drops a field."""
    fields: dict[str, Any] = {
        "product_uuid": str(product),
        "title": "Remodelación de oficina",
        "description": "Necesitamos remodelar 200 m² de oficinas en dos pisos.",
        "contact_name": "Ana Compradora",
        "contact_email": "ana@compras.cl",
        "lang": "es",
        **overrides,
    }
    return {key: value for key, value in fields.items() if value is not None}


async def provider(
    conn: Connection,
    *,
    commune: str = "Santiago",
    product: str = "Construcción",
    lang: str = "es",
    **fields: Any,
) -> tuple[UserRecord, CompanyRecord]:
    """A verified owner and its live company."""
    n = next(_names)
    user = await create_user(conn, email=f"owner{n}@proveedores.cl", lang=lang)
    company = await create_company(
        conn,
        user.id,
        name=f"Proveedor {n}",
        commune_name=commune,
        product_name=product,
        email=f"ventas{n}@proveedores.cl",
        **fields,
    )
    return user, company


def messages_to(outbox: Path, address: str) -> list[EmailMessage]:
    return [m for m in outbox_messages(outbox) if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def link_in(message: EmailMessage, marker: str) -> str:
    for line in text_of(message).splitlines():
        if marker in line:
            return line.strip()
    raise AssertionError(f"no {marker} link in the email")


def confirm_token(outbox: Path, address: str = "ana@compras.cl") -> str:
    last = messages_to(outbox, address)[-1]
    return link_in(last, "/quote-requests/confirm/#token=").split("#token=", 1)[1]


async def submit_and_confirm(
    client: httpx.AsyncClient, outbox: Path, request: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(QUOTES_URL, json=request)
    assert response.status_code == 202, response.text
    token = confirm_token(outbox, request["contact_email"])
    confirmed = await client.post(CONFIRM_URL, json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    answer: dict[str, Any] = confirmed.json()
    return answer


async def switch_to(client: httpx.AsyncClient, user: UserRecord) -> LoggedIn:
    """Log out whoever this browser is signed in as (forget its cookies), log `user` in."""
    client.cookies.clear()
    return await log_in(client, user)
