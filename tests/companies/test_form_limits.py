"""A company form is read only for a signed-in user, only so far, and only as UTF-8 (found in
review).

Before: the whole body was scanned on the event loop before anyone was authenticated. Two
million `a=&` fields from a stranger took 2-3 s to answer 400 while the health check waited as
long; 111k tiny multipart parts took 1.5 s. And a `charset` on a multipart Content-Type
reached `codecs`: `charset=rot13` (base64, hex, zlib, ...) answered 500.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import UserRecord
from proveo.companies.schemas import CompanyRecord
from proveo.config import Settings
from proveo.core import forms
from proveo.core.db import Connection
from tests.companies.support import COMPANIES_URL, MY_COMPANY_URL, form_parts, raw_multipart
from tests.core.serving import served
from tests.factories import LoggedIn, create_company, create_user, log_in

URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}
BOUNDARY = "B"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
# The bodies the review sent: each fits under the 6 MiB body limit.
MANY_FIELDS = b"a=&" * 2_000_000
MANY_PARTS_COUNT = 111_000
CODECS_THAT_ARE_NOT_TEXT = ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri"]


def _tiny_parts(count: int) -> bytes:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n'.encode()
    return part * count + f"--{BOUNDARY}--\r\n".encode()


def _named_parts(count: int) -> bytes:
    """`count` text parts, each a field of its own name (unknown to the form)."""
    return (
        b"".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nx\r\n'.encode()
            for n in range(count)
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )


def _named_fields(count: int) -> bytes:
    return "&".join(f"f{n}=x" for n in range(count)).encode()


MANY_PARTS = _tiny_parts(MANY_PARTS_COUNT)
# Transport padding after a delimiter, which python-multipart steps over a byte at a time.
PADDED = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--{BOUNDARY}'.encode()
    + b" " * 6_000_000
    + f'\r\nContent-Disposition: form-data; name="address"\r\n\r\ny\r\n--{BOUNDARY}--\r\n'.encode()
)


@pytest.fixture
async def session(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    return await log_in(client, await create_user(conn))


@pytest.fixture
def body_checks(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The Content-Type of every body the form check looked at."""
    seen: list[str | None] = []
    real = forms.check_form_body

    def recording(content_type: str | None, body: bytes) -> None:
        seen.append(content_type)
        real(content_type, body)

    monkeypatch.setattr(forms, "check_form_body", recording)
    return seen


def _assert_malformed(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": detail, "code": "malformed_form"}


class TestTheSessionComesBeforeTheBody:
    @pytest.mark.parametrize(
        ("body", "headers"),
        [(MANY_FIELDS, URLENCODED), (MANY_PARTS, MULTIPART)],
        ids=["fields", "parts"],
    )
    async def test_a_stranger_gets_401_and_the_body_is_never_read(
        self,
        client: httpx.AsyncClient,
        body_checks: list[str | None],
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        response = await client.post(COMPANIES_URL, content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "not_authenticated"
        assert body_checks == []

    async def test_a_forged_session_cookie_gets_401_and_the_body_is_never_read(
        self, client: httpx.AsyncClient, body_checks: list[str | None]
    ) -> None:
        client.cookies.set("access_token", "eyJhbGciOiJIUzI1NiJ9.e30.forged")
        response = await client.patch(MY_COMPANY_URL, content=MANY_FIELDS, headers=URLENCODED)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "not_authenticated"
        assert body_checks == []

    async def test_a_session_without_its_csrf_token_gets_403_and_the_body_is_never_read(
        self, client: httpx.AsyncClient, session: LoggedIn, body_checks: list[str | None]
    ) -> None:
        response = await client.post(COMPANIES_URL, content=MANY_PARTS, headers=MULTIPART)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "csrf_failed"
        assert body_checks == []

    async def test_a_stranger_gets_401_even_for_a_body_that_is_no_form(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(COMPANIES_URL, json={"name": "x"})
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "not_authenticated"


class TestFieldAndPartLimits:
    async def test_more_than_1000_urlencoded_fields_is_a_400_naming_the_limit(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await client.post(
            COMPANIES_URL, content=MANY_FIELDS, headers=session.headers | URLENCODED
        )
        _assert_malformed(response, "The form has more than 1000 fields")

    async def test_more_than_1000_multipart_parts_is_a_400_naming_the_limit(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await client.post(
            COMPANIES_URL, content=MANY_PARTS, headers=session.headers | MULTIPART
        )
        _assert_malformed(response, "The form has more than 1000 parts")

    async def test_1001_of_either_is_over_the_limit(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        fields = await client.post(
            COMPANIES_URL, content=_named_fields(1001), headers=session.headers | URLENCODED
        )
        _assert_malformed(fields, "The form has more than 1000 fields")
        parts = await client.post(
            COMPANIES_URL, content=_named_parts(1001), headers=session.headers | MULTIPART
        )
        _assert_malformed(parts, "The form has more than 1000 parts")

    @pytest.mark.parametrize(
        ("body", "headers"),
        [(_named_fields(1000), URLENCODED), (_named_parts(1000), MULTIPART)],
        ids=["fields", "parts"],
    )
    async def test_1000_are_read_and_judged_field_by_field(
        self,
        client: httpx.AsyncClient,
        session: LoggedIn,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        response = await client.post(COMPANIES_URL, content=body, headers=session.headers | headers)
        assert response.status_code == 422, response.text
        problems = response.json()["detail"]
        assert sum(problem["type"] == "unknown_field" for problem in problems) == 1000

    async def test_a_part_with_more_than_8_headers_is_a_400_naming_the_limit(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        headers = "".join(f"X-Extra-{n}: {n}\r\n" for n in range(8))
        body = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n{headers}\r\n'
            f"Otro Nombre\r\n--{BOUNDARY}--\r\n"
        ).encode()
        response = await client.post(
            COMPANIES_URL, content=body, headers=session.headers | MULTIPART
        )
        _assert_malformed(response, "A part of the form has more than 8 headers")

    async def test_a_long_run_of_blanks_in_a_part_head_is_a_400_naming_the_limit(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await client.post(
            COMPANIES_URL, content=PADDED, headers=session.headers | MULTIPART
        )
        _assert_malformed(
            response,
            "A part of the form has 16 or more spaces in a row in its delimiter line or headers",
        )

    async def test_an_urlencoded_form_over_256_kib_is_a_413(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        response = await client.post(
            COMPANIES_URL,
            content=b"description_es=" + b"%41" * 100_000,
            headers=session.headers | URLENCODED,
        )
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "payload_too_large"

    async def test_a_boundary_too_long_to_parse_is_a_400(
        self, client: httpx.AsyncClient, session: LoggedIn
    ) -> None:
        boundary = "b" * 300
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n'
        response = await client.post(
            COMPANIES_URL,
            content=f"{body}--{boundary}--\r\n".encode(),
            headers=session.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_form"


class TestTheLimitsAreDocumented:
    def test_openapi_names_them_on_every_form_route(self, app: FastAPI) -> None:
        paths: dict[str, Any] = app.openapi()["paths"]
        for path, method in (
            ("/api/v1/companies", "post"),
            ("/api/v1/companies/user/my-company", "patch"),
            ("/api/v1/companies/admin/companies/{company_uuid}", "patch"),
        ):
            responses = paths[path][method]["responses"]
            assert "more than 1000 fields or parts" in responses["400"]["description"]
            assert "charset is not UTF-8" in responses["400"]["description"]
            assert "urlencoded form over 256 KiB" in responses["413"]["description"]
            assert "not_authenticated" in responses["401"]["description"]


@pytest.fixture
async def owner_user(conn: Connection) -> UserRecord:
    return await create_user(conn)


@pytest.fixture
async def company(conn: Connection, owner_user: UserRecord) -> CompanyRecord:
    return await create_company(conn, owner_user.id)


@pytest.fixture
async def owner(client: httpx.AsyncClient, owner_user: UserRecord) -> LoggedIn:
    return await log_in(client, owner_user)


class TestCharsets:
    @pytest.mark.parametrize("charset", CODECS_THAT_ARE_NOT_TEXT)
    async def test_a_multipart_charset_that_is_no_text_codec_is_a_400(
        self, client: httpx.AsyncClient, session: LoggedIn, charset: str
    ) -> None:
        body, headers = raw_multipart(form_parts())
        response = await client.post(
            COMPANIES_URL,
            content=body,
            headers=session.headers
            | {"Content-Type": f"{headers['Content-Type']}; charset={charset}"},
        )
        _assert_malformed(
            response, f"The form's charset {charset!r} is not accepted: send the form as UTF-8"
        )

    @pytest.mark.parametrize("charset", [*CODECS_THAT_ARE_NOT_TEXT, "latin-1", "utf-16"])
    async def test_an_urlencoded_charset_other_than_utf8_is_a_400(
        self, client: httpx.AsyncClient, session: LoggedIn, charset: str
    ) -> None:
        response = await client.post(
            COMPANIES_URL,
            content=b"name=Otro+Nombre",
            headers=session.headers
            | {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
        )
        _assert_malformed(
            response, f"The form's charset {charset!r} is not accepted: send the form as UTF-8"
        )

    @pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf_8", "us-ascii", "ascii"])
    @pytest.mark.parametrize("multipart", [True, False])
    async def test_utf8_and_ascii_by_any_of_their_names_are_read(
        self,
        client: httpx.AsyncClient,
        owner: LoggedIn,
        company: CompanyRecord,
        charset: str,
        multipart: bool,
    ) -> None:
        if multipart:
            body, headers = raw_multipart([("name", b"Otro Nombre")])
            content_type = f"{headers['Content-Type']}; charset={charset}"
        else:
            body, content_type = (
                b"name=Otro+Nombre",
                f"{URLENCODED['Content-Type']}; charset={charset}",
            )
        response = await client.patch(
            MY_COMPANY_URL, content=body, headers=owner.headers | {"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Otro Nombre"

    async def test_text_that_is_not_ascii_in_a_form_declared_ascii_is_a_400(
        self, client: httpx.AsyncClient, owner: LoggedIn, company: CompanyRecord
    ) -> None:
        body, headers = raw_multipart([("name", "Ñandú".encode())])
        response = await client.patch(
            MY_COMPANY_URL,
            content=body,
            headers=owner.headers
            | {"Content-Type": f"{headers['Content-Type']}; charset=us-ascii"},
        )
        _assert_malformed(response, "The form field 'name' is not valid ascii text")


class _LivenessProbe:
    """Asks for the liveness route back to back, from a thread of its own, until stopped; a
    stall of the server's event loop shows as one slow answer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.answering = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    response = http.get("/api/v1/health/")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    return
                self.latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    self.failures.append(response.text)
                self.answering.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Probing from the first answer to the end of the block. The server runs in this
        loop: it must keep turning while the last probe is answered."""
        thread = threading.Thread(target=self.run, name="liveness-probe", daemon=True)
        thread.start()
        try:
            assert await asyncio.to_thread(self.answering.wait, 30), "no probe was answered"
            yield
        finally:
            self._stop.set()
            await asyncio.to_thread(thread.join, 60)


# Before the fix a stranger's 2,000,000 fields stalled every other request for 2-3 s; a probe
# now waits only for its turn on a loaded two-core machine.
MAX_PROBE_LATENCY = 1.5
ATTACKS = 3


class TestTheServerStaysResponsive:
    @pytest.mark.parametrize(
        ("signed_in", "body", "headers", "status"),
        [
            (False, MANY_FIELDS, URLENCODED, 401),
            (False, MANY_PARTS, MULTIPART, 401),
            (True, MANY_FIELDS, URLENCODED, 400),
            (True, MANY_PARTS, MULTIPART, 400),
            (True, PADDED, MULTIPART, 400),
        ],
        ids=["stranger-fields", "stranger-parts", "user-fields", "user-parts", "user-padding"],
    )
    async def test_liveness_answers_promptly_while_huge_forms_are_refused(
        self,
        app: FastAPI,
        settings: Settings,
        conn: Connection,
        signed_in: bool,
        body: bytes,
        headers: dict[str, str],
        status: int,
    ) -> None:
        answers: list[tuple[int, float]] = []
        async with served(app, settings) as port:
            base_url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as attacker:
                if signed_in:
                    headers = headers | (await log_in(attacker, await create_user(conn))).headers
                probe = _LivenessProbe(base_url)
                async with probe.running():
                    for _ in range(ATTACKS):
                        started = time.perf_counter()
                        response = await attacker.post(COMPANIES_URL, content=body, headers=headers)
                        answers.append((response.status_code, time.perf_counter() - started))
        worst = max(probe.latencies)
        assert worst < MAX_PROBE_LATENCY, f"a liveness probe waited {worst:.2f} s"
        assert probe.failures == []
        assert [code for code, _ in answers] == [status] * ATTACKS
        slowest = max(took for _, took in answers)
        assert slowest < 2 * MAX_PROBE_LATENCY, f"a refusal took {slowest:.2f} s"
