"""Provider insights as the API answers them, and the counts the recorder writes."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ContactKind = Literal["phone", "whatsapp", "email", "website"]
CONTACT_KINDS: tuple[ContactKind, ...] = ("phone", "whatsapp", "email", "website")


class ContactClick(BaseModel):
    """`POST /companies/{uuid}/contact-clicks`: which contact link was followed."""

    model_config = ConfigDict(extra="forbid")

    kind: ContactKind


class DailyCount(BaseModel):
    """One company's counts of one UTC day, as the recorder adds them to `company_daily_stat`."""

    model_config = ConfigDict(frozen=True)

    company_uuid: UUID
    day: date
    views: int = 0
    impressions: int = 0
    phone_clicks: int = 0
    whatsapp_clicks: int = 0
    email_clicks: int = 0
    website_clicks: int = 0


class Contacts(BaseModel):
    phone: int = 0
    whatsapp: int = 0
    email: int = 0
    website: int = 0


class QuoteRequests(BaseModel):
    received: int = 0
    replied: int = 0


class DayFigures(BaseModel):
    views: int = 0
    impressions: int = 0
    contacts: Contacts = Field(default_factory=Contacts)
    quote_requests: QuoteRequests = Field(default_factory=QuoteRequests)


class InsightsDay(DayFigures):
    day: date


class CompanyInsights(BaseModel):
    """The owner's daily series, one entry per UTC day (zeros filled, oldest first)."""

    model_config = ConfigDict(populate_by_name=True)

    days: int
    from_: date = Field(alias="from")
    to: date
    series: list[InsightsDay]
    totals: DayFigures


class DailyStatRow(BaseModel):
    """A stored day of one company (the repository's answer)."""

    day: date
    views: int
    impressions: int
    phone_clicks: int
    whatsapp_clicks: int
    email_clicks: int
    website_clicks: int


class QuoteDayRow(BaseModel):
    day: date
    received: int
    replied: int


class WeeklyTotals(BaseModel):
    week_start: date
    quote_requests: int
    replies: int
    reply_rate: float | None
    views: int
    impressions: int
    contacts: int


class DirectoryWeeks(BaseModel):
    weeks: list[WeeklyTotals]
