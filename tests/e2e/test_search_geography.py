"""Search in Chromium: results first on a phone, the region filter, help when nothing is found,
filters that the chips and the panel always agree on, and the popular categories."""

from __future__ import annotations

import re

from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.support import assert_no_sideways_scroll

# An iPhone 12–15's screen: the first result must start within it.
PHONE_390: ViewportSize = {"width": 390, "height": 844}
RM_SLUG = "metropolitana-de-santiago"


def _product_uuid(page: Page, name_es: str) -> str:
    products = page.request.get("/api/v1/products/").json()
    return str(next(p["uuid"] for p in products if p["name_es"] == name_es))


class TestResultsFirst:
    def test_on_a_phone_the_first_result_is_on_the_first_screen(self, page: Page) -> None:
        page.set_viewport_size(PHONE_390)
        page.goto("/")
        hero = page.locator("#hero")
        expect(hero).not_to_have_class(re.compile("hero-compact"))
        page.locator("#q").fill("constructora")
        page.locator("#q").press("Enter")
        expect(hero).to_have_class(re.compile("hero-compact"))
        first = page.locator(".results-grid:not([aria-hidden]) .company-card").first
        expect(first).to_contain_text("Constructora Los Aromos")
        box = first.bounding_box()
        assert box is not None
        assert box["y"] < PHONE_390["height"], f"the first result starts at {box['y']} px"
        assert_no_sideways_scroll(page)
        # A filter alone collapses it too; the front page without one shows the full hero.
        page.goto(f"/?region={RM_SLUG}")
        expect(hero).to_have_class(re.compile("hero-compact"))
        first = page.locator(".results-grid:not([aria-hidden]) .company-card").first
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box is not None
        assert box["y"] < PHONE_390["height"]
        page.goto("/")
        expect(page.locator(".hero-lead")).to_be_visible()


class TestRegionFilter:
    def test_the_panel_counts_regions_and_filters_by_one(self, page: Page) -> None:
        page.goto("/?q=constructora")
        regions = page.locator(".facet-group[data-facet=region]")
        expect(regions.get_by_role("heading", name="Región")).to_be_visible()
        link = regions.get_by_role("link", name=re.compile("^Metropolitana de Santiago"))
        expect(link.locator(".facet-count")).to_have_text("1")
        link.click()
        expect(page).to_have_url(re.compile(rf"q=constructora&region={RM_SLUG}$"))
        expect(page.locator("#active-filters .chip")).to_contain_text("Metropolitana de Santiago")
        expect(regions.locator(".facet-link.is-selected")).to_contain_text(
            "Metropolitana de Santiago"
        )
        expect(page.get_by_role("link", name="Constructora Los Aromos")).to_be_visible()
        # A commune replaces the region: the two place filters never pile up.
        communes = page.locator(".facet-group[data-facet=commune]")
        communes.get_by_role("link", name=re.compile("^Maipú")).click()
        expect(page).to_have_url(re.compile(r"q=constructora&commune=[0-9a-f-]{36}$"))
        expect(page.locator("#active-filters .chip")).to_have_text(re.compile("Maipú"))

    def test_a_region_named_in_the_query_is_searched_and_said(self, page: Page) -> None:
        page.goto("/?q=constructora+region+metropolitana")
        expect(page.get_by_role("status")).to_contain_text(
            "Buscando en la Región Metropolitana de Santiago."
        )
        expect(page.get_by_role("link", name="Constructora Los Aromos")).to_be_visible()
        page.goto("/?q=arquitectos+santiago")
        expect(page.get_by_role("status")).to_contain_text("Gran Santiago")
        expect(page.get_by_role("link", name="Estudio Bravo Arquitectos")).to_be_visible()

    def test_companies_that_serve_the_region_come_after_and_say_so(self, page: Page) -> None:
        # The demo's Cóndor Software (Providencia) serves all of Chile.
        page.goto("/?region=magallanes")
        card = page.locator(".company-card", has_text="Cóndor Software SpA")
        expect(card.locator(".badge-serves")).to_have_text("Atiende tu región")
        page.get_by_role("button", name="English").click()
        expect(card.locator(".badge-serves")).to_have_text("Serves your region")
        page.goto(f"/?region={RM_SLUG}")
        located = page.locator(".company-card", has_text="Cóndor Software SpA")
        expect(located).to_be_visible()
        expect(located.locator(".badge-serves")).to_have_count(0)

    def test_in_english(self, page: Page) -> None:
        page.goto(f"/?region={RM_SLUG}")
        page.get_by_role("button", name="English").click()
        regions = page.locator(".facet-group[data-facet=region]")
        expect(regions.get_by_role("heading", name="Region")).to_be_visible()
        expect(page.locator("#results-title")).to_have_text(
            "Suppliers in the Santiago Metropolitan Region"
        )


class TestZeroResults:
    def test_offers_the_region_each_filter_removed_and_related_categories(self, page: Page) -> None:
        page.goto("/?q=contador&commune=Providencia")
        empty = page.locator("[data-state=no-results]")
        expect(empty).to_contain_text("No encontramos empresas para tu búsqueda")
        expect(empty.get_by_role("link", name="Quitar «Providencia»")).to_be_visible()
        related = empty.locator(".related-link", has_text="Servicios contables")
        expect(related).to_be_visible()
        offer = empty.get_by_role("link", name="Ver 1 en la Región Metropolitana de Santiago")
        offer.click()
        expect(page).to_have_url(re.compile(rf"q=contador&region={RM_SLUG}$"))
        expect(page.get_by_role("link", name="Contadores Ñuñoa Asociados")).to_be_visible()

    def test_on_a_phone_the_region_offer_wraps_and_names_the_region_properly(
        self, page: Page
    ) -> None:
        """Found by a newcomer: at 390 px the offer was one unbreakable line, 27 px too wide."""
        page.set_viewport_size(PHONE_390)
        page.goto("/?q=contador providencia")
        offer = page.locator("[data-help=region]")
        expect(offer).to_have_text("Ver 1 en la Región Metropolitana de Santiago")
        # Found by the newcomer: the commune among the words hid the accountants' category.
        related = page.locator(".zero-help-related")
        expect(related.get_by_role("heading")).to_have_text("Rubros relacionados")
        expect(related.locator(".related-link", has_text="Servicios contables")).to_be_visible()
        box = offer.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= PHONE_390["width"], box
        assert_no_sideways_scroll(page)
        page.set_viewport_size({"width": 1280, "height": 800})  # the toggle is in the header
        page.goto("/?q=constructora region valparaiso")
        expect(page.get_by_role("status")).to_contain_text("Buscando en la Región de Valparaíso.")
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("status")).to_contain_text("Searching the Valparaíso Region.")

    def test_words_that_find_nothing_anywhere_offer_the_most_searched_categories(
        self, page: Page
    ) -> None:
        page.goto("/?q=xyzzyqq")
        related = page.locator("[data-state=no-results] .zero-help-related")
        expect(related.get_by_role("heading")).to_have_text("Rubros más buscados")

    def test_a_related_category_searches_the_words_in_it(self, page: Page) -> None:
        page.goto("/?q=contador&commune=Providencia")
        page.locator(
            "[data-state=no-results] .related-link", has_text="Servicios contables"
        ).click()
        expect(page).to_have_url(re.compile(r"q=contador&product=[0-9a-f-]{36}$"))
        expect(page.get_by_role("link", name="Contadores Ñuñoa Asociados")).to_be_visible()


class TestPlaceFilterAndWords:
    def test_a_region_typed_beside_a_region_filter_is_named_and_offered(self, page: Page) -> None:
        """Found by an adversary: the region filter of an earlier search silently won over the
        region typed in a new query."""
        page.goto(f"/?q=construccion region de valparaiso&region={RM_SLUG}")
        status = page.get_by_role("status")
        expect(status).to_contain_text(
            "Buscando en la Región Metropolitana de Santiago, el filtro elegido, no en la "
            "Región de Valparaíso de tu búsqueda."
        )
        status.get_by_role("link", name="Buscar en la Región de Valparaíso").click()
        expect(page).to_have_url(re.compile(r"q=construccion(\+|%20)region(\+|%20)de"))
        expect(page.get_by_role("status")).to_contain_text("Buscando en la Región de Valparaíso.")
        expect(page.locator("[data-place-kept]")).to_have_count(0)

    def test_greater_santiago_typed_beside_another_region_is_offered_in_english(
        self, page: Page
    ) -> None:
        page.goto("/?q=contador gran santiago&region=valparaiso")
        page.get_by_role("button", name="English").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text(
            "Searching the Valparaíso Region, the filter chosen, not Greater Santiago in your "
            "search."
        )
        status.get_by_role("link", name="Search Greater Santiago").click()
        expect(page.get_by_role("status")).to_contain_text("Searching Greater Santiago")


class TestChips:
    def test_a_filter_with_no_matches_stays_in_the_panel_and_a_new_query_keeps_it(
        self, page: Page
    ) -> None:
        """Found by a newcomer: after a query with no results the chip stayed, the panel no
        longer showed the filter, and the next query still applied it."""
        transport = _product_uuid(page, "Transporte y logística")
        page.goto(f"/?product={transport}")
        chip = page.locator("#active-filters .chip")
        expect(chip).to_contain_text("Transporte y logística")
        page.locator("#q").fill("zzqxwv")
        page.locator("#q").press("Enter")
        expect(page.locator("[data-state=no-results]")).to_be_visible()
        products = page.locator(".facet-group[data-facet=product]")
        selected = products.locator(".facet-link.is-selected")
        expect(selected).to_contain_text("Transporte y logística")
        expect(selected.locator(".facet-count")).to_have_text("0")
        expect(chip).to_contain_text("Transporte y logística")
        # The panel shows it active: the next query keeps it.
        page.locator("#q").fill("biobio")
        page.locator("#q").press("Enter")
        expect(page).to_have_url(re.compile(rf"q=biobio&product={transport}$"))
        expect(page.get_by_role("link", name="Transportes Biobío Express")).to_be_visible()
        # Removed from the chip, it is gone from the panel and from the next query.
        chip.click()
        expect(page).to_have_url(re.compile(r"/\?q=biobio$"))
        expect(products.locator(".facet-link.is-selected")).to_have_text("Todos los productos")
        page.locator("#q").fill("constructora")
        page.locator("#q").press("Enter")
        expect(page).to_have_url(re.compile(r"/\?q=constructora$"))


class TestPopular:
    def test_the_front_page_lists_the_most_searched_categories(self, page: Page) -> None:
        expected = [p["name"] for p in page.request.get(
            "/api/v1/companies/search/popular?lang=es&limit=4").json()]  # fmt: skip
        assert len(expected) == 4
        page.goto("/")
        links = page.locator("#popular .popular-link")
        expect(links).to_have_text(expected)
        links.first.click()
        expect(page).to_have_url(re.compile(r"/\?product=[0-9a-f-]{36}$"))
        expect(page.locator("#active-filters .chip")).to_have_text(re.compile(expected[0]))
