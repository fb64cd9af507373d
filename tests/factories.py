"""Plain async factories for test data (STYLE: `create_x(conn, **overrides)`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

from proveo.accounts import repository as accounts_repository
from proveo.accounts.schemas import Role, UserRecord
from proveo.companies import service as companies_service
from proveo.companies.schemas import CompanyCreate, CompanyRecord
from proveo.core.db import Connection
from proveo.core.security import hash_password_sync
from proveo.integrations.storage import ImageStorage, new_image_key

DEFAULT_PASSWORD = "Sup3r-secret"
_FAST_ROUNDS = 4
_counter = itertools.count(1)


async def create_user(
    conn: Connection,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: Role = Role.USER,
    verified: bool = True,
    name: str = "Test User",
    lang: str = "es",
) -> UserRecord:
    return await accounts_repository.insert_user(
        conn,
        name=name,
        email=email or f"user{next(_counter)}@proveo.cl",
        password_hash=hash_password_sync(password, _FAST_ROUNDS),
        role=role,
        email_verified=verified,
        lang=lang,
    )


COMPANY_FIELDS: dict[str, object] = {
    "name": "Servicios Ñandú",
    "product_name": "Construcción",
    "commune_name": "Santiago",
    "address": "Calle 1",
    "phone": "+56982314576",
    "email": "contacto@nandu.cl",
    "description_es": "Hola",
    "description_en": "Hello",
    "lang": "es",
}


async def create_company(
    conn: Connection,
    owner_id: int,
    *,
    storage: ImageStorage | None = None,
    **overrides: object,
) -> CompanyRecord:
    """A company through the service's own write path. With `storage`, it gets a logo (two
    small placeholder objects: what reads and deletions need, not a real image)."""
    data = CompanyCreate.model_validate(COMPANY_FIELDS | overrides)
    descriptions, _ = companies_service.new_descriptions(
        data.description_es, data.description_en, data.lang
    )
    image = None
    if storage is not None:
        image = companies_service.StoredImage(key=new_image_key(), nsfw_score=0.0, held=False)
        for name in image.object_names:
            await storage.put(name, b"webp", "image/webp")
    return await companies_service.publish_company_in(conn, owner_id, data, descriptions, image)


@dataclass
class LoggedIn:
    user: UserRecord
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf_token}


async def log_in(
    client: httpx.AsyncClient, user: UserRecord, password: str = DEFAULT_PASSWORD
) -> LoggedIn:
    response = await client.post(
        "/api/v1/users/login", json={"email": user.email, "password": password}
    )
    assert response.status_code == 200, response.text
    return LoggedIn(user=user, csrf_token=response.json()["csrf_token"])


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    if not outbox.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


def verification_link(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if "/users/verify-email/" in line:
            return line.strip()
    raise AssertionError("no verification link in the email")


def password_reset_token(message: EmailMessage) -> str:
    """The token of a reset email's link (`.../reset-password/#token=...`)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if "/reset-password/#token=" in line:
            return line.strip().split("#token=", 1)[1]
    raise AssertionError("no password reset link in the email")


_BOOKKEEPING = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


class QueryCounter:
    """Counts the statements a connection runs (asyncpg's query logger), for N+1 guards."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queries: list[str] = []

    def _record(self, record: object) -> None:
        self.queries.append(str(getattr(record, "query", "")))

    def __enter__(self) -> QueryCounter:
        self.conn.add_query_logger(self._record)
        return self

    def __exit__(self, *_: object) -> None:
        self.conn.remove_query_logger(self._record)

    @property
    def statements(self) -> list[str]:
        """Without transaction bookkeeping (BEGIN, SAVEPOINT, RELEASE...)."""
        return [q for q in self.queries if not q.lstrip().upper().startswith(_BOOKKEEPING)]
