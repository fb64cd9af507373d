"""SQL for user accounts, their sessions, verification and password reset tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from proveo.accounts.schemas import (
    AdminUserView,
    EmailLookup,
    PasswordResetTokenRecord,
    Role,
    SessionUser,
    UserRecord,
    VerificationTokenRecord,
)
from proveo.core.db import Connection

_USER_COLUMNS = (
    "u.id, u.uuid, u.name, u.email, u.password_hash, u.role, u.email_verified, u.lang, "
    "u.created_at, u.deleted_at"
)

SELECT_LIVE_USER_BY_EMAIL = f"""
SELECT {_USER_COLUMNS} FROM proveo.user_account u
WHERE lower(u.email) = lower($1) AND u.deleted_at IS NULL
"""

# Always one row: the folded address, with the live account's columns or NULLs.
SELECT_LIVE_USER_AND_EMAIL_KEY = f"""
SELECT lower($1::text) AS email_key, {_USER_COLUMNS}
FROM (SELECT 1) AS one
LEFT JOIN proveo.user_account u ON lower(u.email) = lower($1::text) AND u.deleted_at IS NULL
"""

SELECT_ANY_USER_WITH_EMAIL = """
SELECT EXISTS (SELECT 1 FROM proveo.user_account WHERE lower(email) = lower($1))
"""

SELECT_LIVE_EMAILS_AMONG = """
SELECT email FROM proveo.user_account
 WHERE (lower(email) = ANY($1::text[]) OR lower(email) LIKE ANY($2::text[]))
   AND deleted_at IS NULL
 ORDER BY email
 LIMIT 20
"""

SELECT_USER_BY_UUID = f"""
SELECT {_USER_COLUMNS} FROM proveo.user_account u WHERE u.uuid = $1
"""

INSERT_USER = f"""
INSERT INTO proveo.user_account AS u (name, email, password_hash, role, email_verified, lang)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {_USER_COLUMNS}
"""

# A NULL hash keeps the password: promoting a verified user does not re-key their account.
UPDATE_USER_ROLE_AND_PASSWORD = f"""
UPDATE proveo.user_account AS u SET role = $2, password_hash = coalesce($3, u.password_hash)
WHERE u.id = $1
RETURNING {_USER_COLUMNS}
"""

UPDATE_USER_PASSWORD = (
    "UPDATE proveo.user_account SET password_hash = $2 WHERE id = $1 RETURNING uuid"
)

# Only over the hash the caller checked: a concurrent change is never silently overwritten.
UPDATE_USER_PASSWORD_IF_CURRENT = """
UPDATE proveo.user_account SET password_hash = $2
WHERE id = $1 AND password_hash = $3 AND deleted_at IS NULL
RETURNING id
"""

# Locks every live admin row, in id order, and nothing else: every deletion that may remove an
# admin takes these locks first, so concurrent deletions queue here in one global order instead
# of deadlocking later on each other's rows (with a filter beside the lock, PostgreSQL may push
# it into the scan and leave the leaving admin's own row unlocked). FOR NO KEY UPDATE still
# lets foreign-key checks (an audit entry naming an admin) through. A caller that waited
# re-reads rows changed meanwhile, so an admin deleted while it waited is not returned.
LOCK_LIVE_ADMINS = """
SELECT id FROM proveo.user_account
WHERE role = 'admin' AND deleted_at IS NULL
ORDER BY id
FOR NO KEY UPDATE
"""

# Serialises what must not overlap for one account: publishing a company, deleting the account.
SELECT_LIVE_USER_LOCKED = """
SELECT id FROM proveo.user_account WHERE id = $1 AND deleted_at IS NULL FOR UPDATE
"""

UPDATE_USER_LANG = "UPDATE proveo.user_account SET lang = $2 WHERE id = $1"

UPDATE_USER_VERIFIED = "UPDATE proveo.user_account SET email_verified = true WHERE id = $1"

UPDATE_USER_SOFT_DELETED = f"""
UPDATE proveo.user_account AS u SET deleted_at = now()
WHERE u.id = $1 AND u.deleted_at IS NULL
RETURNING {_USER_COLUMNS}
"""

SELECT_USERS_PAGE = """
SELECT u.uuid, u.name, u.email, u.role, u.email_verified, u.lang, u.created_at, u.deleted_at,
       c.uuid AS company_uuid
FROM proveo.user_account u
LEFT JOIN proveo.company c ON c.user_id = u.id AND c.deleted_at IS NULL
ORDER BY u.created_at DESC, u.id DESC
LIMIT $1 OFFSET $2
"""

# Where the front end sends a user after signing in: Publish when they have no company yet.
SELECT_USER_HAS_COMPANY = """
SELECT EXISTS (SELECT 1 FROM proveo.company WHERE user_id = $1 AND deleted_at IS NULL)
"""

COUNT_USERS = "SELECT count(*) FROM proveo.user_account"

INSERT_VERIFICATION_TOKEN = """
INSERT INTO proveo.email_verification_token (user_id, token_hash, expires_at)
VALUES ($1, $2, $3)
"""

# Locks the token row: two clicks on the same link cannot both succeed.
SELECT_VERIFICATION_TOKEN_FOR_UPDATE = """
SELECT t.id, t.user_id, u.uuid AS user_uuid, t.expires_at, t.used_at,
       u.deleted_at AS user_deleted_at, u.lang, u.email_verified AS user_verified
FROM proveo.email_verification_token t
JOIN proveo.user_account u ON u.id = t.user_id
WHERE t.token_hash = $1
FOR UPDATE OF t
"""

UPDATE_USER_TOKENS_USED = """
UPDATE proveo.email_verification_token SET used_at = now()
WHERE user_id = $1 AND used_at IS NULL
"""

INSERT_PASSWORD_RESET_TOKEN = """
INSERT INTO proveo.password_reset_token (user_id, token_hash, expires_at)
VALUES ($1, $2, $3)
"""

_SELECT_PASSWORD_RESET_TOKEN = """
SELECT t.id, t.user_id, u.uuid AS user_uuid, t.expires_at, t.used_at,
       u.deleted_at AS user_deleted_at, u.lang, u.email_verified AS user_verified
FROM proveo.password_reset_token t
JOIN proveo.user_account u ON u.id = t.user_id
WHERE t.token_hash = $1
"""

SELECT_PASSWORD_RESET_TOKEN = _SELECT_PASSWORD_RESET_TOKEN

# Locks the token row: two submissions of the same link cannot both succeed.
SELECT_PASSWORD_RESET_TOKEN_FOR_UPDATE = _SELECT_PASSWORD_RESET_TOKEN + "FOR UPDATE OF t\n"

UPDATE_USER_RESET_TOKENS_USED = """
UPDATE proveo.password_reset_token SET used_at = now()
WHERE user_id = $1 AND used_at IS NULL
"""

INSERT_SESSION = """
INSERT INTO proveo.user_session (user_id, expires_at, ip, user_agent)
VALUES ($1, $2, $3::inet, $4)
RETURNING id
"""

SELECT_SESSION_USER = """
SELECT s.id AS session_id, u.id, u.uuid, u.name, u.email, u.role, u.email_verified, u.lang,
       u.created_at
FROM proveo.user_session s
JOIN proveo.user_account u ON u.id = s.user_id
WHERE s.id = $1 AND u.uuid = $2
  AND s.revoked_at IS NULL AND s.expires_at > now() AND u.deleted_at IS NULL
"""

UPDATE_SESSION_REVOKED = """
UPDATE proveo.user_session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
"""

UPDATE_USER_SESSIONS_REVOKED = """
UPDATE proveo.user_session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
"""


UPDATE_USER_OTHER_SESSIONS_REVOKED = """
UPDATE proveo.user_session SET revoked_at = now()
WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL
"""


def _user(row: object) -> UserRecord:
    return UserRecord.model_validate(dict(row))  # type: ignore[call-overload]


async def select_live_user_by_email(conn: Connection, email: str) -> UserRecord | None:
    row = await conn.fetchrow(SELECT_LIVE_USER_BY_EMAIL, email)
    return _user(row) if row else None


async def select_live_user_and_email_key(conn: Connection, email: str) -> EmailLookup:
    row = await conn.fetchrow(SELECT_LIVE_USER_AND_EMAIL_KEY, email)
    assert row is not None  # the query always returns one row
    return EmailLookup(email_key=row["email_key"], user=_user(row) if row["id"] else None)


async def select_any_user_with_email(conn: Connection, email: str) -> bool:
    """Live or deleted: whether this address was ever used."""
    return bool(await conn.fetchval(SELECT_ANY_USER_WITH_EMAIL, email))


async def select_live_emails_among(
    conn: Connection, emails: list[str], patterns: list[str]
) -> list[str]:
    """At most 20 of them; `patterns` are LIKE patterns, in lower case."""
    rows = await conn.fetch(SELECT_LIVE_EMAILS_AMONG, [email.lower() for email in emails], patterns)
    return [row["email"] for row in rows]


async def select_user_by_uuid(conn: Connection, user_uuid: UUID) -> UserRecord | None:
    row = await conn.fetchrow(SELECT_USER_BY_UUID, user_uuid)
    return _user(row) if row else None


async def select_user_has_company(conn: Connection, user_id: int) -> bool:
    has_company: bool = await conn.fetchval(SELECT_USER_HAS_COMPANY, user_id)
    return has_company


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
    return _user(row)


async def update_user_role_and_password(
    conn: Connection, user_id: int, *, role: Role, password_hash: str | None
) -> UserRecord:
    row = await conn.fetchrow(UPDATE_USER_ROLE_AND_PASSWORD, user_id, role.value, password_hash)
    return _user(row)


async def update_user_password(conn: Connection, user_id: int, password_hash: str) -> UUID:
    user_uuid: UUID = await conn.fetchval(UPDATE_USER_PASSWORD, user_id, password_hash)
    return user_uuid


async def update_user_password_if_current(
    conn: Connection, user_id: int, password_hash: str, *, current_hash: str
) -> bool:
    """False when the stored hash is no longer `current_hash` (or the user is gone)."""
    return (
        await conn.fetchval(UPDATE_USER_PASSWORD_IF_CURRENT, user_id, password_hash, current_hash)
        is not None
    )


async def lock_live_admins(conn: Connection) -> list[int]:
    """The ids of the live admins, each row locked until the transaction ends."""
    return [row["id"] for row in await conn.fetch(LOCK_LIVE_ADMINS)]


async def select_live_user_locked(conn: Connection, user_id: int) -> bool:
    return await conn.fetchval(SELECT_LIVE_USER_LOCKED, user_id) is not None


async def update_user_lang(conn: Connection, user_id: int, lang: str) -> None:
    await conn.execute(UPDATE_USER_LANG, user_id, lang)


async def update_user_verified(conn: Connection, user_id: int) -> None:
    await conn.execute(UPDATE_USER_VERIFIED, user_id)


async def update_user_soft_deleted(conn: Connection, user_id: int) -> UserRecord | None:
    row = await conn.fetchrow(UPDATE_USER_SOFT_DELETED, user_id)
    return _user(row) if row else None


async def select_users_page(
    conn: Connection, *, limit: int, offset: int
) -> tuple[list[AdminUserView], int]:
    rows = await conn.fetch(SELECT_USERS_PAGE, limit, offset)
    total: int = await conn.fetchval(COUNT_USERS)
    return [AdminUserView.model_validate(dict(row)) for row in rows], total


async def insert_verification_token(
    conn: Connection, user_id: int, token_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(INSERT_VERIFICATION_TOKEN, user_id, token_hash, expires_at)


async def select_verification_token_for_update(
    conn: Connection, token_hash: bytes
) -> VerificationTokenRecord | None:
    row = await conn.fetchrow(SELECT_VERIFICATION_TOKEN_FOR_UPDATE, token_hash)
    return VerificationTokenRecord.model_validate(dict(row)) if row else None


async def update_user_tokens_used(conn: Connection, user_id: int) -> None:
    await conn.execute(UPDATE_USER_TOKENS_USED, user_id)


async def insert_password_reset_token(
    conn: Connection, user_id: int, token_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(INSERT_PASSWORD_RESET_TOKEN, user_id, token_hash, expires_at)


async def select_password_reset_token(
    conn: Connection, token_hash: bytes, *, for_update: bool = False
) -> PasswordResetTokenRecord | None:
    query = SELECT_PASSWORD_RESET_TOKEN_FOR_UPDATE if for_update else SELECT_PASSWORD_RESET_TOKEN
    row = await conn.fetchrow(query, token_hash)
    return PasswordResetTokenRecord.model_validate(dict(row)) if row else None


async def update_user_reset_tokens_used(conn: Connection, user_id: int) -> None:
    await conn.execute(UPDATE_USER_RESET_TOKENS_USED, user_id)


async def insert_session(
    conn: Connection, user_id: int, *, expires_at: datetime, ip: str | None, user_agent: str | None
) -> UUID:
    session_id: UUID = await conn.fetchval(INSERT_SESSION, user_id, expires_at, ip, user_agent)
    return session_id


async def select_session_user(
    conn: Connection, session_id: UUID, user_uuid: UUID
) -> SessionUser | None:
    row = await conn.fetchrow(SELECT_SESSION_USER, session_id, user_uuid)
    return SessionUser.model_validate(dict(row)) if row else None


async def update_session_revoked(conn: Connection, session_id: UUID) -> None:
    await conn.execute(UPDATE_SESSION_REVOKED, session_id)


async def update_user_sessions_revoked(conn: Connection, user_id: int) -> None:
    await conn.execute(UPDATE_USER_SESSIONS_REVOKED, user_id)


async def update_user_other_sessions_revoked(
    conn: Connection, user_id: int, keep_session_id: UUID
) -> None:
    await conn.execute(UPDATE_USER_OTHER_SESSIONS_REVOKED, user_id, keep_session_id)
