from __future__ import annotations

import pytest
from fastapi import FastAPI

from proveo.app import create_app
from proveo.config import Settings
from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.integrations.storage import ImageStorage, LocalImageStorage
from tests.companies.support import FakeTranslator, ScoredAnalyser
from tests.fixtures.database import PinnedDatabase


@pytest.fixture
def analyser() -> ScoredAnalyser:
    return ScoredAnalyser(score=0.0)


@pytest.fixture
def translator() -> FakeTranslator:
    return FakeTranslator("off")


@pytest.fixture
def app(
    settings: Settings,
    conn: Connection,
    cache: Cache,
    analyser: ScoredAnalyser,
    translator: FakeTranslator,
) -> FastAPI:
    return create_app(
        settings,
        database=PinnedDatabase(conn),
        cache=cache,
        storage=LocalImageStorage(settings.images_dir),
        image_analyser=analyser,
        translator=translator,
    )


@pytest.fixture
def storage(app: FastAPI) -> ImageStorage:
    stored: ImageStorage = app.state.storage
    return stored
