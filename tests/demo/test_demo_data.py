"""Tests for the demo company data set and the generated logos."""

from __future__ import annotations

import io
import re

from PIL import Image

from proveo.catalog.data import PRODUCTS as CATALOGUE_PRODUCTS
from proveo.catalog.data import REGIONS
from proveo.companies.schemas import normalise_rut
from proveo.demo.companies import DEMO_COMPANIES, DemoCompany
from proveo.demo.logo import generate_logo, initials_for

PRODUCTS = {
    "Construcción",
    "Servicios contables",
    "Desarrollo de software",
    "Transporte y logística",
    "Limpieza industrial",
    "Seguridad privada",
    "Asesoría legal",
    "Marketing digital",
    "Climatización",
    "Mantención eléctrica",
    "Imprenta y publicidad",
    "Alimentación y casino",
    "Recursos humanos",
    "Arquitectura",
    "Capacitación empresarial",
    "Asesoría medioambiental",
}

COMMUNES = {
    "Santiago",
    "Providencia",
    "Las Condes",
    "Ñuñoa",
    "Maipú",
    "Valparaíso",
    "Viña del Mar",
    "Concepción",
    "Temuco",
    "Antofagasta",
    "La Serena",
    "Puerto Montt",
    "Rancagua",
    "Talca",
}

PHONE_RE = re.compile(r"^\+56\d{9}$")
EMAIL_RE = re.compile(r"^[a-z0-9._-]+@[a-z0-9-]+\.cl$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_there_are_sixteen_companies() -> None:
    assert len(DEMO_COMPANIES) == 16
    assert all(isinstance(company, DemoCompany) for company in DEMO_COMPANIES)


def test_company_names_are_unique() -> None:
    names = [company.name for company in DEMO_COMPANIES]
    assert len(set(names)) == len(names)


def test_products_come_from_the_catalogue() -> None:
    for company in DEMO_COMPANIES:
        assert company.product_es in PRODUCTS, company.name


def test_companies_span_at_least_eight_communes() -> None:
    communes = {company.commune for company in DEMO_COMPANIES}
    assert communes <= COMMUNES
    assert len(communes) >= 8


def test_phones_are_chilean_e164() -> None:
    for company in DEMO_COMPANIES:
        assert PHONE_RE.match(company.phone), company.phone


def test_emails_use_cl_domains() -> None:
    for company in DEMO_COMPANIES:
        assert EMAIL_RE.match(company.email), company.email


def test_descriptions_have_reasonable_length() -> None:
    for company in DEMO_COMPANIES:
        assert 1 <= len(company.description_es) <= 1000, company.name
        assert 1 <= len(company.description_en) <= 1000, company.name


def test_text_fields_are_not_blank() -> None:
    for company in DEMO_COMPANIES:
        assert company.owner_name.strip()
        assert company.address.strip()


def test_logo_is_a_512_png() -> None:
    data = generate_logo(DEMO_COMPANIES[0].name)
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (512, 512)
        image.verify()


def test_logo_respects_size_argument() -> None:
    with Image.open(io.BytesIO(generate_logo("Ñire Consultoría Ambiental", size=128))) as image:
        assert image.size == (128, 128)


def test_logo_is_deterministic() -> None:
    name = "Ñire Consultoría Ambiental"
    assert generate_logo(name) == generate_logo(name)


def test_logos_differ_between_names() -> None:
    assert generate_logo("Pudú Digital") != generate_logo("Clima Sur Ingeniería")


def test_every_demo_company_gets_a_distinct_logo() -> None:
    logos = {generate_logo(company.name, size=64) for company in DEMO_COMPANIES}
    assert len(logos) == len(DEMO_COMPANIES)


def test_initials_keep_spanish_letters() -> None:
    assert initials_for("Ñire Consultoría Ambiental") == "ÑC"
    assert initials_for("ñandú") == "Ñ"
    assert initials_for("Sabores de Elqui Banquetería") == "SE"
    assert initials_for("Ibáñez & Lagos Abogados") == "IL"
    assert initials_for("") == "?"


def test_profiles_have_valid_distinct_ruts() -> None:
    ruts = [company.rut for company in DEMO_COMPANIES]
    assert all(ruts)
    assert len(set(ruts)) == len(ruts)
    for rut in ruts:
        assert rut is not None
        assert normalise_rut(rut) == rut


def test_profiles_mix_websites_sizes_years_regions_and_categories() -> None:
    catalogue = {product.name_es for product in CATALOGUE_PRODUCTS}
    assert 0 < sum(bool(c.website) for c in DEMO_COMPANIES) < len(DEMO_COMPANIES)
    assert all((c.website or "https://").startswith("https://") for c in DEMO_COMPANIES)
    assert {c.size_band for c in DEMO_COMPANIES} == {"1-9", "10-49", "50-199", "200+"}
    assert all(1900 < (c.year_founded or 0) <= 2026 for c in DEMO_COMPANIES)
    assert any(set(c.served_regions) == set(REGIONS) for c in DEMO_COMPANIES)
    assert any(0 < len(c.served_regions) < len(REGIONS) for c in DEMO_COMPANIES)
    assert any(len(c.extra_products) == 2 for c in DEMO_COMPANIES)
    for company in DEMO_COMPANIES:
        assert len(company.extra_products) <= 2
        assert set(company.extra_products) <= catalogue
        assert company.product_es not in company.extra_products
        assert set(company.served_regions) <= set(REGIONS)
