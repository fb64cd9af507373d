from __future__ import annotations

import pytest
from fastapi import FastAPI

from proveo.integrations.storage import ImageStorage


@pytest.fixture
def storage(app: FastAPI) -> ImageStorage:
    stored: ImageStorage = app.state.storage
    return stored
