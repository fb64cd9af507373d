"""The public pages: company profiles, landing pages, the sitemap, robots.txt and the HTML 404.

Routes render through `service` and `render`; nothing here decides what a page says.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from proveo.core.deps import AppDatabase, AppSettings
from proveo.insights import service as insights_service
from proveo.insights.deps import CurrentVisitor, Recorder, audience_of
from proveo.site import service
from proveo.site.render import compressed, html_response, render_html
from proveo.site.schemas import Lang

router = APIRouter(include_in_schema=False)

SITEMAP_CACHE_CONTROL = "public, max-age=3600"
# Read by the page, not by FastAPI: a browser given `?page=abc` gets the 404 page, not JSON.
Page = Annotated[str, Query()]
MAX_PAGE = 10_000


def _page_number(page: str) -> int:
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= MAX_PAGE:
        raise service.PageNotFound()
    return int(page)


def _moved(path: str) -> RedirectResponse:
    # Not cached for long: a company renamed back to an earlier name would send a browser that
    # kept the first redirect round in a loop, and an old name may pass to another company.
    return RedirectResponse(path, status_code=301, headers={"Cache-Control": "no-cache"})


def _sitemaps(request: Request) -> service.SitemapListings:
    listings: service.SitemapListings = request.app.state.sitemap_listings
    return listings


async def _company(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    slug: str,
    lang: Lang,
    visitor: insights_service.Visitor,
    recorder: object,
) -> Response:
    page = await database.read(service.company_page, slug, lang, settings.public_base_url)
    if isinstance(page, service.Moved):
        return _moved(page.path)
    html = render_html("company.html", page.meta, page.t, view=page, jsonld_id="company-jsonld")
    response = html_response(request, html)
    insights_service.record_view(recorder, visitor, page.company.uuid, page.owner_uuid)
    return response


@router.get("/empresas/{slug}", name="site:company_es", summary="A company's page in Spanish")
async def company_es(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    slug: str,
    visitor: CurrentVisitor,
    recorder: Recorder,
) -> Response:
    return await _company(request, database, settings, slug, "es", visitor, recorder)


@router.get("/en/companies/{slug}", name="site:company_en", summary="A company's page in English")
async def company_en(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    slug: str,
    visitor: CurrentVisitor,
    recorder: Recorder,
) -> Response:
    return await _company(request, database, settings, slug, "en", visitor, recorder)


@router.get("/company/", name="site:company_by_id", summary="The old company address, redirected")
async def company_by_id(
    database: AppDatabase, id: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The old address (`/company/?id=<uuid>`) sends to the company's readable one."""
    try:
        company_uuid = UUID(id.strip())
    except ValueError as bad:
        raise service.CompanyPageNotFound() from bad
    return _moved(await database.read(service.company_path_by_uuid, company_uuid, "es"))


async def _landing(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    lang: Lang,
    category: str,
    place: str | None,
    page: str,
) -> Response:
    number = _page_number(page)
    # A category in a place: a listing planned for its filters, as search's are.
    view = await database.read_planned(
        service.landing_page, category, place, lang, number, settings.public_base_url
    )
    if isinstance(view, service.Moved):
        return _moved(view.path)
    response = html_response(request, render_html("landing.html", view.meta, view.t, view=view))
    insights_service.record_impressions(
        request.app.state, audience_of(request), [item.uuid for item in view.items]
    )
    return response


@router.get(
    "/proveedores/{category}",
    name="site:category_es",
    summary="A category's landing page in Spanish",
)
async def category_es(
    request: Request, database: AppDatabase, settings: AppSettings, category: str, page: Page = "1"
) -> Response:
    return await _landing(request, database, settings, "es", category, None, page)


@router.get(
    "/proveedores/{category}/{place}",
    name="site:category_place_es",
    summary="A category in a region or commune, in Spanish",
)
async def category_place_es(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    category: str,
    place: str,
    page: Page = "1",
) -> Response:
    return await _landing(request, database, settings, "es", category, place, page)


@router.get(
    "/en/providers/{category}",
    name="site:category_en",
    summary="A category's landing page in English",
)
async def category_en(
    request: Request, database: AppDatabase, settings: AppSettings, category: str, page: Page = "1"
) -> Response:
    return await _landing(request, database, settings, "en", category, None, page)


@router.get(
    "/en/providers/{category}/{place}",
    name="site:category_place_en",
    summary="A category in a region or commune, in English",
)
async def category_place_en(
    request: Request,
    database: AppDatabase,
    settings: AppSettings,
    category: str,
    place: str,
    page: Page = "1",
) -> Response:
    return await _landing(request, database, settings, "en", category, place, page)


def _xml(request: Request, body: bytes) -> Response:
    return compressed(
        request,
        body,
        media_type="application/xml",
        headers={"Cache-Control": SITEMAP_CACHE_CONTROL},
    )


@router.get("/sitemap.xml", name="site:sitemap", summary="The sitemap index")
async def sitemap_index(request: Request, settings: AppSettings) -> Response:
    return _xml(request, await _sitemaps(request).index(settings.public_base_url))


def _file_number(request: Request, number: int) -> int:
    """One address per file: `companies-01.xml` is not `companies-1.xml` (a 404)."""
    if not request.url.path.endswith(f"-{number}.xml"):
        raise service.PageNotFound()
    return number


@router.get(
    "/sitemaps/companies-{number:int}.xml",
    name="site:sitemap_companies",
    summary="A sitemap file of company pages",
)
async def sitemap_companies(request: Request, settings: AppSettings, number: int) -> Response:
    listings = _sitemaps(request)
    body = await listings.companies(settings.public_base_url, _file_number(request, number))
    return _xml(request, body)


@router.get(
    "/sitemaps/landings-{number:int}.xml",
    name="site:sitemap_landings",
    summary="A sitemap file of landing pages",
)
async def sitemap_landings(request: Request, settings: AppSettings, number: int) -> Response:
    listings = _sitemaps(request)
    body = await listings.landing_file(settings.public_base_url, _file_number(request, number))
    return _xml(request, body)


@router.get("/robots.txt", name="site:robots", summary="robots.txt")
async def robots(settings: AppSettings) -> Response:
    return Response(
        service.robots_txt(settings.public_base_url),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": SITEMAP_CACHE_CONTROL},
    )


# --- The HTML 404 -------------------------------------------------------------------------


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "").lower()


def not_found_page(request: Request, kind: str = "page") -> Response:
    path = request.url.path
    lang = service.preferred_lang(path, request.headers.get("accept-language"))
    settings = request.app.state.settings
    meta = service.not_found_meta(settings.public_base_url, lang, path, kind)
    html = render_html("not_found.html", meta, kind=kind)
    return html_response(request, html, status_code=404, cache_control="no-cache")


async def _answer(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def install_not_found_page(app: FastAPI, *, api_prefixes: tuple[str, ...]) -> None:
    """An unknown address answers a browser (Accept: text/html) with the site's 404 page in its
    language; API paths, and clients that do not ask for HTML, keep the JSON error."""
    json_handler = app.exception_handlers[StarletteHTTPException]

    def is_api(path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in api_prefixes)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and wants_html(request) and not is_api(request.url.path):
            return not_found_page(request)
        return await _answer(json_handler(request, exc))

    async def page_not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, service.PageNotFound)
        if wants_html(request) or not is_api(request.url.path):
            return not_found_page(request, exc.kind)
        return await _answer(json_handler(request, StarletteHTTPException(404)))

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(service.PageNotFound, page_not_found)
