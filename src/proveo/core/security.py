"""Password hashing. bcrypt runs in a worker thread: it costs ~250 ms of CPU at cost 12.

bcrypt reads at most 72 bytes, and pyca/bcrypt 5 refuses longer input. Every password is first
reduced to the base64 of its SHA-256 (44 ASCII bytes, no NUL), so a long passphrase counts in
full: no truncation and no error, whatever its length or script.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

import bcrypt

DEFAULT_BCRYPT_ROUNDS = 12


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password_sync(password: str, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password_sync(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


async def hash_password(password: str, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    return await asyncio.to_thread(hash_password_sync, password, rounds)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, password_hash)
