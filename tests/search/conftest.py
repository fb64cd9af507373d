from __future__ import annotations

import pytest
from fastapi import FastAPI

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.integrations.storage import LocalImageStorage
from tests.companies.support import FakeTranslator, ScoredAnalyser
from tests.factories import create_company, create_user
from tests.fixtures.database import PinnedDatabase
from tests.search.relevance import COMPANIES

SEARCH_URL = "/api/v1/companies/search"
FACETS_URL = "/api/v1/companies/search/facets"
SUGGEST_URL = "/api/v1/companies/search/suggest"


@pytest.fixture
def app(settings: Settings, conn: Connection, cache: Cache) -> FastAPI:
    return create_app(
        settings,
        database=PinnedDatabase(conn),
        cache=cache,
        storage=LocalImageStorage(settings.images_dir),
        image_analyser=ScoredAnalyser(score=0.0),
        translator=FakeTranslator("off"),
    )


async def add_company(conn: Connection, name: str, **fields: object) -> None:
    owner = await create_user(conn)
    await create_company(conn, owner.id, name=name, **fields)


@pytest.fixture
async def directory(conn: Connection) -> None:
    """The relevance set's companies, published through the companies service."""
    for company in COMPANIES:
        await add_company(
            conn,
            company.name,
            product_name=company.product,
            commune_name=company.commune,
            description_es=company.es,
            description_en=company.en,
            lang="es" if company.es else "en",
        )
