"""The shared resources a company write with an image uses, taken from the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from proveo.companies.schemas import CompanyUpdate
from proveo.companies.service import CompanyTools, FieldProblem, invalid_fields
from proveo.core.deps import AppDatabase, AppStorage


async def company_tools(
    request: Request, database: AppDatabase, storage: AppStorage
) -> CompanyTools:
    return CompanyTools(
        database=database,
        storage=storage,
        analyser=request.app.state.image_analyser,
        translator=request.app.state.translator,
    )


Tools = Annotated[CompanyTools, Depends(company_tools)]


async def company_patch(request: Request, patch: Annotated[CompanyUpdate, Form()]) -> CompanyUpdate:
    """The edit as sent. FastAPI reads an empty form value as "not sent"; in an edit a field
    that is sent is checked, so an empty one is refused like a blank one (422 `blank`)."""
    form = await request.form()  # parsed already for `patch`: this is the same form
    empty = [name for name in CompanyUpdate.model_fields if form.get(name) == ""]
    if empty:
        raise invalid_fields(*(FieldProblem(name, "must not be blank", "blank") for name in empty))
    return patch


PatchForm = Annotated[CompanyUpdate, Depends(company_patch)]
