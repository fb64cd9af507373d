"""Outgoing email: the console outbox (embedded default), SMTP (aiosmtplib) or the Resend API.

Senders raise `EmailDeliveryError`; `deliver` retries the retryable ones with backoff and never
raises it, so a background task can hand it a message and forget. Logs name the recipient and the
subject only: bodies carry verification tokens, and credentials never reach a log line.
"""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import httpx
import structlog

from proveo.config import Settings

log = structlog.get_logger(__name__)

# Statuses worth another attempt; any other 4xx (bad key, invalid payload) will not change.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    # One logical email: the same key across retries (Message-ID, Resend Idempotency-Key), so a
    # retry after a timeout cannot send it twice. Not part of equality.
    key: str = field(default_factory=lambda: secrets.token_hex(16), compare=False, repr=False)


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class EmailDeliveryError(Exception):
    """The email did not go out. `retryable` is False when another attempt cannot help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


def ascii_address(address: str) -> str:
    """An internationalised domain in its IDNA (punycode) form, which every relay accepts.

    Non-ASCII local parts would need SMTPUTF8 and are left as they are.
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def build_mime(message: EmailMessage, sender: str) -> email.message.EmailMessage:
    """A multipart/alternative message (text first, HTML preferred) with the usual headers."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mime = email.message.EmailMessage()
    try:
        mime["From"] = sender
        mime["To"] = ascii_address(message.to)
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.format_datetime(datetime.now(UTC))
        mime["Message-ID"] = f"<{message.key}@{domain}>"
    except ValueError as exc:  # CR/LF or an unparsable address in a header value
        raise EmailDeliveryError(f"invalid email header: {exc}", retryable=False) from exc
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


class ConsoleEmailSender:
    """Development only: writes each email as an `.eml` file to the outbox and logs its text,
    so the developer sees links (verification) in the terminal. Production refuses it."""

    def __init__(self, outbox_dir: Path, sender: str) -> None:
        self.outbox_dir = outbox_dir
        self.sender = sender

    async def send(self, message: EmailMessage) -> None:
        data = build_mime(message, self.sender).as_bytes()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.outbox_dir / f"{stamp}-{secrets.token_hex(4)}.eml"
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            raise EmailDeliveryError(f"cannot write to the outbox: {exc}") from exc
        log.info(
            "email written to outbox",
            to=message.to,
            subject=message.subject,
            path=str(path),
            text=message.text,
        )


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SmtpEmailSender:
    """SMTP through aiosmtplib. `use_tls`: implicit TLS on port 465, required STARTTLS elsewhere;
    without it the connection stays plain (a local relay)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        use_tls: bool,
        sender: str,
        timeout: float = 10,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.use_tls = use_tls
        self.sender = sender
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        mime = build_mime(message, self.sender)
        implicit_tls = self.use_tls and self.port == 465
        try:
            await aiosmtplib.send(
                mime,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self._password if self.username else None,
                use_tls=implicit_tls,
                start_tls=self.use_tls and not implicit_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise EmailDeliveryError(
                f"SMTP server answered {exc.code}: {exc.message}",
                status=exc.code,
                retryable=exc.code < 500,
            ) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise EmailDeliveryError(
                f"SMTP server refused the recipient ({', '.join(map(str, codes))})",
                status=codes[0] if codes else None,
                retryable=not codes or any(code < 500 for code in codes),
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            detail = str(exc) or type(exc).__name__
            raise EmailDeliveryError(
                f"SMTP delivery to {self.host}:{self.port} failed: {detail}"
            ) from exc


class ResendEmailSender:
    """The Resend HTTP API: `POST {api_url}/emails` with a bearer key."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        sender: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._api_key = api_key
        self.sender = sender
        self._client = client
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        payload = {
            "from": self.sender,
            "to": [message.to],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
        }
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": message.key,
        }
        url = f"{self.api_url}/emails"
        try:
            if self._client is not None:
                response = await self._client.post(
                    url, json=payload, headers=headers, timeout=self.timeout
                )
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            # The message names the failure, never the request headers (the key lives there).
            raise EmailDeliveryError(f"Resend request failed: {type(exc).__name__}") from exc
        if response.is_success:
            return
        status = response.status_code
        name = _error_name(response)
        raise EmailDeliveryError(
            f"Resend answered HTTP {status}" + (f" ({name})" if name else ""),
            status=status,
            retryable=status >= 500 or status in _RETRYABLE_STATUSES,
        )


def _error_name(response: httpx.Response) -> str:
    """Resend's machine-readable error name (`validation_error`, ...), if the body has one."""
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    name = body.get("name") if isinstance(body, dict) else None
    return name[:64] if isinstance(name, str) else ""


def build_email_sender(settings: Settings) -> EmailSender:
    if settings.email_backend == "smtp":
        return SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            use_tls=settings.smtp_tls,
            sender=settings.email_from,
        )
    if settings.email_backend == "resend":
        return ResendEmailSender(
            api_url=settings.resend_api_url,
            api_key=settings.resend_api_key.get_secret_value(),
            sender=settings.email_from,
        )
    return ConsoleEmailSender(settings.outbox_dir, settings.email_from)


async def deliver(
    sender: EmailSender, message: EmailMessage, *, attempts: int = 3, base_delay: float = 0.5
) -> bool:
    """Send with retries and exponential backoff; True when sent, False when given up."""
    attempts = max(attempts, 1)
    for attempt in range(1, attempts + 1):
        try:
            await sender.send(message)
        except EmailDeliveryError as exc:
            if attempt == attempts or not exc.retryable:
                log.error(
                    "email delivery failed",
                    to=message.to,
                    subject=message.subject,
                    attempt=attempt,
                    error=str(exc),
                )
                return False
            log.warning(
                "email delivery attempt failed, retrying",
                to=message.to,
                subject=message.subject,
                attempt=attempt,
                error=str(exc),
            )
            await asyncio.sleep(base_delay * 2 ** (attempt - 1))
        else:
            return True
    return False  # unreachable: the loop returns on its last attempt
