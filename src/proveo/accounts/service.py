"""Account rules."""

from __future__ import annotations

from proveo.accounts import repository
from proveo.accounts.schemas import Role, UserRecord
from proveo.core.db import Connection
from proveo.core.security import hash_password


async def find_live_user_by_email(conn: Connection, email: str) -> UserRecord | None:
    return await repository.select_live_user_by_email(conn, email)


async def create_account_with_hash(
    conn: Connection, *, name: str, email: str, password_hash: str, role: Role, lang: str = "es"
) -> UserRecord:
    """A verified account from a precomputed hash: demo data, which hashes once for all users."""
    return await repository.insert_user(
        conn,
        name=name,
        email=email,
        password_hash=password_hash,
        role=role,
        email_verified=True,
        lang=lang,
    )


async def ensure_admin(
    conn: Connection, *, name: str, email: str, password: str, bcrypt_rounds: int
) -> tuple[UserRecord, bool]:
    """Create the admin, or promote and re-key an existing live account. Returns (user, created)."""
    existing = await repository.select_live_user_by_email(conn, email)
    password_hash = await hash_password(password, bcrypt_rounds)
    if existing is not None:
        user = await repository.update_user_password_and_role(
            conn, existing.id, password_hash=password_hash, role=Role.ADMIN
        )
        return user, False
    user = await repository.insert_user(
        conn,
        name=name,
        email=email,
        password_hash=password_hash,
        role=Role.ADMIN,
        email_verified=True,
        lang="es",
    )
    return user, True
