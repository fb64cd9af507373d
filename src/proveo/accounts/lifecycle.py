"""Account flows that retire an account, and with it the company it owns.

Signing up over an expired unverified claim, an admin replacing an unverified account
(`proveo create-admin`), a user deleting their account and an admin deleting one all soft-delete
the account and its company in one transaction. They live here, above both services: companies
depend on accounts (`companies.service` locks the owner's account), so `accounts.service` never
imports `companies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from proveo.accounts import repository
from proveo.accounts.schemas import (
    AdminAccountRequest,
    Role,
    SessionUser,
    SignupRequest,
    UserRecord,
)
from proveo.accounts.service import EmailTaken, Verification, new_verification
from proveo.admin import service as admin_service
from proveo.companies import service as companies_service
from proveo.core.db import Connection, Database
from proveo.core.errors import BadRequest, Conflict, NotFound
from proveo.core.security import hash_password

log = structlog.get_logger(__name__)


# An unverified claim may be someone else's squat on your address: the reset link, sent to the
# address, proves ownership, replaces the squatter's password and ends their sessions.
PENDING_ACCOUNT_DETAIL = (
    "An account with this email is waiting for its address to be confirmed. If the address is "
    "yours, reset the password (POST /api/v1/users/password-reset/request): the link we email "
    "confirms the address, sets your password and logs out every other session."
)


class CannotDeleteOwnAccount(BadRequest):
    code = "cannot_delete_self"
    default_detail = "Administrators cannot delete their own account here"


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "User not found"


class LastAdmin(Conflict):
    code = "last_admin"
    default_detail = (
        "This is the last administrator account: make another admin first "
        "(proveo create-admin), then delete this one"
    )


class AdminPasswordRequired(BadRequest):
    code = "admin_password_required"
    default_detail = "A password is needed to create this admin account"


# --- Signup ---------------------------------------------------------------------------------


async def sign_up(
    database: Database,
    request: SignupRequest,
    *,
    bcrypt_rounds: int,
    public_base_url: str,
    verification_ttl: timedelta,
) -> tuple[UserRecord, Verification]:
    # Hash before taking a connection: no pooled connection waits on bcrypt.
    password_hash = await hash_password(request.password, bcrypt_rounds)
    async with database.transaction() as conn:
        existing = await repository.select_live_user_by_email(conn, request.email)
        if existing is not None:
            if existing.email_verified:
                raise EmailTaken()
            if existing.created_at > datetime.now(UTC) - verification_ttl:
                raise EmailTaken(PENDING_ACCOUNT_DETAIL)
            # An unverified claim whose link has expired holds the address for nobody: retire
            # it, so nobody can squat an address (or pre-hijack an account) they cannot read.
            await _retire_user(conn, existing.id)
        try:
            user = await repository.insert_user(
                conn,
                name=request.name,
                email=request.email,
                password_hash=password_hash,
                role=Role.USER,
                email_verified=False,
                lang=request.lang,
            )
        except asyncpg.UniqueViolationError as exc:  # a concurrent signup with the same email
            raise EmailTaken() from exc
        verification = await new_verification(
            conn, user, lang=request.lang, public_base_url=public_base_url, ttl=verification_ttl
        )
    log.info("user_signed_up", user_uuid=str(user.uuid))
    return user, verification


# --- Deletion -------------------------------------------------------------------------------


async def _retire_user(conn: Connection, user_id: int) -> list[str]:
    """Soft-delete the user and their company, revoke every session and outstanding link.

    Returns the image objects to remove once the transaction has committed.
    """
    # The row lock taken by this UPDATE serialises concurrent deletions: the second one finds
    # the user already deleted and stops here.
    if await repository.update_user_soft_deleted(conn, user_id) is None:
        raise UserNotFound()
    await repository.update_user_sessions_revoked(conn, user_id)
    await repository.update_user_tokens_used(conn, user_id)
    return await companies_service.retire_company_of_user(conn, user_id)


async def _keep_an_admin(conn: Connection, leaving: UserRecord | SessionUser) -> None:
    """Refuse to remove the last live admin, under a lock on every admin row (see repository).

    Called before any row is changed, so concurrent deletions take their locks in one order.
    """
    if leaving.role is not Role.ADMIN:
        return
    if not [admin for admin in await repository.lock_live_admins(conn) if admin != leaving.id]:
        raise LastAdmin()


async def _audit_user_deleted(
    conn: Connection,
    actor: admin_service.AdminActor,
    target: UserRecord | SessionUser,
    **after: str,
) -> None:
    await admin_service.record_admin_action(
        conn,
        actor,
        action="user.delete",
        target_type="user",
        target_uuid=target.uuid,
        before={"email": target.email, "role": target.role.value, "deleted_at": None},
        after={"deleted_at": "now", **after},
    )


async def delete_own_account(
    conn: Connection, user: SessionUser, actor: admin_service.AdminActor
) -> list[str]:
    await _keep_an_admin(conn, user)
    objects = await _retire_user(conn, user.id)
    if user.role is Role.ADMIN:
        # An admin leaving changes who runs the site: audited like the admin route's deletion.
        await _audit_user_deleted(conn, actor, user)
    log.info("account_deleted", user_uuid=str(user.uuid))
    return objects


async def delete_user_as_admin(
    conn: Connection, actor: admin_service.AdminActor, target_uuid: UUID
) -> list[str]:
    if target_uuid == actor.uuid:
        raise CannotDeleteOwnAccount()
    target = await repository.select_user_by_uuid(conn, target_uuid)
    if target is None or target.deleted_at is not None:
        raise UserNotFound()
    # Two admins deleting each other at once: the second waits here, then finds itself the last.
    await _keep_an_admin(conn, target)
    objects = await _retire_user(conn, target.id)
    await _audit_user_deleted(conn, actor, target)
    return objects


# --- Admin accounts made by operators -------------------------------------------------------


class AdminOutcome(StrEnum):
    CREATED = "created"
    REPLACED_UNVERIFIED = "replaced_unverified"
    PROMOTED = "promoted"
    ALREADY_ADMIN = "already_admin"


@dataclass(frozen=True)
class AdminAccount:
    user: UserRecord
    outcome: AdminOutcome
    password_replaced: bool
    # Image objects of a retired account, to remove once the transaction has committed.
    orphaned_objects: list[str]


def _sets_admin_password(existing: UserRecord | None, *, reset_password: bool) -> bool:
    return existing is None or not existing.email_verified or reset_password


async def admin_password_needed(conn: Connection, email: str, *, reset_password: bool) -> bool:
    """Whether `ensure_admin` will set a password: a new account, or a replacement asked for."""
    existing = await repository.select_live_user_by_email(conn, email)
    return _sets_admin_password(existing, reset_password=reset_password)


async def ensure_admin(
    conn: Connection,
    request: AdminAccountRequest,
    *,
    reset_password: bool,
    bcrypt_rounds: int,
    actor: admin_service.AdminActor,
) -> AdminAccount:
    """Make the address an admin, audit-logged; every change ends the account's sessions.

    - No live account: a verified admin is created.
    - An unverified account is never adopted: anyone can sign up an address and log in
      unverified, and promoting it would make their session an admin one. It is retired (its
      sessions and links revoked) and a fresh verified admin is created in its place.
    - A verified account is promoted; its password is kept unless `reset_password`.
    """
    existing = await repository.select_live_user_by_email(conn, request.email)
    password_hash: str | None = None
    if _sets_admin_password(existing, reset_password=reset_password):
        if request.password is None:
            raise AdminPasswordRequired()
        password_hash = await hash_password(request.password, bcrypt_rounds)
    if existing is not None and existing.email_verified:
        return await _promote(conn, existing, password_hash, actor)
    orphaned: list[str] = []
    if existing is not None:
        orphaned = await _retire_user(conn, existing.id)
        await _audit_user_deleted(conn, actor, existing, reason="unverified; replaced by an admin")
    assert password_hash is not None  # a new account always gets one (above)
    try:
        user = await repository.insert_user(
            conn,
            name=request.name,
            email=request.email,
            password_hash=password_hash,
            role=Role.ADMIN,
            email_verified=True,
            lang="es",
        )
    except asyncpg.UniqueViolationError as exc:  # a signup of the same address meanwhile
        raise EmailTaken() from exc
    await admin_service.record_admin_action(
        conn, actor, action="user.create", target_type="user", target_uuid=user.uuid,
        after={"email": user.email, "role": Role.ADMIN.value, "email_verified": True},
    )  # fmt: skip
    outcome = AdminOutcome.CREATED if existing is None else AdminOutcome.REPLACED_UNVERIFIED
    return AdminAccount(user, outcome, password_replaced=False, orphaned_objects=orphaned)


async def _promote(
    conn: Connection,
    user: UserRecord,
    password_hash: str | None,
    actor: admin_service.AdminActor,
) -> AdminAccount:
    was_admin = user.role is Role.ADMIN
    outcome = AdminOutcome.ALREADY_ADMIN if was_admin else AdminOutcome.PROMOTED
    if was_admin and password_hash is None:
        return AdminAccount(user, outcome, password_replaced=False, orphaned_objects=[])
    updated = await repository.update_user_role_and_password(
        conn, user.id, role=Role.ADMIN, password_hash=password_hash
    )
    # A session opened as a user, or with the old password, must not carry on as an admin.
    await repository.update_user_sessions_revoked(conn, user.id)
    before: dict[str, Any] = {"role": user.role.value}
    after: dict[str, Any] = {"role": Role.ADMIN.value, "sessions": "revoked"}
    if password_hash is not None:
        after["password_replaced"] = True
    await admin_service.record_admin_action(
        conn, actor, action="user.update", target_type="user", target_uuid=user.uuid,
        before=before, after=after,
    )  # fmt: skip
    return AdminAccount(
        updated, outcome, password_replaced=password_hash is not None, orphaned_objects=[]
    )
