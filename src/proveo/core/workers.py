"""Worker processes for `proveo serve` (PROVEO_WORKERS > 1): forks sharing one listening socket.

One Python process uses one core; a second worker lets the API use a second one. The parent only
forks and waits: it holds no database pool and serves nothing. Every worker builds its own app
(pools, caches, scheduler) after the fork, so nothing bound to an event loop or a thread crosses
it; the scheduler's advisory locks already keep two processes from running the same job.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable

import structlog

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# How long stopping workers may finish their requests before they are killed.
STOP_GRACE_SECONDS = 30.0


class WorkerExited(Exception):
    """A worker ended while the others were serving: `serve` ends, for its supervisor to restart."""

    def __init__(self, pid: int, status: int) -> None:
        self.pid = pid
        self.code = os.waitstatus_to_exitcode(status)
        super().__init__(f"worker {pid} exited with {self.code}")


def run_workers(
    count: int,
    serve_one: Callable[[int], None],
    stop_signals: Iterable[signal.Signals],
) -> None:
    """Fork `count` workers running `serve_one(index)`; return when they have all stopped.

    `serve_one` returns when its worker was stopped by a signal and raises when it failed.

    The caller's handlers for `stop_signals` raise in the parent: the signal is passed on to the
    workers (a terminal's Ctrl-C reaches them all anyway), which finish what they are serving;
    any still running after STOP_GRACE_SECONDS are killed. The exception then propagates, so the
    caller stops what it started (the embedded PostgreSQL) after its last worker.
    """
    stops = tuple(stop_signals)
    workers: set[int] = set()
    try:
        for index in range(count):
            pid = os.fork()
            if pid == 0:
                _be_worker(index, serve_one)
            workers.add(pid)
        pid, status = os.wait()
        workers.discard(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            raise WorkerExited(pid, status)
        # Stopped cleanly by a signal sent to it alone (or the parent's own is still on its
        # way): the others follow.
        log.info("worker_stopped", pid=pid)
    finally:
        # A second Ctrl-C reaches the workers directly (uvicorn then stops at once); the
        # parent keeps waiting for them instead of leaving them behind.
        for stop in stops:
            signal.signal(stop, signal.SIG_IGN)
        _stop_workers(workers)


def _be_worker(index: int, serve_one: Callable[[int], None]) -> None:
    """Serve, then leave: a worker never returns into the parent's code (its `with` blocks would
    stop the parent's database)."""
    code = 1
    try:
        _stop_with_parent()
        serve_one(index)
        code = 0
    except BaseException:
        log.exception("worker_failed", worker=index)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _stop_with_parent() -> None:
    """Ask Linux for a SIGTERM when the parent dies (killed with SIGKILL, it cannot pass on
    a stop): orphaned workers would keep the port and serve without a supervisor."""
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _stop_workers(workers: set[int]) -> None:
    for pid in workers:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while workers:
        for pid in list(workers):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                workers.discard(pid)
        if workers and time.monotonic() > deadline:
            for pid in workers:
                log.warning("worker_killed_after_grace", pid=pid, seconds=STOP_GRACE_SECONDS)
                _signal(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)


def _signal(pid: int, which: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, which)
