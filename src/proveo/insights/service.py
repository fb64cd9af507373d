"""Provider insights: what is counted (views, impressions, contact clicks), who is not counted
(the company's owner, obvious bots, HEAD requests), and the figures owners and admins read.

Counting never waits and never fails a request: it adds to the app's `InsightsRecorder`
(`recorder.py`), which writes in batches. Without a recorder (`PROVEO_INSIGHTS_ENABLED=false`),
nothing is counted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

import structlog

from proveo.companies import service as companies_service
from proveo.core.db import Connection
from proveo.insights import repository
from proveo.insights.recorder import CONTACT_COUNTERS, Counter, InsightsRecorder, utc_today
from proveo.insights.schemas import (
    CompanyInsights,
    ContactKind,
    Contacts,
    DayFigures,
    DirectoryWeeks,
    InsightsDay,
    QuoteRequests,
)

log = structlog.get_logger(__name__)

# Obvious bots, by their User-Agent: search engines and SEO crawlers (`bot`, `crawl`, `spider`,
# Yahoo's `slurp`), link previews (`preview`, Facebook's `facebookexternalhit`, WhatsApp's and
# Telegram's fetchers), audits (Lighthouse, PageSpeed, GTmetrix) and HTTP libraries and tools
# (curl, wget, python-requests, httpx, aiohttp, Go, Java, okhttp, axios, node-fetch, Scrapy).
# An empty User-Agent is a bot too: every browser sends one. Headless browsers are NOT bots
# here: `HeadlessChrome` is what the end-to-end tests browse with, and it must be counted.
# Matched against the lower-cased User-Agent (a case-insensitive pattern took 15 times longer).
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|facebookcatalog|lighthouse|pagespeed"
    r"|gtmetrix|pingdom|uptime|monitor|whatsapp|telegram|embedly|curl|wget|python-requests"
    r"|python-urllib|httpx|aiohttp|go-http-client|java/|okhttp|axios|node-fetch|undici"
    r"|scrapy|libwww|httpclient|phantomjs"
)


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    """Browsers send a few thousand distinct User-Agents at most: the answers are kept."""
    if not user_agent or not user_agent.strip():
        return True
    return BOT_USER_AGENT.search(user_agent.lower()) is not None


@dataclass(frozen=True)
class Visitor:
    """What counting needs to know about a request, and no more: nothing of it is stored."""

    bot: bool
    # The signed-in user (the session cookie's, checked by its signature only), if any.
    user_uuid: UUID | None = None
    # A HEAD request (answered as a GET without its body): not a view.
    head: bool = False
    # The client's address: one client counts once per company and window (in memory only).
    client: str | None = None


def recorder_of(holder: object) -> InsightsRecorder | None:
    """The recorder, from itself or from the app's state holding it as `insights_recorder`."""
    target = getattr(holder, "insights_recorder", holder)
    return target if isinstance(target, InsightsRecorder) else None


def _record(
    holder: object, counter: Counter, companies: Iterable[UUID], viewer: str | None
) -> None:
    recorder = recorder_of(holder)
    if recorder is None:
        return
    try:
        recorder.record(counter, companies, viewer=viewer)
    except Exception:
        log.exception("insights_record_failed")


def record_view(holder: object, visitor: Visitor, company_uuid: UUID, owner_uuid: UUID) -> None:
    """A company page answered 200: a view, unless the owner, a bot or a HEAD asked."""
    if visitor.bot or visitor.head or visitor.user_uuid == owner_uuid:
        return
    _record(holder, Counter.VIEWS, (company_uuid,), visitor.client)


def record_impressions(holder: object, visitor: Visitor | None, companies: Iterable[UUID]) -> None:
    """Companies shown on a page of results (search or a landing page); a bot's page is not
    counted. Without a `visitor` (no User-Agent at hand) the page counts."""
    if visitor is not None and visitor.bot:
        return
    _record(holder, Counter.IMPRESSIONS, companies, visitor.client if visitor else None)


async def record_contact_click(
    conn: Connection, holder: object, visitor: Visitor, company_uuid: UUID, kind: ContactKind
) -> None:
    """A contact link followed on a company's page. An unknown or deleted company is a 404
    (`company_not_found`); the owner's own clicks and bots' are answered alike, not counted."""
    owner_uuid = await companies_service.get_company_owner(conn, company_uuid)
    if visitor.bot or visitor.user_uuid == owner_uuid:
        return
    _record(holder, CONTACT_COUNTERS[kind], (company_uuid,), visitor.client)


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


async def company_insights(
    conn: Connection, owner_id: int, days: int, *, today: date | None = None
) -> CompanyInsights:
    """The owner's company's last `days` UTC days, today included. Counts still in a
    recorder's buffer arrive with its next flush (within about 5 seconds)."""
    company = await companies_service.get_own_company(conn, owner_id)
    last = today or utc_today()
    first = last - timedelta(days=days - 1)
    series = {day: InsightsDay(day=day) for day in _days(first, days)}
    for row in await repository.select_daily_stats(conn, company.uuid, first, last):
        entry = series[row.day]
        entry.views = row.views
        entry.impressions = row.impressions
        entry.contacts = Contacts(
            phone=row.phone_clicks,
            whatsapp=row.whatsapp_clicks,
            email=row.email_clicks,
            website=row.website_clicks,
        )
    for quotes in await repository.select_quote_days(conn, company.uuid, first, last):
        series[quotes.day].quote_requests = QuoteRequests(
            received=quotes.received, replied=quotes.replied
        )
    entries = list(series.values())
    totals = DayFigures(
        views=sum(e.views for e in entries),
        impressions=sum(e.impressions for e in entries),
        contacts=Contacts(
            phone=sum(e.contacts.phone for e in entries),
            whatsapp=sum(e.contacts.whatsapp for e in entries),
            email=sum(e.contacts.email for e in entries),
            website=sum(e.contacts.website for e in entries),
        ),
        quote_requests=QuoteRequests(
            received=sum(e.quote_requests.received for e in entries),
            replied=sum(e.quote_requests.replied for e in entries),
        ),
    )
    return CompanyInsights(days=days, from_=first, to=last, series=entries, totals=totals)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


async def directory_weeks(
    conn: Connection, weeks: int, *, today: date | None = None
) -> DirectoryWeeks:
    """The directory's last `weeks` weeks (Monday to Sunday, UTC), this one first."""
    last = week_start(today or utc_today())
    first = last - timedelta(weeks=weeks - 1)
    return DirectoryWeeks(weeks=await repository.select_weekly_totals(conn, first, last))
