"""Quote requests: the buyer's (public) side, the provider's inbox under `my-company`, and the
admin's list. Emails go out after the response, once the request's transaction committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from fastapi.routing import APIRoute

from proveo.accounts.deps import AdminUser, Claims, CurrentUser, VerifiedUser
from proveo.admin.deps import Actor
from proveo.core.clients import request_subject
from proveo.core.deps import AppSettings, Conn
from proveo.core.openapi import ADMIN_REQUIRED, error_responses
from proveo.core.ratelimit import RateLimiter
from proveo.integrations.email import EmailMessage, EmailSender, deliver
from proveo.quotes import service
from proveo.quotes.schemas import (
    AdminQuotePage,
    AdminQuoteRequest,
    Confirmed,
    InboxItem,
    InboxPage,
    Lang,
    QuoteRequestAccepted,
    QuoteRequestCreate,
    QuoteRequestPage,
    ReplyBody,
    RequestStatus,
    TokenBody,
)


async def _count_request(request: Request) -> None:
    await service.enforce_request_limits(_limiter(request), request_subject(request))


async def _count_confirmation(request: Request) -> None:
    await service.enforce_confirm_limit(_limiter(request), request_subject(request))


# The routes whose every request counts against the client address's budget, before anything
# else is done with it.
_COUNTED_FIRST: dict[str, Callable[[Request], Awaitable[None]]] = {
    "quotes:create": _count_request,
    "quotes:confirm": _count_confirmation,
}


class _CountedFirstRoute(APIRoute):
    """Counts a request before its body is read: a body that is not JSON (400), or that the
    schema refuses (422), uses up the budget like any other (found by adversaries: the schema's
    refusals, then malformed JSON, were free). A dependency would run after the body's
    parsing."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        count = _COUNTED_FIRST.get(self.name)
        if count is None:
            return handler

        async def counted(request: Request) -> Response:
            await count(request)
            return await handler(request)

        return counted


router = APIRouter(
    prefix="/quote-requests", tags=["quote requests"], route_class=_CountedFirstRoute
)
provider_router = APIRouter(
    prefix="/companies/user/my-company/quote-requests", tags=["quote requests"]
)
admin_router = APIRouter(prefix="/admin/quote-requests", tags=["admin"])

NOT_FOUND = (404, "No such request, or the token is not its page's (`quote_request_not_found`)")
NOT_IN_INBOX = (
    404,
    "You have no company (`company_not_found`), or no such request was sent to it "
    "(`quote_request_not_found`)",
)
ANSWER_CONFLICT = (
    409,
    "Your company already replied or declined (`already_answered`), or the request is closed "
    "or expired (`request_closed`)",
)
PageNumber = Annotated[int, Query(ge=1, le=10_000, description="1-based; 20 per page")]


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def _send_after_commit(
    request: Request, tasks: BackgroundTasks, messages: list[EmailMessage]
) -> None:
    sender: EmailSender = request.app.state.email_sender
    for message in messages:
        tasks.add_task(deliver, sender, message)


@router.post(
    "",
    status_code=202,
    name="quotes:create",
    summary="Ask the providers that fit for a quote (confirmed by email before it is sent)",
    description=(
        "No account needed. The buyer gets an email with a confirmation link; nothing reaches "
        "any provider before it is used. `website` must stay empty (a trap for robots)."
    ),
    responses=error_responses(
        (
            422,
            "Invalid fields (`validation_error`; a field's `type` says why: `unknown_product`, "
            "`unknown_region`, `unknown_commune`, `conflicting_fields`, `too_many_links`, "
            "`date_in_past`, `date_too_far`, ...)",
        ),
        (429, "Too many requests from this address or for this email (`rate_limited`)"),
        503,
    ),
)
async def create_quote_request(
    body: QuoteRequestCreate,
    request: Request,
    tasks: BackgroundTasks,
    conn: Conn,
    claims: Claims,
    settings: AppSettings,
) -> QuoteRequestAccepted:
    submitted = await service.submit_request(
        conn,
        body,
        claims=claims,
        public_base_url=settings.public_base_url,
        limiter=_limiter(request),
    )
    if submitted.email is not None:
        _send_after_commit(request, tasks, [submitted.email])
    return QuoteRequestAccepted(message=service.ACCEPTED_MESSAGE)


@router.post(
    "/confirm",
    name="quotes:confirm",
    summary="Confirm a request with its emailed token: it goes to up to 25 providers",
    responses=error_responses(
        (400, "The link is unknown, used or older than 48 hours (`invalid_token`)"),
        (429, "Too many confirmations from this address (`rate_limited`)"),
        503,
    ),
)
async def confirm_quote_request(
    body: TokenBody, request: Request, tasks: BackgroundTasks, conn: Conn, settings: AppSettings
) -> Confirmed:
    confirmation = await service.confirm_request(
        conn, body.token, public_base_url=settings.public_base_url
    )
    _send_after_commit(request, tasks, confirmation.emails)
    return confirmation.answer


@router.get(
    "/{request_uuid}",
    name="quotes:page",
    summary="The buyer's private page of a request: its replies (with the page's token)",
    responses=error_responses(
        NOT_FOUND, (429, "Too many reads from this address (`rate_limited`)"), 503
    ),
)
async def quote_request_page(
    request_uuid: UUID,
    request: Request,
    conn: Conn,
    token: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=256,
            description="The page's token (or send it in the `X-Page-Token` header)",
        ),
    ] = None,
    page_token: Annotated[
        str | None,
        Header(
            alias="X-Page-Token",
            min_length=1,
            max_length=256,
            description="The page's token, kept out of URLs (and so out of proxies' logs)",
        ),
    ] = None,
) -> QuoteRequestPage:
    await service.enforce_page_limit(_limiter(request), request_subject(request))
    return await service.get_buyer_page(
        conn, request_uuid, service.page_token_given(token, page_token)
    )


@router.post(
    "/{request_uuid}/close",
    name="quotes:close",
    summary="Close a request (with the page's token): it takes no more answers",
    responses=error_responses(
        NOT_FOUND,
        (409, "The request expired or was removed (`request_closed`)"),
        (429, "Too many attempts from this address (`rate_limited`)"),
        503,
    ),
)
async def close_quote_request(
    request_uuid: UUID, body: TokenBody, request: Request, conn: Conn
) -> QuoteRequestPage:
    await service.enforce_page_limit(_limiter(request), request_subject(request))
    return await service.close_request(conn, request_uuid, body.token)


@provider_router.get(
    "",
    name="quotes:inbox",
    summary="The requests sent to my company, newest first",
    responses=error_responses((404, "You have no company (`company_not_found`)"), 503),
)
async def quote_inbox(
    user: CurrentUser,
    conn: Conn,
    status: Annotated[Literal["new", "read", "replied", "declined"] | None, Query()] = None,
    page: PageNumber = 1,
) -> InboxPage:
    return await service.list_inbox(conn, user.id, user.lang, status=status, page=page)


@provider_router.get(
    "/{request_uuid}",
    name="quotes:inbox_item",
    summary="One request sent to my company (a new one becomes read)",
    responses=error_responses(NOT_IN_INBOX, 503),
)
async def quote_inbox_item(request_uuid: UUID, user: CurrentUser, conn: Conn) -> InboxItem:
    return await service.read_inbox_item(conn, user.id, user.lang, request_uuid)


@provider_router.post(
    "/{request_uuid}/reply",
    name="quotes:reply",
    summary="Reply to a request sent to my company (once; the buyer gets it by email)",
    responses=error_responses(
        (403, "The email address is not verified yet (`email_not_verified`)"),
        NOT_IN_INBOX,
        ANSWER_CONFLICT,
        503,
    ),
)
async def reply_to_quote_request(
    request_uuid: UUID,
    body: ReplyBody,
    user: VerifiedUser,
    request: Request,
    tasks: BackgroundTasks,
    conn: Conn,
    settings: AppSettings,
) -> InboxItem:
    answered = await service.reply_to_request(
        conn, user.id, user.lang, request_uuid, body.message,
        public_base_url=settings.public_base_url,
    )  # fmt: skip
    if answered.email is not None:
        _send_after_commit(request, tasks, [answered.email])
    return answered.item


@provider_router.post(
    "/{request_uuid}/decline",
    name="quotes:decline",
    summary="Decline a request sent to my company",
    responses=error_responses(
        (403, "The email address is not verified yet (`email_not_verified`)"),
        NOT_IN_INBOX,
        ANSWER_CONFLICT,
        503,
    ),
)
async def decline_quote_request(request_uuid: UUID, user: VerifiedUser, conn: Conn) -> InboxItem:
    return await service.decline_request(conn, user.id, user.lang, request_uuid)


@admin_router.get(
    "",
    name="quotes:admin_list",
    summary="Every quote request, newest first, with its answers counted (admin)",
    responses=error_responses(ADMIN_REQUIRED, 503),
)
async def admin_quote_requests(
    _: AdminUser,
    conn: Conn,
    status: Annotated[RequestStatus | None, Query()] = None,
    page: PageNumber = 1,
    lang: Annotated[Lang, Query(description="The language of category names")] = "es",
) -> AdminQuotePage:
    return await service.list_requests(conn, status=status, page=page, lang=lang)


@admin_router.delete(
    "/{request_uuid}",
    name="quotes:admin_remove",
    summary="Remove a quote request (admin, audit-logged): providers no longer see it",
    responses=error_responses(ADMIN_REQUIRED, NOT_FOUND, 503),
)
async def admin_remove_quote_request(
    request_uuid: UUID, actor: Actor, conn: Conn
) -> AdminQuoteRequest:
    return await service.remove_request(conn, actor, request_uuid)
