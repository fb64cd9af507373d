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
        "ignore": (
            "Si no creaste una cuenta en Proveo, no confirmes: alguien usó tu correo con una "
            "contraseña elegida por esa persona. Para quedarte con la cuenta, pide restablecer la "
            "contraseña en Proveo con este correo; ese enlace confirma tu correo y reemplaza su "
            "contraseña."
        ),
    },
    "en": {
        "subject": "Confirm your email on Proveo",
        "greeting": "Hello,",
        "body": (
            "Confirm your email to publish your company on Proveo. The link expires in 24 hours."
        ),
        "action": "Confirm my email",
        "ignore": (
            "If you did not create a Proveo account, do not confirm: someone used your address "
            "with a password of their choosing. To take the account over, ask Proveo for a "
            "password reset for this address; that link confirms your address and replaces "
            "their password."
        ),
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
    "needs_proof": (
        "Confirma en tu navegador",
        "Este enlace confirma el correo solo en el navegador donde se creó la cuenta, o en uno "
        "donde hayas iniciado sesión con ella: así nadie que haya usado tu correo con su propia "
        "contraseña obtiene una cuenta confirmada. Inicia sesión en Proveo en este navegador y "
        "vuelve a abrir el enlace. Si no creaste esta cuenta, no la confirmes: pide restablecer "
        "la contraseña con este correo; ese enlace confirma el correo y reemplaza la contraseña.",
        "Confirm in your browser",
        "This link confirms the address only in the browser where the account was created, or "
        "in one where you have logged in to it: so nobody who used your address with a password "
        "of their own gets a confirmed account. Log in to Proveo in this browser and open the "
        "link again. If you did not create this account, do not confirm it: ask for a password "
        "reset for this address; that link confirms the address and replaces the password.",
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


# The page the reset email links to, until the front end has its own: both languages side by
# side (the link does not say which one the person reads). The script shows one of the hidden
# messages; every word stays here, next to the email that leads to it.
_RESET_PAGE_MESSAGES = {
    "missing-token": (
        "Este enlace está incompleto. Abre el enlace del correo tal como llegó.",
        "This link is incomplete. Open the link from the email as it arrived.",
    ),
    "invalid-token": (
        "Este enlace no es válido, ya se usó o venció. Pide uno nuevo más abajo.",
        "This link is invalid, already used or expired. Ask for a new one below.",
    ),
    "mismatch": ("Las contraseñas no coinciden.", "The passwords differ."),
    "too-short": ("La contraseña es muy corta.", "The password is too short."),
    "too-long": ("La contraseña es muy larga.", "The password is too long."),
    "weak": (
        "Mezcla al menos dos tipos de caracteres, o usa una frase de 16 o más caracteres.",
        "Mix at least two kinds of characters, or use a passphrase of 16 or more characters.",
    ),
    "failed": (
        "No se pudo completar. Inténtalo de nuevo en un momento.",
        "That did not work. Try again in a moment.",
    ),
    "done": (
        "Listo: tu contraseña cambió y se cerraron todas tus sesiones. Inicia sesión con la nueva.",
        "Done: your password changed and every session was logged out. Log in with the new one.",
    ),
    "sent": (
        "Si esa dirección tiene una cuenta, le enviamos un enlace nuevo.",
        "If that address has an account, a new link is on its way.",
    ),
}


def _both(tag: str, es: str, en: str, attributes: str = "") -> str:
    return (
        f'<{tag}{attributes}><span lang="es">{escape(es)}</span> / '
        f'<span lang="en">{escape(en)}</span></{tag}>'
    )


def _messages(*keys: str) -> str:
    return "".join(
        _both("p", *_RESET_PAGE_MESSAGES[key], f' data-message="{key}" hidden') for key in keys
    )


def _password_field(name: str, label: tuple[str, str], described_by: str) -> str:
    return (
        "<div>"
        + _both("label", *label, f' for="{name}"')
        + f'<br><input id="{name}" name="{name}" type="password" autocomplete="new-password" '
        f'required maxlength="128" aria-describedby="{described_by}">'
        "</div>"
    )


def password_reset_page(*, confirm_url: str, request_url: str, script_url: str) -> str:
    """Choose a new password with the token in the link's fragment (never sent to a server).

    No inline script (the CSP forbids it): `script_url` sends the form to `confirm_url`, and,
    for a bad link, the email form to `request_url`.
    """
    policy = _both(
        "p",
        "De 8 a 128 caracteres. Con menos de 16, mezcla al menos dos tipos (minúsculas, "
        "mayúsculas, dígitos, símbolos).",
        "8 to 128 characters. Below 16, mix at least two kinds (lowercase, uppercase, "
        "digits, symbols).",
        ' id="password-policy"',
    )
    return (
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Proveo: nueva contraseña / new password</title>"
        f'<script type="module" src="{escape(script_url, quote=True)}"></script></head>'
        "<body><main>"
        + _both("h1", "Elige una nueva contraseña", "Choose a new password")
        + "<noscript>"
        + _both("p", "Esta página necesita JavaScript.", "This page needs JavaScript.")
        + "</noscript>"
        + f'<form id="reset" data-url="{escape(confirm_url, quote=True)}" novalidate hidden>'
        + _password_field(
            "password", ("Nueva contraseña", "New password"), "password-policy password-errors"
        )
        + policy
        + f'<div id="password-errors">{_messages("too-short", "too-long", "weak")}</div>'
        + _password_field(
            "repeat", ("Repite la contraseña", "Repeat the password"), "repeat-errors"
        )
        + f'<div id="repeat-errors">{_messages("mismatch")}</div>'
        + _both("button", "Guardar", "Save", ' type="submit"')
        + "</form>"
        + '<div id="reset-outcome" role="status">'
        + _messages("missing-token", "invalid-token", "failed", "done")
        + "</div>"
        + f'<form id="new-link" data-url="{escape(request_url, quote=True)}" novalidate hidden>'
        + "<div>"
        + _both("label", "Tu correo", "Your email", ' for="email"')
        + '<br><input id="email" name="email" type="email" autocomplete="email" required '
        'maxlength="254"></div>'
        + _both("button", "Pedir un enlace nuevo", "Ask for a new link", ' type="submit"')
        + "</form>"
        + f'<div id="new-link-outcome" role="status">{_messages("sent", "failed")}</div>'
        + "<p>"
        + _both("a", "Ir a Proveo", "Go to Proveo", ' href="/"')
        + "</p>"
        + "</main></body></html>"
    )
