"""`FormRoute` reads a form only for a signed-in session, and `check_form_body` judges it within
fixed limits (see the module's docstring for the findings behind each)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Form

from proveo.config import Settings
from proveo.core import forms
from proveo.core.errors import install_error_handlers
from proveo.core.forms import (
    MalformedForm,
    NotAForm,
    UrlencodedTooLarge,
    check_form_body,
)
from proveo.core.security import csrf_token_for, encode_session_token

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=B"


def _parts(*heads: str, data: bytes = b"x") -> bytes:
    """A multipart body with one part per head (its header lines, or padding and headers)."""
    return b"".join(f"--B{head}\r\n\r\n".encode() + data + b"\r\n" for head in heads) + b"--B--\r\n"


def _field(name: str = "a") -> str:
    return f'\r\nContent-Disposition: form-data; name="{name}"'


def _refusal(content_type: str, body: bytes) -> str:
    with pytest.raises(MalformedForm) as refused:
        check_form_body(content_type, body)
    return str(refused.value.detail)


class TestFieldLimits:
    def test_1000_urlencoded_fields_pass_and_1001_do_not(self) -> None:
        fields = [f"f{n}=x".encode() for n in range(1001)]
        check_form_body(URLENCODED, b"&".join(fields[:1000]))
        assert _refusal(URLENCODED, b"&".join(fields)) == "The form has more than 1000 fields"

    def test_empty_pieces_are_no_fields_but_a_long_run_of_separators_is_refused(self) -> None:
        check_form_body(URLENCODED, b"a=1&&b=2&")
        assert _refusal(URLENCODED, b"&" * 2000) == "The form has more than 1000 fields"

    def test_1000_parts_pass_and_1001_do_not(self) -> None:
        check_form_body(MULTIPART, _parts(*(_field(f"f{n}") for n in range(1000))))
        refused = _refusal(MULTIPART, _parts(*(_field(f"f{n}") for n in range(1001))))
        assert refused == "The form has more than 1000 parts"

    def test_8_headers_a_part_pass_and_9_do_not(self) -> None:
        extra = "".join(f"\r\nX-Extra-{n}: {n}" for n in range(8))
        check_form_body(MULTIPART, _parts(_field() + extra[: extra.index("\r\nX-Extra-7")]))
        refused = _refusal(MULTIPART, _parts(_field() + extra))
        assert refused == "A part of the form has more than 8 headers"

    @pytest.mark.parametrize(
        "head",
        [
            " " * 16 + _field(),  # transport padding after the delimiter
            "\t " * 8 + _field(),
            "\r\nContent-Disposition:" + " " * 16 + 'form-data; name="a"',
            _field() + "\r\nX-Blank:" + " " * 4000,  # a value of blanks only
        ],
        ids=["padding", "tabs", "before-a-value", "blank-value"],
    )
    def test_a_run_of_16_blanks_in_a_part_head_is_refused(self, head: str) -> None:
        refused = _refusal(MULTIPART, _parts(_field("first"), head))
        assert refused == (
            "A part of the form has 16 or more spaces in a row in its delimiter line or headers"
        )

    def test_blanks_in_a_parts_data_are_its_own(self) -> None:
        check_form_body(MULTIPART, _parts(_field("first"), " " * 15 + _field(), data=b" " * 99_999))

    def test_an_urlencoded_form_over_256_kib_is_too_large(self) -> None:
        check_form_body(URLENCODED, b"a=" + b"x" * (256 * 1024 - 2))
        with pytest.raises(UrlencodedTooLarge):
            check_form_body(URLENCODED, b"a=" + b"%41" * 100_000)

    def test_a_boundary_too_long_for_the_parser_is_malformed_not_an_error(self) -> None:
        boundary = "b" * 300
        body = f"--{boundary}{_field()}\r\n\r\nx\r\n--{boundary}--\r\n".encode()
        with pytest.raises(MalformedForm):
            check_form_body(f"multipart/form-data; boundary={boundary}", body)


CODECS_THAT_ARE_NOT_TEXT = ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri"]


class TestCharsets:
    @pytest.mark.parametrize(
        "charset",
        [*CODECS_THAT_ARE_NOT_TEXT, "latin-1", "utf-16", "utf-8-sig", "idna", "", "nonsense",
         "utf-8\x00", "x" * 500],
    )  # fmt: skip
    @pytest.mark.parametrize("media_type", [MULTIPART, URLENCODED])
    def test_any_charset_but_utf8_or_ascii_is_refused(self, media_type: str, charset: str) -> None:
        body = _parts(_field()) if media_type == MULTIPART else b"a=x"
        refused = _refusal(f'{media_type}; charset="{charset}"', body)
        assert refused == (
            f"The form's charset {charset[:64]!r} is not accepted: send the form as UTF-8"
        )

    @pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "U8", "us-ascii", "ascii"])
    @pytest.mark.parametrize("media_type", [MULTIPART, URLENCODED])
    def test_utf8_and_ascii_are_taken_by_any_of_their_names(
        self, media_type: str, charset: str
    ) -> None:
        body = _parts(_field()) if media_type == MULTIPART else b"a=x"
        check_form_body(f"{media_type}; charset={charset}", body)

    def test_a_part_declared_ascii_must_be_ascii(self) -> None:
        refused = _refusal(f"{MULTIPART}; charset=us-ascii", _parts(_field(), data="ñ".encode()))
        assert refused == "The form field 'a' is not valid ascii text"

    def test_a_body_that_is_no_form_is_still_a_415(self) -> None:
        with pytest.raises(NotAForm):
            check_form_body("application/json; charset=rot13", b"{}")


def _form_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    install_error_handlers(app)
    router = APIRouter(route_class=forms.FormRoute)

    @router.post("/form")
    async def take_form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    @router.post("/json")
    async def take_json(body: dict[str, str]) -> dict[str, str]:
        return body

    app.include_router(router)
    return app


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A bare app with FormRoute routes and no middleware: the CSRF middleware, in particular,
    is not there to refuse anything first."""
    transport = httpx.ASGITransport(app=_form_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def _sign_in(
    http: httpx.AsyncClient, settings: Settings, *, expires_in: timedelta = timedelta(hours=1)
) -> UUID:
    secret = settings.secret_key.get_secret_value()
    session_id = uuid4()
    token = encode_session_token(
        secret, session_id=session_id, user_uuid=uuid4(), expires_at=datetime.now(UTC) + expires_in
    )
    http.cookies.set("access_token", token)
    http.cookies.set("csrf_token", csrf_token_for(secret, session_id))
    return session_id


def _csrf(settings: Settings, session_id: UUID) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token_for(settings.secret_key.get_secret_value(), session_id)}


@pytest.fixture
def body_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread each form body was checked in."""
    threads: list[int] = []
    real = forms.check_form_body

    def recording(content_type: str | None, body: bytes) -> None:
        threads.append(threading.get_ident())
        real(content_type, body)

    monkeypatch.setattr(forms, "check_form_body", recording)
    return threads


class TestFormRoute:
    async def test_a_stranger_gets_401_and_the_body_is_never_read(
        self, http: httpx.AsyncClient, body_checks: list[int]
    ) -> None:
        response = await http.post("/form", data={"name": "x"})
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication required", "code": "not_authenticated"}
        assert body_checks == []

    async def test_an_expired_session_is_a_stranger(
        self, http: httpx.AsyncClient, settings: Settings, body_checks: list[int]
    ) -> None:
        session_id = _sign_in(http, settings, expires_in=timedelta(minutes=-1))
        response = await http.post("/form", data={"name": "x"}, headers=_csrf(settings, session_id))
        assert response.status_code == 401
        assert body_checks == []

    async def test_a_session_without_its_csrf_token_gets_403_and_the_body_is_never_read(
        self, http: httpx.AsyncClient, settings: Settings, body_checks: list[int]
    ) -> None:
        _sign_in(http, settings)
        response = await http.post("/form", data={"name": "x"})
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
        other_session = await http.post(
            "/form", data={"name": "x"}, headers=_csrf(settings, uuid4())
        )
        assert other_session.status_code == 403
        assert body_checks == []

    async def test_a_signed_session_with_its_token_gets_the_form_read(
        self, http: httpx.AsyncClient, settings: Settings, body_checks: list[int]
    ) -> None:
        session_id = _sign_in(http, settings)
        response = await http.post("/form", data={"name": "x"}, headers=_csrf(settings, session_id))
        assert response.status_code == 200, response.text
        assert response.json() == {"name": "x"}
        assert len(body_checks) == 1

    async def test_a_route_without_a_form_is_left_as_it_is(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/json", json={"name": "x"})
        assert response.status_code == 200, response.text

    async def test_a_body_over_64_kib_is_checked_off_the_event_loop(
        self, http: httpx.AsyncClient, settings: Settings, body_checks: list[int]
    ) -> None:
        headers = _csrf(settings, _sign_in(http, settings))
        small = await http.post("/form", data={"name": "x" * 60_000}, headers=headers)
        large = await http.post("/form", data={"name": "x" * 70_000}, headers=headers)
        assert (small.status_code, large.status_code) == (200, 200)
        loop_thread = threading.get_ident()
        assert [thread == loop_thread for thread in body_checks] == [True, False]
