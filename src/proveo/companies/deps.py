"""The shared resources a company write with an image uses, taken from the app."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import Depends, Form, Request

from proveo.companies.schemas import (
    CLEARABLE_FIELDS,
    LIST_FIELDS,
    CompanyCreate,
    CompanyPatch,
    CompanyUpdate,
)
from proveo.companies.service import CompanyTools, FieldProblem, UploadLimits, invalid_fields
from proveo.core.deps import AppDatabase, AppSettings, AppStorage


async def company_tools(
    request: Request, database: AppDatabase, storage: AppStorage, settings: AppSettings
) -> CompanyTools:
    state = request.app.state
    return CompanyTools(
        database=database,
        storage=storage,
        analyser=state.image_analyser,
        translator=state.translator,
        uploads=UploadLimits(
            in_flight=state.uploads_in_flight,
            limiter=state.limiter,
            at_once=settings.uploads_at_once,
            per_hour=settings.uploads_per_hour,
        ),
    )


Tools = Annotated[CompanyTools, Depends(company_tools)]


IMAGE_FIELD = "image"
CREATE_FIELDS = frozenset(CompanyCreate.model_fields) | {IMAGE_FIELD}
UPDATE_FIELDS = frozenset(CompanyUpdate.model_fields) | {IMAGE_FIELD}


async def _check_field_names(request: Request, known: frozenset[str]) -> None:
    """Every part names a field of the form, once (a list field, one part per item). The form
    parser would drop an unknown part (a typo's edit answered 200 having changed nothing) and
    keep the last of repeated ones."""
    sent = Counter(name for name, _ in (await request.form()).multi_items())
    problems = [
        FieldProblem(name, "is not a field of this form", "unknown_field")
        for name in sent
        if name not in known
    ] + [
        FieldProblem(name, "was sent more than once: send it once", "duplicate_field")
        for name, count in sent.items()
        if count > 1 and name in known and name not in LIST_FIELDS
    ]
    if problems:
        raise invalid_fields(*problems)


async def check_create_fields(request: Request) -> None:
    await _check_field_names(request, CREATE_FIELDS)


async def check_update_fields(request: Request) -> None:
    await _check_field_names(request, UPDATE_FIELDS)


async def check_photo_fields(request: Request) -> None:
    await _check_field_names(request, frozenset({IMAGE_FIELD}))


# A parameter after the route's authorization, so that a stranger gets 401/403 first.
CreateFieldsChecked = Annotated[None, Depends(check_create_fields)]
PhotoFieldsChecked = Annotated[None, Depends(check_photo_fields)]


async def company_patch(
    request: Request,
    _: Annotated[None, Depends(check_update_fields)],
    patch: Annotated[CompanyUpdate, Form()],
) -> CompanyPatch:
    """The edit as sent. FastAPI reads an empty form value as "not sent"; in an edit a field
    that is sent is checked, so an empty one is refused like a blank one (422 `blank`), except
    the optional profile fields, which an empty value removes (a list sent as one empty part
    is the empty list)."""
    form = await request.form()  # parsed already for `patch`: this is the same form
    empty = {
        name
        for name in CompanyUpdate.model_fields
        if name not in LIST_FIELDS and form.get(name) == ""
    }
    blank = sorted(empty - CLEARABLE_FIELDS)
    if blank:
        raise invalid_fields(*(FieldProblem(name, "must not be blank", "blank") for name in blank))
    return CompanyPatch(patch, frozenset(empty & CLEARABLE_FIELDS))


PatchForm = Annotated[CompanyPatch, Depends(company_patch)]
