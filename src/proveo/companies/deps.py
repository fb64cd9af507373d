"""The shared resources a company write with an image uses, taken from the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proveo.companies.service import CompanyTools
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
