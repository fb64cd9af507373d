from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from proveo.core import security


class TestPasswords:
    @pytest.mark.parametrize("password", ["short-Pass1", "ñ" * 40, "x" * 128, "emoji 🔐 pass"])
    async def test_hash_and_verify_round_trip(self, password: str) -> None:
        hashed = await security.hash_password(password, rounds=4)
        assert hashed.startswith("$2b$04$")
        assert await security.verify_password(password, hashed)
        assert not await security.verify_password(password + "!", hashed)

    def test_bytes_past_72_count(self) -> None:
        base = "a" * 72
        hashed = security.hash_password_sync(base + "X", rounds=4)
        assert not security.verify_password_sync(base + "Y", hashed)

    def test_garbage_hash_is_a_failed_check_not_an_error(self) -> None:
        assert security.verify_password_sync("whatever", "not-a-bcrypt-hash") is False

    @pytest.mark.parametrize("rounds", [4, 6])
    def test_hash_cost_is_read_from_the_hash(self, rounds: int) -> None:
        hashed = security.hash_password_sync("Some-pass1", rounds)
        assert security.password_hash_cost(hashed) == rounds

    @pytest.mark.parametrize("value", ["", "not-a-bcrypt-hash", "$2b$xx$abc", "$argon2id"])
    def test_hash_cost_of_something_else_is_none(self, value: str) -> None:
        assert security.password_hash_cost(value) is None


class TestHashingQueue:
    async def test_a_full_queue_refuses_with_busy_instead_of_waiting(self) -> None:
        security.configure_hashing_threads(1, max_pending=2)
        try:
            results = await asyncio.gather(
                *(security.hash_password("Queue-test1", rounds=10) for _ in range(5)),
                return_exceptions=True,
            )
        finally:
            security.configure_hashing_threads(0)
        busy = [r for r in results if isinstance(r, security.PasswordHashingBusy)]
        done = [r for r in results if isinstance(r, str)]
        assert (len(done), len(busy)) == (2, 3)
        assert busy[0].status_code == 503
        assert busy[0].headers == {"Retry-After": "2"}


class TestSessionTokens:
    def test_round_trip_and_tampering(self) -> None:
        secret = "s" * 40
        session_id, user_uuid = uuid4(), uuid4()
        token = security.encode_session_token(
            secret,
            session_id=session_id,
            user_uuid=user_uuid,
            expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        claims = security.decode_session_token(secret, token)
        assert claims == security.SessionClaims(session_id=session_id, user_uuid=user_uuid)
        assert security.decode_session_token("t" * 40, token) is None
        assert security.decode_session_token(secret, token[:-2] + "xx") is None
        assert security.decode_session_token(secret, "x" * 5000) is None

    def test_alg_none_is_refused(self) -> None:
        import jwt

        forged = jwt.encode(
            {"sid": str(uuid4()), "sub": str(uuid4()), "aud": "proveo", "exp": 9_999_999_999},
            key=None,
            algorithm="none",
        )
        assert security.decode_session_token("s" * 40, forged) is None


class TestCsrfTokens:
    def test_bound_to_the_session(self) -> None:
        secret, session = "s" * 40, uuid4()
        token = security.csrf_token_for(secret, session)
        assert security.csrf_token_matches(secret, session, token, token)
        assert not security.csrf_token_matches(secret, uuid4(), token, token)
        assert not security.csrf_token_matches(secret, session, token, "other")
        assert not security.csrf_token_matches(secret, session, "", "")
