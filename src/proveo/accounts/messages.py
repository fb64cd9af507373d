"""What accounts say to people: verification and password reset emails, verification pages."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

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
        "Confirma tu correo",
        "Escribe la contraseña de tu cuenta para confirmar tu correo en este dispositivo.",
        "Confirm your email",
        "Enter your account's password to confirm your email on this device.",
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


# What each outcome offers next: (href, Spanish label, English label), the first the main one.
_PAGE_ACTIONS: dict[str, list[tuple[str, str, str]]] = {
    "verified": [
        ("/publish/", "Publicar mi empresa", "Publish my company"),
        ("/", "Buscar proveedores", "Find suppliers"),
    ],
    "already_verified": [
        ("/login/", "Iniciar sesión", "Log in"),
        ("/", "Ir a Proveo", "Go to Proveo"),
    ],
    # The password form is the way on (verify-email.js); the login link is for no scripts.
    "needs_proof": [],
    "invalid": [
        ("/signup/?resend=1", "Pedir un enlace nuevo", "Ask for a new link"),
        ("/login/", "Iniciar sesión", "Log in"),
    ],
}
_PAGE_ICONS = {
    "verified": ("success", "✓"),
    "already_verified": ("success", "✓"),
    "needs_proof": ("info", "i"),
    "invalid": ("error", "!"),
}


# The password form of `needs_proof`: the account's password is the proof a browser without the
# signup cookie or a session gives (service.verify_email_with_password). Shown by the page's
# script, which posts it; without scripts the page offers to log in and open the link again.
_PROOF_FORM = {
    "es": {
        "label": "Contraseña",
        "submit": "Confirmar e ingresar",
        "no_script": "Iniciar sesión y confirmar",
        "stranger": "¿No creaste esta cuenta? No la confirmes:",
        "reset": "restablece la contraseña",
    },
    "en": {
        "label": "Password",
        "submit": "Confirm and log in",
        "no_script": "Log in and confirm",
        "stranger": "Did not create this account? Do not confirm it:",
        "reset": "reset the password",
    },
}


def _proof_form(code: Lang, next_param: str) -> str:
    words = _PROOF_FORM[code]
    field = f"verify-password-{code}"
    return (
        f'<form class="stack verify-form" id="verify-form-{code}" method="post" '
        'novalidate hidden><div class="field">'
        f'<label for="{field}">{escape(words["label"])}</label>'
        f'<div class="password-wrap"><input id="{field}" name="password" type="password" '
        'autocomplete="current-password" required></div></div>'
        '<div class="verify-alert" aria-live="polite"></div>'
        '<button class="btn btn-primary btn-block" type="submit">'
        f"{escape(words['submit'])}</button>"
        "</form>"
        f'<noscript><p><a class="btn btn-primary" href="/login/?next={escape(next_param)}">'
        f"{escape(words['no_script'])}</a></p></noscript>"
        f'<p class="muted verify-stranger">{escape(words["stranger"])} '
        f'<a href="/forgot-password/">{escape(words["reset"])}</a>.</p>'
    )


def _sections(outcome: str, order: list[Lang], next_param: str, *, hidden: bool) -> list[str]:
    parts = []
    for code in order:
        title_es, body_es, title_en, body_en = _PAGES[outcome]
        title, body = (title_es, body_es) if code == "es" else (title_en, body_en)
        buttons = "".join(
            f'<a class="btn {"btn-primary" if i == 0 else "btn-secondary"}" '
            f'href="{escape(href.format(here=next_param))}">{escape(label[code])}</a>'
            for i, (href, *labels) in enumerate(_PAGE_ACTIONS[outcome])
            for label in [dict(zip(("es", "en"), labels, strict=True))]
        )
        extra = _proof_form(code, next_param) if outcome == "needs_proof" else ""
        actions = f'<div class="form-actions verify-actions">{buttons}</div>' if buttons else ""
        parts.append(
            f'<section class="stack verify-lang" lang="{code}" data-lang="{code}" '
            f'data-state="{outcome}"{" hidden" if hidden else ""}>'
            f'<h1>{escape(title)}</h1><p class="lead">{escape(body)}</p>{extra}{actions}</section>'
        )
    return parts


def verification_page(outcome: str, lang: Lang, *, here: str) -> str:
    """The front end's frame around the outcome, in both languages, the chosen one first.

    `/js/pages/verify-email.js` shows the reader's language (the header's toggle) and hides the
    other; without scripts both stay readable. `here` is this link's path, so that logging in
    (for `needs_proof`, without scripts) comes back to it. A `needs_proof` page also carries the
    `verified` sections, hidden, for its script to show once the password has confirmed.
    """
    tone, icon = _PAGE_ICONS[outcome]
    order: list[Lang] = ["en", "es"] if lang == "en" else ["es", "en"]
    next_param = quote(here, safe="")
    parts = _sections(outcome, order, next_param, hidden=False)
    if outcome == "needs_proof":
        parts += _sections("verified", order, next_param, hidden=True)
    first_title = _PAGES[outcome][2 if lang == "en" else 0]
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(first_title)} · Proveo</title>"
        '<link rel="stylesheet" href="/css/app.css">'
        '<script type="module" src="/js/pages/verify-email.js"></script></head>'
        '<body><a class="skip-link" href="#main">Saltar al contenido / Skip to content</a>'
        '<header id="site-header" class="site-header"><div class="container header-inner">'
        '<a class="brand" href="/"><span class="brand-mark" aria-hidden="true">P</span>'
        '<span class="brand-name">Proveo</span></a></div></header>'
        '<main id="main" tabindex="-1" class="auth-page"><div class="container auth-card">'
        f'<div class="card text-center" data-outcome="{outcome}">'
        f'<span class="result-icon result-icon-{tone}" aria-hidden="true">{icon}</span>'
        f"{''.join(parts)}</div></div></main>"
        '<footer id="site-footer" class="site-footer"></footer></body></html>'
    )
