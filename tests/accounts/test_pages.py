"""The account pages the server answers: the verification result and the old reset address."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from proveo.config import Settings
from tests.factories import outbox_messages, verification_link

SIGNUP = "/api/v1/users/signup"


async def _link(client: httpx.AsyncClient, settings: Settings) -> str:
    response = await client.post(
        SIGNUP, json={"name": "Ana", "email": "ana@example.com", "password": "Proveo-2026"}
    )
    assert response.status_code == 201, response.text
    link = verification_link(outbox_messages(settings.outbox_dir)[-1])
    return "/" + link.split("/", 3)[3]


class TestVerificationPage:
    async def test_wears_the_front_end_design_and_its_script(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        page = (await client.get(await _link(client, settings))).text
        assert '<link rel="stylesheet" href="/css/app.css">' in page
        assert '<script type="module" src="/js/pages/verify-email.js"></script>' in page
        assert 'data-outcome="verified"' in page
        assert 'href="/publish/"' in page
        assert "<script>" not in page
        assert "style=" not in page

    async def test_a_link_opened_elsewhere_offers_logging_in_and_coming_back(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        path = await _link(client, settings)
        client.cookies.clear()
        response = await client.get(path)
        assert response.status_code == 403
        assert 'data-outcome="needs_proof"' in response.text
        assert f'href="/login/?next={quote(path, safe="")}"' in response.text

    @pytest.mark.parametrize("token", ["forged", '"><img src=x onerror=alert(1)>'])
    async def test_an_invalid_link_offers_a_new_one_and_echoes_nothing(
        self, client: httpx.AsyncClient, token: str
    ) -> None:
        response = await client.get(f"/api/v1/users/verify-email/{quote(token, safe='')}")
        assert response.status_code == 400
        assert 'href="/signup/?resend=1"' in response.text
        assert "<img" not in response.text


class TestOldResetAddress:
    async def test_redirects_to_the_reset_page(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(app.url_path_for("pages:reset_password"))
        assert response.status_code == 301
        # The browser keeps the link's `#token=…` across a Location without a fragment.
        assert response.headers["location"] == "/reset-password/"

    async def test_the_reset_page_and_its_script_are_served(
        self, client: httpx.AsyncClient
    ) -> None:
        page = await client.get("/reset-password/")
        assert page.status_code == 200
        assert '<script type="module" src="/js/pages/reset-password.js"></script>' in page.text
        assert (await client.get("/js/pages/reset-password.js")).status_code == 200
        assert (await client.get("/js/reset-password.js")).status_code == 404


class TestSeedFrontPage:
    async def test_the_seed_address_sends_to_the_front_page(
        self, client: httpx.AsyncClient
    ) -> None:
        page = await client.get("/front-page/front-page.html")
        assert page.status_code == 200
        assert '<meta http-equiv="refresh" content="0; url=/">' in page.text
