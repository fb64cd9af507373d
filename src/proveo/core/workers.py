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
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator

import structlog

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# How long the parent waits for its own stop signal after a worker ended first.
PARENT_SIGNAL_GRACE_SECONDS = 0.5

# How long stopping workers may finish their requests before they are killed.
STOP_GRACE_SECONDS = 30.0


class WorkerExited(Exception):
    """A worker ended while the others were serving: `serve` ends, for its supervisor to restart."""

    def __init__(self, pid: int, status: int) -> None:
        self.pid = pid
        self.code = os.waitstatus_to_exitcode(status)
        how = f"exited with {self.code}" if self.code else "stopped on its own (exit code 0)"
        super().__init__(f"worker {pid} {how}")


def run_workers(
    count: int,
    serve_one: Callable[[int], None],
    stop_signals: Iterable[signal.Signals],
    listener: socket.socket,
    *,
    forked: Callable[[], None] = lambda: None,
    reaped: Callable[[int], None] = lambda pid: None,
) -> None:
    """Fork `count` workers running `serve_one(index)` on `listener`; return when all stopped.

    The parent calls `forked()` once every worker is forked (a thread started there is never
    forked), and `reaped(pid)` as each worker's exit is collected.

    The caller's handlers for `stop_signals` raise in the parent: the signal is passed on to the
    workers (a terminal's Ctrl-C reaches them all anyway), which finish what they are serving;
    any still running after STOP_GRACE_SECONDS are killed. The exception then propagates, so the
    caller stops what it started (the embedded PostgreSQL) after its last worker.

    A worker that ends while the parent was not asked to stop raises WorkerExited, whatever its
    exit code: a worker stopped alone leaves the service short, which its supervisor should see.
    """
    stops = tuple(stop_signals)
    workers: set[int] = set()
    try:
        for index in range(count):
            # Stop signals wait until the worker has its own handlers (and the parent has its
            # pid): in between, the parent's handler would raise in the worker's code.
            with _blocked(stops):
                pid = os.fork()
                if pid == 0:
                    _be_worker(index, serve_one, stops)
                workers.add(pid)
        # Only the workers accept: once they have closed the socket, a new connection is
        # refused at once instead of queueing behind a stop that never serves it.
        listener.close()
        forked()
        pid, status = os.wait()
        workers.discard(pid)
        reaped(pid)
        # A terminal's Ctrl-C reaches a worker and the parent at once; the parent's handler
        # runs within this pause if the worker was the faster of the two.
        time.sleep(PARENT_SIGNAL_GRACE_SECONDS)
        raise WorkerExited(pid, status)
    finally:
        # A second Ctrl-C reaches the workers directly (uvicorn then stops at once); the
        # parent keeps waiting for them instead of leaving them behind.
        for stop in stops:
            signal.signal(stop, signal.SIG_IGN)
        _stop_workers(workers, reaped)


@contextlib.contextmanager
def _blocked(signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _be_worker(
    index: int, serve_one: Callable[[int], None], stops: tuple[signal.Signals, ...]
) -> None:
    """Serve, then leave: a worker never returns into the parent's code (its `with` blocks would
    stop the parent's database)."""
    code = 1
    try:
        # Until uvicorn takes the stop signals over (and again after it hands them back), a
        # stop ends the worker on the spot: nothing is being served. An exception raised from a
        # handler could be swallowed (in a garbage collector callback, by an `except`), and the
        # worker would go on serving without its parent.
        for stop in stops:
            signal.signal(stop, _exit_now)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        _stop_with_parent()
        serve_one(index)
        code = 0
    except BaseException:
        log.exception("worker_failed", worker=index)
    finally:
        _exit(code)


def _exit_now(_signum: int, _frame: object) -> None:
    _exit(0)


def _exit(code: int) -> None:
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


def _stop_workers(workers: set[int], reaped: Callable[[int], None]) -> None:
    for pid in workers:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while workers:
        for pid in list(workers):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                workers.discard(pid)
                reaped(pid)
        if workers and time.monotonic() > deadline:
            for pid in workers:
                log.warning("worker_killed_after_grace", pid=pid, seconds=STOP_GRACE_SECONDS)
                _signal(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)


def _signal(pid: int, which: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, which)
