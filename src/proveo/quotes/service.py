"""Quote request rules: a buyer's need reaches the providers that fit only once the buyer has
confirmed it by email; at most 25 providers, chosen fairly; a provider sees only what was sent
to its own company; the buyer's private page is reached with a secret only the buyer holds.

Emails are built here and returned: the router sends them after the response (after the
commit), so a rolled-back request sends nothing.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from proveo.accounts import service as accounts_service
from proveo.admin import service as admin_service
from proveo.admin.service import AdminActor
from proveo.catalog import service as catalog_service
from proveo.catalog.data import REGION_TITLES
from proveo.companies import service as companies_service
from proveo.companies.schemas import format_phone
from proveo.companies.service import FieldProblem, invalid_fields
from proveo.core.db import Connection
from proveo.core.errors import BadRequest, Conflict, NotFound, Unprocessable
from proveo.core.ratelimit import LimitKind, RateLimiter, enforce
from proveo.core.security import SessionClaims, new_url_token, token_digest
from proveo.integrations.email import EmailMessage
from proveo.quotes import repository
from proveo.quotes.messages import (
    ALL_CHILE,
    ReplyingProvider,
    RequestSummary,
    confirmation_email,
    provider_email,
    reply_email,
    sent_email,
)
from proveo.quotes.schemas import (
    AdminQuotePage,
    AdminQuoteRequest,
    AdminRecord,
    BuyerContact,
    BuyerReply,
    Confirmed,
    InboxItem,
    InboxPage,
    Lang,
    MatchedCompany,
    Place,
    ProductRef,
    QuoteRequestCreate,
    QuoteRequestPage,
    RecipientRecord,
    ReplyingCompany,
    RequestRecord,
)
from proveo.search import places
from proveo.search.service import normalise_query

log = structlog.get_logger(__name__)

MAX_RECIPIENTS = 25
REQUEST_LIFETIME = timedelta(days=30)
CONFIRM_LINK_TTL = timedelta(hours=48)
NEEDED_BY_HORIZON_DAYS = 366
PAGE_SIZE = 20
CHILE = ZoneInfo("America/Santiago")

# Budgets (sliding windows, core/ratelimit): per client address and per contact address.
REQUESTS_PER_IP_PER_HOUR = 5
REQUESTS_PER_EMAIL_PER_HOUR = 3
REQUESTS_PER_EMAIL_PER_DAY = 10
CONFIRMATIONS_PER_IP_PER_HOUR = 20
PAGE_READS_PER_IP_PER_HOUR = 300

ACCEPTED_MESSAGE = (
    "Check your email: the request reaches providers only once you open the link we sent."
)


class InvalidQuoteToken(BadRequest):
    code = "invalid_token"
    default_detail = (
        "This link is invalid, already used or expired (links last 48 hours). Send the request "
        "again."
    )


class QuoteRequestNotFound(NotFound):
    code = "quote_request_not_found"
    default_detail = "No such quote request"


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_detail = "Your company already replied to or declined this request"


class RequestClosed(Conflict):
    code = "request_closed"
    default_detail = "This request is closed, expired or removed: it takes no more answers"


# --- Places and words -------------------------------------------------------------------------


def product_name(record: RequestRecord, lang: Lang) -> str:
    return record.product_name_en if lang == "en" else record.product_name_es


def place_of(record: RequestRecord, lang: Lang) -> Place:
    if record.commune_name is not None:
        return Place(kind="commune", name=record.commune_name)
    if record.region is not None:
        return Place(kind="region", name=record.region)
    return Place(kind="chile", name=ALL_CHILE[lang])


def place_title(commune_name: str | None, region: str | None, lang: Lang) -> str:
    """The place as emails write it: a region by its title, as the pages name it (`Región
    Metropolitana de Santiago`, not its catalogue name; found by the newcomer)."""
    if commune_name is not None:
        return commune_name
    if region is not None:
        return REGION_TITLES.get(region, {}).get(lang, region)
    return ALL_CHILE[lang]


def _summary(record: RequestRecord, lang: Lang) -> RequestSummary:
    return RequestSummary(
        title=record.title,
        description=record.description,
        product_name=product_name(record, lang),
        place_name=place_title(record.commune_name, record.region, lang),
        needed_by=record.needed_by,
        budget_band=record.budget_band,
    )


def _base(public_base_url: str) -> str:
    return public_base_url.rstrip("/")


def confirm_link(public_base_url: str, token: str) -> str:
    # In the fragment, as reset links do: browsers never send it, so no log or Referer has it.
    return f"{_base(public_base_url)}/quote-requests/confirm/#token={token}"


def page_link(public_base_url: str, request_uuid: UUID, token: str) -> str:
    return f"{_base(public_base_url)}/quote-requests/view/#id={request_uuid}&token={token}"


def inbox_link(public_base_url: str) -> str:
    return f"{_base(public_base_url)}/my-company/#quote-requests"


def profile_link(public_base_url: str, slug: str, lang: Lang) -> str:
    path = f"/en/companies/{slug}" if lang == "en" else f"/empresas/{slug}"
    return f"{_base(public_base_url)}{path}"


def _today_in_chile() -> date:
    return datetime.now(CHILE).date()


def _check_needed_by(needed_by: date | None) -> None:
    if needed_by is None:
        return
    today = _today_in_chile()
    if needed_by < today:
        raise invalid_fields(FieldProblem("needed_by", "must not be in the past", "date_in_past"))
    if needed_by > today + timedelta(days=NEEDED_BY_HORIZON_DAYS):
        raise invalid_fields(
            FieldProblem("needed_by", "must be within a year from today", "date_too_far")
        )


def _resolve_region(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    region = places.resolve_region(value, normalise_query)
    if region is None:
        raise invalid_fields(FieldProblem("region", "unknown region of Chile", "unknown_region"))
    return region


# --- Asking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """The answer is the same whatever happened; `email` is what to send, if anything."""

    email: EmailMessage | None


async def enforce_request_limits(limiter: RateLimiter, client: str) -> None:
    """Per client address: every request counts, honeypot and invalid ones included."""
    await enforce(
        limiter, f"quote-ip:{client}", limit=REQUESTS_PER_IP_PER_HOUR, window=3600,
        kind=LimitKind.CLIENTS,
    )  # fmt: skip


def email_limit_key(contact_email: str) -> str:
    """The address the per-email windows count: lower case, without a plus tag
    (`ana+1@x.cl` is `ana@x.cl`, the same inbox)."""
    local, at, domain = contact_email.strip().lower().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0] or local}@{domain}"


async def _enforce_email_limits(limiter: RateLimiter, contact_email: str) -> None:
    """Per contact address, counted only for a request that will email it a confirmation: a
    honeypot or invalid request must not use up someone else's budget."""
    address = email_limit_key(contact_email)
    for key, limit, window in (
        (f"quote-email-hour:{address}", REQUESTS_PER_EMAIL_PER_HOUR, 3600),
        (f"quote-email-day:{address}", REQUESTS_PER_EMAIL_PER_DAY, 86400),
    ):
        await enforce(limiter, key, limit=limit, window=window, kind=LimitKind.EMAILS)


async def enforce_confirm_limit(limiter: RateLimiter, client: str) -> None:
    await enforce(
        limiter, f"quote-confirm-ip:{client}", limit=CONFIRMATIONS_PER_IP_PER_HOUR, window=3600,
        kind=LimitKind.CLIENTS,
    )  # fmt: skip


async def enforce_page_limit(limiter: RateLimiter, client: str) -> None:
    """The private page's secret is 256 bits; this only keeps a guesser from costing much."""
    await enforce(
        limiter, f"quote-page-ip:{client}", limit=PAGE_READS_PER_IP_PER_HOUR, window=3600,
        kind=LimitKind.CLIENTS,
    )  # fmt: skip


async def _buyer_id(conn: Connection, claims: SessionClaims | None) -> int | None:
    """The signed-in buyer's account, when its address is verified. An unverified account has
    no company to leave out, and the purge of never-verified accounts deletes its row, which a
    request must not refer to."""
    if claims is None:
        return None
    user = await accounts_service.authenticate(conn, claims)
    return user.id if user is not None and user.email_verified else None


async def submit_request(
    conn: Connection,
    data: QuoteRequestCreate,
    *,
    claims: SessionClaims | None,
    public_base_url: str,
    limiter: RateLimiter,
) -> Submitted:
    """Store a pending request and build the buyer's confirmation email. A filled honeypot
    stores and sends nothing, and the caller answers exactly as for a real request. The
    per-email limits count only requests that get this far (valid, not a honeypot)."""
    if data.website:
        log.warning("quote_request_honeypot", lang=data.lang)
        return Submitted(email=None)
    if data.region is not None and data.region.strip() and data.commune_uuid is not None:
        raise invalid_fields(
            FieldProblem("region", "give region or commune_uuid, not both", "conflicting_fields")
        )
    region = _resolve_region(data.region)
    _check_needed_by(data.needed_by)
    problems: list[FieldProblem] = []
    product = await catalog_service.find_product(conn, data.product_uuid)
    if product is None:
        problems.append(FieldProblem("product_uuid", "unknown product", "unknown_product"))
    commune_name: str | None = None
    if data.commune_uuid is not None:
        commune = await catalog_service.find_commune(conn, data.commune_uuid)
        if commune is None:
            problems.append(FieldProblem("commune_uuid", "unknown commune", "unknown_commune"))
        else:
            commune_name = commune.name
    if problems or product is None:
        raise invalid_fields(*problems)
    await _enforce_email_limits(limiter, data.contact_email)
    token = new_url_token()
    request_uuid = await repository.insert_request(
        conn,
        product_uuid=data.product_uuid,
        region=region,
        commune_uuid=data.commune_uuid,
        title=data.title,
        description=data.description,
        needed_by=data.needed_by,
        budget_band=data.budget_band,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        contact_company=data.contact_company,
        lang=data.lang,
        user_id=await _buyer_id(conn, claims),
        confirm_digest=token_digest(token),
        # The page's secret is chosen at confirmation; until then nobody knows this one.
        access_digest=token_digest(new_url_token()),
    )
    if request_uuid is None:  # the product was deleted meanwhile
        raise invalid_fields(FieldProblem("product_uuid", "unknown product", "unknown_product"))
    log.info("quote_request_submitted", request_uuid=str(request_uuid))
    place_name = place_title(commune_name, region, data.lang)
    name = product.name_en if data.lang == "en" else product.name_es
    return Submitted(
        email=confirmation_email(
            to=data.contact_email,
            link=confirm_link(public_base_url, token),
            product_name=name,
            place_name=place_name,
            lang=data.lang,
        )
    )


# --- Confirming and matching ------------------------------------------------------------------


async def match_providers(conn: Connection, record: RequestRecord) -> list[MatchedCompany]:
    """Who a request reaches (docs/quotes.md, "Matching"): live companies of the category, in
    the place (located) before those serving it from elsewhere (serves), at most 25, fairly
    rotated within each tier; never the buyer's own company."""
    region = record.commune_region if record.commune_id is not None else record.region
    return await repository.select_matching_companies(
        conn,
        product_id=record.product_id,
        commune_id=record.commune_id,
        region=region,
        buyer_user_id=record.user_id,
        limit=MAX_RECIPIENTS,
    )


@dataclass(frozen=True)
class Confirmation:
    answer: Confirmed
    emails: list[EmailMessage]


async def confirm_request(conn: Connection, token: str, *, public_base_url: str) -> Confirmation:
    """Open a pending request with its emailed token (once, within 48 hours), send it to the
    providers that fit, and give the buyer the private page's secret."""
    record = await repository.select_request_by_confirm_digest_locked(conn, token_digest(token))
    if (
        record is None
        or record.status != "pending"
        or record.created_at <= datetime.now(UTC) - CONFIRM_LINK_TTL
    ):
        raise InvalidQuoteToken()
    page_token = new_url_token()
    await repository.update_request_confirmed(
        conn, record.id, token_digest(page_token), REQUEST_LIFETIME
    )
    matches = await match_providers(conn, record)
    await repository.insert_recipients(conn, record.id, matches)
    recipients = await repository.select_recipients(conn, record.id)
    emails = [
        provider_email(
            to=recipient.owner_email,
            summary=_summary(record, recipient.owner_lang),
            inbox_link=inbox_link(public_base_url),
            lang=recipient.owner_lang,
        )
        for recipient in recipients
    ]
    if record.contact_email is not None:
        emails.append(
            sent_email(
                to=record.contact_email,
                title=record.title,
                notified=len(recipients),
                page_link=page_link(public_base_url, record.uuid, page_token),
                lang=record.lang,
            )
        )
    log.info("quote_request_confirmed", request_uuid=str(record.uuid), notified=len(recipients))
    return Confirmation(
        answer=Confirmed(uuid=record.uuid, notified=len(recipients), page_token=page_token),
        emails=emails,
    )


# --- The buyer's page -------------------------------------------------------------------------


async def _buyer_request(
    conn: Connection, request_uuid: UUID, token: str, *, lock: bool = False
) -> RequestRecord:
    """The request when `token` is its page's secret; the same 404 for a wrong token and an
    unknown uuid (the digests are compared in constant time)."""
    record = await repository.select_request_by_uuid(conn, request_uuid, lock=lock)
    expected = record.access_token_digest if record is not None else bytes(32)
    matches = hmac.compare_digest(expected, token_digest(token))
    if record is None or not matches or record.status == "pending":
        raise QuoteRequestNotFound()
    return record


async def _buyer_page(conn: Connection, record: RequestRecord) -> QuoteRequestPage:
    notified, _, declined = await repository.select_recipient_counts(conn, record.id)
    replies = await repository.select_replies(conn, record.id)
    status = record.status
    assert status != "pending"
    return QuoteRequestPage(
        uuid=record.uuid,
        status=status,
        title=record.title,
        description=record.description,
        product=ProductRef(uuid=record.product_uuid, name=product_name(record, record.lang)),
        place=place_of(record, record.lang),
        needed_by=record.needed_by,
        budget_band=record.budget_band,
        created_at=record.created_at,
        expires_at=record.expires_at,
        notified=notified,
        declined=declined,
        replies=[
            BuyerReply(
                company=ReplyingCompany(
                    uuid=reply.company_uuid,
                    name=reply.company_name,
                    slug=reply.slug,
                    phone=reply.phone,
                    email=reply.email,
                    website=reply.website,
                ),
                message=reply.reply,
                replied_at=reply.replied_at,
            )
            for reply in replies
        ],
    )


def page_token_given(query: str | None, header: str | None) -> str:
    """The page's token from `?token=` or the `X-Page-Token` header (which proxies do not log)."""
    token = header or query
    if not token:
        raise Unprocessable(
            [{"loc": ["query", "token"], "msg": "Field required", "type": "missing"}]
        )
    return token


async def get_buyer_page(conn: Connection, request_uuid: UUID, token: str) -> QuoteRequestPage:
    return await _buyer_page(conn, await _buyer_request(conn, request_uuid, token))


async def close_request(conn: Connection, request_uuid: UUID, token: str) -> QuoteRequestPage:
    """An open request closes; a closed one stays closed (200); an expired or removed one
    cannot be closed (409 `request_closed`)."""
    record = await _buyer_request(conn, request_uuid, token, lock=True)
    if record.status == "open":
        await repository.update_request_closed(conn, record.id)
        log.info("quote_request_closed", request_uuid=str(record.uuid))
        record = await _buyer_request(conn, request_uuid, token)
    elif record.status != "closed":
        raise RequestClosed()
    return await _buyer_page(conn, record)


# --- The provider's inbox ---------------------------------------------------------------------


async def _own_company_id(conn: Connection, user_id: int) -> int:
    company_id = await repository.select_live_company_id_of_user(conn, user_id)
    if company_id is None:
        raise companies_service.CompanyNotFound("You have no company yet")
    return company_id


def _contact(record: RequestRecord) -> BuyerContact | None:
    if record.contact_erased_at is not None or record.contact_email is None:
        return None
    return BuyerContact(
        name=record.contact_name or "",
        email=record.contact_email,
        phone=record.contact_phone,
        company=record.contact_company,
    )


def _inbox_item(item: RecipientRecord, lang: Lang) -> InboxItem:
    record = item.request
    status = record.status
    assert status in ("open", "closed", "expired")
    return InboxItem(
        uuid=record.uuid,
        title=record.title,
        description=record.description,
        product=ProductRef(uuid=record.product_uuid, name=product_name(record, lang)),
        place=place_of(record, lang),
        needed_by=record.needed_by,
        budget_band=record.budget_band,
        status=item.status,
        request_status=status,
        notified_at=item.notified_at,
        reply=item.reply,
        replied_at=item.replied_at,
        contact=_contact(record),
    )


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


async def list_inbox(
    conn: Connection, user_id: int, lang: Lang, *, status: str | None, page: int
) -> InboxPage:
    company_id = await _own_company_id(conn, user_id)
    items, total = await repository.select_inbox_page(
        conn, company_id, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return InboxPage(
        items=[_inbox_item(item, lang) for item in items],
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        pages=_pages(total),
    )


async def _inbox_item_or_404(
    conn: Connection, company_id: int, request_uuid: UUID, *, lock: bool = False
) -> RecipientRecord:
    item = await repository.select_inbox_item(conn, company_id, request_uuid, lock=lock)
    if item is None:
        raise QuoteRequestNotFound()
    return item


async def read_inbox_item(
    conn: Connection, user_id: int, lang: Lang, request_uuid: UUID
) -> InboxItem:
    """One request sent to the caller's company; opening a new one marks it read."""
    company_id = await _own_company_id(conn, user_id)
    item = await _inbox_item_or_404(conn, company_id, request_uuid)
    if item.status == "new":
        await repository.update_recipient_read(conn, item.request.id, company_id)
        item = await _inbox_item_or_404(conn, company_id, request_uuid)
    return _inbox_item(item, lang)


async def _answerable(conn: Connection, user_id: int, request_uuid: UUID) -> RecipientRecord:
    company_id = await _own_company_id(conn, user_id)
    item = await _inbox_item_or_404(conn, company_id, request_uuid, lock=True)
    if item.status in ("replied", "declined"):
        raise AlreadyAnswered()
    if item.request.status != "open":
        raise RequestClosed()
    return item


@dataclass(frozen=True)
class Answered:
    item: InboxItem
    email: EmailMessage | None


async def reply_to_request(
    conn: Connection,
    user_id: int,
    lang: Lang,
    request_uuid: UUID,
    message: str,
    *,
    public_base_url: str,
) -> Answered:
    """The provider's one reply, emailed to the buyer in the request's language."""
    item = await _answerable(conn, user_id, request_uuid)
    record = item.request
    await repository.update_recipient_replied(conn, record.id, item.company_id, message)
    company = await companies_service.get_own_company(conn, user_id)
    log.info("quote_request_replied", request_uuid=str(record.uuid), company=str(company.uuid))
    email = None
    if record.contact_email is not None:
        email = reply_email(
            to=record.contact_email,
            title=record.title,
            provider=ReplyingProvider(
                name=company.name,
                phone=format_phone(company.phone),
                email=company.email,
                website=company.website,
                profile_link=profile_link(public_base_url, company.slug, record.lang),
            ),
            message=message,
            lang=record.lang,
        )
    updated = await _inbox_item_or_404(conn, item.company_id, request_uuid)
    return Answered(item=_inbox_item(updated, lang), email=email)


async def decline_request(
    conn: Connection, user_id: int, lang: Lang, request_uuid: UUID
) -> InboxItem:
    item = await _answerable(conn, user_id, request_uuid)
    await repository.update_recipient_declined(conn, item.request.id, item.company_id)
    log.info("quote_request_declined", request_uuid=str(item.request.uuid))
    return _inbox_item(await _inbox_item_or_404(conn, item.company_id, request_uuid), lang)


# --- Admins -----------------------------------------------------------------------------------


def _admin_view(record: AdminRecord, lang: Lang = "es") -> AdminQuoteRequest:
    return AdminQuoteRequest(
        uuid=record.uuid,
        status=record.status,
        title=record.title,
        description=record.description,
        product=ProductRef(uuid=record.product_uuid, name=product_name(record, lang)),
        place=place_of(record, lang),
        needed_by=record.needed_by,
        budget_band=record.budget_band,
        lang=record.lang,
        contact=_contact(record),
        created_at=record.created_at,
        confirmed_at=record.confirmed_at,
        expires_at=record.expires_at,
        closed_at=record.closed_at,
        removed_at=record.removed_at,
        notified=record.notified,
        replied=record.replied,
        declined=record.declined,
    )


async def list_requests(
    conn: Connection, *, status: str | None, page: int, lang: Lang = "es"
) -> AdminQuotePage:
    records, total = await repository.select_admin_page(
        conn, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return AdminQuotePage(
        items=[_admin_view(record, lang) for record in records],
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        pages=_pages(total),
    )


async def remove_request(
    conn: Connection, actor: AdminActor, request_uuid: UUID
) -> AdminQuoteRequest:
    """Removed: out of every provider's inbox, the buyer's page says so, nothing more can be
    answered. Audit-logged; removing a removed request again changes and logs nothing."""
    record = await repository.select_request_by_uuid(conn, request_uuid, lock=True)
    if record is None:
        raise QuoteRequestNotFound()
    if await repository.update_request_removed(conn, record.id):
        await admin_service.record_admin_action(
            conn, actor, action="quote_request.remove", target_type="quote_request",
            target_uuid=record.uuid,
            before={"status": record.status, "title": record.title},
            after={"status": "removed"},
        )  # fmt: skip
    removed = await repository.select_admin_request(conn, request_uuid)
    assert removed is not None
    return _admin_view(removed)
