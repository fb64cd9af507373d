from collections import Counter

from proveo.catalog.data import (
    COMMUNES,
    GREATER_SANTIAGO_AREA,
    PRODUCTS,
    REGION_METROPOLITANA,
    REGIONS,
    commune_area,
)

EXPECTED_COUNTS: dict[str, int] = {
    "Arica y Parinacota": 4,
    "Tarapacá": 7,
    "Antofagasta": 9,
    "Atacama": 9,
    "Coquimbo": 15,
    "Valparaíso": 38,
    "Metropolitana de Santiago": 52,
    "Libertador General Bernardo O'Higgins": 33,
    "Maule": 30,
    "Ñuble": 21,
    "Biobío": 33,
    "La Araucanía": 32,
    "Los Ríos": 12,
    "Los Lagos": 30,
    "Aysén del General Carlos Ibáñez del Campo": 10,
    "Magallanes y de la Antártica Chilena": 11,
}


def test_sixteen_regions() -> None:
    assert len(REGIONS) == 16
    assert len(set(REGIONS)) == 16
    assert set(REGIONS) == set(EXPECTED_COUNTS)


def test_346_communes() -> None:
    assert len(COMMUNES) == 346


def test_commune_names_unique() -> None:
    names = [name for name, _ in COMMUNES]
    assert len(set(names)) == len(names)


def test_every_commune_region_is_known() -> None:
    for name, region in COMMUNES:
        assert region in REGIONS, (name, region)


def test_per_region_counts() -> None:
    counts = Counter(region for _, region in COMMUNES)
    assert dict(counts) == EXPECTED_COUNTS


def test_spot_checks_with_accents() -> None:
    lookup = dict(COMMUNES)
    assert lookup["Ñuñoa"] == "Metropolitana de Santiago"
    assert lookup["Concepción"] == "Biobío"
    assert lookup["Chillán"] == "Ñuble"
    assert lookup["Puerto Montt"] == "Los Lagos"
    assert lookup["Isla de Pascua"] == "Valparaíso"
    assert lookup["Los Ángeles"] == "Biobío"
    assert lookup["Antártica"] == "Magallanes y de la Antártica Chilena"


def test_products_bilingual_and_unique() -> None:
    assert len(PRODUCTS) >= 30
    es = [p.name_es for p in PRODUCTS]
    en = [p.name_en for p in PRODUCTS]
    assert len(set(es)) == len(es)
    assert len(set(en)) == len(en)
    assert all(name.strip() for name in es + en)


def test_greater_santiago_communes_are_in_its_area_by_name_and_region() -> None:
    assert commune_area("ÑUÑOA", REGION_METROPOLITANA) == GREATER_SANTIAGO_AREA
    assert commune_area("Nunoa", REGION_METROPOLITANA) == GREATER_SANTIAGO_AREA
    assert commune_area("Ñuñoa", "Ñuble") is None
    assert commune_area("Colina", REGION_METROPOLITANA) is None
