"""What accounts say to people: verification and password reset emails, verification pages."""

from __future__ import annotations

from html import escape

from proveo.accounts.schemas import Lang
from proveo.integrations.email import EmailMessage

_VERIFY_EMAIL = {
    "es": {
        "subject": "Confirma tu correo en Proveo",
        "greeting": "Hola:",
        "body": (
            "Confirma tu correo para publicar tu empresa en Proveo. El enlace vence en 24 horas."
        ),
        "action": "Confirmar mi correo",
        "ignore": "Si no creaste una cuenta en Proveo, ignora este mensaje.",
    },
    "en": {
        "subject": "Confirm your email on Proveo",
        "greeting": "Hello,",
        "body": (
            "Confirm your email to publish your company on Proveo. The link expires in 24 hours."
        ),
        "action": "Confirm my email",
        "ignore": "If you did not create a Proveo account, ignore this message.",
    },
}


_RESET_EMAIL = {
    "es": {
        "subject": "Restablece tu contraseña de Proveo",
        "greeting": "Hola:",
        "body": (
            "Alguien pidió restablecer la contraseña de tu cuenta de Proveo. Usa este enlace para "
            "elegir una nueva; vence en 1 hora y sirve una sola vez. Al cambiarla se cierran todas "
            "las sesiones abiertas."
        ),
        "action": "Elegir una nueva contraseña",
        "ignore": "Si no lo pediste tú, ignora este mensaje: tu contraseña no cambia.",
    },
    "en": {
        "subject": "Reset your Proveo password",
        "greeting": "Hello,",
        "body": (
            "Someone asked to reset the password of your Proveo account. Use this link to choose "
            "a new one; it expires in 1 hour and works once. Changing it logs out every open "
            "session."
        ),
        "action": "Choose a new password",
        "ignore": "If you did not ask for this, ignore this message: your password stays the same.",
    },
}


def _link_email(words: dict[str, str], *, to: str, link: str, lang: Lang) -> EmailMessage:
    greeting = words["greeting"]
    text = f"{greeting}\n\n{words['body']}\n\n{link}\n\n{words['ignore']}\n\nProveo\n"
    html = (
        f'<!doctype html><html lang="{lang}"><body style="font-family:sans-serif">'
        f"<p>{escape(greeting)}</p><p>{escape(words['body'])}</p>"
        f'<p><a href="{escape(link, quote=True)}">{escape(words["action"])}</a></p>'
        f"<p>{escape(link)}</p><p>{escape(words['ignore'])}</p><p>Proveo</p></body></html>"
    )
    return EmailMessage(to=to, subject=words["subject"], text=text, html=html)


# No user-chosen text (such as the account name) goes into these emails: a signup with someone
# else's address must not be able to put its words in their inbox.


def verification_email(*, to: str, link: str, lang: Lang) -> EmailMessage:
    return _link_email(_VERIFY_EMAIL[lang], to=to, link=link, lang=lang)


def password_reset_email(*, to: str, link: str, lang: Lang) -> EmailMessage:
    return _link_email(_RESET_EMAIL[lang], to=to, link=link, lang=lang)


_PAGES = {
    "verified": (
        "Correo confirmado",
        "Tu correo quedó confirmado. Ya puedes publicar tu empresa.",
        "Email confirmed",
        "Your email is confirmed. You can now publish your company.",
    ),
    "already_verified": (
        "Correo ya confirmado",
        "Este enlace ya se usó y tu correo está confirmado. Puedes iniciar sesión.",
        "Email already confirmed",
        "This link was already used and your email is confirmed. You can log in.",
    ),
    "invalid": (
        "Enlace no válido",
        (
            "Este enlace no es válido, ya se usó o venció. Pide uno nuevo con tu correo; no "
            "hace falta iniciar sesión."
        ),
        "Invalid link",
        (
            "This link is invalid, already used or expired. Ask for a new one with your email "
            "address; you do not need to log in."
        ),
    ),
}


def verification_page(outcome: str, lang: Lang) -> str:
    """A self-contained bilingual page (no scripts), the chosen language first."""
    title_es, body_es, title_en, body_en = _PAGES[outcome]
    sections = [("es", title_es, body_es, "Ir a Proveo"), ("en", title_en, body_en, "Go to Proveo")]
    if lang == "en":
        sections.reverse()
    parts = "".join(
        f'<section lang="{code}"><h1>{escape(title)}</h1><p>{escape(body)}</p>'
        f'<p><a href="/">{escape(link)}</a></p></section>'
        for code, title, body, link in sections
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Proveo: {escape(sections[0][1])}</title></head>"
        f"<body><main>{parts}</main></body></html>"
    )
