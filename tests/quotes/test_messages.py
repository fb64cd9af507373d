"""The emails' words: numbers agree with their nouns, dates read as people write them."""

from __future__ import annotations

from datetime import date

import pytest

from proveo.quotes.messages import RequestSummary, provider_email, sent_email
from proveo.quotes.schemas import Lang


@pytest.mark.parametrize(
    ("lang", "notified", "subject"),
    [
        ("es", 0, "Confirmada, aún sin proveedores indicados: Techo"),
        ("es", 1, "Enviada a 1 proveedor: Techo"),
        ("es", 2, "Enviada a 2 proveedores: Techo"),
        ("en", 0, "Confirmed, no provider fits yet: Techo"),
        ("en", 1, "Sent to 1 provider: Techo"),
        ("en", 3, "Sent to 3 providers: Techo"),
    ],
)
def test_the_buyers_subject_agrees_with_the_number_of_providers(
    lang: Lang, notified: int, subject: str
) -> None:
    message = sent_email(
        to="ana@compras.cl", title="Techo", notified=notified, page_link="https://x/", lang=lang
    )
    assert message.subject == subject


@pytest.mark.parametrize(
    ("lang", "written"), [("es", "Para: 15 de enero de 2027"), ("en", "Needed by: 15 January 2027")]
)
def test_the_needed_by_date_is_written_out_in_the_providers_language(
    lang: Lang, written: str
) -> None:
    summary = RequestSummary(
        title="Techo", description="Un techo.", product_name="Construcción",
        place_name="Santiago", needed_by=date(2027, 1, 15), budget_band=None,
    )  # fmt: skip
    message = provider_email(
        to="v@p.cl",
        summary=summary,
        inbox_link="https://x/",
        lang=lang,
    )
    assert written in message.text
    assert "2027-01-15" not in message.text
