"""Provider insights: contact clicks (public, from `navigator.sendBeacon`), the owner's daily
series and the admins' weekly totals. Views and impressions are counted where the pages and
search results are answered (`site`, `search`), through `service`."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from proveo.accounts.deps import AdminUser, CurrentUser
from proveo.core.clients import request_subject
from proveo.core.deps import AppDatabase, AppSettings, Conn
from proveo.core.errors import Unprocessable
from proveo.core.openapi import ADMIN_REQUIRED, error_responses
from proveo.core.ratelimit import LimitKind, enforce
from proveo.insights import service
from proveo.insights.deps import CurrentVisitor, Recorder
from proveo.insights.schemas import CompanyInsights, ContactClick, DirectoryWeeks

router = APIRouter(prefix="/companies", tags=["insights"])
admin_router = APIRouter(prefix="/admin/insights", tags=["admin"])

# The largest click body worth reading: `{"kind": "whatsapp"}` is 20 bytes.
MAX_CLICK_BODY = 256
CONTACT_CLICK_PATH = "/{company_uuid}/contact-clicks"
# The CSRF middleware's one token exemption (core/csrf.py): this path, POST only. A beacon
# cannot send the header, the click changes no user's state, and the route acts for no
# session (it reads one only to leave the owner's own clicks out).
CONTACT_CLICK_CSRF_EXEMPT = re.compile(
    r"/api/v1/companies/[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?"
    r"[0-9A-Fa-f]{12}/contact-clicks"
)
_CLICK_SCHEMA = {
    "type": "object",
    "properties": {"kind": {"type": "string", "enum": ["phone", "whatsapp", "email", "website"]}},
    "required": ["kind"],
    "additionalProperties": False,
}


def _invalid(msg: str, kind: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body"], "msg": msg, "type": kind}])


async def contact_click_body(request: Request) -> ContactClick:
    """The JSON body, whatever its content type: `sendBeacon` sends a string as
    `text/plain;charset=UTF-8` and cannot set another header. Anything unreadable is a 422."""
    body = await request.body()
    if len(body) > MAX_CLICK_BODY:
        raise _invalid(f"the body is limited to {MAX_CLICK_BODY} bytes", "too_long")
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError) as bad:
        raise _invalid("the body is not JSON", "json_invalid") from bad
    try:
        return ContactClick.model_validate(data)
    except ValidationError as bad:
        raise Unprocessable(
            [
                {
                    "loc": ["body", *map(str, error["loc"])],
                    "msg": error["msg"],
                    "type": error["type"],
                }
                for error in bad.errors()
            ]
        ) from bad


async def contact_click_budget(request: Request, settings: AppSettings) -> None:
    await enforce(
        request.app.state.limiter,
        f"contact-clicks:{request_subject(request)}",
        limit=settings.contact_clicks_per_ip_per_minute,
        window=60,
        kind=LimitKind.CLIENTS,
    )


@router.post(
    CONTACT_CLICK_PATH,
    status_code=204,
    name="insights:contact_click",
    summary="Count a click on a company's phone, WhatsApp, email or website link (public)",
    description=(
        'JSON `{"kind": "phone" | "whatsapp" | "email" | "website"}`, sent as `application/json` '
        "or as `text/plain` (what `navigator.sendBeacon` sends for a string). Anonymous and "
        "exempt from the CSRF token (it changes no one's state; cross-origin requests are still "
        "refused). The owner's own clicks and bots' are answered alike and not counted. Counts "
        "reach the insights with the next batch (within about 5 seconds)."
    ),
    responses=error_responses(
        (404, "No such company, or it was deleted (`company_not_found`)"),
        (422, "Not a JSON object with one known `kind` (`validation_error`)"),
        (429, "More than 30 clicks a minute from this address (`rate_limited`)"),
        503,
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _CLICK_SCHEMA},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def contact_click(
    company_uuid: UUID,
    _: Annotated[None, Depends(contact_click_budget)],
    click: Annotated[ContactClick, Depends(contact_click_body)],
    visitor: CurrentVisitor,
    recorder: Recorder,
    database: AppDatabase,
) -> Response:
    await database.read(service.record_contact_click, recorder, visitor, company_uuid, click.kind)
    return Response(status_code=204)


@router.get(
    "/user/my-company/insights",
    name="insights:my_company",
    summary="My company's daily views, search appearances, contact clicks and quote requests",
    description=(
        "One entry per UTC day of the last `days` (today included), oldest first, days without "
        "activity as zeros, and their totals. Views, appearances and clicks reach these figures "
        "in batches, within about 5 seconds."
    ),
    responses=error_responses((404, "You have no company (`company_not_found`)"), 503),
)
async def my_company_insights(
    user: CurrentUser, conn: Conn, days: Annotated[int, Query(ge=1, le=90)] = 30
) -> CompanyInsights:
    return await service.company_insights(conn, user.id, days)


@admin_router.get(
    "/weekly",
    name="insights:admin_weekly",
    summary="The directory's weekly quote requests, replies, views and contacts (admin)",
    description=(
        "The last `weeks` weeks (Monday to Sunday, UTC), this one first. `quote_requests`: "
        "confirmed that week (removed ones excluded); `reply_rate`: the share of them with at "
        "least one reply so far (null without requests); `replies`: replies sent that week."
    ),
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def weekly(
    _: AdminUser, conn: Conn, weeks: Annotated[int, Query(ge=1, le=52)] = 12
) -> DirectoryWeeks:
    return await service.directory_weeks(conn, weeks)
