"""Rules the database itself enforces, whatever the application code does."""

from __future__ import annotations

import asyncpg
import pytest

from proveo.core.db import Connection


async def _user(conn: Connection, email: str) -> int:
    user_id: int = await conn.fetchval(
        "INSERT INTO proveo.user_account (name, email, password_hash) VALUES ('U', $1, 'x') "
        "RETURNING id",
        email,
    )
    return user_id


async def _company(conn: Connection, user_id: int, name: str = "Acme") -> int:
    company_id: int = await conn.fetchval(
        """
        INSERT INTO proveo.company (user_id, product_id, commune_id, name, description_es,
            description_original_lang, description_es_source, description_en_source,
            address, phone, email)
        VALUES ($1, (SELECT min(id) FROM proveo.product), (SELECT min(id) FROM proveo.commune),
            $2, 'Hola', 'es', 'original', 'pending', 'Calle 1', '+56912345678', 'a@b.cl')
        RETURNING id
        """,
        user_id,
        name,
    )
    return company_id


class TestOneLiveCompanyPerUser:
    async def test_second_live_company_is_refused(self, conn: Connection) -> None:
        user_id = await _user(conn, "one@proveo.test")
        await _company(conn, user_id)
        with pytest.raises(asyncpg.UniqueViolationError, match="uq_company_user_live"):
            async with conn.transaction():
                await _company(conn, user_id, "Second")

    async def test_allowed_after_soft_delete(self, conn: Connection) -> None:
        user_id = await _user(conn, "two@proveo.test")
        first = await _company(conn, user_id)
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", first)
        assert await _company(conn, user_id, "Again") != first


class TestEmailUniqueness:
    async def test_case_insensitive_among_live_users(self, conn: Connection) -> None:
        await _user(conn, "Case@Proveo.test")
        with pytest.raises(asyncpg.UniqueViolationError):
            async with conn.transaction():
                await _user(conn, "case@proveo.TEST")

    async def test_deleted_user_frees_the_email(self, conn: Connection) -> None:
        old = await _user(conn, "free@proveo.test")
        await conn.execute("UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", old)
        assert await _user(conn, "free@proveo.test") != old


class TestAuditLogIsAppendOnly:
    async def test_update_and_delete_are_refused(self, conn: Connection) -> None:
        await conn.execute(
            "INSERT INTO proveo.admin_audit_log (actor_uuid, action, target_type) "
            "VALUES (gen_random_uuid(), 'company.delete', 'company')"
        )
        for statement in (
            "UPDATE proveo.admin_audit_log SET action = 'forged'",
            "DELETE FROM proveo.admin_audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                async with conn.transaction():
                    await conn.execute(statement)


class TestCompanyConstraints:
    async def test_needs_at_least_one_description(self, conn: Connection) -> None:
        user_id = await _user(conn, "desc@proveo.test")
        company_id = await _company(conn, user_id)
        with pytest.raises(asyncpg.CheckViolationError, match="ck_company_"):
            async with conn.transaction():
                await conn.execute(
                    "UPDATE proveo.company SET description_es = NULL, "
                    "description_es_source = 'pending' WHERE id = $1",
                    company_id,
                )

    @pytest.mark.parametrize(
        ("assignment", "constraint"),
        [
            # A pending description has no text; one with text is not pending.
            ("description_en = 'Hello'", "ck_company_description_en_pending"),
            ("description_es_source = 'pending'", "ck_company_description_es_pending"),
            # Only the original language's description is the original.
            ("description_original_lang = 'en'", "ck_company_description_original"),
            ("description_es_source = 'human'", "ck_company_description_original"),
        ],
    )
    async def test_provenance_is_consistent(
        self, conn: Connection, assignment: str, constraint: str
    ) -> None:
        user_id = await _user(conn, "provenance@proveo.test")
        company_id = await _company(conn, user_id)
        with pytest.raises(asyncpg.CheckViolationError, match=constraint):
            async with conn.transaction():
                await conn.execute(
                    f"UPDATE proveo.company SET {assignment} WHERE id = $1",  # noqa: S608
                    company_id,
                )

    async def test_phone_must_be_e164(self, conn: Connection) -> None:
        user_id = await _user(conn, "phone@proveo.test")
        company_id = await _company(conn, user_id)
        with pytest.raises(asyncpg.CheckViolationError, match="ck_company_phone"):
            async with conn.transaction():
                await conn.execute(
                    "UPDATE proveo.company SET phone = '09 1234' WHERE id = $1", company_id
                )


class TestFold:
    async def test_folds_accents_and_case(self, conn: Connection) -> None:
        assert await conn.fetchval("SELECT proveo.fold('ÑUÑOA Peñalolén')") == "nunoa penalolen"
