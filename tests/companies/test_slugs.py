"""A company's address (/empresas/{slug}): readable and stable; an old one redirects until
another company takes that name.

The rules live in the database (migrations 20261206_1300 and 20261206_1550), so every way of
writing a company, the synthetic directory's COPY included, follows them.
"""

from __future__ import annotations

from asyncpg import Connection

from tests.factories import create_company, create_user


async def _slugs_of(conn: Connection, company_uuid: object) -> list[str]:
    rows = await conn.fetch(
        "SELECT s.slug FROM proveo.company_slug s JOIN proveo.company c ON c.id = s.company_id "
        "WHERE c.uuid = $1 ORDER BY s.created_at, s.slug",
        company_uuid,
    )
    return [row["slug"] for row in rows]


async def _slug(conn: Connection, company_uuid: object) -> str:
    return str(await conn.fetchval("SELECT slug FROM proveo.company WHERE uuid = $1", company_uuid))


async def _rename(conn: Connection, company_uuid: object, name: str) -> None:
    await conn.execute("UPDATE proveo.company SET name = $2 WHERE uuid = $1", company_uuid, name)


class TestSlugs:
    async def test_the_slug_is_the_name_in_plain_lower_case_words(self, conn: Connection) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, name="Constructora Ñuñoa & Hijos")
        assert await _slug(conn, company.uuid) == "constructora-nunoa-hijos"

    async def test_a_name_without_letters_still_gets_an_address(self, conn: Connection) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, name="¡¿…?!")
        assert await _slug(conn, company.uuid) == "empresa"

    async def test_a_second_company_of_the_same_name_gets_a_distinct_slug(
        self, conn: Connection
    ) -> None:
        first = await create_company(conn, (await create_user(conn)).id, name="Aseo Total")
        second = await create_company(conn, (await create_user(conn)).id, name="ASEO TOTAL")
        assert await _slug(conn, first.uuid) == "aseo-total"
        second_slug = await _slug(conn, second.uuid)
        assert second_slug.startswith("aseo-total-")
        assert second_slug != "aseo-total"

    async def test_a_rename_moves_the_slug_and_keeps_the_old_one(self, conn: Connection) -> None:
        company = await create_company(conn, (await create_user(conn)).id, name="Gasfiter Sur")
        await _rename(conn, company.uuid, "Gasfitería del Sur")
        assert await _slug(conn, company.uuid) == "gasfiteria-del-sur"
        assert await _slugs_of(conn, company.uuid) == ["gasfiter-sur", "gasfiteria-del-sur"]

    async def test_a_rename_to_the_same_words_keeps_the_slug(self, conn: Connection) -> None:
        company = await create_company(conn, (await create_user(conn)).id, name="Gasfiter Sur")
        await _rename(conn, company.uuid, "GASFITER  SUR")
        assert await _slugs_of(conn, company.uuid) == ["gasfiter-sur"]

    async def test_a_rename_back_takes_the_earlier_slug_again(self, conn: Connection) -> None:
        company = await create_company(conn, (await create_user(conn)).id, name="Norte Grande")
        await _rename(conn, company.uuid, "Norte Chico")
        await _rename(conn, company.uuid, "Norte Grande")
        assert await _slug(conn, company.uuid) == "norte-grande"
        assert await _slugs_of(conn, company.uuid) == ["norte-chico", "norte-grande"]

    async def test_a_company_taking_an_old_name_takes_its_address(self, conn: Connection) -> None:
        """Found by the adversary: one account renamed through "Sodimac", "Entel"... and kept
        those addresses redirecting to itself."""
        squatter = await create_company(conn, (await create_user(conn)).id, name="Sodimac")
        await _rename(conn, squatter.uuid, "Entel")
        await _rename(conn, squatter.uuid, "Mi Empresa Real")
        real = await create_company(conn, (await create_user(conn)).id, name="Sodimac")
        assert await _slug(conn, real.uuid) == "sodimac"
        assert await _slugs_of(conn, real.uuid) == ["sodimac"]
        assert await _slugs_of(conn, squatter.uuid) == ["entel", "mi-empresa-real"]

    async def test_a_slug_a_company_carries_now_is_never_taken(self, conn: Connection) -> None:
        holder = await create_company(conn, (await create_user(conn)).id, name="Vieja Razón")
        newcomer = await create_company(conn, (await create_user(conn)).id, name="Vieja Razon")
        assert await _slug(conn, holder.uuid) == "vieja-razon"
        assert await _slug(conn, newcomer.uuid) != "vieja-razon"

    async def test_a_taken_suffixed_slug_gets_a_further_suffix(self, conn: Connection) -> None:
        """Found by the adversary: a company holding the victim's suffixed slug made every save
        of the victim's name a 409."""
        victim = await create_company(conn, (await create_user(conn)).id, name="Otra Cosa")
        suffix = str(victim.uuid).replace("-", "")[:8]
        await create_company(conn, (await create_user(conn)).id, name="Ferreteria Central")
        await create_company(
            conn, (await create_user(conn)).id, name=f"Ferreteria Central {suffix}"
        )
        await _rename(conn, victim.uuid, "Ferretería Central")
        assert await _slug(conn, victim.uuid) == f"ferreteria-central-{suffix}-2"

    async def test_one_statement_inserting_the_same_name_twice_gives_two_slugs(
        self, conn: Connection
    ) -> None:
        first = await create_company(conn, (await create_user(conn)).id, name="Original")
        owners = [(await create_user(conn)).id for _ in range(3)]
        await conn.execute(
            """
            INSERT INTO proveo.company (user_id, product_id, commune_id, name, description_es,
                description_original_lang, description_es_source, description_en_source,
                address, phone, email)
            SELECT owner, c.product_id, c.commune_id, 'Copia Idéntica', 'Texto', 'es',
                   'original', 'pending', 'Calle 1', '+56912345678', 'a@example.com'
            FROM unnest($1::bigint[]) AS owner, proveo.company c WHERE c.uuid = $2
            """,
            owners,
            first.uuid,
        )
        slugs = await conn.fetch("SELECT slug FROM proveo.company WHERE name = 'Copia Idéntica'")
        assert len({row["slug"] for row in slugs}) == 3
