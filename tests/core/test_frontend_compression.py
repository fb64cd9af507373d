"""The front end's text files are sent gzipped to browsers that take it: compressed once per
file version, with an ETag of their own and `Vary: Accept-Encoding`; images and small files as
they are."""

from __future__ import annotations

import gzip

import httpx


class TestStaticCompression:
    async def test_scripts_and_styles_are_gzipped_for_browsers_that_take_it(
        self, client: httpx.AsyncClient
    ) -> None:
        for path in ("/js/i18n.js", "/css/app.css"):
            plain = await client.get(path, headers={"Accept-Encoding": "identity"})
            packed = await client.get(path, headers={"Accept-Encoding": "gzip, br"})
            assert "content-encoding" not in plain.headers
            assert packed.headers["content-encoding"] == "gzip"
            assert packed.content == plain.content  # httpx decodes it
            assert int(packed.headers["content-length"]) < len(plain.content) / 2
            assert packed.headers["vary"] == "Accept-Encoding"
            assert plain.headers["vary"] == "Accept-Encoding"
            assert packed.headers["etag"] != plain.headers["etag"]

    async def test_each_representation_revalidates_with_its_own_etag(
        self, client: httpx.AsyncClient
    ) -> None:
        gz = {"Accept-Encoding": "gzip"}
        first = await client.get("/css/app.css", headers=gz)
        again = await client.get(
            "/css/app.css", headers=gz | {"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        plain = await client.get(
            "/css/app.css",
            headers={"Accept-Encoding": "identity", "If-None-Match": first.headers["etag"]},
        )
        assert plain.status_code == 200

    async def test_images_are_sent_as_they_are(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/icons/icon-512.png", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "content-encoding" not in response.headers

    async def test_the_compressed_bytes_are_the_files(self, client: httpx.AsyncClient) -> None:
        async with client.stream(
            "GET", "/js/api.js", headers={"Accept-Encoding": "gzip"}
        ) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        plain = await client.get("/js/api.js", headers={"Accept-Encoding": "identity"})
        assert gzip.decompress(raw) == plain.content
