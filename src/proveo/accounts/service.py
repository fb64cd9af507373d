"""Account rules: verification, sessions, passwords, the admin's view.

Signup, deletion and `proveo create-admin` can retire an account, and with it its company: they
are in `lifecycle`, since companies depend on accounts and this module never imports them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
import structlog

from proveo.accounts import repository
from proveo.accounts.messages import password_reset_email, verification_email
from proveo.accounts.schemas import (
    AdminUserView,
    EmailLookup,
    Lang,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetTokenRecord,
    Role,
    SessionUser,
    UserMe,
    UserRecord,
    VerificationTokenRecord,
)
from proveo.core.db import Connection, Database
from proveo.core.errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    NotAuthenticated,
    TooManyRequests,
)
from proveo.core.ratelimit import LimitKind, RateLimiter, enforce, refusal
from proveo.core.security import (
    SessionClaims,
    encode_session_token,
    hash_password,
    hash_password_sync,
    new_device_token,
    new_url_token,
    password_hash_cost,
    token_digest,
    trusted_device_id,
    verify_password,
)
from proveo.integrations.email import EmailMessage, EmailSender, deliver

log = structlog.get_logger(__name__)


class EmailTaken(Conflict):
    code = "email_taken"
    default_detail = (
        "An account with this email already exists. Log in, or reset the password "
        "(POST /api/v1/users/password-reset/request) if you forgot it."
    )


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_detail = "Invalid email or password"


class LoginLocked(TooManyRequests):
    default_detail = (
        "Too many failed logins for this account. A browser that has logged in to it before is "
        "not locked out. Otherwise wait for the time in Retry-After, or reset the password "
        "(POST /api/v1/users/password-reset/request): a reset lifts the lock at once."
    )


# The lock of a browser with the account's device cookie: only its own failures count.
DEVICE_LOCKED_DETAIL = (
    "Too many failed logins from this browser. Wait for the time in Retry-After, or reset the "
    "password (POST /api/v1/users/password-reset/request): a reset lifts the lock at once."
)


class InvalidToken(BadRequest):
    code = "invalid_token"
    default_detail = "This link is invalid, already used or expired. Ask for a new one."


class ResetLinkUsed(InvalidToken):
    code = "reset_link_used"
    default_detail = (
        "This link no longer works: it was used, or the password changed after it was sent. "
        "Ask for a new one."
    )


class ResetLinkExpired(InvalidToken):
    code = "reset_link_expired"
    default_detail = "This link expired (links last 1 hour). Ask for a new one."


class AlreadyVerified(BadRequest):
    code = "already_verified"
    default_detail = "This link was already used and the address is confirmed. Log in."


class WrongPassword(BadRequest):
    code = "wrong_password"
    default_detail = "The current password is not correct"


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_detail = "Confirm your email address first"


class AdminRequired(Forbidden):
    code = "admin_required"
    default_detail = "This action needs an administrator"


@dataclass(frozen=True)
class Verification:
    """A fresh token's email, to be sent once the transaction has committed."""

    email: EmailMessage


@dataclass(frozen=True)
class NewSession:
    session_id: UUID
    expires_at: datetime
    user: UserRecord
    device_token: str  # for the device cookie: this browser now knows the account
    has_company: bool = False  # where the front end sends the user next (Publish when False)


# --- Signup and verification ----------------------------------------------------------------


def _verification_link(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/api/v1/users/verify-email/{token}"


async def new_verification(
    conn: Connection, user: UserRecord, *, lang: Lang, public_base_url: str, ttl: timedelta
) -> Verification:
    token = new_url_token()
    await repository.insert_verification_token(
        conn, user.id, token_digest(token), datetime.now(UTC) + ttl
    )
    message = verification_email(
        to=user.email, link=_verification_link(public_base_url, token), lang=lang
    )
    return Verification(email=message)


class VerificationOutcome(StrEnum):
    VERIFIED = "verified"
    ALREADY_VERIFIED = "already_verified"  # e.g. a mail scanner opened the link first
    # The link is good, but this browser has not shown it knows the account's password.
    NEEDS_PROOF = "needs_proof"
    INVALID = "invalid"


@dataclass(frozen=True)
class BrowserProof:
    """What the browser opening a link shows about who chose the account's password.

    A link proves the inbox, not the password: someone may have signed up another person's
    address with a password of their own. So the link confirms only in a browser that signed
    the account up (the signup cookie) or holds a live session of it (opened with the password).
    """

    signed_up: UUID | None = None
    session: SessionUser | None = None

    def covers(self, user_uuid: UUID) -> bool:
        return user_uuid in (self.signed_up, self.session.uuid if self.session else None)


def signup_proof(secret: str, user_uuid: UUID) -> str:
    """The signup cookie's value: the account, signed so no one can make one for another."""
    mac = hmac.new(secret.encode(), b"signup-proof:" + user_uuid.bytes, hashlib.sha256)
    return f"{user_uuid}.{mac.hexdigest()}"


def signed_up_user(secret: str, cookie: str | None) -> UUID | None:
    """The account a signup cookie names, when its signature holds."""
    user_part, _, _ = (cookie or "").partition(".")
    try:
        user_uuid = UUID(user_part)
    except ValueError:
        return None
    expected = signup_proof(secret, user_uuid)
    return user_uuid if hmac.compare_digest(expected.encode(), (cookie or "").encode()) else None


@dataclass(frozen=True)
class LinkBrowser:
    """The browser opening a verification link: signed in there when it proves the signup."""

    policy: LoginPolicy
    ip: str | None
    user_agent: str | None


async def verify_email(
    conn: Connection, token: str, proof: BrowserProof, browser: LinkBrowser
) -> tuple[VerificationOutcome, Lang | None, NewSession | None]:
    """The outcome, the user's language, and the session of a browser that proved the signup
    without being signed in (the link signs it in, as the password form does on another
    device). Unknown, used, expired or deleted-user tokens fail.

    Without proof the link stays unused, so it still works in the browser that has it.
    """
    if not token or len(token) > 256:
        return VerificationOutcome.INVALID, None, None
    record = await repository.select_verification_token_for_update(conn, token_digest(token))
    if record is None or record.user_deleted_at is not None:
        return VerificationOutcome.INVALID, None, None
    if record.used_at is not None and record.user_verified:
        return VerificationOutcome.ALREADY_VERIFIED, record.lang, None
    if record.used_at is not None or record.expires_at <= datetime.now(UTC):
        return VerificationOutcome.INVALID, record.lang, None
    if not proof.covers(record.user_uuid):
        return VerificationOutcome.NEEDS_PROOF, record.lang, None
    session = proof.session
    if session is not None and session.uuid == record.user_uuid:
        await _mark_verified(conn, record.user_id, keep_session=session.session_id)
        return VerificationOutcome.VERIFIED, record.lang, None
    user = await repository.select_user_by_uuid(conn, record.user_uuid)
    if user is None:
        return VerificationOutcome.INVALID, record.lang, None
    expires_at = datetime.now(UTC) + browser.policy.session_ttl
    session_id = await repository.insert_session(
        conn,
        user.id,
        expires_at=expires_at,
        ip=browser.ip,
        user_agent=(browser.user_agent or "")[:512] or None,
    )
    await _mark_verified(conn, record.user_id, keep_session=session_id)
    log.info("email_verified_signed_in", user_uuid=str(user.uuid))
    return (
        VerificationOutcome.VERIFIED,
        record.lang,
        NewSession(
            session_id=session_id,
            expires_at=expires_at,
            user=user.model_copy(update={"email_verified": True}),
            device_token=device_token(browser.policy.device_secret, user.uuid, user.password_hash),
            has_company=await repository.select_user_has_company(conn, user.id),
        ),
    )


async def _mark_verified(
    conn: Connection, user_id: int, *, keep_session: UUID | None = None
) -> None:
    await repository.update_user_verified(conn, user_id)
    # Every outstanding link of this user dies with the one that worked.
    await repository.update_user_tokens_used(conn, user_id)
    # A session opened before the address was proven may be a squatter's (someone who signed
    # up with this address and logged in): none of them may turn into a verified session. The
    # one that proved the password in the browser that opened the link is the owner's.
    if keep_session is None:
        await repository.update_user_sessions_revoked(conn, user_id)
    else:
        await repository.update_user_other_sessions_revoked(conn, user_id, keep_session)


def _usable_link(record: VerificationTokenRecord | None) -> VerificationTokenRecord:
    if record is None or record.user_deleted_at is not None:
        raise InvalidToken()
    if record.used_at is not None and record.user_verified:
        raise AlreadyVerified()
    if record.used_at is not None or record.expires_at <= datetime.now(UTC):
        raise InvalidToken()
    return record


async def verify_email_with_password(
    database: Database,
    token: str,
    *,
    password: str,
    client_subject: str,
    ip: str | None,
    user_agent: str | None,
    policy: LoginPolicy,
    limiter: RateLimiter,
    device: str | None,
) -> NewSession:
    """Confirm the address in a browser without proof by typing the account's password there.

    The password is the proof `BrowserProof` asks for (see `verify_email`): so it is checked
    exactly as a login checks it, with the login's lockouts, and a success signs this browser
    in. Like opening the link while logged in, every other session ends (one may be a
    squatter's) and this one is kept. An unknown, used or expired link costs no bcrypt.
    """
    if not token or len(token) > 256:
        raise InvalidToken()
    digest = token_digest(token)
    async with database.transaction() as conn:
        record = _usable_link(await repository.select_verification_token_for_update(conn, digest))
        account = await repository.select_user_by_uuid(conn, record.user_uuid)
        if account is None:
            raise InvalidToken()
        lookup = await repository.select_live_user_and_email_key(conn, account.email)
    if lookup.user is None or lookup.user.id != record.user_id:
        raise InvalidToken()
    user, device_id = await _check_password(
        lookup, password, client_subject=client_subject, policy=policy, limiter=limiter,
        device=device,
    )  # fmt: skip
    expires_at = datetime.now(UTC) + policy.session_ttl
    async with database.transaction() as conn:
        # Again under the row lock: the link may have been used while bcrypt ran.
        record = _usable_link(await repository.select_verification_token_for_update(conn, digest))
        if record.user_id != user.id:
            raise InvalidToken()
        session_id = await repository.insert_session(
            conn, user.id, expires_at=expires_at, ip=ip, user_agent=(user_agent or "")[:512] or None
        )
        await _mark_verified(conn, user.id, keep_session=session_id)
        has_company = await repository.select_user_has_company(conn, user.id)
    log.info(
        "email_verified_with_password", user_uuid=str(user.uuid), known_device=device_id is not None
    )
    return NewSession(
        session_id=session_id,
        expires_at=expires_at,
        user=user.model_copy(update={"email_verified": True}),
        device_token=device_token(policy.device_secret, user.uuid, user.password_hash),
        has_company=has_company,
    )


async def check_reset_link(database: Database, token: str) -> datetime:
    """Whether a reset link still works, without using it: its expiry, or why not.

    The same single lookup by the token's digest as the reset itself; it names no account.
    """
    if not token or len(token) > 256:
        raise InvalidToken()
    async with database.transaction() as conn:
        record = await repository.select_password_reset_token(conn, token_digest(token))
    if record is None or record.user_deleted_at is not None:
        raise InvalidToken()
    if record.used_at is not None:
        raise ResetLinkUsed()
    if record.expires_at <= datetime.now(UTC):
        raise ResetLinkExpired()
    return record.expires_at


async def resend_verification(
    database: Database,
    email: str,
    *,
    lang: Lang | None,
    public_base_url: str,
    verification_ttl: timedelta,
    limiter: RateLimiter,
    per_account_per_hour: int,
) -> Verification | None:
    """A new link for a live unverified account; None otherwise (the caller says the same)."""
    async with database.transaction() as conn:
        lookup = await repository.select_live_user_and_email_key(conn, email)
        # Keyed on the address as the database folds it: spelling variants of one account
        # share a budget, and unknown addresses are limited alike, so a 429 reveals nothing.
        await enforce(
            limiter, f"resend:{lookup.email_key}", limit=per_account_per_hour, window=3600,
            kind=LimitKind.EMAILS,
        )  # fmt: skip
        user = lookup.user
        if user is None or user.email_verified:
            return None
        return await new_verification(
            conn, user, lang=lang or user.lang, public_base_url=public_base_url,
            ttl=verification_ttl,
        )  # fmt: skip


# --- Sessions -------------------------------------------------------------------------------


@functools.cache
def _dummy_hash(rounds: int) -> str:
    """Made at the configured cost, which login also gives every stored hash it checks."""
    return hash_password_sync("proveo-timing-equaliser", rounds)


def _password_generation(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _login_account(lookup: EmailLookup) -> str:
    """The login budgets' account part: the database's folding of the address, derived the
    same way whether or not an account exists, so a 429 cannot tell them apart.

    The suffix names the account's current password hash: a new password (reset or change)
    starts fresh budgets, so no lockout outlives the reset that the 429 points to.
    """
    user = lookup.user
    generation = _password_generation(user.password_hash) if user else "-"
    return f"{lookup.email_key}:{generation}"


# --- Device cookies (OWASP: "slow down online guessing attacks with device cookies") -------
# A login or password reset that succeeds gives the browser a signed cookie naming the account
# and its current password. A login presenting it is exempt from the account-wide lockout and
# has a budget of its own, so strangers' failures never lock the owner's browsers out, while a
# guesser without the cookie stays bounded by the account's budgets. A new password (reset or
# change) retires every older cookie: one obtained with a leaked password stops working.


def _device_subject(user_uuid: UUID, password_hash: str) -> str:
    return f"{user_uuid}:{_password_generation(password_hash)}"


def device_token(secret: str, user_uuid: UUID, password_hash: str) -> str:
    return new_device_token(secret, _device_subject(user_uuid, password_hash))


def _trusted_device(secret: str, token: str | None, user: UserRecord | None) -> str | None:
    if user is None:
        return None
    return trusted_device_id(secret, _device_subject(user.uuid, user.password_hash), token)


@dataclass(frozen=True)
class LoginPolicy:
    session_ttl: timedelta
    bcrypt_rounds: int
    failures_per_account_and_address: int
    failures_per_account: int
    lockout: timedelta
    device_secret: str


async def _check_password(
    lookup: EmailLookup,
    password: str,
    *,
    client_subject: str,
    policy: LoginPolicy,
    limiter: RateLimiter,
    device: str | None,
) -> tuple[UserRecord, str | None]:
    """The login's password check: its lockouts, its bcrypt work, with no connection held.

    Every place that takes the account's password from an unauthenticated browser (login, and
    confirming an address with the password) spends the same budgets, so neither is a side
    door around the other's lockout. Returns the user and the trusted device id, if any.
    """
    user = lookup.user
    device_id = _trusted_device(policy.device_secret, device, user)
    budgets: tuple[tuple[str, int], ...]
    if device_id is not None:
        # A browser the account has logged in from: its own budget, nobody else's failures,
        # in a table that a flood of guesses cannot fill (only logins mint device ids).
        kind = LimitKind.DEVICES
        budgets = ((f"login-device:{device_id}", policy.failures_per_account_and_address),)
    else:
        # Two budgets per account: a tight one per client address (a guesser locks out only
        # themselves), and a wider one across addresses (distributed guessing stays bounded).
        kind = LimitKind.ACCOUNTS
        account = _login_account(lookup)
        budgets = (
            (f"login:{account}:{client_subject}", policy.failures_per_account_and_address),
            (f"login:{account}", policy.failures_per_account),
        )
    window = policy.lockout.total_seconds()
    for key, limit in budgets:
        result = await limiter.hit(key, limit=limit, window=window, kind=kind)
        if not result.allowed:
            if result.full:
                raise refusal(result)
            detail = DEVICE_LOCKED_DETAIL if kind is LimitKind.DEVICES else None
            raise LoginLocked(detail, headers={"Retry-After": str(result.retry_after)})
    if user is None:
        # Same bcrypt work as a real check: an unknown email is not faster than a wrong password.
        dummy = await asyncio.to_thread(_dummy_hash, policy.bcrypt_rounds)
        await verify_password(password, dummy)
        raise InvalidCredentials()
    if not await verify_password(password, user.password_hash):
        log.info("login_failed", user_uuid=str(user.uuid))
        raise InvalidCredentials()
    for key, _ in budgets:
        await limiter.reset(key)
    return user, device_id


async def log_in(
    database: Database,
    *,
    email: str,
    password: str,
    lang: Lang | None,
    client_subject: str,
    ip: str | None,
    user_agent: str | None,
    policy: LoginPolicy,
    limiter: RateLimiter,
    device: str | None,
) -> NewSession:
    """Check the password with no database connection held (bcrypt takes ~250 ms).

    `device` is the browser's device cookie, if any.
    """
    async with database.transaction() as conn:
        lookup = await repository.select_live_user_and_email_key(conn, email.strip())
    user, device_id = await _check_password(
        lookup, password, client_subject=client_subject, policy=policy, limiter=limiter,
        device=device,
    )  # fmt: skip
    rehashed = None
    if password_hash_cost(user.password_hash) != policy.bcrypt_rounds:
        # BCRYPT_ROUNDS changed: stored hashes follow as their owners log in, so a real
        # account costs what the dummy hash costs an unknown email (no timing oracle).
        rehashed = await hash_password(password, policy.bcrypt_rounds)
    expires_at = datetime.now(UTC) + policy.session_ttl
    async with database.transaction() as conn:
        if rehashed is not None and await repository.update_user_password_if_current(
            conn, user.id, rehashed, current_hash=user.password_hash
        ):
            user = user.model_copy(update={"password_hash": rehashed})
        if lang is not None and lang != user.lang:
            # The language chosen at login is the one future emails use.
            await repository.update_user_lang(conn, user.id, lang)
            user = user.model_copy(update={"lang": lang})
        session_id = await repository.insert_session(
            conn, user.id, expires_at=expires_at, ip=ip, user_agent=(user_agent or "")[:512] or None
        )
        has_company = await repository.select_user_has_company(conn, user.id)
    log.info("login_succeeded", user_uuid=str(user.uuid), known_device=device_id is not None)
    return NewSession(
        session_id=session_id,
        expires_at=expires_at,
        user=user,
        device_token=device_token(policy.device_secret, user.uuid, user.password_hash),
        has_company=has_company,
    )


async def authenticate(conn: Connection, claims: SessionClaims) -> SessionUser | None:
    """The live user behind a live session, read now: never trust what the token once said."""
    return await repository.select_session_user(conn, claims.session_id, claims.user_uuid)


async def log_out(conn: Connection, session_id: UUID) -> None:
    await repository.update_session_revoked(conn, session_id)


async def lock_live_account(conn: Connection, user_id: int) -> None:
    """Hold the account's row until the transaction ends; refuse an account deleted meanwhile.

    Deletion takes the same row lock, so whatever runs under this lock (publishing a company)
    either completes before the deletion, which then retires it too, or finds the account gone.
    """
    if not await repository.select_live_user_locked(conn, user_id):
        raise NotAuthenticated("Your session has ended, log in again")


async def describe_me(conn: Connection, user: SessionUser) -> UserMe:
    """The signed-in user as `/users/me` shows them, with whether they have a company yet."""
    has_company = await repository.select_user_has_company(conn, user.id)
    return UserMe.model_validate({**user.model_dump(), "has_company": has_company})


def require_verified(user: SessionUser) -> SessionUser:
    if not user.email_verified:
        raise EmailNotVerified()
    return user


def require_admin(user: SessionUser) -> SessionUser:
    if user.role is not Role.ADMIN:
        raise AdminRequired()
    return user


# --- Passwords ------------------------------------------------------------------------------

PASSWORD_RESET_TTL = timedelta(hours=1)


def _reset_link(public_base_url: str, token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server, so it stays out of
    # access logs and Referer headers. The page posts it to /password-reset/confirm.
    return f"{public_base_url.rstrip('/')}/reset-password/#token={token}"


@dataclass(frozen=True)
class ResetLimits:
    per_address_and_client_per_hour: int
    per_address_per_hour: int


@dataclass(frozen=True)
class PendingReset:
    """A reset link to create and email once the response has gone (`send_password_reset`)."""

    user_id: int
    user_uuid: UUID
    to: str
    lang: Lang


async def request_password_reset(
    database: Database,
    email: str,
    *,
    lang: Lang | None,
    client_subject: str,
    device: str | None,
    device_secret: str,
    limiter: RateLimiter,
    limits: ResetLimits,
) -> PendingReset | None:
    """Who gets a reset link: a live account (verified or not); None otherwise.

    Known and unknown addresses take the same path here, one lookup and the same budgets, and
    the link is written and sent only after the response (`send_password_reset`): the answer
    and its timing are the same either way.

    Budgets (the caller has spent the client's own): per address and client, so a stranger
    cannot spend the owner's; and a wider one per address against mail bombing, which a
    browser holding the account's device cookie skips.
    """
    async with database.transaction() as conn:
        lookup = await repository.select_live_user_and_email_key(conn, email)
    address = lookup.email_key
    budgets = [(f"reset:{address}:{client_subject}", limits.per_address_and_client_per_hour)]
    if _trusted_device(device_secret, device, lookup.user) is None:
        budgets.append((f"reset:{address}", limits.per_address_per_hour))
    for key, limit in budgets:
        await enforce(limiter, key, limit=limit, window=3600, kind=LimitKind.EMAILS)
    user = lookup.user
    if user is None:
        return None
    return PendingReset(user_id=user.id, user_uuid=user.uuid, to=user.email, lang=lang or user.lang)


async def send_password_reset(
    database: Database, sender: EmailSender, pending: PendingReset, *, public_base_url: str
) -> None:
    """Store a new reset link and email it; runs after the response, in its own transaction."""
    token = new_url_token()
    try:
        async with database.transaction() as conn:
            await repository.insert_password_reset_token(
                conn, pending.user_id, token_digest(token), datetime.now(UTC) + PASSWORD_RESET_TTL
            )
    except (AppError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        # The answer has gone out; the person can ask again once the database is back.
        log.error("password_reset_not_sent", user_uuid=str(pending.user_uuid), error=repr(exc))
        return
    log.info("password_reset_requested", user_uuid=str(pending.user_uuid))
    await deliver(
        sender,
        password_reset_email(
            to=pending.to, link=_reset_link(public_base_url, token), lang=pending.lang
        ),
    )


def _usable_reset(record: PasswordResetTokenRecord | None) -> PasswordResetTokenRecord:
    if (
        record is None
        or record.user_deleted_at is not None
        or record.used_at is not None
        or record.expires_at <= datetime.now(UTC)
    ):
        raise InvalidToken()
    return record


async def reset_password(
    database: Database, request: PasswordResetConfirm, *, bcrypt_rounds: int, device_secret: str
) -> str:
    """Set the password from a reset link, end every session, and confirm the address.

    The login lockouts end too: their keys name the password hash this replaces. Returns a
    device token for this browser, the one that proved it reads the account's email.
    """
    digest = token_digest(request.token)
    # Check first, so a forged token costs no bcrypt; hash with no connection held; then check
    # again under the row lock, since the link may have been used meanwhile.
    async with database.transaction() as conn:
        _usable_reset(await repository.select_password_reset_token(conn, digest))
    password_hash = await hash_password(request.password, bcrypt_rounds)
    async with database.transaction() as conn:
        record = _usable_reset(
            await repository.select_password_reset_token(conn, digest, for_update=True)
        )
        user_uuid = await repository.update_user_password(conn, record.user_id, password_hash)
        # One success retires every outstanding reset link of the account.
        await repository.update_user_reset_tokens_used(conn, record.user_id)
        await repository.update_user_sessions_revoked(conn, record.user_id)
        if not record.user_verified:
            # The link reached the address: that is what verification proves.
            await _mark_verified(conn, record.user_id)
    log.info("password_reset", user_id=record.user_id)
    return device_token(device_secret, user_uuid, password_hash)


async def change_password(
    database: Database,
    user: SessionUser,
    request: PasswordChange,
    *,
    bcrypt_rounds: int,
    limiter: RateLimiter,
    attempts: int,
    window: timedelta,
    device_secret: str,
) -> str:
    """Replace the password after checking the current one; every other session ends.

    A stolen session cannot guess the password it does not know: attempts are limited per
    account. No connection is held while bcrypt runs. Returns a device token for this browser
    (the new password retired the old ones).
    """
    key = f"password-change:{user.uuid}"
    await enforce(
        limiter, key, limit=attempts, window=window.total_seconds(), kind=LimitKind.ACCOUNTS
    )
    async with database.transaction() as conn:
        record = await repository.select_user_by_uuid(conn, user.uuid)
    if record is None or not await verify_password(request.current_password, record.password_hash):
        raise WrongPassword()
    new_hash = await hash_password(request.new_password, bcrypt_rounds)
    async with database.transaction() as conn:
        if not await repository.update_user_password_if_current(
            conn, record.id, new_hash, current_hash=record.password_hash
        ):
            raise WrongPassword()  # changed by someone else since it was checked
        await repository.update_user_other_sessions_revoked(conn, record.id, user.session_id)
        await repository.update_user_reset_tokens_used(conn, record.id)
    await limiter.reset(key)
    log.info("password_changed", user_uuid=str(user.uuid))
    return device_token(device_secret, user.uuid, new_hash)


async def list_users(
    conn: Connection, *, limit: int, offset: int
) -> tuple[list[AdminUserView], int]:
    return await repository.select_users_page(conn, limit=limit, offset=offset)


# --- Accounts made by operators -------------------------------------------------------------


async def email_ever_used(conn: Connection, email: str) -> bool:
    return await repository.select_any_user_with_email(conn, email)


async def live_accounts_among(
    conn: Connection, emails: list[str], patterns: list[str] | None = None
) -> list[str]:
    """Up to 20 addresses, among these or matching these LIKE patterns (lower case), that
    belong to an account that is not deleted."""
    return await repository.select_live_emails_among(conn, emails, patterns or [])


async def create_account_with_hash(
    conn: Connection, *, name: str, email: str, password_hash: str, role: Role, lang: Lang = "es"
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


def session_token(secret: str, session: NewSession) -> str:
    return encode_session_token(
        secret,
        session_id=session.session_id,
        user_uuid=session.user.uuid,
        expires_at=session.expires_at,
    )
