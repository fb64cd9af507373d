"""What quote requests say to people by email: the buyer's confirmation link, the request as
each provider receives it, the buyer's "sent to N providers" and each provider's reply.

The confirmation email carries no text the sender typed (only the category and place names of
the catalogue): until the link is used, nothing proves the address is the sender's, and a
stranger must not be able to put words of their own in someone's inbox through Proveo.
Everything else is rendered as text (escaped in the HTML part), never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from proveo.integrations.email import EmailMessage
from proveo.quotes.schemas import Lang

BUDGET_LABELS: dict[str, dict[str, str]] = {
    "es": {
        "under-1m": "menos de $1.000.000",
        "1m-5m": "$1.000.000 a $5.000.000",
        "5m-20m": "$5.000.000 a $20.000.000",
        "over-20m": "más de $20.000.000",
    },
    "en": {
        "under-1m": "under CLP 1,000,000",
        "1m-5m": "CLP 1,000,000 to 5,000,000",
        "5m-20m": "CLP 5,000,000 to 20,000,000",
        "over-20m": "over CLP 20,000,000",
    },
}
ALL_CHILE = {"es": "Todo Chile", "en": "All of Chile"}
MONTHS = {
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
        "octubre", "noviembre", "diciembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
}  # fmt: skip


def long_date(value: date, lang: Lang) -> str:
    """`15 de enero de 2027`, `15 January 2027`: as people write a date in a letter."""
    month = MONTHS[lang][value.month - 1]
    if lang == "en":
        return f"{value.day} {month} {value.year}"
    return f"{value.day} de {month} de {value.year}"


def sent_subject(title: str, notified: int, lang: Lang) -> str:
    """The buyer's "sent to N providers" subject, in number with N (none: said so)."""
    if lang == "en":
        if notified == 0:
            return f"Confirmed, no provider fits yet: {title}"
        return f"Sent to {notified} provider{'' if notified == 1 else 's'}: {title}"
    if notified == 0:
        return f"Confirmada, aún sin proveedores indicados: {title}"
    return f"Enviada a {notified} proveedor{'' if notified == 1 else 'es'}: {title}"


def _email(
    *, to: str, lang: Lang, subject: str, paragraphs: list[str], link: tuple[str, str] | None
) -> EmailMessage:
    """Plain paragraphs (each escaped in the HTML part) and at most one link, shown in full."""
    text_parts = list(paragraphs)
    html_parts = [f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs]
    if link is not None:
        label, url = link
        text_parts.append(f"{label}:\n{url}")
        html_parts.append(
            f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p><p>{escape(url)}</p>'
        )
    text_parts.append("Proveo")
    html_parts.append("<p>Proveo</p>")
    html = (
        f'<!doctype html><html lang="{lang}"><body style="font-family:sans-serif">'
        f"{''.join(html_parts)}</body></html>"
    )
    return EmailMessage(to=to, subject=subject, text="\n\n".join(text_parts) + "\n", html=html)


def confirmation_email(
    *, to: str, link: str, product_name: str, place_name: str, lang: Lang
) -> EmailMessage:
    if lang == "en":
        return _email(
            to=to, lang=lang, subject="Confirm your quote request on Proveo",
            paragraphs=[
                "Hello,",
                f"Someone asked Proveo to send a quote request for “{product_name}” "
                f"({place_name}) to the providers that fit, with this address as the contact.",
                "Nothing is sent to any provider until you open the link and press “Send my "
                "request to the providers” on the page it opens. The link works once and "
                "expires in 48 hours.",
                "If you did not ask for this, ignore this message: nothing will be sent.",
            ],
            link=("Confirm my request", link),
        )  # fmt: skip
    return _email(
        to=to, lang=lang, subject="Confirma tu solicitud de cotización en Proveo",
        paragraphs=[
            "Hola:",
            f"Alguien pidió a Proveo enviar una solicitud de cotización de “{product_name}” "
            f"({place_name}) a los proveedores indicados, con este correo como contacto.",
            "No se envía nada a ningún proveedor hasta que abras el enlace y pulses “Enviar mi "
            "solicitud a los proveedores” en la página que abre. El enlace sirve una vez y "
            "vence en 48 horas.",
            "Si no lo pediste tú, ignora este mensaje: no se enviará nada.",
        ],
        link=("Confirmar mi solicitud", link),
    )  # fmt: skip


@dataclass(frozen=True)
class RequestSummary:
    """A request's words as a provider reads them, in the provider's language."""

    title: str
    description: str
    product_name: str
    place_name: str
    needed_by: date | None
    budget_band: str | None


def _details(summary: RequestSummary, lang: Lang) -> str:
    labels = (
        ("Category", "Place", "Needed by", "Budget")
        if lang == "en"
        else ("Categoría", "Lugar", "Para", "Presupuesto")
    )
    lines = [f"{labels[0]}: {summary.product_name}", f"{labels[1]}: {summary.place_name}"]
    if summary.needed_by is not None:
        lines.append(f"{labels[2]}: {long_date(summary.needed_by, lang)}")
    if summary.budget_band is not None:
        lines.append(f"{labels[3]}: {BUDGET_LABELS[lang][summary.budget_band]}")
    return "\n".join(lines)


def provider_email(
    *, to: str, summary: RequestSummary, inbox_link: str, lang: Lang
) -> EmailMessage:
    if lang == "en":
        return _email(
            to=to, lang=lang, subject=f"Quote request: {summary.title}",
            paragraphs=[
                "Hello,",
                "A buyer on Proveo is asking for a quote, and your company is among the "
                "providers that fit:",
                summary.title, summary.description, _details(summary, lang),
                "Reply or decline from your inbox; the buyer's contact is there.",
            ],
            link=("Open my quote requests", inbox_link),
        )  # fmt: skip
    return _email(
        to=to, lang=lang, subject=f"Solicitud de cotización: {summary.title}",
        paragraphs=[
            "Hola:",
            "Un comprador en Proveo pide una cotización, y tu empresa está entre los "
            "proveedores indicados:",
            summary.title, summary.description, _details(summary, lang),
            "Responde o declina desde tu bandeja; ahí está el contacto del comprador.",
        ],
        link=("Abrir mis solicitudes de cotización", inbox_link),
    )  # fmt: skip


def sent_email(*, to: str, title: str, notified: int, page_link: str, lang: Lang) -> EmailMessage:
    if lang == "en":
        plural = "" if notified == 1 else "s"
        sent = (
            f"Your request “{title}” was sent to {notified} provider{plural}."
            if notified
            else f"Your request “{title}” is confirmed, but no provider fits it yet."
        )
        return _email(
            to=to, lang=lang, subject=sent_subject(title, notified, lang),
            paragraphs=[
                "Hello,", sent,
                "Every reply reaches you by email and is listed on your request's private "
                "page, where you can also close the request. Keep this link to yourself: "
                "whoever has it can see the replies. The request stays open for 30 days.",
            ],
            link=("See the replies", page_link),
        )  # fmt: skip
    sent = (
        f"Tu solicitud “{title}” se envió a {notified} proveedor{'' if notified == 1 else 'es'}."
        if notified
        else f"Tu solicitud “{title}” quedó confirmada, pero aún no hay proveedores indicados."
    )
    return _email(
        to=to, lang=lang, subject=sent_subject(title, notified, lang),
        paragraphs=[
            "Hola:", sent,
            "Cada respuesta te llega por correo y queda en la página privada de tu solicitud, "
            "donde también puedes cerrarla. No compartas este enlace: quien lo tenga puede ver "
            "las respuestas. La solicitud queda abierta 30 días.",
        ],
        link=("Ver las respuestas", page_link),
    )  # fmt: skip


@dataclass(frozen=True)
class ReplyingProvider:
    name: str
    phone: str
    email: str
    website: str | None
    profile_link: str


def reply_email(
    *, to: str, title: str, provider: ReplyingProvider, message: str, lang: Lang
) -> EmailMessage:
    contact = [provider.name, provider.phone, provider.email]
    if provider.website:
        contact.append(provider.website)
    if lang == "en":
        return _email(
            to=to, lang=lang, subject=f"{provider.name} answered your request: {title}",
            paragraphs=[
                "Hello,", f"{provider.name} answered your quote request “{title}”:", message,
                "Contact:\n" + "\n".join(contact),
                "All the replies are on your request's page (the link in the email that "
                "confirmed it was sent).",
            ],
            link=("See the provider's profile", provider.profile_link),
        )  # fmt: skip
    return _email(
        to=to, lang=lang, subject=f"{provider.name} respondió tu solicitud: {title}",
        paragraphs=[
            "Hola:", f"{provider.name} respondió tu solicitud de cotización “{title}”:", message,
            "Contacto:\n" + "\n".join(contact),
            "Todas las respuestas están en la página de tu solicitud (el enlace del correo que "
            "confirmó el envío).",
        ],
        link=("Ver el perfil del proveedor", provider.profile_link),
    )  # fmt: skip
