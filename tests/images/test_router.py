from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from proveo.integrations.storage import ImageStorage, new_image_key


class TestServeImage:
    async def test_serves_stored_webp_with_immutable_caching(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        storage: ImageStorage = app.state.storage
        name = f"{new_image_key()}.webp"
        await storage.put(name, b"RIFF....WEBP", "image/webp")
        response = await client.get(app.url_path_for("images:get", name=name))
        assert response.status_code == 200
        assert response.content == b"RIFF....WEBP"
        assert response.headers["content-type"] == "image/webp"
        assert "immutable" in response.headers["cache-control"]

    @pytest.mark.parametrize(
        "name", ["missing-but-valid-key-000000.webp", "..%2F..%2Fetc%2Fpasswd", "x.webp", "a.png"]
    )
    async def test_unknown_or_hostile_names_are_404_json(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        response = await client.get(f"/images/{name}")
        assert response.status_code == 404
        assert response.json()["code"] in {"image_not_found", "not_found"}
