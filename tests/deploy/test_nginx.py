"""deploy/nginx/proveo.conf.template, live: a real nginx in front of a real `proveo serve`.

One app serves the whole module. The `nginx` fixture runs the template exactly as written (plus
a TLS listener); `strict_nginx` has a low request rate and one-second timeouts, so that refusals
and cut-offs happen within a test; a few tests start an nginx of their own for one setting. Every
test speaks from loopback addresses of its own (127.0.0.10 and up), so the per-address budgets of
nginx and of the app never mix between tests.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import itertools
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from PIL import Image
from starlette.types import Receive, Scope, Send

from proveo.app import api_router
from proveo.cli import EMBEDDED_DATABASE
from proveo.config import Settings
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.core.middleware import SecurityHeadersMiddleware
from proveo.core.overload import OVERLOADED_BODY
from proveo.images.router import CACHE_CONTROL as IMAGE_CACHE_CONTROL
from proveo.images.router import router as images_router
from tests.fixtures.nginx import (
    TEMPLATE,
    TEMPLATE_VARIABLES,
    NginxServer,
    copy_front_end,
    envsubst,
    render_nginx_config,
    running_nginx,
)
from tests.fixtures.servers import free_port, running_proveo, serve_log_path

API = api_router()
HEALTH = API.url_path_for("health:live")
COMMUNES = API.url_path_for("communes:list")
LOGIN = API.url_path_for("users:login")

# The app's own per-address budget on /api, low enough to spend in a test.
APP_PER_IP_PER_MINUTE = 5
# strict_nginx: one request a minute per address after a burst of this many.
STRICT_BURST = 8
FINGERPRINTED = "js/app.3f9a1c2b.js"
PRECOMPRESSED = "css/precompressed.css"
BIG_FILE = "big.bin"
BIG_FILE_BYTES = 64 * 1024 * 1024
STORED_IMAGE = "nginxtestimage0123456789.webp"

# PROVEO_MAX_BODY_BYTES's default, which the template's client_max_body_size matches.
MAX_BODY: int = Settings.model_fields["max_body_bytes"].default


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("only the middleware's header list is used")


# What SecurityHeadersMiddleware sets, production's HSTS included: the one list to agree with.
APP_SECURITY_HEADERS = dict(SecurityHeadersMiddleware(_no_app, hsts=True).headers)
HSTS = "Strict-Transport-Security"

_addresses = (f"127.0.0.{n}" for n in itertools.count(10))


def fresh_address() -> str:
    """A loopback address no other test has used (the per-address budgets start full)."""
    address = next(_addresses)
    assert not address.endswith(".255"), "out of loopback addresses for this module"
    return address


def client(base_url: str, address: str | None = None) -> httpx.Client:
    """From `address` (a fresh one by default); self-signed certificates accepted (loopback)."""
    transport = httpx.HTTPTransport(local_address=address or fresh_address(), verify=False)
    return httpx.Client(base_url=base_url, transport=transport, timeout=30)


def async_client(base_url: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=fresh_address())
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30)


# --- the servers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveApp:
    url: str
    data_dir: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return serve_log_path(self.data_dir, self.port)

    @property
    def database_dsn(self) -> str:
        return EmbeddedPostgres(self.data_dir.resolve() / "pg").dsn(EMBEDDED_DATABASE)


@dataclass(frozen=True)
class Proxy:
    server: NginxServer
    https_url: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """`proveo serve` trusting forwarded headers from 127.0.0.1 only, which is where nginx
    connects from; the clients use other loopback addresses. One request in progress at a time
    (the 503 test holds it), and no scheduled jobs (the 503 test locks a table they read); the
    docs are on, so that hiding them is nginx's doing."""
    data_dir = tmp_path_factory.mktemp("nginx-app") / "data"
    images = data_dir / "images"
    images.mkdir(parents=True)
    Image.new("RGB", (8, 8), "teal").save(images / STORED_IMAGE, "WEBP")
    with running_proveo(
        data_dir,
        PROVEO_SEED_DEMO="false",
        PROVEO_LOG_LEVEL="INFO",
        PROVEO_DOCS_ENABLED="true",
        PROVEO_METRICS_PORT="0",
        PROVEO_TRUSTED_PROXIES="127.0.0.1",
        PROVEO_RATE_LIMIT_PER_IP_PER_MINUTE=str(APP_PER_IP_PER_MINUTE),
        PROVEO_MAX_IN_FLIGHT="1",
        PROVEO_MAX_QUEUE_MS="0",
        PROVEO_SCHEDULER_ENABLED="false",
    ) as url:
        yield LiveApp(url=url, data_dir=data_dir)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The front end, plus a fingerprinted script, a precompressed stylesheet and a big file."""
    root = copy_front_end(tmp_path_factory.mktemp("nginx-static") / "web")
    (root / FINGERPRINTED).write_text("export const fingerprinted = true;\n")
    (root / PRECOMPRESSED).write_text("/* served uncompressed */\n" * 100)
    (root / f"{PRECOMPRESSED}.gz").write_bytes(gzip.compress(b"/* the .gz neighbour */\n" * 100))
    with open(root / BIG_FILE, "wb") as big:
        big.truncate(BIG_FILE_BYTES)
    return root


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("nginx-tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory,
    app: LiveApp,
    static_root: Path,
    tls_files: tuple[Path, Path],
) -> Iterator[Proxy]:
    """The template as written, with a TLS listener beside its own."""
    cert, key = tls_files
    tls_port = free_port()
    with running_nginx(
        tmp_path_factory.mktemp("nginx"),
        api_upstream=app.upstream,
        static_root=static_root,
        server_extra=[
            f"listen 127.0.0.1:{tls_port} ssl;",
            f"ssl_certificate {cert};",
            f"ssl_certificate_key {key};",
        ],
    ) as server:
        yield Proxy(server=server, https_url=f"https://127.0.0.1:{tls_port}")


@pytest.fixture(scope="module")
def strict_nginx(
    tmp_path_factory: pytest.TempPathFactory, app: LiveApp, static_root: Path
) -> Iterator[NginxServer]:
    with running_nginx(
        tmp_path_factory.mktemp("nginx-strict"),
        api_upstream=app.upstream,
        static_root=static_root,
        directives={
            "limit_req_zone": "$binary_remote_addr zone=proveo_requests:1m rate=1r/m",
            "limit_req": f"zone=proveo_requests burst={STRICT_BURST} nodelay",
            "client_header_timeout": "1s",
            "client_body_timeout": "1s",
            "send_timeout": "1s",
        },
    ) as server:
        yield server


# --- helpers ----------------------------------------------------------------------------------


def wait_for_line(path: Path, *needles: str, timeout: float = 30) -> str:
    """The first line of `path` holding every needle, waiting for it to be written."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            if all(needle in line for needle in needles):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no line with {needles} in {path}:\n{text[-3000:]}")
        time.sleep(0.05)


def app_logged_paths(app: LiveApp, proxy_url: str) -> set[str]:
    """Every path in the app's access log, once a fresh marker request has been logged: the
    requests sent before it have had their chance to appear."""
    marker = f"/nginx-marker-{uuid.uuid4().hex}"
    with client(proxy_url) as http:
        assert http.get(marker).status_code == 404
    wait_for_line(app.log, '"event": "request"', f'"path": "{marker}"')
    paths = set()
    for line in app.log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # not a JSON line, or one still being written after the marker
        if isinstance(record, dict) and record.get("event") == "request":
            paths.add(record["path"])
    return paths


def connect(port: int, address: str, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((address, 0))
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def error_body(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, object] = response.json()
    return body


def assert_app_security_headers_once(response: httpx.Response, *, hsts: bool) -> None:
    for name, value in APP_SECURITY_HEADERS.items():
        found = response.headers.get_list(name)
        if name == HSTS and not hsts:
            assert found == [], f"{name} over http"
        else:
            assert found == [value], f"{name}: {found}"


# --- the template -----------------------------------------------------------------------------


class TestTemplate:
    def test_substitutes_only_its_three_variables_and_keeps_nginxs_own(self) -> None:
        text = TEMPLATE.read_text()
        named = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
        assert named == set(TEMPLATE_VARIABLES)
        rendered = render_nginx_config(
            api_upstream="api:8000", static_root=Path("/srv/web"), listen="8080"
        )
        assert "${" not in rendered
        assert "server api:8000;" in rendered
        assert "root /srv/web;" in rendered
        assert "listen 8080 default_server;" in rendered
        for variable in ("$remote_addr", "$binary_remote_addr", "$uri", "$scheme", "$http_host"):
            assert variable in rendered

    def test_renders_as_gnu_envsubst_does_in_the_official_image(self) -> None:
        values = {"PROVEO_API_UPSTREAM": "api:8000", "PROVEO_STATIC_ROOT": "/srv/web"}
        values["NGINX_LISTEN"] = "8080"
        shell_format = " ".join(f"${{{name}}}" for name in TEMPLATE_VARIABLES)
        result = subprocess.run(
            ["envsubst", shell_format],
            input=TEMPLATE.read_text(), env=values, capture_output=True, text=True,
            check=True, timeout=30,
        )  # fmt: skip
        assert result.stdout == envsubst(TEMPLATE.read_text(), values)

    def test_refuses_to_override_a_directive_it_does_not_have(self) -> None:
        with pytest.raises(ValueError, match="no `limit_rate`"):
            render_nginx_config(
                api_upstream="api:8000",
                static_root=Path("/srv/web"),
                listen="8080",
                directives={"limit_rate": "1k"},
            )

    def test_body_limit_and_its_message_match_the_app(self) -> None:
        text = TEMPLATE.read_text()
        [megabytes] = re.findall(r"^\s*client_max_body_size (\d+)m;", text, re.M)
        assert int(megabytes) * 1024 * 1024 == MAX_BODY
        assert f'"detail":"Request body exceeds {MAX_BODY} bytes"' in text

    def test_two_upstreams_render_a_config_nginx_accepts(
        self, tmp_path: Path, static_root: Path
    ) -> None:
        server = NginxServer(
            tmp_path,
            api_upstream=["127.0.0.1:18001", "127.0.0.1:18002"],
            static_root=static_root,
        )
        server.write_config()
        assert server.site.read_text().count("server 127.0.0.1:1800") == 2
        server.check()


# --- the static front end ---------------------------------------------------------------------


class TestStaticFrontEnd:
    def test_serves_the_apps_clean_urls_from_disk(
        self, nginx: Proxy, app: LiveApp, static_root: Path
    ) -> None:
        with client(nginx.url) as proxy, client(app.url) as direct:
            for path, file in [
                ("/", "index.html"),
                ("/login/", "login/index.html"),
                ("/front-page/front-page.html", "front-page/front-page.html"),
                ("/css/app.css", "css/app.css"),
            ]:
                response = proxy.get(path, headers={"Accept-Encoding": "identity"})
                assert response.status_code == 200, path
                assert response.content == (static_root / file).read_bytes(), path
                assert "x-request-id" not in response.headers  # from disk, not from the app
                from_app = direct.get(path)
                assert from_app.status_code == 200, (path, from_app.text)
                assert response.headers["content-type"] == from_app.headers["content-type"]
            for proxied in (proxy.get("/login"), direct.get("/login")):
                assert proxied.status_code in (301, 307)
                assert proxied.headers["location"] == "/login/"

    def test_static_files_carry_the_apps_security_headers_once(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            for path in ("/", "/login/", "/css/app.css", FINGERPRINTED):
                assert_app_security_headers_once(http.get(path), hsts=False)
            assert_app_security_headers_once(http.get("/login"), hsts=False)  # the redirect too

    def test_https_adds_hsts_as_the_app_does_in_production(self, nginx: Proxy) -> None:
        with client(nginx.https_url) as http:
            response = http.get("/")
            assert response.status_code == 200
            assert_app_security_headers_once(response, hsts=True)

    def test_behind_a_tls_terminator_that_says_https_adds_hsts(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get("/", headers={"X-Forwarded-Proto": "https"})
            assert_app_security_headers_once(response, hsts=True)
            plain = http.get("/", headers={"X-Forwarded-Proto": "http"})
            assert_app_security_headers_once(plain, hsts=False)

    def test_unhashed_files_are_revalidated_by_etag(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            for encoding in ("identity", "gzip"):
                first = http.get("/css/app.css", headers={"Accept-Encoding": encoding})
                assert first.headers["cache-control"] == "public, no-cache"
                etag = first.headers["etag"]
                again = http.get(
                    "/css/app.css", headers={"If-None-Match": etag, "Accept-Encoding": encoding}
                )
                assert again.status_code == 304, encoding
                assert again.content == b""
                assert again.headers["cache-control"] == "public, no-cache"
                assert_app_security_headers_once(again, hsts=False)

    def test_fingerprinted_files_are_cached_for_a_year(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            hashed = http.get(f"/{FINGERPRINTED}")
            assert hashed.status_code == 200
            assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert http.get("/js/api.js").headers["cache-control"] == "public, no-cache"

    def test_text_is_gzipped_for_clients_that_accept_it(
        self, nginx: Proxy, static_root: Path
    ) -> None:
        css = (static_root / "css/app.css").read_bytes()
        with client(nginx.url) as http:
            zipped = http.get("/css/app.css", headers={"Accept-Encoding": "gzip"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert "Accept-Encoding" in zipped.headers["vary"]
            assert zipped.num_bytes_downloaded < len(css) / 2  # as sent
            assert zipped.content == css  # decoded by httpx
            plain = http.get("/css/app.css", headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in plain.headers
            assert plain.content == css

    def test_a_precompressed_neighbour_is_sent_as_it_is(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get(f"/{PRECOMPRESSED}", headers={"Accept-Encoding": "gzip"})
            assert response.headers["content-encoding"] == "gzip"
            assert response.content.startswith(b"/* the .gz neighbour */")

    def test_an_unknown_path_gets_the_apps_json_404(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get("/no-such-page/")
        assert response.status_code == 404
        assert error_body(response)["code"] == "not_found"
        assert "x-request-id" in response.headers  # the app answered

    def test_a_directory_without_an_index_is_a_json_404_not_nginxs_403(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get("/css/")
        assert response.status_code == 404
        assert error_body(response)["code"] == "not_found"
        assert_app_security_headers_once(response, hsts=False)

    def test_headers_too_large_are_a_json_400_with_the_security_headers(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get(HEALTH, headers={"X-Big": "a" * 20_000})
        assert response.status_code == 400
        assert error_body(response)["code"] == "bad_request"
        assert_app_security_headers_once(response, hsts=False)

    @pytest.mark.parametrize(
        ("headers", "status", "code"),
        [
            ({"Range": "bytes=999999999-"}, 416, "range_not_satisfiable"),
            ({"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 412, "precondition_failed"),
        ],
    )
    def test_nginxs_own_refusals_of_a_static_file_are_json(
        self, nginx: Proxy, headers: dict[str, str], status: int, code: str
    ) -> None:
        """Found by the adversary: these were nginx's HTML pages."""
        with client(nginx.url) as http:
            response = http.get(f"/{BIG_FILE}", headers=headers)
        assert response.status_code == status
        assert error_body(response)["code"] == code

    @pytest.mark.parametrize(
        ("request_head", "status", "code"),
        [
            (
                b"POST /api/v1/users/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Transfer-Encoding: identity\r\n",
                501, "not_implemented",
            ),
            (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n", 505, "http_version_not_supported"),
        ],
    )  # fmt: skip
    def test_what_nginx_cannot_read_is_answered_in_json(
        self, nginx: Proxy, request_head: bytes, status: int, code: str
    ) -> None:
        sock = connect(nginx.server.port, "127.0.0.1")
        with sock:
            sock.sendall(request_head + b"Connection: close\r\n\r\n")
            answer, headers, body = parse_response(read_until_closed(sock))
        assert answer == status
        assert headers["content-type"].startswith("application/json")
        assert json.loads(body)["code"] == code

    def test_a_browser_gets_the_apps_html_404(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get("/no-such-page/", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "x-request-id" in response.headers

    def test_server_rendered_pages_come_from_the_app(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            robots = http.get("/robots.txt")
            old_address = http.get("/company/", params={"id": "not-a-uuid"})
        assert robots.status_code == 200
        assert "Sitemap: " in robots.text
        # Not the file on disk (/company/index.html): the app's answer.
        assert old_address.status_code == 404
        assert "x-request-id" in old_address.headers

    def test_a_write_to_a_page_is_a_json_405_like_the_apps(
        self, nginx: Proxy, app: LiveApp
    ) -> None:
        with client(nginx.url) as proxy, client(app.url) as direct:
            for response in (proxy.post("/login/"), direct.post("/login/")):
                assert response.status_code == 405
                assert error_body(response)["code"] == "method_not_allowed"
                assert response.headers["allow"] == "GET, HEAD"


# --- proxied to the app -----------------------------------------------------------------------


def _upstream_connections(nginx: NginxServer, app_port: int) -> set[int]:
    """Local ports of `nginx`'s open connections to the app (its processes' sockets, found in
    /proc: the other nginx instances of this module talk to the same app)."""
    assert nginx.process is not None
    master = nginx.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    inodes = set()
    for pid in (master, *map(int, children)):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if int(remote.split(":")[1], 16) == app_port and state == "01" and inode in inodes:
            ports.add(int(local.split(":")[1], 16))
    return ports


def _shed(response: httpx.Response) -> bool:
    """Whether the app refused the request for its one busy slot."""
    return response.status_code == 503 and error_body(response)["code"] == "overloaded"


class TestProxy:
    def test_an_api_call_carries_the_apps_headers_once(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get(HEALTH)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.headers["server"] == "nginx"  # server_tokens off: no version
        assert len(response.headers["x-request-id"]) == 32
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert_app_security_headers_once(response, hsts=False)

    def test_api_json_is_gzipped(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get(COMMUNES, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert len(response.json()) > 100

    def test_upstream_connections_are_kept_alive(self, nginx: Proxy, app: LiveApp) -> None:
        used: set[int] = set()
        with client(nginx.url) as http:
            for _ in range(10):
                assert http.get(HEALTH).status_code == 200
                open_now = _upstream_connections(nginx.server, app.port)
                assert open_now, "nginx closed its connection to the app after the answer"
                used.update(open_now)
        # One worker, one connection reused (a second only if the app closed the first).
        assert len(used) <= 2, used

    def test_a_stored_image_comes_from_the_app_with_its_caching(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.get(images_router.url_path_for("images:get", name=STORED_IMAGE))
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers.get_list("cache-control") == ["public, max-age=31536000, immutable"]
        assert_app_security_headers_once(response, hsts=False)

    def test_an_unknown_image_is_the_apps_json_404(self, nginx: Proxy) -> None:
        path = images_router.url_path_for("images:get", name="missingimage0123456789.webp")
        with client(nginx.url) as http:
            response = http.get(path)
            # The app has one slot (`PROVEO_MAX_IN_FLIGHT=1`): seen twice in CI, a request of
            # an earlier test still finishing held it, and this one was shed (503
            # `overloaded`). Asked again once the slot is free.
            deadline = time.monotonic() + 30
            while _shed(response) and time.monotonic() < deadline:
                time.sleep(0.05)
                response = http.get(path)
        assert response.status_code == 404, response.text
        assert error_body(response)["code"] == "image_not_found"
        assert "x-request-id" in response.headers

    def test_the_app_sees_the_host_with_its_port_for_same_origin_checks(self, nginx: Proxy) -> None:
        """The CSRF check compares Origin with Host: nginx must pass the port along."""
        with client(nginx.url) as http:
            response = http.post(
                LOGIN,
                json={"email": "nobody@example.com", "password": "wrong password"},
                headers={"Origin": nginx.url},
            )
        assert response.status_code == 401, response.text
        assert error_body(response)["code"] == "invalid_credentials"

    def test_the_apps_503_overloaded_passes_through_unchanged(
        self, nginx: Proxy, app: LiveApp
    ) -> None:
        asyncio.run(_hold_the_only_slot_and_get_shed(nginx.url, app.database_dsn))

    def test_an_answer_that_takes_too_long_is_a_json_504(
        self, tmp_path: Path, app: LiveApp, static_root: Path
    ) -> None:
        with running_nginx(
            tmp_path,
            api_upstream=app.upstream,
            static_root=static_root,
            directives={"proxy_read_timeout": "1s"},
        ) as server:
            path = _company_path()
            response = asyncio.run(_time_out_a_held_request(server.url, app.database_dsn, path))
        assert response.status_code == 504
        assert error_body(response)["code"] == "upstream_timeout"
        # The app finishes it once the lock goes, and frees its one slot for the next test.
        wait_for_line(app.log, '"event": "request"', f'"path": "{path}"')

    def test_a_stopped_app_is_a_json_502(self, tmp_path: Path, static_root: Path) -> None:
        with running_nginx(
            tmp_path, api_upstream=f"127.0.0.1:{free_port()}", static_root=static_root
        ) as server, client(server.url) as http:  # fmt: skip
            response = http.get(HEALTH)
            assert response.status_code == 502
            assert error_body(response)["code"] == "upstream_unavailable"
            assert http.get("/").status_code == 200  # the front end is still served

    def test_with_two_upstreams_reads_skip_the_one_that_is_down(
        self, tmp_path: Path, app: LiveApp, static_root: Path
    ) -> None:
        down = f"127.0.0.1:{free_port()}"
        with running_nginx(
            tmp_path, api_upstream=[down, app.upstream], static_root=static_root
        ) as server, client(server.url) as http:  # fmt: skip
            assert [http.get(HEALTH).status_code for _ in range(4)] == [200] * 4
            wait_for_line(server.error_log, "Connection refused", f'upstream: "http://{down}')


class ImageUpstream:
    """An upstream standing in for the app's /images route, whose store can be switched off: each
    image it holds is answered as the app answers it, or, while `store_down`, with the app's 503
    `storage_unavailable`. Counts the requests that reached it."""

    def __init__(self) -> None:
        self.store_down = False
        self.requests = 0
        self.held = {STORED_IMAGE: b"RIFF-stand-in-for-a-webp"}
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                upstream.requests += 1
                # As the app's route reads it: `/images/<name>` and nothing else.
                name = self.path.split("?", 1)[0].removeprefix("/images/")
                if upstream.store_down:
                    self._answer(503, b'{"detail":"down","code":"storage_unavailable"}', "json")
                elif name in upstream.held:
                    self._answer(200, upstream.held[name], "webp")
                else:
                    self._answer(404, b'{"detail":"no","code":"image_not_found"}', "json")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                media = "image/webp" if kind == "webp" else "application/json"
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                if status == 200:
                    self.send_header("Cache-Control", IMAGE_CACHE_CONTROL)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ImageUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _image_path(name: str) -> str:
    return images_router.url_path_for("images:get", name=name)


class TestImageCache:
    """Images already served stay served while the image store is away (S3 down: the app's 503
    storage_unavailable), from nginx's copy; the fault tests show it with a real S3 outage."""

    def test_the_second_request_for_an_image_is_answered_by_nginx(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            first = http.get(_image_path(STORED_IMAGE))
            response = http.get(_image_path(STORED_IMAGE))
            # A query string names the same copy (it cannot bypass the cache or crowd it).
            with_query = http.get(_image_path(STORED_IMAGE), params={"r": "12345"})
        assert response.status_code == 200
        assert response.headers["x-cache-status"] == "HIT"
        assert with_query.headers["x-cache-status"] == "HIT"
        # Each answer has a request id of its own, not the one that filled the copy.
        ids = {r.headers["x-request-id"] for r in (first, response, with_query)}
        assert len(ids) == 3
        # Browsers still get the app's year-long caching.
        assert response.headers.get_list("cache-control") == ["public, max-age=31536000, immutable"]

    @pytest.mark.parametrize(
        "written", ["/images//{name}", "/images/x/../{name}", "/images/a%2F..%2F{name}"]
    )
    def test_an_image_asked_for_by_another_spelling_is_the_same_copy(
        self, tmp_path: Path, static_root: Path, written: str
    ) -> None:
        """Found by the adversary: nginx keyed the copy on the path it read, but passed the path
        as written, which the app answered 404; the 404 became the image's copy."""
        with ImageUpstream() as upstream, running_nginx(
            tmp_path, api_upstream=upstream.address, static_root=static_root
        ) as server, client(server.url) as http:  # fmt: skip
            raw = written.format(name=STORED_IMAGE).encode()
            odd = http.send(
                http.build_request("GET", httpx.URL(server.url).copy_with(raw_path=raw))
            )
            plain = http.get(_image_path(STORED_IMAGE))
        assert odd.status_code in (200, 404)
        assert (plain.status_code, plain.content) == (200, upstream.held[STORED_IMAGE])

    @pytest.mark.parametrize(
        "name", ["short.webp", "a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k.webp", "x" * 20 + ".png"]
    )
    def test_a_name_no_image_has_is_nginxs_json_404(self, nginx: Proxy, name: str) -> None:
        url = httpx.URL(nginx.url).copy_with(raw_path=f"/images/{name}".encode())
        with client(nginx.url) as http:
            response = http.send(http.build_request("GET", url))
        assert response.status_code == 404
        assert error_body(response) == {"detail": "Not Found", "code": "not_found"}

    def test_an_image_served_before_the_store_went_away_is_still_served(
        self, tmp_path: Path, static_root: Path
    ) -> None:
        with ImageUpstream() as upstream, running_nginx(
            tmp_path, api_upstream=upstream.address, static_root=static_root
        ) as server, client(server.url) as http:  # fmt: skip
            first = http.get(_image_path(STORED_IMAGE))
            upstream.store_down = True
            during = http.get(_image_path(STORED_IMAGE))
            never_served = http.get(_image_path("neverservedimage0123456789.webp"))
        assert first.headers["x-cache-status"] == "MISS"
        assert (during.status_code, during.content) == (200, first.content)
        assert never_served.status_code == 503
        assert error_body(never_served)["code"] == "storage_unavailable"

    def test_an_expired_copy_is_served_stale_while_the_store_is_away_and_renewed_after(
        self, tmp_path: Path, static_root: Path
    ) -> None:
        with ImageUpstream() as upstream, running_nginx(
            tmp_path,
            api_upstream=upstream.address,
            static_root=static_root,
            directives={"proxy_cache_valid": "200 404 1s"},
        ) as server, client(server.url) as http:  # fmt: skip
            first = http.get(_image_path(STORED_IMAGE))
            upstream.store_down = True
            asked = upstream.requests
            # The copy expires after a second: from then on nginx asks the store, which fails.
            deadline = time.monotonic() + 30
            while upstream.requests == asked and time.monotonic() < deadline:
                during = http.get(_image_path(STORED_IMAGE))
                assert (during.status_code, during.content) == (200, first.content)
                time.sleep(0.1)
            assert upstream.requests > asked, "nginx never asked the store again"
            assert during.headers["x-cache-status"] in {"STALE", "UPDATING"}
            # Back: the expired copy is renewed from the store in the background.
            upstream.store_down = False
            deadline = time.monotonic() + 30
            statuses: list[str] = []
            while statuses[-1:] != ["HIT"] and time.monotonic() < deadline:
                after = http.get(_image_path(STORED_IMAGE))
                assert after.status_code == 200
                statuses.append(after.headers["x-cache-status"])
                time.sleep(0.1)
            assert statuses[-1:] == ["HIT"], statuses

    def test_a_removed_image_stops_being_served_once_the_copy_expires(
        self, tmp_path: Path, static_root: Path
    ) -> None:
        with ImageUpstream() as upstream, running_nginx(
            tmp_path,
            api_upstream=upstream.address,
            static_root=static_root,
            directives={"proxy_cache_valid": "200 404 1s"},
        ) as server, client(server.url) as http:  # fmt: skip
            assert http.get(_image_path(STORED_IMAGE)).status_code == 200
            del upstream.held[STORED_IMAGE]  # a moderator removed it
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                response = http.get(_image_path(STORED_IMAGE))
                if response.status_code != 200:
                    break
                time.sleep(0.1)
        assert response.status_code == 404
        assert error_body(response)["code"] == "image_not_found"


class CompanyTableLock:
    """`proveo.company` locked from outside the app: any request that reads it waits (up to the
    app's database command timeout) until `release()`."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def __aenter__(self) -> CompanyTableLock:
        self.locker = await asyncpg.connect(self.dsn)
        self.watcher = await asyncpg.connect(self.dsn)
        self.transaction = self.locker.transaction()
        await self.transaction.start()
        await self.locker.execute("LOCK TABLE proveo.company IN ACCESS EXCLUSIVE MODE")
        self.held = True
        return self

    async def wait_until_blocked(self, request: asyncio.Task[httpx.Response]) -> None:
        """Until the request's query waits for the lock (the app runs no scheduled jobs here,
        so it is the only one that can). Watched from another connection: inside the locking
        transaction, pg_stat_activity would stay as it first saw it."""
        deadline = time.monotonic() + 30
        query = (
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))"
        )
        while not await self.watcher.fetchval(query, self.locker.get_server_pid()):
            assert not request.done(), f"answered without waiting: {request.result().text}"
            assert time.monotonic() < deadline, "the app's query never reached the lock"
            await asyncio.sleep(0.02)

    async def release(self) -> None:
        if self.held:
            self.held = False
            await self.transaction.rollback()

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.release()
        finally:
            await self.locker.close()
            await self.watcher.close()


def _company_path() -> str:
    return API.url_path_for("companies:get", company_uuid=str(uuid.uuid4()))


async def _hold_the_only_slot_and_get_shed(proxy_url: str, dsn: str) -> None:
    """With PROVEO_MAX_IN_FLIGHT=1: a request blocked on a table lock holds the app's one slot,
    and the next request is shed by the app; nginx must hand that answer on as it is."""
    async with (
        CompanyTableLock(dsn) as lock,
        async_client(proxy_url) as holder,
        async_client(proxy_url) as other,
    ):
        held = asyncio.create_task(holder.get(_company_path()))
        try:
            await lock.wait_until_blocked(held)
            shed = await other.get(_company_path())
        finally:
            await lock.release()
        released = await held
    assert shed.status_code == 503
    assert shed.content == OVERLOADED_BODY
    assert shed.headers["retry-after"] == "1"
    assert shed.headers["content-type"] == "application/json"
    assert "x-request-id" in shed.headers  # the app's answer, not one of nginx's
    assert released.status_code == 404
    assert error_body(released)["code"] == "company_not_found"


async def _time_out_a_held_request(proxy_url: str, dsn: str, path: str) -> httpx.Response:
    async with CompanyTableLock(dsn) as lock, async_client(proxy_url) as http:
        response = await http.get(path)  # the lock outlasts proxy_read_timeout
        await lock.release()
    return response


# --- limits -----------------------------------------------------------------------------------


class TestBodyLimit:
    def test_a_declared_oversized_body_is_a_json_413_from_nginx(
        self, nginx: Proxy, app: LiveApp
    ) -> None:
        path = f"/api/v1/nginx-too-large-{uuid.uuid4().hex}"
        with connect(nginx.server.port, fresh_address()) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: proveo\r\nContent-Type: application/json\r\n"
                f"Content-Length: {MAX_BODY + 1}\r\n\r\n{{".encode()
            )
            status, headers, body = parse_response(read_until_closed(sock))
        assert status == 413
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "detail": f"Request body exceeds {MAX_BODY} bytes",
            "code": "payload_too_large",
        }
        assert path not in app_logged_paths(app, nginx.url)

    def test_a_streamed_oversized_body_is_a_json_413_from_nginx(
        self, nginx: Proxy, app: LiveApp
    ) -> None:
        path = f"/api/v1/nginx-streamed-{uuid.uuid4().hex}"

        def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
            for _ in range(MAX_BODY // 65536):
                yield b"x" * 65536
            yield b"x"

        with client(nginx.url) as http:
            response = http.post(path, content=chunks())
        assert response.status_code == 413
        assert error_body(response)["code"] == "payload_too_large"
        assert path not in app_logged_paths(app, nginx.url)

    def test_a_body_at_the_limit_reaches_the_app(self, nginx: Proxy) -> None:
        with client(nginx.url) as http:
            response = http.post(
                LOGIN, content=b" " * MAX_BODY, headers={"Content-Type": "text/plain"}
            )
        assert "x-request-id" in response.headers  # the app answered
        assert response.status_code in (400, 415, 422), response.text
        assert error_body(response)["code"] != "payload_too_large"

    def test_a_json_body_over_the_apps_json_limit_is_its_413_not_a_502(self, nginx: Proxy) -> None:
        # The app reads such a body to its end before refusing it: cut off mid-send, nginx
        # answered 502.
        with client(nginx.url) as http:
            response = http.post(
                LOGIN, content=b" " * MAX_BODY, headers={"Content-Type": "application/json"}
            )
        assert "x-request-id" in response.headers
        assert response.status_code == 413
        assert "JSON" in error_body(response)["detail"]


class TestRequestRate:
    def test_a_flood_from_one_address_gets_json_429_with_retry_after(
        self, strict_nginx: NginxServer
    ) -> None:
        with client(strict_nginx.url) as flooder, client(strict_nginx.url) as bystander:
            statuses = []
            for _ in range(STRICT_BURST + 5):
                response = flooder.get(HEALTH)  # exempt from the app's own limits
                statuses.append(response.status_code)
                if response.status_code == 429:
                    break
            assert statuses[: STRICT_BURST + 1] == [200] * (STRICT_BURST + 1), statuses
            assert statuses[-1] == 429, statuses
            assert error_body(response) == {
                "detail": "Too many requests, slow down",
                "code": "rate_limited",
            }
            assert response.headers["retry-after"] == "1"
            assert "x-request-id" not in response.headers  # refused before the app
            assert_app_security_headers_once(response, hsts=False)
            assert bystander.get(HEALTH).status_code == 200
            assert flooder.get("/css/app.css").status_code == 200  # static files are not limited

    def test_one_address_cannot_hold_more_requests_than_its_share(
        self, tmp_path: Path, app: LiveApp, static_root: Path
    ) -> None:
        """limit_conn: requests in progress per address, a slow body included."""
        address = fresh_address()
        with running_nginx(
            tmp_path,
            api_upstream=app.upstream,
            static_root=static_root,
            directives={"limit_conn": "proveo_connections 2", "client_body_timeout": "60s"},
        ) as server:
            holders = [connect(server.port, address) for _ in range(2)]
            try:
                for sock in holders:  # headers, then a body that never comes
                    sock.sendall(
                        f"POST {LOGIN} HTTP/1.1\r\nHost: proveo\r\nContent-Length: 100\r\n\r\n"
                        .encode()
                    )  # fmt: skip
                deadline = time.monotonic() + 20
                with client(server.url, address) as http:
                    while (response := http.get("/")).status_code != 429:
                        assert time.monotonic() < deadline, "never refused"
                assert error_body(response)["code"] == "rate_limited"
                with client(server.url) as other:
                    assert other.get("/").status_code == 200
            finally:
                for sock in holders:
                    sock.close()


class TestSlowClients:
    def test_a_body_that_stops_arriving_is_cut_off_and_never_reaches_the_app(
        self, strict_nginx: NginxServer, app: LiveApp
    ) -> None:
        address = fresh_address()
        path = f"/api/v1/nginx-slow-body-{uuid.uuid4().hex}"
        with connect(strict_nginx.port, address) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: proveo\r\nContent-Length: 100\r\n\r\n{{".encode()
            )
            # nginx logs the cut-off as a 408 it never sends.
            wait_for_line(strict_nginx.access_log, f"{address} ", f'"POST {path} HTTP/1.1" 408 0')
            assert read_until_closed(sock) == b""  # closed, with no answer
        assert path not in app_logged_paths(app, strict_nginx.url)

    def test_headers_that_never_end_are_cut_off(self, strict_nginx: NginxServer) -> None:
        address = fresh_address()
        with connect(strict_nginx.port, address) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: proveo\r\n")
            wait_for_line(
                strict_nginx.error_log, "while reading client request headers", f"client: {address}"
            )
            assert read_until_closed(sock) == b""

    def test_a_client_that_stops_reading_is_cut_off(self, strict_nginx: NginxServer) -> None:
        address = fresh_address()
        with connect(strict_nginx.port, address, receive_buffer=4096) as sock:
            sock.sendall(f"GET /{BIG_FILE} HTTP/1.1\r\nHost: proveo\r\n\r\n".encode())
            wait_for_line(
                strict_nginx.error_log, "while sending response to client", f"client: {address}"
            )
            received = read_until_closed(sock)
        assert received.startswith(b"HTTP/1.1 200")
        assert len(received) < BIG_FILE_BYTES


# --- the client's address, as the app sees it -------------------------------------------------


class TestClientAddress:
    def test_the_app_counts_each_client_by_its_own_address(self, nginx: Proxy) -> None:
        with client(nginx.url) as first, client(nginx.url) as second:
            answers = [first.get(COMMUNES) for _ in range(APP_PER_IP_PER_MINUTE + 1)]
            assert [r.status_code for r in answers] == [200] * APP_PER_IP_PER_MINUTE + [429]
            assert error_body(answers[-1])["code"] == "rate_limited"
            assert "x-request-id" in answers[-1].headers  # the app's limit, not nginx's
            # Every request reached the app from 127.0.0.1 (nginx): only the forwarded address
            # tells the two clients apart.
            assert second.get(COMMUNES).status_code == 200

    def test_a_forged_x_forwarded_for_does_not_reach_the_app(self, nginx: Proxy) -> None:
        with client(nginx.url) as forger:
            statuses = [
                forger.get(
                    COMMUNES,
                    headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
                ).status_code
                for n in range(APP_PER_IP_PER_MINUTE + 1)
            ]
        assert statuses == [200] * APP_PER_IP_PER_MINUTE + [429]

    def test_a_client_on_a_trusted_address_cannot_forge_one_either(self, nginx: Proxy) -> None:
        """nginx replaces the header rather than appending to it: uvicorn takes the rightmost
        address it does not trust, so after a trusted client (127.0.0.1 here; the pod network in
        k3s) an appended header would hand it the forged address."""
        with client(nginx.url, "127.0.0.1") as trusted:
            statuses = [
                trusted.get(COMMUNES, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(APP_PER_IP_PER_MINUTE + 1)
            ]
        assert statuses == [200] * APP_PER_IP_PER_MINUTE + [429]

    def test_behind_a_trusted_terminator_the_app_sees_the_client_it_names(
        self, tmp_path: Path, app: LiveApp, static_root: Path
    ) -> None:
        """proveo.d/real-ip.conf names the terminator: its X-Forwarded-For is believed, nobody
        else's."""
        terminator, stranger = fresh_address(), fresh_address()
        named, other_named = fresh_address(), fresh_address()  # never connect themselves
        additions = tmp_path / "proveo.d"
        additions.mkdir()
        (additions / "real-ip.conf").write_text(
            f"set_real_ip_from {terminator};\nreal_ip_header X-Forwarded-For;\n"
            "real_ip_recursive on;\n"
        )
        with running_nginx(
            tmp_path / "nginx",
            api_upstream=app.upstream,
            static_root=static_root,
            directives={"include": f"{additions}/*.conf"},
        ) as server:
            naming = {"X-Forwarded-For": f"198.51.100.9, {named}"}
            with client(server.url, stranger) as forger:
                statuses = [
                    forger.get(COMMUNES, headers=naming).status_code
                    for _ in range(APP_PER_IP_PER_MINUTE + 1)
                ]
                assert statuses == [200] * APP_PER_IP_PER_MINUTE + [429]  # counted as itself
            with client(server.url, terminator) as front:
                statuses = [
                    front.get(COMMUNES, headers=naming).status_code
                    for _ in range(APP_PER_IP_PER_MINUTE + 1)
                ]
                assert statuses == [200] * APP_PER_IP_PER_MINUTE + [429]  # counted as `named`
                other = {"X-Forwarded-For": other_named}
                assert front.get(COMMUNES, headers=other).status_code == 200

    def test_the_app_believes_forwarded_headers_only_from_the_proxy(self, app: LiveApp) -> None:
        with client(app.url) as direct:
            statuses = [
                direct.get(COMMUNES, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(APP_PER_IP_PER_MINUTE + 1)
            ]
        assert statuses == [200] * APP_PER_IP_PER_MINUTE + [429]


class TestOperatorPages:
    @pytest.mark.parametrize(
        "path",
        ["/docs", "/docs/", "/redoc", "/openapi.json", "/metrics", "//docs", "/%64ocs",
         "/docs/vendor/swagger-ui.css"],
    )  # fmt: skip
    def test_are_not_served_publicly(self, nginx: Proxy, path: str) -> None:
        url = httpx.URL(nginx.url).copy_with(raw_path=path.encode())  # as written: `//docs`
        with client(nginx.url) as http:
            response = http.send(http.build_request("GET", url))
        assert response.status_code == 404
        assert error_body(response) == {"detail": "Not Found", "code": "not_found"}
        assert "x-request-id" not in response.headers  # nginx's answer: the app never saw it

    def test_the_app_itself_serves_the_docs_here(self, app: LiveApp) -> None:
        with client(app.url) as http:
            assert http.get("/docs").status_code == 200
            assert http.get("/openapi.json").status_code == 200
