"""Quote requests as buyers send them, as providers and admins see them, and as stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from proveo.accounts.schemas import NewEmail
from proveo.companies.schemas import Phone
from proveo.core.text import Name, clean_line, clean_text

Lang = Literal["es", "en"]
BudgetBand = Literal["under-1m", "1m-5m", "5m-20m", "over-20m"]
RequestStatus = Literal["pending", "open", "closed", "expired", "removed"]
RecipientStatus = Literal["new", "read", "replied", "declined"]
PlaceKind = Literal["commune", "region", "chile"]
Match = Literal["located", "serves"]

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 2000
REPLY_MAX_LENGTH = 2000
MAX_LINKS = 2
# What a description may hold before cleaning (trimmed edges, runs of blank lines): the limits
# above apply to the text as stored.
_RAW_SLACK = 200
_SCHEME = r"(?:https?|hxxps?)://"
# What follows a link's start, up to a space, a separator or the next scheme.
_REST = rf"(?:(?!{_SCHEME})[^\s,;<>()\[\]\"'])*"
# Named files are not links: "plano.pdf".
_FILES = r"pdf|docx?|xlsx?|pptx?|odt|ods|csv|txt|jpe?g|png|gif|webp|dwg|dxf|zip|rar"
_LINK = re.compile(
    rf"""(?ix)
    \b{_SCHEME}{_REST}                          # http://, https://, hxxp://, hxxps://
    | \bwww\.{_REST}                             # www.
    | (?<![^\W_])                                # a bare name.tld, at the start of a name
      (?:[^\W_](?:[\w-]*[^\W_])?\.)+             # labels in any letters (ñandú.cl)
      (?!(?:{_FILES})\b)
      (?:
        (?-i:[a-z]{{2,}}|[A-Z]{{2,}}|[A-Za-z]{{2}})\b  # a word after a missing space is no TLD
        | (?-i:[A-Za-z]{{3,}})(?=[/?\#:])             # ... unless a path follows (pago.Com/x)
        | xn--[a-z0-9-]+\b | [^\W\d_A-Za-z]{{2,}}     # IDN TLDs (otra.xn--p1ai, tienda.рф)
      )
      (?![@\w-])
      (?:[/:?\#]{_REST})?
    """
)
# An email address's domain is not a link: addresses go before links are looked for.
_EMAIL = re.compile(r"[\w.+'-]*@[\w-]+(?:\.[\w-]+)+")
_SCHEME_OR_WWW = re.compile(rf"(?i){_SCHEME}|www\.")
# Two- and three-letter endings are TLDs only when they are real ones: the country codes, and
# the three-letter TLDs people meet. Otherwise "ss.hh.", "cta.cte.", "p.ej." and "ee.uu.",
# abbreviations in everyday Chilean writing, were links (found in a review). Longer endings
# and internationalised ones always count.
_COUNTRY_TLDS = frozenset(
    region.lower() for region in phonenumbers.SUPPORTED_REGIONS if len(region) == 2
) | {"uk", "eu", "ac", "su"}
_THREE_LETTER_TLDS = frozenset(
    {
        "com",
        "net",
        "org",
        "biz",
        "gov",
        "edu",
        "mil",
        "int",
        "xyz",
        "top",
        "icu",
        "app",
        "dev",
        "pro",
        "art",
        "bar",
        "bet",
        "bid",
        "bio",
        "buy",
        "cab",
        "cam",
        "car",
        "cat",
        "eco",
        "fit",
        "foo",
        "fun",
        "gay",
        "inc",
        "ink",
        "kim",
        "lat",
        "law",
        "llc",
        "lol",
        "ltd",
        "mba",
        "men",
        "moe",
        "mov",
        "new",
        "ngo",
        "nyc",
        "one",
        "ooo",
        "pet",
        "pub",
        "red",
        "rio",
        "run",
        "sbs",
        "sex",
        "ski",
        "sky",
        "soy",
        "spa",
        "srl",
        "tax",
        "tel",
        "uno",
        "vet",
        "vip",
        "win",
        "wow",
        "wtf",
        "xxx",
        "you",
        "zip",
    }
)


def _at_most(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "should have at most {max_length} characters",
                {"max_length": limit},
            )
        return value

    return check


def count_links(text: str) -> int:
    """Links as people write them: `http://`, `https://` (or `hxxp(s)://`), `www.`, or a bare
    `name.tld` (`aaa.cl/x`) with a TLD of 2+ letters, all lower or upper case (any case for two
    letters: `aaa.Cl`). Not links: "S.A.", "Ltda.", "3.5", an email address's domain, a named
    file ("plano.pdf"), a capitalised word after a missing space ("Av.Providencia")."""
    text = _EMAIL.sub(" ", text)
    return sum(1 for found in _LINK.finditer(text) if _is_link(found, text))


def _is_link(found: re.Match[str], text: str) -> bool:
    if _SCHEME_OR_WWW.match(found.group(0)):
        return True
    labels = re.split(r"[/:?#]", found.group(0), maxsplit=1)[0].split(".")
    ending = labels[-1].lower()
    if not ending.isascii() or ending.startswith("xn--"):
        return True
    if len(ending) == 2 and ending not in _COUNTRY_TLDS:
        return False
    if len(ending) == 3 and ending not in _THREE_LETTER_TLDS:
        return False
    # Letter pairs between dots, closed by a dot ("gg.cc."), are an abbreviation.
    abbreviation = all(len(label) <= 2 for label in labels) and text[found.end() :][:1] == "."
    return not abbreviation


def _few_links(value: str) -> str:
    if count_links(value) > MAX_LINKS:
        raise PydanticCustomError(
            "too_many_links", "may contain at most {max_links} links", {"max_links": MAX_LINKS}
        )
    return value


Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX_LENGTH + _RAW_SLACK),
    AfterValidator(clean_line),
    AfterValidator(_at_most(TITLE_MAX_LENGTH)),
]
RequestDescription = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_LENGTH + _RAW_SLACK),
    AfterValidator(clean_text),
    AfterValidator(_at_most(DESCRIPTION_MAX_LENGTH)),
    AfterValidator(_few_links),
]
ReplyText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REPLY_MAX_LENGTH + _RAW_SLACK),
    AfterValidator(clean_text),
    AfterValidator(_at_most(REPLY_MAX_LENGTH)),
    AfterValidator(_few_links),
]
Token = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteRequestCreate(_Strict):
    """`POST /quote-requests`. The place is a region (name, short name or slug) or a commune
    (uuid), or neither for all of Chile. `website` is a honeypot: people leave it empty."""

    product_uuid: UUID
    region: Annotated[str, StringConstraints(max_length=100)] | None = None
    commune_uuid: UUID | None = None
    title: Title
    description: RequestDescription
    needed_by: date | None = None
    budget_band: BudgetBand | None = None
    contact_name: Name
    contact_email: NewEmail
    contact_phone: Phone | None = None
    contact_company: Name | None = None
    lang: Lang = "es"
    website: Annotated[str, StringConstraints(max_length=2000)] | None = None


class QuoteRequestAccepted(BaseModel):
    status: Literal["pending_confirmation"] = "pending_confirmation"
    message: str


class TokenBody(_Strict):
    token: Token


class ReplyBody(_Strict):
    message: ReplyText


class Confirmed(BaseModel):
    uuid: UUID
    notified: int
    page_token: str


class ProductRef(BaseModel):
    uuid: UUID
    name: str


class Place(BaseModel):
    kind: PlaceKind
    name: str


class ReplyingCompany(BaseModel):
    uuid: UUID
    name: str
    slug: str
    phone: str
    email: str
    website: str | None


class BuyerReply(BaseModel):
    company: ReplyingCompany
    message: str
    replied_at: datetime


class QuoteRequestPage(BaseModel):
    """The buyer's private page: the request and every reply to it."""

    uuid: UUID
    status: Literal["open", "closed", "expired", "removed"]
    title: str
    description: str
    product: ProductRef
    place: Place
    needed_by: date | None
    budget_band: BudgetBand | None
    created_at: datetime
    expires_at: datetime | None
    notified: int
    declined: int
    replies: list[BuyerReply]


class BuyerContact(BaseModel):
    name: str
    email: str
    phone: str | None
    company: str | None


class InboxItem(BaseModel):
    """A request as the provider it was sent to sees it. `contact` is null once erased."""

    uuid: UUID
    title: str
    description: str
    product: ProductRef
    place: Place
    needed_by: date | None
    budget_band: BudgetBand | None
    status: RecipientStatus
    request_status: Literal["open", "closed", "expired"]
    notified_at: datetime
    reply: str | None
    replied_at: datetime | None
    contact: BuyerContact | None


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    page_size: int
    pages: int


class AdminQuoteRequest(BaseModel):
    uuid: UUID
    status: RequestStatus
    title: str
    description: str
    product: ProductRef
    place: Place
    needed_by: date | None
    budget_band: BudgetBand | None
    lang: Lang
    contact: BuyerContact | None
    created_at: datetime
    confirmed_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    removed_at: datetime | None
    notified: int
    replied: int
    declined: int


class AdminQuotePage(BaseModel):
    items: list[AdminQuoteRequest]
    total: int
    page: int
    page_size: int
    pages: int


# --- Records (rows as the service sees them; never sent as they are) -------------------------


class RequestRecord(BaseModel):
    """A quote request's row with its product and place resolved."""

    id: int
    uuid: UUID
    status: RequestStatus
    title: str
    description: str
    product_id: int
    product_uuid: UUID
    product_name_es: str
    product_name_en: str
    region: str | None
    commune_id: int | None
    commune_name: str | None
    commune_region: str | None
    needed_by: date | None
    budget_band: BudgetBand | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    contact_company: str | None
    lang: Lang
    user_id: int | None
    access_token_digest: bytes
    created_at: datetime
    confirmed_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    removed_at: datetime | None
    contact_erased_at: datetime | None


class AdminRecord(RequestRecord):
    notified: int
    replied: int
    declined: int


class MatchedCompany(BaseModel):
    company_id: int
    match: Match


class Recipient(BaseModel):
    """A provider notified of a request: where its email goes, in which language."""

    company_id: int
    company_name: str
    owner_email: str
    owner_lang: Lang


class ReplyRecord(BaseModel):
    company_uuid: UUID
    company_name: str
    slug: str
    phone: str
    email: str
    website: str | None
    reply: str
    replied_at: datetime


class RecipientRecord(BaseModel):
    """A request as sent to one company, with that company's answer."""

    request: RequestRecord
    company_id: int
    status: RecipientStatus
    notified_at: datetime
    reply: str | None
    replied_at: datetime | None
