"""The server-rendered public pages: company profiles at readable addresses (and their 301s),
landing pages per category and place, what each page says about itself (title, description,
canonical, hreflang, link previews, JSON-LD), the HTML 404 beside the API's JSON one, and the
escaping of hostile company names."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage
from tests.factories import create_company, create_user

HTML = {"Accept": "text/html,application/xhtml+xml"}
BASE = "http://127.0.0.1:8000"
RM_SLUG = "region-metropolitana-de-santiago"


class _Head(HTMLParser):
    """The parts of a page a crawler reads: title, meta, link and JSON-LD."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.jsonld: list[object] = []
        self.scripts: list[dict[str, str]] = []
        self.h1 = ""
        self._in: str | None = None
        self._buffer = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = a.get("name") or a.get("property")
            if key:
                self.meta[key] = a.get("content", "")
        elif tag == "link":
            self.links.append(a)
        elif tag in ("title", "h1") or (tag == "script" and a.get("type") == "application/ld+json"):
            self._in, self._buffer = tag, ""
        if tag == "script":
            self.scripts.append(a)

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buffer += data

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        if tag == "title":
            self.title = self._buffer
        elif tag == "h1":
            self.h1 = self._buffer
        else:
            self.jsonld.append(json.loads(self._buffer))
        self._in = None

    def link(self, rel: str, hreflang: str | None = None) -> str:
        for link in self.links:
            if link.get("rel") == rel and (hreflang is None or link.get("hreflang") == hreflang):
                return link["href"]
        raise AssertionError(f"no <link rel={rel} hreflang={hreflang}>")


def parse(response: httpx.Response) -> _Head:
    head = _Head()
    head.feed(response.text)
    return head


async def _company(conn: Connection, **fields: object) -> object:
    return await create_company(conn, (await create_user(conn)).id, **fields)


class TestCompanyPage:
    async def test_spanish_page_says_what_it_is(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(conn, name="Gasfitería Ñuñoa", description_es="Arreglos 24 horas.")
        response = await client.get(app.url_path_for("site:company_es", slug="gasfiteria-nunoa"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = parse(response)
        assert page.title == "Gasfitería Ñuñoa: Construcción en Santiago · Proveo"
        assert page.h1 == "Gasfitería Ñuñoa"
        assert "Arreglos 24 horas." in page.meta["description"]
        assert page.link("canonical") == f"{BASE}/empresas/gasfiteria-nunoa"
        assert page.link("alternate", "es") == f"{BASE}/empresas/gasfiteria-nunoa"
        assert page.link("alternate", "en") == f"{BASE}/en/companies/gasfiteria-nunoa"
        assert page.link("alternate", "x-default") == f"{BASE}/empresas/gasfiteria-nunoa"
        assert page.meta["og:title"] == page.title
        assert page.meta["og:url"] == f"{BASE}/empresas/gasfiteria-nunoa"
        assert page.meta["og:image"].startswith(f"{BASE}/")
        assert page.meta["twitter:card"] == "summary"
        assert 'lang="es"' in response.text.split(">", 2)[1]

    async def test_json_ld_is_a_local_business_with_address_phone_and_logo(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, storage: ImageStorage
    ) -> None:
        company = await create_company(
            conn, (await create_user(conn)).id, storage=storage, name="Aseo Total"
        )
        response = await client.get(app.url_path_for("site:company_en", slug="aseo-total"))
        page = parse(response)
        (data,) = page.jsonld
        assert isinstance(data, dict)
        # The id company.js gives its own block.
        assert '<script type="application/ld+json" id="company-jsonld">' in response.text
        assert data["@type"] == "LocalBusiness"
        assert data["name"] == "Aseo Total"
        assert data["url"] == f"{BASE}/en/companies/aseo-total"
        assert data["telephone"] == "+56982314576"
        assert data["address"]["addressLocality"] == "Santiago"
        assert data["address"]["addressCountry"] == "CL"
        assert data["logo"] == f"{BASE}/images/{company.image_key}.webp"
        assert page.meta["og:image"] == data["logo"]
        assert page.title == "Aseo Total: Construction in Santiago · Proveo"
        assert page.link("canonical") == f"{BASE}/en/companies/aseo-total"

    async def test_the_richer_profile_shows_in_the_page_and_its_json_ld(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(
            conn,
            name="Aseo Total",
            website="https://aseo.example.cl/",
            rut="12.345.678-5",
            year_founded=1998,
            size_band="10-49",
            serves_all_chile=True,
        )
        response = await client.get(app.url_path_for("site:company_es", slug="aseo-total"))
        body = response.text
        assert 'href="https://aseo.example.cl/" rel="nofollow ugc noopener"' in body
        assert ">aseo.example.cl<" in body
        assert "12.345.678-5" in body
        assert ">1998<" in body
        assert "todo Chile" in body  # "Chile" is masculine: never "toda Chile"
        assert "toda Chile" not in body
        (data,) = parse(response).jsonld
        assert isinstance(data, dict)
        assert data["sameAs"] == ["https://aseo.example.cl/"]
        assert data["foundingDate"] == "1998"
        assert data["taxID"] == "12.345.678-5"
        assert data["areaServed"] == {"@type": "Country", "name": "Chile"}

    async def test_a_former_slug_answers_301_to_the_current_one(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await _company(conn, name="Gasfiter Sur")
        await conn.execute(
            "UPDATE proveo.company SET name = 'Gasfitería del Sur' WHERE uuid = $1",
            company.uuid,  # type: ignore[attr-defined]
        )
        for route, new in (
            ("site:company_es", "/empresas/gasfiteria-del-sur"),
            ("site:company_en", "/en/companies/gasfiteria-del-sur"),
        ):
            response = await client.get(app.url_path_for(route, slug="gasfiter-sur"))
            assert response.status_code == 301
            assert response.headers["location"] == new
            # Found by the adversary: a cached 301 met the other way after a rename back.
            assert response.headers["cache-control"] == "no-cache"

    async def test_an_address_typed_by_hand_answers_301_to_the_page(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Noticed in review: capitals and accents answered 404, unlike the landing pages.
        await _company(conn, name="Gasfitería Ñuñoa")
        for path, new in (
            ("/empresas/GASFITERIA-NUNOA", "/empresas/gasfiteria-nunoa"),
            ("/en/companies/Gasfitería-Ñuñoa", "/en/companies/gasfiteria-nunoa"),
        ):
            response = await client.get(path, headers=HTML)
            assert (response.status_code, response.headers["location"]) == (301, new)
        missing = await client.get("/empresas/NO-SUCH-COMPANY", headers=HTML)
        assert missing.status_code == 404

    async def test_an_address_without_words_or_longer_than_a_slug_is_a_404(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        """Found by the adversary: such addresses were read as the stand-in slug `empresa`, or cut
        to 80 characters, and answered 301 to whichever company had that slug."""
        await _company(conn, name="!!!")
        await _company(conn, name="a" * 90)
        assert (await client.get("/empresas/empresa", headers=HTML)).status_code == 200
        for path in (
            "/empresas/%21%21%21",
            "/empresas/-",
            "/empresas/%E2%80%8B",
            "/en/companies/%F0%9F%92%A9",
            "/empresas/" + "a" * 5000,
            "/empresas/" + "A" * 81,
        ):
            response = await client.get(path, headers=HTML)
            assert response.status_code == 404, path
        assert (await client.get("/empresas/" + "A" * 80, headers=HTML)).status_code == 301

    async def test_a_rename_back_answers_at_the_first_slug_again(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await _company(conn, name="Bucle Uno")
        for name in ("Bucle Dos", "Bucle Uno"):
            await conn.execute(
                "UPDATE proveo.company SET name = $2 WHERE uuid = $1",
                company.uuid,  # type: ignore[attr-defined]
                name,
            )
        url = app.url_path_for("site:company_es", slug="bucle-uno")
        assert (await client.get(url)).status_code == 200
        moved = await client.get(app.url_path_for("site:company_es", slug="bucle-dos"))
        assert (moved.status_code, moved.headers["location"]) == (301, "/empresas/bucle-uno")

    async def test_the_old_address_by_id_answers_301(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await _company(conn, name="Aseo Total")
        url = app.url_path_for("site:company_by_id")
        response = await client.get(url, params={"id": str(company.uuid)})  # type: ignore[attr-defined]
        assert response.status_code == 301
        assert response.headers["location"] == "/empresas/aseo-total"

    @pytest.mark.parametrize("query", ["", "?id=nope", "?id=8f5a4c1e-0000-4000-8000-000000000000"])
    async def test_the_old_address_without_a_company_is_a_404_page(
        self, client: httpx.AsyncClient, query: str
    ) -> None:
        response = await client.get(f"/company/{query}", headers=HTML)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        # In the profile's own words.
        assert parse(response).h1 == "No encontramos esta empresa"
        assert 'href="/">Buscar proveedores</a>' in response.text

    async def test_a_deleted_company_is_gone(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        company = await _company(conn, name="Aseo Total")
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE uuid = $1",
            company.uuid,  # type: ignore[attr-defined]
        )
        response = await client.get(app.url_path_for("site:company_es", slug="aseo-total"))
        assert response.status_code == 404

    async def test_a_hostile_name_is_text_everywhere(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        name = "</script><script>alert(1)</script>\"'<img src=x onerror=alert(2)>"
        await _company(conn, name=name, description_es="<b>hola</b> & </script>")
        response = await client.get(
            app.url_path_for(
                "site:company_es", slug="script-script-alert-1-script-img-src-x-onerror-alert-2"
            )
        )
        assert response.status_code == 200
        body = response.text
        assert "<script>alert(1)" not in body
        assert "<img src=x" not in body
        assert "<b>hola</b>" not in body
        # Every script element is ours: the module and the JSON-LD.
        page = parse(response)
        assert [s.get("type") for s in page.scripts] == ["application/ld+json", "module"]
        assert page.h1 == name
        (data,) = page.jsonld
        assert isinstance(data, dict)
        assert data["name"] == name
        assert "</script>" not in body.split('type="application/ld+json"')[1].split("</script>")[0]

    async def test_pages_are_compressed_for_browsers_that_take_gzip(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(conn, name="Aseo Total")
        url = app.url_path_for("site:company_es", slug="aseo-total")
        response = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert "Aseo Total" in response.text


class TestLandingPages:
    async def test_a_category_lists_its_companies_with_an_item_list(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(conn, name="Beta Gasfiter", product_name="Gasfitería")
        await _company(conn, name="Alfa Gasfiter", product_name="Gasfitería", commune_name="Temuco")
        await _company(conn, name="Otro Rubro", product_name="Construcción")
        response = await client.get(app.url_path_for("site:category_es", category="gasfiteria"))
        assert response.status_code == 200
        page = parse(response)
        assert page.title == "Gasfitería en Chile: proveedores · Proveo"
        assert page.h1 == "Gasfitería en Chile"
        assert page.meta["description"].startswith("2 proveedores de gasfitería")
        assert page.link("canonical") == f"{BASE}/proveedores/gasfiteria"
        assert page.link("alternate", "en") == f"{BASE}/en/providers/plumbing"
        item_list = next(d for d in page.jsonld if isinstance(d, dict) and d["@type"] == "ItemList")
        assert [e["name"] for e in item_list["itemListElement"]] == [
            "Alfa Gasfiter",
            "Beta Gasfiter",
        ]
        assert item_list["itemListElement"][0]["url"] == f"{BASE}/empresas/alfa-gasfiter"
        assert 'href="/empresas/beta-gasfiter"' in response.text
        assert "Otro Rubro" not in response.text
        assert 'href="/proveedores/gasfiteria/region-la-araucania"' in response.text

    async def test_a_place_lists_those_located_there_then_those_serving_it(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        """Found by the newcomer: the page said "no companies" where search found some."""
        await _company(
            conn, name="Puerto Gasfiter", product_name="Gasfitería", commune_name="Valparaíso"
        )
        serving = await _company(
            conn, name="Aromos Gasfiter", product_name="Gasfitería", commune_name="Temuco"
        )
        await conn.execute(
            "UPDATE proveo.company SET served_regions = ARRAY['Valparaíso'] WHERE uuid = $1",
            serving.uuid,  # type: ignore[attr-defined]
        )
        await _company(
            conn, name="Lejos Gasfiter", product_name="Gasfitería", commune_name="Temuco"
        )
        for place in ("region-valparaiso", "vina-del-mar"):
            response = await client.get(
                app.url_path_for("site:category_place_es", category="gasfiteria", place=place)
            )
            assert response.status_code == 200
            text = response.text
            assert "Lejos Gasfiter" not in text
            card = text[text.index('href="/empresas/aromos-gasfiter"') :].split("</li>")[0]
            assert "Atiende " in card
            if place == "region-valparaiso":
                assert parse(response).h1 == "Gasfitería en Región de Valparaíso"
                assert text.index('href="/empresas/puerto-gasfiter"') < text.index(
                    'href="/empresas/aromos-gasfiter"'
                )
                assert "robots" not in parse(response).meta

    async def test_an_empty_page_is_not_indexed_and_one_company_is_one(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(conn, name="Solo Gasfiter", product_name="Gasfitería", commune_name="Maipú")
        one = parse(
            await client.get(
                app.url_path_for("site:category_place_es", category="gasfiteria", place="maipu")
            )
        )
        assert one.meta["description"].startswith("Un proveedor de gasfitería en Maipú.")
        assert "robots" not in one.meta
        empty = await client.get(
            app.url_path_for("site:category_place_es", category="gasfiteria", place="arica")
        )
        assert empty.status_code == 200
        assert parse(empty).meta["robots"] == "noindex"

    @pytest.mark.parametrize("page", ["0", "abc", "10001", "-1", "1.5", "９"])
    async def test_a_page_number_that_is_not_one_is_the_404_page(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, page: str
    ) -> None:
        """Found by both reviewers: a browser got the API's JSON 422."""
        await _company(conn, name="Un Gasfiter", product_name="Gasfitería")
        response = await client.get(
            app.url_path_for("site:category_es", category="gasfiteria"),
            params={"page": page},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")

    async def test_a_commune_and_a_region_narrow_the_list(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _company(conn, name="En Santiago", product_name="Gasfitería")
        await _company(
            conn, name="En Providencia", product_name="Gasfitería", commune_name="Providencia"
        )
        await _company(conn, name="En Temuco", product_name="Gasfitería", commune_name="Temuco")
        commune = await client.get(
            app.url_path_for("site:category_place_es", category="gasfiteria", place="providencia")
        )
        assert commune.status_code == 200
        assert parse(commune).h1 == "Gasfitería en Providencia"
        assert "En Providencia" in commune.text
        assert "En Santiago" not in commune.text
        region = await client.get(
            app.url_path_for(
                "site:category_place_en",
                category="plumbing",
                place="region-metropolitana-de-santiago",
            )
        )
        assert region.status_code == 200
        page = parse(region)
        assert page.h1 == "Plumbing in Santiago Metropolitan Region"
        assert "En Providencia" in region.text
        assert "En Santiago" in region.text
        assert "En Temuco" not in region.text
        assert page.link("alternate", "es") == (
            f"{BASE}/proveedores/gasfiteria/region-metropolitana-de-santiago"
        )

    async def test_the_other_languages_slug_redirects_to_this_ones(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(app.url_path_for("site:category_es", category="plumbing"))
        assert response.status_code == 301
        assert response.headers["location"] == "/proveedores/gasfiteria"

    @pytest.mark.parametrize(
        ("path", "location"),
        [
            ("/proveedores/Gasfiteria", "/proveedores/gasfiteria"),
            ("/proveedores/gasfitería", "/proveedores/gasfiteria"),
            ("/proveedores/gasfiteria/Providencia", "/proveedores/gasfiteria/providencia"),
            ("/proveedores/gasfiteria/metropolitana", f"/proveedores/gasfiteria/{RM_SLUG}"),
            ("/proveedores/gasfiteria/region-metropolitana", f"/proveedores/gasfiteria/{RM_SLUG}"),
            ("/proveedores/gasfiteria/Región Metropolitana", f"/proveedores/gasfiteria/{RM_SLUG}"),
            ("/en/providers/Plumbing/metropolitana", f"/en/providers/plumbing/{RM_SLUG}"),
        ],
    )
    async def test_an_address_typed_by_hand_redirects_to_the_pages_own(
        self, client: httpx.AsyncClient, path: str, location: str
    ) -> None:
        # Found in review: only the exact slugs answered; `region=metropolitana` works in search.
        response = await client.get(path)
        assert response.status_code == 301
        assert response.headers["location"] == location

    async def test_pages_after_the_first(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        for n in range(23):
            await _company(conn, name=f"Gasfiter {n:02d}", product_name="Gasfitería")
        url = app.url_path_for("site:category_es", category="gasfiteria")
        first = await client.get(url)
        assert first.text.count('class="card landing-card"') == 20
        assert 'rel="next" href="/proveedores/gasfiteria?page=2"' in first.text
        second = await client.get(url, params={"page": 2})
        page = parse(second)
        assert second.text.count('class="card landing-card"') == 3
        assert page.link("canonical") == f"{BASE}/proveedores/gasfiteria?page=2"
        assert "(página 2)" in page.title
        assert (await client.get(url, params={"page": 3})).status_code == 404

    @pytest.mark.parametrize(
        "path",
        [
            "/proveedores/no-such-thing",
            "/proveedores/gasfiteria/no-such-place",
            "/proveedores/gasfiteria/region-los",  # Los Lagos or Los Ríos
            "/proveedores/A%20B",
        ],
    )
    async def test_unknown_categories_and_places_are_404_pages(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]


class TestNotFound:
    async def test_a_browser_gets_the_html_page_in_the_sites_layout(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/no/such/page", headers=HTML | {"Accept-Language": "es-CL"})
        assert response.status_code == 404
        page = parse(response)
        assert page.title == "Página no encontrada · Proveo"
        assert page.meta["robots"] == "noindex"
        assert 'id="site-header"' in response.text
        assert 'id="site-footer"' in response.text

    async def test_english_addresses_and_english_browsers_get_it_in_english(
        self, client: httpx.AsyncClient
    ) -> None:
        for path, accept in (("/en/nothing", "es"), ("/nothing", "en-US,en;q=0.9")):
            response = await client.get(path, headers=HTML | {"Accept-Language": accept})
            assert parse(response).title == "Page not found · Proveo"

    async def test_api_paths_keep_the_json_error(self, client: httpx.AsyncClient) -> None:
        for path, code in (("/api/v1/nothing", "not_found"), ("/images/x.webp", "image_not_found")):
            response = await client.get(path, headers=HTML)
            assert response.status_code == 404
            assert response.json()["code"] == code

    async def test_clients_that_do_not_ask_for_html_keep_the_json_error(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/no/such/page")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestStaticFiles:
    @pytest.mark.parametrize(
        ("path", "kind"),
        [
            ("/favicon.svg", "image/svg+xml"),
            ("/favicon.ico", "image/"),
            ("/manifest.webmanifest", "application/manifest+json"),
            ("/icons/icon-192.png", "image/png"),
        ],
    )
    async def test_icons_and_manifest(
        self, client: httpx.AsyncClient, path: str, kind: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)

    async def test_the_manifest_names_its_icons(self, client: httpx.AsyncClient) -> None:
        manifest = (await client.get("/manifest.webmanifest")).json()
        assert manifest["short_name"] == "Proveo"
        assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}

    @pytest.mark.parametrize(
        "path",
        ["/", "/signup/", "/login/", "/forgot-password/", "/publish/", "/account/", "/my-company/"],
    )
    async def test_every_static_page_has_its_own_title_and_description(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        page = parse(await client.get(path))
        assert page.title
        assert page.title != "Proveo"
        assert len(page.meta.get("description", "")) > 40
        assert re.search(r"\S", page.title)
