"""The public pages' rules: which address is canonical, what each page says about itself
(title, description, alternates, link previews, schema.org data), and the sitemap.

A company page reads the company through the companies service (the API's own function); the
slug rules live in the database (migration 20261206_1300).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID
from xml.sax.saxutils import escape as xml_escape

from proveo.catalog.data import REGION_TITLES, REGIONS
from proveo.companies import service as companies_service
from proveo.companies.schemas import CompanyPublic, format_phone
from proveo.core.cache import Cache
from proveo.core.db import Connection, Database
from proveo.site import repository
from proveo.site.schemas import (
    Category,
    CompanyList,
    Lang,
    NearbyPlace,
    Place,
    SitemapChunk,
    SitemapEntry,
)
from proveo.site.strings import Words, words

PAGE_SIZE = 20
# A sitemap file holds at most 50,000 URLs (sitemaps.org); each company gives two (es, en).
SITEMAP_MAX_URLS = 50_000
SITEMAP_CACHE_SECONDS = 3600
MAX_DESCRIPTION = 160
NEARBY_PLACES = 24
DEFAULT_IMAGE = "/icons/icon-512.png"

# Logos under /images/ stay crawlable: they are the pages' preview images and JSON-LD logos.
ROBOTS_DISALLOW = (
    "/api/",
    "/admin/",
    "/my-company/",
    "/publish/",
    "/account/",
    "/login/",
    "/signup/",
    "/forgot-password/",
    "/reset-password/",
    "/docs",
    "/redoc",
)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


class PageNotFound(Exception):
    """No page at this address (the router answers the HTML 404 page)."""

    kind = "page"


class CompanyPageNotFound(PageNotFound):
    """No live company at this address: the 404 page says so in the profile's words."""

    kind = "company"


@dataclass(frozen=True)
class Moved:
    """The page lives at `path` now: a permanent redirect."""

    path: str


@dataclass
class Alternate:
    hreflang: str
    href: str


@dataclass
class PageMeta:
    lang: Lang
    title: str
    description: str
    canonical: str
    alternates: list[Alternate]
    image: str
    image_alt: str
    og_type: str = "website"
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    robots: str | None = None


# --- Addresses ------------------------------------------------------------------------------


def is_slug(value: str) -> bool:
    return len(value) <= 100 and bool(_SLUG.match(value))


def company_path(lang: Lang, slug: str) -> str:
    return f"/en/companies/{slug}" if lang == "en" else f"/empresas/{slug}"


def landing_path(lang: Lang, category: Category, place: Place | None = None) -> str:
    base = (
        f"/en/providers/{category.slug_en}" if lang == "en" else f"/proveedores/{category.slug_es}"
    )
    return f"{base}/{place.slug}" if place else base


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def alternates(base_url: str, path_es: str, path_en: str) -> list[Alternate]:
    return [
        Alternate("es", absolute(base_url, path_es)),
        Alternate("en", absolute(base_url, path_en)),
        Alternate("x-default", absolute(base_url, path_es)),
    ]


def lang_of_path(path: str) -> Lang:
    return "en" if path == "/en" or path.startswith("/en/") else "es"


def preferred_lang(path: str, accept_language: str | None) -> Lang:
    """The page's language: its address says so (`/en/…`), else the browser's first of es/en."""
    if lang_of_path(path) == "en":
        return "en"
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("es", "en"):
            return "es" if code == "es" else "en"
    return "es"


# --- Formatting shared with the scripts (js/market/company-view.js) -------------------------


def tel_href(phone: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", phone or "")


def mailto_href(email: str) -> str:
    return "mailto:" + quote(email or "", safe="@")


def whatsapp_href(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if not digits or (digits.startswith("56") and not digits.startswith("569")):
        return None
    return f"https://wa.me/{digits}"


def maps_href(address: str, commune: str) -> str:
    query = ", ".join(part for part in (address, commune, "Chile") if part)
    return "https://www.google.com/maps/search/?api=1&query=" + quote(query, safe="")


def initials(name: str) -> str:
    letters = []
    for word in name.split():
        kept = [ch for ch in word if unicodedata.category(ch)[0] in "LN"]
        if kept:
            letters.append(kept[0])
        if len(letters) == 2:
            break
    return "".join(letters).upper() or "·"


def hue_class(name: str) -> str:
    total = 0
    for ch in name:
        total = (total * 31 + ord(ch)) % 9973
    return f"logo-hue-{total % 6}"


def format_date(value: datetime, lang: Lang) -> str:
    if lang == "en":
        return f"{value:%B} {value.day}, {value.year}"
    return f"{value.day} de {_MONTHS_ES[value.month - 1]} de {value.year}"


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:-")
    return cut + "…"


def image_url(base_url: str, key: str | None, *, thumbnail: bool = False) -> str | None:
    if key is None:
        return None
    return absolute(base_url, f"/images/{key}{'_thumb' if thumbnail else ''}.webp")


# --- Company pages -------------------------------------------------------------------------


@dataclass
class CompanyView:
    company: CompanyPublic
    # Not shown: whose page it is (a view by its owner is not counted).
    owner_uuid: UUID
    meta: PageMeta
    t: Words
    product: str
    place: str
    description: str
    description_lang: str
    translation_note: str | None
    since: str
    phone: str
    tel: str
    whatsapp: str | None
    mailto: str
    maps: str
    initials: str
    hue: str
    search_product: str
    search_commune: str
    facts: list[Fact]
    photos: list[Photo]


async def company_target(conn: Connection, slug: str, lang: Lang) -> tuple[UUID, str] | Moved:
    """The company at `slug` (or at `slug` typed by hand: `IMPRENTA-LA-PORTADA`), or where a
    former slug's company lives now."""
    target = None
    for form in _slug_forms(slug):
        target = await repository.select_slug_target(conn, form)
        if target is not None:
            break
    if target is None:
        raise CompanyPageNotFound()
    if target.slug != slug:
        return Moved(company_path(lang, target.slug))
    return target.uuid, target.slug


async def company_path_by_uuid(conn: Connection, company_uuid: UUID, lang: Lang) -> str:
    target = await repository.select_slug_of_company(conn, company_uuid)
    if target is None:
        raise CompanyPageNotFound()
    return company_path(lang, target.slug)


def _extra_fields(company: CompanyPublic) -> dict[str, Any]:
    """What the richer profiles add (website, RUT, categories, year founded, size band, served
    regions, photos), when the company has it."""
    data = company.model_dump()
    return {key: value for key, value in data.items() if value not in (None, "", [])}


@dataclass
class Fact:
    key: str
    label: str
    value: str
    href: str | None = None


@dataclass
class Photo:
    href: str
    src: str
    alt: str


def website_label(url: str) -> str:
    return re.sub(r"^https?://", "", url, flags=re.IGNORECASE).removesuffix("/")


def category_names(extra: dict[str, Any], product: str, lang: Lang) -> list[str]:
    names = [product]
    for item in extra.get("extra_products", []):
        names.append(item["name_en"] if lang == "en" else item["name_es"])
    return [name for name in names if name]


def profile_facts(extra: dict[str, Any], product: str, commune_region: str, t: Words) -> list[Fact]:
    """The rows js/market/company-view.js `profileFacts` shows, in its order and words."""
    facts = []
    if extra.get("website"):
        facts.append(
            Fact("website", t("website"), website_label(extra["website"]), extra["website"])
        )
    if extra.get("rut_formatted"):
        facts.append(Fact("rut", t("rut"), extra["rut_formatted"]))
    categories = category_names(extra, product, t.lang)
    if len(categories) > 1:
        facts.append(Fact("categories", t("categories"), " · ".join(categories)))
    if extra.get("year_founded"):
        facts.append(Fact("yearFounded", t("yearFounded"), str(extra["year_founded"])))
    if extra.get("size_band"):
        facts.append(Fact("sizeBand", t("sizeBand"), t("sizePeople", band=extra["size_band"])))
    if "served_regions" in extra or "serves_all_chile" in extra:
        served = (
            t("allChile")
            if extra.get("serves_all_chile")
            else ", ".join(extra.get("served_regions") or [commune_region])
        )
        facts.append(Fact("serves", t("serves"), served))
    return facts


def gallery(extra: dict[str, Any], name: str, t: Words) -> list[Photo]:
    photos = [photo for photo in extra.get("photos", []) if photo.get("image_url")]
    return [
        Photo(
            href=photo["image_url"],
            src=photo.get("thumbnail_url") or photo["image_url"],
            alt=t("photo", n=n, name=name),
        )
        for n, photo in enumerate(photos, start=1)
    ]


def company_jsonld(
    company: CompanyPublic, canonical: str, base_url: str, lang: Lang, description: str
) -> dict[str, Any]:
    logo = image_url(base_url, _key_of(company.image_url))
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "@id": canonical,
        "name": company.name,
        "url": canonical,
        "description": description or None,
        "telephone": company.phone or None,
        "email": company.email or None,
        "logo": logo,
        "image": logo,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": company.address,
            "addressLocality": company.commune_name,
            "addressRegion": company.commune_region,
            "addressCountry": "CL",
        },
        "inLanguage": lang,
    }
    extra = _extra_fields(company)
    product = company.product_name_en if lang == "en" else company.product_name_es
    categories = category_names(extra, product, lang)
    data["knowsAbout"] = categories if len(categories) > 1 else product
    if extra.get("website"):
        data["sameAs"] = [extra["website"]]
    if extra.get("year_founded"):
        data["foundingDate"] = str(extra["year_founded"])
    if extra.get("rut_formatted"):
        data["taxID"] = extra["rut_formatted"]
    if extra.get("serves_all_chile"):
        data["areaServed"] = {"@type": "Country", "name": "Chile"}
    elif extra.get("served_regions"):
        data["areaServed"] = [
            {"@type": "AdministrativeArea", "name": region} for region in extra["served_regions"]
        ]
    return {key: value for key, value in data.items() if value is not None}


def _key_of(url: str | None) -> str | None:
    if not url:
        return None
    m = re.fullmatch(r"/images/([A-Za-z0-9_-]+)\.webp", url)
    return m[1] if m else None


async def company_page(
    conn: Connection, slug: str, lang: Lang, base_url: str
) -> CompanyView | Moved:
    found = await company_target(conn, slug, lang)
    if isinstance(found, Moved):
        return found
    company_uuid, current = found
    try:
        company, owner_uuid = await companies_service.get_company_with_owner(conn, company_uuid)
    except companies_service.CompanyNotFound as missing:
        raise CompanyPageNotFound() from missing
    t = words(lang)
    product = company.product_name_en if lang == "en" else company.product_name_es
    text = company.description_en if lang == "en" else company.description_es
    source = company.description_en_source if lang == "en" else company.description_es_source
    original = company.description_original_lang
    note = None
    if source in ("machine", "pending") and original != lang:
        note = t("machine" if source == "machine" else "pending")
    canonical = absolute(base_url, company_path(lang, current))
    summary = t(
        "company_description",
        name=company.name,
        product=product,
        commune=company.commune_name,
        region=company.commune_region,
    )
    meta = PageMeta(
        lang=lang,
        title=t("company_title", name=company.name, product=product, commune=company.commune_name),
        description=shorten(f"{summary} {text}"),
        canonical=canonical,
        alternates=alternates(base_url, company_path("es", current), company_path("en", current)),
        image=(company.image_url and absolute(base_url, company.image_url))
        or absolute(base_url, DEFAULT_IMAGE),
        image_alt=t("logo_alt", name=company.name),
        og_type="profile",
        jsonld=[company_jsonld(company, canonical, base_url, lang, text)],
    )
    return CompanyView(
        company=company,
        owner_uuid=owner_uuid,
        meta=meta,
        t=t,
        product=product,
        place=", ".join(part for part in (company.commune_name, company.commune_region) if part),
        description=text,
        description_lang=original if note else lang,
        translation_note=note,
        since=t("since", date=format_date(company.created_at, lang)),
        phone=format_phone(company.phone),
        tel=tel_href(company.phone),
        whatsapp=whatsapp_href(company.phone),
        mailto=mailto_href(company.email),
        maps=maps_href(company.address, company.commune_name),
        initials=initials(company.name),
        hue=hue_class(company.name),
        search_product=f"/?product={company.product_uuid}",
        search_commune=f"/?commune={company.commune_uuid}",
        facts=profile_facts(_extra_fields(company), product, company.commune_region, t),
        photos=gallery(_extra_fields(company), company.name, t),
    )


# --- Landing pages -------------------------------------------------------------------------


@dataclass
class ListedView:
    uuid: UUID
    name: str
    href: str
    description: str
    product: str
    place: str
    thumbnail: str | None
    initials: str
    hue: str
    serves: str | None = None  # "Atiende …": located elsewhere, serving the page's place


@dataclass
class LandingView:
    meta: PageMeta
    t: Words
    heading: str
    count_text: str
    items: list[ListedView]
    page: int
    pages: int
    prev_href: str | None
    next_href: str | None
    places: list[tuple[str, str, int]]
    places_title: str
    up_href: str | None
    up_label: str | None
    search_href: str
    breadcrumbs: list[tuple[str, str]]


def place_label(lang: Lang, place: Place) -> str:
    if place.kind != "region":
        return place.name
    return REGION_TITLES.get(place.name, {}).get(lang, place.name)


async def landing_page(
    conn: Connection,
    category_slug: str,
    place_slug: str | None,
    lang: Lang,
    page: int,
    base_url: str,
) -> LandingView | Moved:
    category = await _category_at(conn, category_slug)
    if category is None:
        raise PageNotFound()
    place = None
    if place_slug is not None:
        place = await _place_at(conn, place_slug)
        if place is None:
            raise PageNotFound()
    path = landing_path(lang, category, place)
    if category.slug(lang) != category_slug or (place is not None and place.slug != place_slug):
        return Moved(path + (f"?page={page}" if page > 1 else ""))
    listing: CompanyList = await repository.select_companies_in_category(
        conn, category, place, lang=lang, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, math.ceil(listing.total / PAGE_SIZE))
    if page > pages:
        raise PageNotFound()
    nearby: list[NearbyPlace] = []
    if place is None or place.kind == "region":
        nearby = await repository.select_places_of_category(
            conn, category, place, limit=NEARBY_PLACES
        )
    t = words(lang)
    product = category.name(lang)
    label = place_label(lang, place) if place else None
    heading = (
        t("landing_heading_place", product=product, place=label)
        if label
        else t("landing_heading", product=product)
    )
    title = (
        t("landing_title_place", product=product, place=label)
        if label
        else t("landing_title", product=product)
    )
    count = listing.total
    one = "_one" if count == 1 else ""
    description = (
        t(f"landing_description_place{one}", count=count, product=product.lower(), place=label)
        if label
        else t(f"landing_description{one}", count=count, product=product.lower())
    )
    if page > 1:
        title = title.replace(" · Proveo", t("page_title_suffix", page=page) + " · Proveo")
    query = f"?page={page}" if page > 1 else ""
    canonical = absolute(base_url, path + query)
    items = [
        ListedView(
            uuid=item.uuid,
            name=item.name,
            href=company_path(lang, item.slug),
            description=shorten(item.description, 180),
            product=item.product_name_en if lang == "en" else item.product_name_es,
            place=", ".join((item.commune_name, item.commune_region)),
            serves=t("landing_serves", place=label) if item.serves and label else None,
            thumbnail=image_url("", item.image_key, thumbnail=True),
            initials=initials(item.name),
            hue=hue_class(item.name),
        )
        for item in listing.items
    ]
    jsonld: list[dict[str, Any]] = [
        {
            "@context": "https://schema.org",
            "@type": "ItemList",
            "name": heading,
            "numberOfItems": count,
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": (page - 1) * PAGE_SIZE + index,
                    "url": absolute(base_url, item.href),
                    "name": item.name,
                }
                for index, item in enumerate(items, start=1)
            ],
        },
    ]
    breadcrumbs = [(t("breadcrumb_home"), "/"), (product, landing_path(lang, category))]
    if place is not None:
        if place.kind == "commune":
            region = await repository.select_place_by_slug(conn, "region-" + _slugify(place.region))
            if region is not None:
                region_href = landing_path(lang, category, region)
                breadcrumbs.append((place_label(lang, region), region_href))
        breadcrumbs.append((label or "", path))
    jsonld.append(
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": n, "name": name, "item": absolute(base_url, href)}
                for n, (name, href) in enumerate(breadcrumbs, start=1)
            ],
        }
    )
    meta = PageMeta(
        lang=lang,
        title=title,
        description=shorten(description),
        canonical=canonical,
        alternates=alternates(
            base_url,
            landing_path("es", category, place) + query,
            landing_path("en", category, place) + query,
        ),
        image=absolute(base_url, DEFAULT_IMAGE),
        image_alt="Proveo",
        jsonld=jsonld,
        # Every category and place has a page; one with nobody in it is not worth indexing.
        robots="noindex" if count == 0 else None,
    )

    def at(n: int) -> str:
        return path + (f"?page={n}" if n > 1 else "")

    up_href = up_label = None
    if place is not None:
        up_href, up_label = landing_path(lang, category), t("landing_all_chile")
    search = f"/?product={category.uuid}"
    return LandingView(
        meta=meta,
        t=t,
        heading=heading,
        count_text=t("landing_count_one") if count == 1 else t("landing_count", count=count),
        items=items,
        page=page,
        pages=pages,
        prev_href=at(page - 1) if page > 1 else None,
        next_href=at(page + 1) if page < pages else None,
        places=[
            (
                place_label(lang, Place(kind="region", slug=n.slug, name=n.name, region=n.name))
                if place is None
                else n.name,
                f"{landing_path(lang, category)}/{n.slug}",
                n.count,
            )
            for n in nearby
        ],
        places_title=t("landing_regions") if place is None else t("landing_communes"),
        up_href=up_href,
        up_label=up_label,
        search_href=search,
        breadcrumbs=breadcrumbs,
    )


def _slug_forms(value: str) -> list[str]:
    """The address as given, then as a slug (`Gasfitería` → `gasfiteria`): a link typed or
    shared by hand finds its page, and the page answers with a redirect to its own address."""
    typed = _slug_words(value)
    return [form for form in dict.fromkeys([value, typed]) if form and is_slug(form)]


async def _category_at(conn: Connection, slug: str) -> Category | None:
    for form in _slug_forms(slug):
        found = await repository.select_category_by_slug(conn, form)
        if found is not None:
            return found
    return None


def _region_slug_begun_by(slug: str) -> str | None:
    """The one region whose slug `slug` begins, `region-` optional: `metropolitana` and
    `region-metropolitana` are `region-metropolitana-de-santiago`, as search's `region` takes."""
    prefix = slug if slug.startswith("region-") else "region-" + slug
    found = [
        region_slug
        for region_slug in ("region-" + _slugify(region) for region in REGIONS)
        if region_slug == prefix or region_slug.startswith(prefix + "-")
    ]
    return found[0] if len(found) == 1 else None


async def _place_at(conn: Connection, slug: str) -> Place | None:
    for form in _slug_forms(slug):
        found = await repository.select_place_by_slug(conn, form)
        region = _region_slug_begun_by(form) if found is None else None
        if region is not None:
            found = await repository.select_place_by_slug(conn, region)
        if found is not None:
            return found
    return None


def _slug_words(value: str) -> str:
    """Letters and digits without accents, in lower case, joined by dashes; empty when there are
    none. Not cut short and with no stand-in: an address typed by hand that has no word, or is
    longer than any slug, names no page (found by the adversary: `/empresas/!!!` and 5,000 `a`s
    answered 301 to the companies whose slugs were once `empresa` and 80 `a`s)."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _slugify(value: str) -> str:
    """Python's copy of proveo.slugify for a name already read (accents folded, dashes)."""
    return _slug_words(value)[:80] or "empresa"


def home_meta(base_url: str, lang: Lang) -> PageMeta:
    t = words(lang)
    return PageMeta(
        lang=lang,
        title=t("home_title"),
        description=t("home_description"),
        canonical=absolute(base_url, "/"),
        alternates=[],
        image=absolute(base_url, DEFAULT_IMAGE),
        image_alt="Proveo",
    )


def not_found_meta(base_url: str, lang: Lang, path: str, kind: str = "page") -> PageMeta:
    t = words(lang)
    company = kind == "company"
    return PageMeta(
        lang=lang,
        title=f"{t('notFoundTitle' if company else 'not_found_title')} · Proveo",
        description=t("notFoundHint" if company else "not_found_body"),
        canonical=absolute(base_url, path),
        alternates=[],
        image=absolute(base_url, DEFAULT_IMAGE),
        image_alt="Proveo",
        robots="noindex",
    )


# --- Sitemap and robots --------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapSettings:
    """URLs per sitemap file (50,000 at most; tests use a few) and how long listings are kept."""

    max_urls: int = SITEMAP_MAX_URLS
    cache_seconds: int = SITEMAP_CACHE_SECONDS

    @property
    def companies_per_chunk(self) -> int:
        return max(1, self.max_urls // 2)


def _lastmod(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _url_xml(base_url: str, entry: SitemapEntry) -> list[str]:
    es, en = absolute(base_url, entry.path_es), absolute(base_url, entry.path_en)
    links = (
        f'<xhtml:link rel="alternate" hreflang="es" href="{xml_escape(es)}"/>'
        f'<xhtml:link rel="alternate" hreflang="en" href="{xml_escape(en)}"/>'
        f'<xhtml:link rel="alternate" hreflang="x-default" href="{xml_escape(es)}"/>'
    )
    lastmod = f"<lastmod>{_lastmod(entry.lastmod)}</lastmod>" if entry.lastmod else ""
    return [f"<url><loc>{xml_escape(loc)}</loc>{lastmod}{links}</url>" for loc in (es, en)]


def urlset(base_url: str, entries: list[SitemapEntry], *, single: tuple[str, ...] = ()) -> bytes:
    """A `<urlset>`: each entry's two addresses with their alternates; `single` paths (the home
    page, one address for both languages) without."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    parts.extend(
        f"<url><loc>{xml_escape(absolute(base_url, path))}</loc></url>\n" for path in single
    )
    for entry in entries:
        parts.extend(line + "\n" for line in _url_xml(base_url, entry))
    parts.append("</urlset>\n")
    return "".join(parts).encode()


def sitemap_index_xml(base_url: str, files: list[tuple[str, datetime | None]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    ]
    for path, lastmod in files:
        stamp = f"<lastmod>{_lastmod(lastmod)}</lastmod>" if lastmod else ""
        parts.append(
            f"<sitemap><loc>{xml_escape(absolute(base_url, path))}</loc>{stamp}</sitemap>\n"
        )
    parts.append("</sitemapindex>\n")
    return "".join(parts).encode()


class SitemapListings:
    """The chunk boundaries and the landing list, read once per `cache_seconds` (one pass over
    the live companies each), kept in the shared cache."""

    def __init__(self, database: Database, cache: Cache, settings: SitemapSettings) -> None:
        self.database = database
        self.cache = cache
        self.settings = settings

    def _key(self, what: str) -> str:
        return f"site:sitemap:{what}:{self.settings.max_urls}"

    async def company_chunks(self) -> list[SitemapChunk]:
        key = self._key("chunks")
        cached = await self.cache.get_bytes(key)
        if cached is not None:
            return _chunks_from(cached)
        chunks = await self.database.read(
            repository.select_company_chunks, self.settings.companies_per_chunk
        )
        await self.cache.set_bytes(key, _chunks_to(chunks), ttl=self.settings.cache_seconds)
        return chunks

    async def landings(self) -> list[SitemapEntry]:
        key = self._key("landings")
        cached = await self.cache.get_bytes(key)
        if cached is not None:
            return _entries_from(cached)
        entries = await self.database.read(repository.select_landings)
        await self.cache.set_bytes(key, _entries_to(entries), ttl=self.settings.cache_seconds)
        return entries

    def landing_chunks(self, entries: list[SitemapEntry]) -> list[list[SitemapEntry]]:
        # Two addresses per entry, and the home page's one in the first file.
        size = max(1, (self.settings.max_urls - 1) // 2)
        return [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]

    async def index(self, base_url: str) -> bytes:
        files: list[tuple[str, datetime | None]] = []
        for number, chunk in enumerate(self.landing_chunks(await self.landings()), start=1):
            newest = max((e.lastmod for e in chunk if e.lastmod), default=None)
            files.append((f"/sitemaps/landings-{number}.xml", newest))
        for company_chunk in await self.company_chunks():
            files.append((f"/sitemaps/companies-{company_chunk.number}.xml", company_chunk.lastmod))
        return sitemap_index_xml(base_url, files)

    async def companies(self, base_url: str, number: int) -> bytes:
        chunks = await self.company_chunks()
        if not 1 <= number <= len(chunks):
            raise PageNotFound()
        rows = await self.database.read(
            repository.select_company_slugs_from,
            chunks[number - 1].first_id,
            self.settings.companies_per_chunk,
        )
        entries = [
            SitemapEntry(
                path_es=company_path("es", slug),
                path_en=company_path("en", slug),
                lastmod=updated if isinstance(updated, datetime) else None,
            )
            for slug, updated in rows
        ]
        return urlset(base_url, entries)

    async def landing_file(self, base_url: str, number: int) -> bytes:
        chunks = self.landing_chunks(await self.landings())
        if not 1 <= number <= len(chunks):
            raise PageNotFound()
        return urlset(base_url, chunks[number - 1], single=("/",) if number == 1 else ())


def _chunks_to(chunks: list[SitemapChunk]) -> bytes:
    return json.dumps([c.model_dump(mode="json") for c in chunks]).encode()


def _chunks_from(raw: bytes) -> list[SitemapChunk]:
    return [SitemapChunk.model_validate(item) for item in json.loads(raw)]


def _entries_to(entries: list[SitemapEntry]) -> bytes:
    return json.dumps([e.model_dump(mode="json") for e in entries]).encode()


def _entries_from(raw: bytes) -> list[SitemapEntry]:
    return [SitemapEntry.model_validate(item) for item in json.loads(raw)]


def robots_txt(base_url: str) -> str:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), "Allow: /"]
    lines += ["", f"Sitemap: {absolute(base_url, '/sitemap.xml')}", ""]
    return "\n".join(lines)
