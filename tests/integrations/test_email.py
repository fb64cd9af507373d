from __future__ import annotations

import email
import email.message
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from proveo.config import Settings
from proveo.integrations import email as email_module
from proveo.integrations.email import (
    ConsoleEmailSender,
    EmailDeliveryError,
    EmailMessage,
    EmailSender,
    ResendEmailSender,
    SmtpEmailSender,
    build_email_sender,
    deliver,
)
from tests.fixtures.servers import free_port

SENDER = "Proveo <no-reply@proveo.cl>"
API_KEY = "re_test_very_secret_key"


def make_message(**overrides: str) -> EmailMessage:
    fields = {
        "to": "ana@example.cl",
        "subject": "Verificación de tu cuenta en Proveo",
        "text": "Hola Ñandú Peña, confirma tu correo: https://proveo.cl/verify/tok-123",
        "html": "<p>Hola <strong>Ñandú Peña</strong>, confirma tu correo.</p>",
    }
    return EmailMessage(**(fields | overrides))


def assert_is_our_email(parsed: email.message.EmailMessage, message: EmailMessage) -> None:
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == SENDER
    assert parsed["To"] == message.to
    assert parsed["Subject"] == message.subject
    assert parsed["Date"]
    assert parsed["Message-ID"] == f"<{message.key}@proveo.cl>"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().strip() == message.text
    assert html.get_content().strip() == message.html


def files_in(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


@dataclass
class LogRecorder:
    """Stands in for the module's structlog logger: every call, as (level, event, fields)."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, level: str) -> Any:
        def record(event: str, **fields: Any) -> None:
            self.calls.append((level, event, fields))

        return record

    def levels(self) -> list[str]:
        return [level for level, _, _ in self.calls]


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> LogRecorder:
    recorder = LogRecorder()
    monkeypatch.setattr(email_module, "log", recorder)
    return recorder


@dataclass
class CountingSender:
    inner: EmailSender
    calls: int = 0

    async def send(self, message: EmailMessage) -> None:
        self.calls += 1
        await self.inner.send(message)


# --- SMTP: a real aiosmtpd server on loopback -------------------------------------------------


class CollectingHandler:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse_recipients = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    handler: CollectingHandler


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="smtp.test")
    controller.start()
    try:
        yield SmtpServer(port, handler)
    finally:
        controller.stop()


def smtp_sender(port: int) -> SmtpEmailSender:
    return SmtpEmailSender(
        host="127.0.0.1",
        port=port,
        username="",
        password="",
        use_tls=False,
        sender=SENDER,
        timeout=2,
    )


class TestSmtpEmailSender:
    async def test_delivers_multipart_utf8_message(self, smtp_server: SmtpServer) -> None:
        message = make_message()
        await smtp_sender(smtp_server.port).send(message)

        [envelope] = smtp_server.handler.envelopes
        assert envelope.mail_from == "no-reply@proveo.cl"
        assert envelope.rcpt_tos == ["ana@example.cl"]
        assert isinstance(envelope.content, bytes)
        parsed = BytesParser(policy=default_policy).parsebytes(envelope.content)
        assert isinstance(parsed, email.message.EmailMessage)
        assert_is_our_email(parsed, message)
        assert "Verificación" in parsed["Subject"]

    async def test_deliver_returns_true_when_sent(self, smtp_server: SmtpServer) -> None:
        assert await deliver(smtp_sender(smtp_server.port), make_message(), base_delay=0.001)
        assert len(smtp_server.handler.envelopes) == 1

    async def test_send_raises_delivery_error_when_nothing_listens(self) -> None:
        with pytest.raises(EmailDeliveryError) as caught:
            await smtp_sender(free_port()).send(make_message())
        assert caught.value.retryable

    async def test_deliver_gives_up_after_the_configured_attempts(self, logs: LogRecorder) -> None:
        sender = CountingSender(smtp_sender(free_port()))
        message = make_message()

        assert await deliver(sender, message, attempts=3, base_delay=0.001) is False

        assert sender.calls == 3
        assert logs.levels() == ["warning", "warning", "error"]
        for _, _, fields in logs.calls:
            assert fields["to"] == message.to
            assert fields["subject"] == message.subject
            assert "tok-123" not in repr(fields)  # the body (and its token) stays out of logs

    async def test_permanent_refusal_is_not_retried(self, smtp_server: SmtpServer) -> None:
        smtp_server.handler.refuse_recipients = True
        sender = CountingSender(smtp_sender(smtp_server.port))

        with pytest.raises(EmailDeliveryError) as caught:
            await sender.inner.send(make_message())
        assert caught.value.status == 550
        assert not caught.value.retryable

        assert await deliver(sender, make_message(), attempts=3, base_delay=0.001) is False
        assert sender.calls == 1
        assert smtp_server.handler.envelopes == []


# --- Resend: a fake of its HTTP API, served by uvicorn on loopback ---------------------------


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


class FakeResend:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.statuses: list[int] = []
        self.app = Starlette(routes=[Route("/emails", self.emails, methods=["POST"])])

    def reset(self, *statuses: int) -> None:
        self.requests.clear()
        self.statuses = list(statuses)

    async def emails(self, request: Request) -> JSONResponse:
        self.requests.append(
            RecordedRequest(request.url.path, dict(request.headers), await request.json())
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if 200 <= status < 300:
            return JSONResponse({"id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"}, status_code=status)
        names = {401: "missing_api_key", 422: "validation_error"}
        return JSONResponse(
            {
                "statusCode": status,
                "name": names.get(status, "internal_server_error"),
                "message": "x",
            },
            status_code=status,
        )


@pytest.fixture(scope="module")
def resend_server() -> Iterator[tuple[FakeResend, str]]:
    fake = FakeResend()
    port = free_port()
    config = uvicorn.Config(
        fake.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-resend", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Resend API did not start")
        time.sleep(0.01)
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def resend(resend_server: tuple[FakeResend, str]) -> FakeResend:
    fake, _ = resend_server
    fake.reset()
    return fake


@pytest.fixture
def resend_sender(resend_server: tuple[FakeResend, str]) -> ResendEmailSender:
    _, url = resend_server
    return ResendEmailSender(api_url=url, api_key=API_KEY, sender=SENDER, timeout=2)


class TestResendEmailSender:
    async def test_posts_the_resend_contract(
        self, resend: FakeResend, resend_sender: ResendEmailSender
    ) -> None:
        message = make_message()
        await resend_sender.send(message)

        [request] = resend.requests
        assert request.path == "/emails"
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["idempotency-key"] == message.key
        assert request.body == {
            "from": SENDER,
            "to": ["ana@example.cl"],
            "subject": "Verificación de tu cuenta en Proveo",
            "html": message.html,
            "text": message.text,
        }

    async def test_retries_a_server_error_with_the_same_idempotency_key(
        self, resend: FakeResend, resend_sender: ResendEmailSender, logs: LogRecorder
    ) -> None:
        resend.reset(500, 200)
        message = make_message()

        assert await deliver(resend_sender, message, attempts=3, base_delay=0.001) is True

        assert len(resend.requests) == 2
        assert {r.headers["idempotency-key"] for r in resend.requests} == {message.key}
        assert logs.levels() == ["warning"]
        assert "500" in logs.calls[0][2]["error"]

    @pytest.mark.parametrize("status", [401, 422])
    async def test_client_errors_end_in_false_without_retrying(
        self, resend: FakeResend, resend_sender: ResendEmailSender, logs: LogRecorder, status: int
    ) -> None:
        resend.reset(status, status, status)

        with pytest.raises(EmailDeliveryError) as caught:
            await resend_sender.send(make_message())
        assert caught.value.status == status
        assert not caught.value.retryable

        resend.reset(status, status, status)
        assert await deliver(resend_sender, make_message(), attempts=3, base_delay=0.001) is False
        assert len(resend.requests) == 1
        assert logs.levels() == ["error"]
        assert API_KEY not in repr(logs.calls)
        assert API_KEY not in str(caught.value)

    async def test_uses_a_given_client(self, resend: FakeResend, resend_server: Any) -> None:
        _, url = resend_server
        async with httpx.AsyncClient() as client:
            sender = ResendEmailSender(f"{url}/", API_KEY, SENDER, client=client)
            await sender.send(make_message())
            assert not client.is_closed  # the caller's client stays the caller's
        assert [r.path for r in resend.requests] == ["/emails"]

    async def test_transport_error_is_a_delivery_error(self, logs: LogRecorder) -> None:
        sender = ResendEmailSender(f"http://127.0.0.1:{free_port()}", API_KEY, SENDER, timeout=2)
        with pytest.raises(EmailDeliveryError) as caught:
            await sender.send(make_message())
        assert caught.value.retryable
        assert API_KEY not in str(caught.value)


# --- Console: .eml files in the outbox --------------------------------------------------------


class TestConsoleEmailSender:
    async def test_writes_a_parseable_eml_file(self, tmp_path: Path, logs: LogRecorder) -> None:
        outbox = tmp_path / "data" / "outbox"  # missing: the sender creates it
        message = make_message()

        await ConsoleEmailSender(outbox, SENDER).send(message)

        [path] = files_in(outbox)
        assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", path.name)
        parsed = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
        assert isinstance(parsed, email.message.EmailMessage)
        assert_is_our_email(parsed, message)
        legacy = email.message_from_bytes(path.read_bytes())
        assert legacy.is_multipart()
        assert len(legacy.get_payload()) == 2
        [(level, _, fields)] = logs.calls
        assert level == "info"
        # Development only (production refuses the console backend): the text, with its link,
        # is shown in the terminal.
        assert fields == {
            "to": message.to,
            "subject": message.subject,
            "path": str(path),
            "text": message.text,
        }

    async def test_file_names_sort_in_sending_order(self, tmp_path: Path) -> None:
        sender = ConsoleEmailSender(tmp_path, SENDER)
        subjects = [f"Mensaje {n}" for n in range(5)]
        for subject in subjects:
            await sender.send(make_message(subject=subject))

        paths = files_in(tmp_path)
        assert [p.suffix for p in paths] == [".eml"] * 5  # no temporary files left behind
        parser = BytesParser(policy=default_policy)
        assert [parser.parsebytes(p.read_bytes())["Subject"] for p in paths] == subjects

    async def test_header_injection_is_refused_not_retried(self, tmp_path: Path) -> None:
        sender = CountingSender(ConsoleEmailSender(tmp_path, SENDER))
        message = make_message(subject="Hola\r\nBcc: victim@example.com")

        assert await deliver(sender, message, base_delay=0.001) is False
        assert sender.calls == 1
        assert files_in(tmp_path) == []


# --- Choosing the backend ---------------------------------------------------------------------


class TestBuildEmailSender:
    def test_console_by_default(self, settings: Settings) -> None:
        sender = build_email_sender(settings)
        assert isinstance(sender, ConsoleEmailSender)
        assert sender.outbox_dir == settings.outbox_dir
        assert sender.sender == settings.email_from

    def test_smtp(self, settings: Settings) -> None:
        configured = settings.model_copy(
            update={"email_backend": "smtp", "smtp_host": "mail.test", "smtp_port": 587}
        )
        sender = build_email_sender(configured)
        assert isinstance(sender, SmtpEmailSender)
        assert (sender.host, sender.port) == ("mail.test", 587)

    def test_resend(self, settings: Settings) -> None:
        configured = settings.model_copy(
            update={"email_backend": "resend", "resend_api_key": SecretStr(API_KEY)}
        )
        sender = build_email_sender(configured)
        assert isinstance(sender, ResendEmailSender)
        assert sender.api_url == "https://api.resend.com"


class TestInternationalisedDomains:
    def test_domain_is_sent_in_idna_form(self) -> None:
        from proveo.integrations.email import EmailMessage, ascii_address, build_mime

        assert ascii_address("user@bücher.de") == "user@xn--bcher-kva.de"
        assert ascii_address("plain@proveo.cl") == "plain@proveo.cl"
        mime = build_mime(
            EmailMessage(to="user@bücher.de", subject="Hola", text="t", html="<p>h</p>"),
            "Proveo <no-reply@proveo.cl>",
        )
        assert mime["To"] == "user@xn--bcher-kva.de"
