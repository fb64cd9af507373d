"""Passwords, session tokens, CSRF tokens, device cookies and single-use tokens.

bcrypt runs in a worker thread: it costs ~250 ms of CPU at cost 12.

bcrypt reads at most 72 bytes, and pyca/bcrypt 5 refuses longer input. Every password is first
reduced to the base64 of its SHA-256 (44 ASCII bytes, no NUL), so a long passphrase counts in
full: no truncation and no error, whatever its length or script.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import bcrypt
import jwt

from proveo.core.errors import ServiceUnavailable

T = TypeVar("T")

DEFAULT_BCRYPT_ROUNDS = 12


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password_sync(password: str, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def password_hash_cost(password_hash: str) -> int | None:
    """The cost a bcrypt hash was made with (`$2b$12$...` -> 12); None when it is not bcrypt."""
    parts = password_hash.split("$")
    if len(parts) < 4 or not parts[2].isdigit():
        return None
    return int(parts[2])


def verify_password_sync(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


# bcrypt releases the GIL. Hashing threads are capped so a burst of logins cannot take every
# core: by default one core stays free for the event loop and the requests it serves. The queue
# in front of them is bounded too: past it, a login is told to retry rather than wait minutes.
HASH_QUEUE_PER_THREAD = 16


class PasswordHashingBusy(ServiceUnavailable):
    code = "busy"
    default_detail = "Too many logins at once, try again in a moment"


@dataclass
class _Hashing:
    pool: ThreadPoolExecutor
    max_pending: int
    pending: int = 0


_hashing: _Hashing | None = None


def default_hashing_threads(processes: int = 1) -> int:
    """Cores − 1 shared by the server's worker processes (PROVEO_WORKERS), at least 1 each."""
    return max(1, ((os.cpu_count() or 1) - 1) // processes)


def configure_hashing_threads(
    threads: int, *, processes: int = 1, max_pending: int | None = None
) -> None:
    """0 threads means the default. Called once by create_app (PROVEO_PASSWORD_HASH_THREADS)."""
    global _hashing
    previous = _hashing
    workers = threads or default_hashing_threads(processes)
    _hashing = _Hashing(
        pool=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt"),
        max_pending=max_pending or workers * HASH_QUEUE_PER_THREAD,
    )
    if previous is not None:
        previous.pool.shutdown(wait=False)


async def _off_loop(function: Callable[..., T], *args: Any) -> T:
    if _hashing is None:
        configure_hashing_threads(0)
    assert _hashing is not None
    hashing = _hashing
    if hashing.pending >= hashing.max_pending:
        raise PasswordHashingBusy(headers={"Retry-After": "2"})
    hashing.pending += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(hashing.pool, function, *args)
    finally:
        hashing.pending -= 1


async def hash_password(password: str, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    return await _off_loop(hash_password_sync, password, rounds)


async def verify_password(password: str, password_hash: str) -> bool:
    return await _off_loop(verify_password_sync, password, password_hash)


# --- Session tokens -------------------------------------------------------------------------
# The JWT only names the session; the server looks the session up on every request, so logout,
# deletion and role or verification changes take effect at once.

JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "proveo"


@dataclass(frozen=True)
class SessionClaims:
    session_id: UUID
    user_uuid: UUID


def encode_session_token(
    secret: str, *, session_id: UUID, user_uuid: UUID, expires_at: datetime
) -> str:
    payload = {
        "sid": str(session_id),
        "sub": str(user_uuid),
        "aud": JWT_AUDIENCE,
        "iat": int(time.time()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_session_token(secret: str, token: str) -> SessionClaims | None:
    """The claims of a well-formed, correctly signed, unexpired token; None for anything else."""
    if not token or len(token) > 2048:
        return None
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["exp", "sid", "sub", "aud"]},
        )
        return SessionClaims(session_id=UUID(payload["sid"]), user_uuid=UUID(payload["sub"]))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token_for(secret: str, session_id: UUID) -> str:
    """Bound to the session: a token from another session (or none) never matches."""
    return hmac.new(secret.encode(), b"csrf:" + session_id.bytes, hashlib.sha256).hexdigest()


def csrf_token_matches(secret: str, session_id: UUID, header: str, cookie: str) -> bool:
    expected = csrf_token_for(secret, session_id)
    # Evaluate both comparisons: the time taken does not depend on which one fails.
    header_ok = hmac.compare_digest(header.encode(), expected.encode())
    cookie_ok = hmac.compare_digest(cookie.encode(), expected.encode())
    return header_ok and cookie_ok


# --- Device cookies --------------------------------------------------------------------------

DEVICE_ID_BYTES = 16


def _device_mac(secret: str, subject: str, device_id: str) -> str:
    message = f"device:{subject}:{device_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def new_device_token(secret: str, subject: str) -> str:
    """A random device id signed with `subject` (the account): `<device id>.<HMAC>`."""
    device_id = secrets.token_urlsafe(DEVICE_ID_BYTES)
    return f"{device_id}.{_device_mac(secret, subject, device_id)}"


def trusted_device_id(secret: str, subject: str, token: str | None) -> str | None:
    """The device id of a token this server signed for `subject`; None for any other value."""
    if not token or len(token) > 200:
        return None
    device_id, _, mac = token.partition(".")
    if not device_id:
        return None
    expected = _device_mac(secret, subject, device_id)
    return device_id if hmac.compare_digest(mac.encode(), expected.encode()) else None


# --- Single-use tokens (email verification, password reset) ---------------------------------------


def new_url_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """Only this digest is stored: a database leak does not reveal usable tokens."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
