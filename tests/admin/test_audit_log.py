"""Issue 16.10: the audit log names who acted and what they acted on, and filters by email."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.admin import service as admin_service
from proveo.core.db import Connection
from tests.factories import create_company, create_user, log_in


def _actor(uuid: object) -> admin_service.AdminActor:
    return admin_service.AdminActor(uuid=uuid, ip=None, request_id=None)  # type: ignore[arg-type]


async def _page(app: FastAPI, client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get(app.url_path_for("admin:audit_log"), params=params)


class TestAuditEntriesCarryNames:
    async def test_the_actors_email_and_the_targets_name(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN, email="Revisora.Larga@proveo.cl")
        owner = await create_user(conn)
        company = await create_company(conn, owner.id, name="Servicios Ñandú")
        await admin_service.record_admin_action(
            conn, _actor(admin.uuid), action="company.update", target_type="company",
            target_uuid=company.uuid, before={"commune_name": "Providencia"},
            after={"commune_name": "Ñuñoa"},
        )  # fmt: skip
        await admin_service.record_admin_action(
            conn, _actor(admin.uuid), action="user.delete", target_type="user",
            target_uuid=owner.uuid,
        )  # fmt: skip
        await log_in(client, admin)
        response = await _page(app, client)
        assert response.status_code == 200
        user_entry, company_entry = response.json()
        assert company_entry["actor_email"] == "Revisora.Larga@proveo.cl"
        assert company_entry["actor_name"] == admin.name
        assert company_entry["target_name"] == "Servicios Ñandú"
        assert company_entry["changes"]["after"] == {"commune_name": "Ñuñoa"}
        assert user_entry["target_name"] == owner.email

    async def test_products_have_both_names_and_the_cli_has_no_email(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        session = await log_in(client, admin)
        created = await client.post(
            "/api/v1/products/",
            json={"name_es": "Rubro Audit", "name_en": "Audit Category"},
            headers=session.headers,
        )
        assert created.status_code == 201, created.text
        await admin_service.record_admin_action(
            conn, admin_service.CLI_ACTOR, action="user.create", target_type="user",
            target_uuid=admin.uuid,
        )  # fmt: skip
        cli_entry, product_entry = (await _page(app, client)).json()
        assert (product_entry["target_name"], product_entry["target_name_en"]) == (
            "Rubro Audit",
            "Audit Category",
        )
        assert cli_entry["actor_email"] is None
        assert cli_entry["target_name"] == admin.email

    async def test_a_target_gone_has_no_name(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        await admin_service.record_admin_action(
            conn, _actor(admin.uuid), action="commune.delete", target_type="commune",
            target_uuid=admin.uuid, before={"name": "Ñuñoa"},
        )  # fmt: skip
        await log_in(client, admin)
        [entry] = (await _page(app, client)).json()
        assert entry["target_name"] is None


class TestFilterByActorEmail:
    async def test_an_email_picks_its_actor_case_insensitively(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        ana = await create_user(conn, role=Role.ADMIN, email="ana@proveo.cl")
        bea = await create_user(conn, role=Role.ADMIN, email="bea@proveo.cl")
        for actor, count in ((ana, 2), (bea, 3)):
            for _ in range(count):
                await admin_service.record_admin_action(
                    conn, _actor(actor.uuid), action="user.update", target_type="user",
                    target_uuid=actor.uuid,
                )  # fmt: skip
        await log_in(client, ana)
        response = await _page(app, client, actor_email=" BEA@Proveo.cl ")
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "3"
        assert {entry["actor_uuid"] for entry in response.json()} == {str(bea.uuid)}
        both = await _page(app, client, actor_email="ana@proveo.cl", action="user.update")
        assert both.headers["X-Total-Count"] == "2"

    async def test_an_email_that_never_acted_finds_nothing(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        admin = await create_user(conn, role=Role.ADMIN)
        await admin_service.record_admin_action(
            conn, _actor(admin.uuid), action="user.update", target_type="user",
            target_uuid=admin.uuid,
        )  # fmt: skip
        await create_user(conn, email="nadie@proveo.cl")
        await log_in(client, admin)
        for email in ("nadie@proveo.cl", "unknown@proveo.cl", "%", "' OR 1=1 --"):
            response = await _page(app, client, actor_email=email)
            assert response.status_code == 200
            assert (response.json(), response.headers["X-Total-Count"]) == ([], "0")

    async def test_every_account_that_had_the_address_counts(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        """A deleted account frees its email; its entries stay the address's."""
        old = await create_user(conn, role=Role.ADMIN, email="rota@proveo.cl")
        await admin_service.record_admin_action(
            conn, _actor(old.uuid), action="user.update", target_type="user", target_uuid=old.uuid
        )
        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE id = $1", old.id
        )
        new = await create_user(conn, role=Role.ADMIN, email="rota@proveo.cl")
        await admin_service.record_admin_action(
            conn, _actor(new.uuid), action="user.update", target_type="user", target_uuid=new.uuid
        )
        await log_in(client, new)
        response = await _page(app, client, actor_email="rota@proveo.cl")
        assert response.headers["X-Total-Count"] == "2"

    async def test_an_overlong_email_is_422(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        await log_in(client, await create_user(conn, role=Role.ADMIN))
        assert (await _page(app, client, actor_email="a" * 255)).status_code == 422


class TestActorSuggestions:
    async def test_lists_the_accounts_that_acted_by_email(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        ana = await create_user(conn, role=Role.ADMIN, email="ana@proveo.cl")
        bea = await create_user(conn, role=Role.ADMIN, email="bea@otra.cl")
        await create_user(conn, role=Role.ADMIN, email="idle@proveo.cl")  # never acted
        for actor in (bea, ana, ana):
            await admin_service.record_admin_action(
                conn, _actor(actor.uuid), action="user.update", target_type="user",
                target_uuid=actor.uuid,
            )  # fmt: skip
        await log_in(client, ana)
        url = app.url_path_for("admin:audit_actors")
        everyone = (await client.get(url)).json()
        assert [actor["email"] for actor in everyone] == ["ana@proveo.cl", "bea@otra.cl"]
        assert set(everyone[0]) == {"uuid", "email", "name", "deleted"}
        matching = (await client.get(url, params={"q": "OTRA"})).json()
        assert [actor["uuid"] for actor in matching] == [str(bea.uuid)]

    async def test_admins_only(
        self, app: FastAPI, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        url = app.url_path_for("admin:audit_actors")
        assert (await client.get(url)).status_code == 401
        await log_in(client, await create_user(conn))
        assert (await client.get(url)).status_code == 403
