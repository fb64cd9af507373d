"""No route is hidden behind an earlier one: `/companies/{company_uuid}` declared before a
`/companies/search` (or any `/companies/<word>`) would answer 422 for it instead."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import compile_path

from proveo.core.openapi import api_routes

_PARAM = re.compile(r"{[^}]+}")
SAMPLE_UUID = "6f1c6b0e-7a51-4c1b-9a59-1e0b0c5b7d11"


def test_no_route_is_shadowed_by_an_earlier_one(app: FastAPI) -> None:
    seen: list[tuple[str, re.Pattern[str], set[str]]] = []
    problems = []
    for context in api_routes(app):
        path = str(context.path_format)
        methods = set(getattr(context.original_route, "methods", None) or ())
        concrete = _PARAM.sub(SAMPLE_UUID, path)
        for earlier, regex, earlier_methods in seen:
            if methods & earlier_methods and earlier != path and regex.match(concrete):
                problems.append(f"{sorted(methods)} {path} is taken by {earlier}")
        regex, _, _ = compile_path(path)
        seen.append((path, regex, methods))
    assert problems == []


def test_the_check_sees_a_shadowed_route(app: FastAPI) -> None:
    regex, _, _ = compile_path("/api/v1/companies/{company_uuid}")
    assert regex.match("/api/v1/companies/search")
    paths = [str(c.path_format) for c in api_routes(app)]
    assert paths.index("/api/v1/companies/user/my-company") < paths.index(
        "/api/v1/companies/{company_uuid}"
    )
