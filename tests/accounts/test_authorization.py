"""Who may call what: anonymous / user / other user / admin × every protected endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts import repository as accounts_repository
from proveo.accounts.schemas import Role, UserRecord
from proveo.core.db import Connection
from proveo.core.security import new_url_token, token_digest
from proveo.integrations.storage import held_object_names, new_image_key
from tests.companies.support import form, jpeg
from tests.factories import DEFAULT_PASSWORD, LoggedIn, create_company, create_user, log_in


@dataclass
class World:
    owner: UserRecord
    other: UserRecord
    admin: UserRecord
    owner_reset_token: str
    owner_company: UUID
    held_image: UUID


@pytest.fixture
async def world(conn: Connection, app: FastAPI) -> World:
    owner = await create_user(conn)
    token = new_url_token()
    await accounts_repository.insert_password_reset_token(
        conn, owner.id, token_digest(token), datetime.now(UTC) + timedelta(hours=1)
    )
    # A second admin, so that the admin may delete their own account (never the last one).
    await create_user(conn, role=Role.ADMIN)
    company = await create_company(conn, owner.id)
    held_key = new_image_key()
    held = await conn.fetchval(
        "INSERT INTO proveo.image_moderation (company_id, image_key, nsfw_score) "
        "VALUES ($1, $2, 0.5) RETURNING uuid",
        company.id,
        held_key,
    )
    for name in held_object_names(held_key):
        await app.state.storage.put(name, b"webp", "image/webp")
    return World(
        owner=owner,
        other=await create_user(conn),
        admin=await create_user(conn, role=Role.ADMIN),
        owner_reset_token=token,
        owner_company=company.uuid,
        held_image=held,
    )


Call = Callable[[httpx.AsyncClient, World, LoggedIn | None], Awaitable[httpx.Response]]


def _headers(session: LoggedIn | None) -> dict[str, str]:
    return session.headers if session else {}


ENDPOINTS: dict[str, Call] = {
    "GET /users/me": lambda c, w, s: c.get("/api/v1/users/me"),
    "DELETE /users/me": lambda c, w, s: c.delete("/api/v1/users/me", headers=_headers(s)),
    "POST /users/me/password": lambda c, w, s: c.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "Otra-Clave-2024"},
        headers=_headers(s),
    ),
    "POST /users/password-reset/request": lambda c, w, s: c.post(
        "/api/v1/users/password-reset/request",
        json={"email": w.owner.email},
        headers=_headers(s),
    ),
    "POST /users/password-reset/confirm": lambda c, w, s: c.post(
        "/api/v1/users/password-reset/confirm",
        json={"token": w.owner_reset_token, "password": "Otra-Clave-2024"},
        headers=_headers(s),
    ),
    "GET /users/admin/all-users": lambda c, w, s: c.get("/api/v1/users/admin/all-users"),
    "DELETE /users/admin/users/{owner}": lambda c, w, s: c.delete(
        f"/api/v1/users/admin/users/{w.owner.uuid}", headers=_headers(s)
    ),
    "GET /admin/audit-log": lambda c, w, s: c.get("/api/v1/admin/audit-log"),
    "GET /admin/search-stats": lambda c, w, s: c.get("/api/v1/admin/search-stats"),
    "GET /health/database/details": lambda c, w, s: c.get("/api/v1/health/database/details"),
    "POST /products/": lambda c, w, s: c.post(
        "/api/v1/products/",
        json={"name_es": f"Rubro {uuid4()}", "name_en": f"Category {uuid4()}"},
        headers=_headers(s),
    ),
    "POST /communes/": lambda c, w, s: c.post(
        "/api/v1/communes/",
        json={"name": f"Comuna {uuid4()}", "region": "Maule"},
        headers=_headers(s),
    ),
    "POST /companies": lambda c, w, s: c.post(
        "/api/v1/companies",
        data=form(),
        files={"image": ("logo.jpg", jpeg(), "image/jpeg")},
        headers=_headers(s),
    ),
    "GET /companies/{owner}": lambda c, w, s: c.get(f"/api/v1/companies/{w.owner_company}"),
    "GET /companies/user/my-company": lambda c, w, s: c.get("/api/v1/companies/user/my-company"),
    "PATCH /companies/user/my-company": lambda c, w, s: c.patch(
        "/api/v1/companies/user/my-company", data={"name": "Cambiado"}, headers=_headers(s)
    ),
    "DELETE /companies/user/my-company": lambda c, w, s: c.delete(
        "/api/v1/companies/user/my-company", headers=_headers(s)
    ),
    "GET /companies/admin/all-companies": lambda c, w, s: c.get(
        "/api/v1/companies/admin/all-companies"
    ),
    "PATCH /companies/admin/companies/{owner}": lambda c, w, s: c.patch(
        f"/api/v1/companies/admin/companies/{w.owner_company}",
        data={"name": "Cambiado"},
        headers=_headers(s),
    ),
    "DELETE /companies/admin/companies/{owner}": lambda c, w, s: c.delete(
        f"/api/v1/companies/admin/companies/{w.owner_company}", headers=_headers(s)
    ),
    "GET /admin/moderation": lambda c, w, s: c.get("/api/v1/admin/moderation"),
    "GET /admin/moderation/{held}/image": lambda c, w, s: c.get(
        f"/api/v1/admin/moderation/{w.held_image}/image"
    ),
    "GET /admin/moderation/{held}/thumbnail": lambda c, w, s: c.get(
        f"/api/v1/admin/moderation/{w.held_image}/thumbnail"
    ),
    "POST /admin/moderation/{held}/approve": lambda c, w, s: c.post(
        f"/api/v1/admin/moderation/{w.held_image}/approve", headers=_headers(s)
    ),
    "POST /admin/moderation/{held}/reject": lambda c, w, s: c.post(
        f"/api/v1/admin/moderation/{w.held_image}/reject", headers=_headers(s)
    ),
}

ADMIN_ONLY = {"anonymous": 401, "owner": 403, "other": 403, "admin": 200}
# Owner-only: anyone else simply has no company of their own there (no IDOR: 404, never theirs).
OWN_COMPANY = {"anonymous": 401, "owner": 200, "other": 404, "admin": 404}

# Expected status per (endpoint, caller). "other" is a logged-in user who is not the owner.
EXPECTED: dict[str, dict[str, int]] = {
    "GET /users/me": {"anonymous": 401, "owner": 200, "other": 200, "admin": 200},
    "DELETE /users/me": {"anonymous": 401, "owner": 200, "other": 200, "admin": 200},
    "POST /users/me/password": {"anonymous": 401, "owner": 200, "other": 200, "admin": 200},
    # Public: the link, not a session, is the credential.
    "POST /users/password-reset/request": {
        "anonymous": 200,
        "owner": 200,
        "other": 200,
        "admin": 200,
    },
    "POST /users/password-reset/confirm": {
        "anonymous": 200,
        "owner": 200,
        "other": 200,
        "admin": 200,
    },
    "GET /users/admin/all-users": {"anonymous": 401, "owner": 403, "other": 403, "admin": 200},
    "DELETE /users/admin/users/{owner}": {
        "anonymous": 401,
        "owner": 403,
        "other": 403,
        "admin": 200,
    },
    "GET /admin/audit-log": {"anonymous": 401, "owner": 403, "other": 403, "admin": 200},
    "GET /admin/search-stats": ADMIN_ONLY,
    "GET /health/database/details": {"anonymous": 401, "owner": 403, "other": 403, "admin": 200},
    "POST /products/": {"anonymous": 401, "owner": 403, "other": 403, "admin": 201},
    "POST /communes/": {"anonymous": 401, "owner": 403, "other": 403, "admin": 201},
    # The owner already has one (409); the others publish theirs.
    "POST /companies": {"anonymous": 401, "owner": 409, "other": 201, "admin": 201},
    "GET /companies/{owner}": {"anonymous": 200, "owner": 200, "other": 200, "admin": 200},
    "GET /companies/user/my-company": OWN_COMPANY,
    "PATCH /companies/user/my-company": OWN_COMPANY,
    "DELETE /companies/user/my-company": OWN_COMPANY,
    "GET /companies/admin/all-companies": ADMIN_ONLY,
    "PATCH /companies/admin/companies/{owner}": ADMIN_ONLY,
    "DELETE /companies/admin/companies/{owner}": ADMIN_ONLY,
    "GET /admin/moderation": ADMIN_ONLY,
    "GET /admin/moderation/{held}/image": ADMIN_ONLY,
    "GET /admin/moderation/{held}/thumbnail": ADMIN_ONLY,
    "POST /admin/moderation/{held}/approve": ADMIN_ONLY,
    "POST /admin/moderation/{held}/reject": ADMIN_ONLY,
}


@pytest.mark.parametrize("caller", ["anonymous", "owner", "other", "admin"])
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
async def test_authorization_matrix(
    client: httpx.AsyncClient, world: World, endpoint: str, caller: str
) -> None:
    session = None if caller == "anonymous" else await log_in(client, getattr(world, caller))
    response = await ENDPOINTS[endpoint](client, world, session)
    expected = EXPECTED[endpoint][caller]
    assert response.status_code == expected, response.text
    if expected in (401, 403):
        assert response.json()["code"] in {"not_authenticated", "admin_required"}
