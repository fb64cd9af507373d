"""The request path stays on the event loop: no thread-pool hop per request (bench/floor.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.middleware.base import BaseHTTPMiddleware

from proveo.app import create_app
from proveo.config import Settings


def _runs_on_event_loop(call: Callable[..., Any]) -> bool:
    # FastAPI runs anything else (a `def`, a class to instantiate) in the thread pool.
    if inspect.isclass(call):
        return False
    target = call if inspect.isroutine(call) else type(call).__call__  # type: ignore[operator]
    target = inspect.unwrap(target)
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def thread_pool_calls(app: FastAPI) -> list[str]:
    """Every endpoint and dependency, at any depth, that a request would run in a thread."""
    found: list[str] = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        stack: list[Dependant] = [context.dependant]
        while stack:
            dependant = stack.pop()
            if dependant.call is not None and not _runs_on_event_loop(dependant.call):
                name = getattr(dependant.call, "__qualname__", repr(dependant.call))
                found.append(f"{sorted(context.methods or ())} {context.path}: {name}")
            stack.extend(dependant.dependencies)
    return found


# What the check must catch: a sync dependency below an async one, a class, a sync endpoint.
def _sync_lookup() -> int:
    return 1


def _sync_user(value: Annotated[int, Depends(_sync_lookup)]) -> int:
    return value


async def _async_user(value: Annotated[int, Depends(_sync_user)]) -> int:
    return value


class _Paginator:
    def __init__(self, limit: int = 10) -> None:
        self.limit = limit


def _probe_router() -> APIRouter:
    router = APIRouter(prefix="/probe")

    @router.get("/nested")
    async def nested(value: Annotated[int, Depends(_async_user)]) -> int:
        return value

    @router.get("/class")
    async def by_class(page: Annotated[_Paginator, Depends()]) -> int:
        return page.limit

    @router.get("/sync")
    def sync_endpoint() -> int:
        return 1

    return router


class TestNoThreadPoolOnTheRequestPath:
    def test_no_route_has_a_sync_endpoint_or_dependency(self, settings: Settings) -> None:
        app = create_app(settings)
        routes = [c for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)]
        assert len(routes) > 20  # the walk sees every domain's routes
        assert thread_pool_calls(app) == []

    def test_the_check_finds_sync_calls_at_every_level(self) -> None:
        app = FastAPI()
        app.include_router(_probe_router(), dependencies=[Depends(_sync_lookup)])
        assert sorted(thread_pool_calls(app)) == sorted(
            [
                "['GET'] /probe/nested: _sync_user",
                "['GET'] /probe/nested: _sync_lookup",  # below the async dependency
                "['GET'] /probe/nested: _sync_lookup",  # the router's dependency
                "['GET'] /probe/class: _Paginator",
                "['GET'] /probe/class: _sync_lookup",
                "['GET'] /probe/sync: _probe_router.<locals>.sync_endpoint",
                "['GET'] /probe/sync: _sync_lookup",
            ]
        )


class TestMiddlewareIsPureAsgi:
    def test_no_base_http_middleware(self, settings: Settings) -> None:
        # BaseHTTPMiddleware runs the rest of the stack in a task with a memory stream per
        # request; every middleware of ours is a plain ASGI callable instead.
        app = create_app(settings.model_copy(update={"cors_origins": ["https://a.example"]}))
        assert app.user_middleware
        for middleware in app.user_middleware:
            assert inspect.isclass(middleware.cls)
            assert not issubclass(middleware.cls, BaseHTTPMiddleware), middleware.cls
