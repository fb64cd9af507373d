"""SQL for user accounts. The only module that queries user_account and its token tables."""

from __future__ import annotations

from proveo.accounts.schemas import Role, UserRecord
from proveo.core.db import Connection

_USER_COLUMNS = (
    "id, uuid, name, email, password_hash, role, email_verified, lang, created_at, deleted_at"
)

SELECT_LIVE_USER_BY_EMAIL = f"""
SELECT {_USER_COLUMNS} FROM proveo.user_account
WHERE lower(email) = lower($1) AND deleted_at IS NULL
"""

INSERT_USER = f"""
INSERT INTO proveo.user_account (name, email, password_hash, role, email_verified, lang)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {_USER_COLUMNS}
"""

UPDATE_USER_PASSWORD_AND_ROLE = f"""
UPDATE proveo.user_account SET password_hash = $2, role = $3, email_verified = true
WHERE id = $1
RETURNING {_USER_COLUMNS}
"""


async def select_live_user_by_email(conn: Connection, email: str) -> UserRecord | None:
    row = await conn.fetchrow(SELECT_LIVE_USER_BY_EMAIL, email)
    return UserRecord.model_validate(dict(row)) if row else None


async def insert_user(
    conn: Connection,
    *,
    name: str,
    email: str,
    password_hash: str,
    role: Role,
    email_verified: bool,
    lang: str,
) -> UserRecord:
    row = await conn.fetchrow(
        INSERT_USER, name, email, password_hash, role.value, email_verified, lang
    )
    assert row is not None
    return UserRecord.model_validate(dict(row))


async def update_user_password_and_role(
    conn: Connection, user_id: int, *, password_hash: str, role: Role
) -> UserRecord:
    row = await conn.fetchrow(UPDATE_USER_PASSWORD_AND_ROLE, user_id, password_hash, role.value)
    assert row is not None
    return UserRecord.model_validate(dict(row))
