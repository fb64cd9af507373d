"""The search caches and the analytics recorder, taken from the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.search.service import SearchCaches


async def get_search_caches(request: Request) -> SearchCaches:
    caches: SearchCaches = request.app.state.search_caches
    return caches


async def get_search_recorder(request: Request) -> object:
    """What `analytics.record_search` records into: the app's state (it holds the recorder)."""
    return request.app.state


Caches = Annotated[SearchCaches, Depends(get_search_caches)]
Recorder = Annotated[object, Depends(get_search_recorder)]
