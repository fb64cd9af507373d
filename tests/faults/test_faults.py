"""Faults, proven with real processes: each test takes one part of the production topology away
under a light mixed load through nginx, and gives it back (tests/faults/scenarios.py).

Every test asserts where 5xx may appear (only on the requests that need the missing part), the
worst latency, the recovery time once the part is back, and that every write answered 2xx is in
the database afterwards. `.venv/bin/python bench/faults.py` prints the same scenarios as a matrix.

The bounds are the settings' own (a replica gets 1 s, Redis 2 s, an S3 call 2 x (1 + 1) s) plus
SLACK for a loaded 2-core machine; an upload's bounds add the slowest upload of the same load
before the fault (its analysis, which the fault does not change).
"""

from __future__ import annotations

import pytest

from proveo.config import Settings
from tests.faults import scenarios
from tests.faults.load import READS
from tests.faults.scenarios import S3_CALL_DEADLINE, ScenarioResult
from tests.faults.topology import Topology

pytestmark = pytest.mark.slow

DEFAULTS = Settings(_env_file=None)  # type: ignore[call-arg]
SLACK = 3.0
# Never a request hanging: the bar for every scenario.
HANG = 10.0


def worst(result: ScenarioResult, kinds: tuple[str, ...]) -> float:
    return max((s.latency for s in result.of_kind(*kinds)), default=0.0)


def assert_no_write_lost(result: ScenarioResult) -> None:
    assert result.missing_writes == {"sessions": [], "edits": [], "uploads": []}


def assert_only_allowed_kinds_failed(result: ScenarioResult) -> None:
    """Every request of a kind the fault does not touch answered 2xx (no 5xx, and no 4xx)."""
    assert result.not_ok(result.unaffected()) == [], result.errors_by_kind()
    assert {s.kind for s in result.server_errors} <= set(result.allowed_5xx)


class TestReplicaStopped:
    async def test_reads_fall_back_to_the_primary_then_return_to_the_replica(
        self, topology: Topology
    ) -> None:
        result = await scenarios.replica_stopped(topology)

        assert result.server_errors == []
        assert_only_allowed_kinds_failed(result)
        # Reads meant for the replica were answered while it was down: by the primary.
        reads = result.evidence["replica_reads_during_fault"]
        assert set(reads["answers"]) == {"200 None"}
        assert reads["answers"]["200 None"] >= 5
        assert result.evidence["log"]["replica_unavailable_falling_back"] >= 1
        # proveo_db_replica_fallbacks_total (every worker's, summed) grew during the outage,
        # and stopped growing once each worker's backoff ended after the replica's return.
        fallbacks_before, fallbacks_during, _ = result.evidence["fallbacks"]
        assert fallbacks_during > fallbacks_before
        assert result.evidence["last_fallback_after"] <= DEFAULTS.replica_retry_seconds + SLACK
        # As a worker reports it (nginx's kept-alive connections may all lead to one worker,
        # so the one that answers may not have served a read since the replica stopped).
        during = result.evidence["details_during"]
        assert during["reachable"] is False
        assert "refused" in during["last_error"]
        # Back on the replica (its pg_stat_activity shows the app's reads) within the backoff.
        assert result.evidence["details_after"]["reachable"] is True
        assert result.recovery_seconds <= DEFAULTS.replica_retry_seconds + SLACK
        # A read waits at most 1 s for the replica before it goes to the primary.
        assert worst(result, READS) < 1.0 + SLACK
        assert result.worst_latency < HANG
        assert_no_write_lost(result)


class TestRedis:
    async def test_stopped_redis_degrades_the_cache_and_rate_limits_without_a_5xx(
        self, topology: Topology
    ) -> None:
        result = await scenarios.redis_stopped(topology)

        assert result.server_errors == []
        assert_only_allowed_kinds_failed(result)
        # The rate limits still hold, counted per worker: 25 wrong logins from one address
        # put at least 13 on one worker, past its 10 a minute.
        burst = result.evidence["login_burst"]
        assert burst.get(429, 0) >= 1
        assert set(burst) <= {401, 429}
        log = result.evidence["log"]
        assert log["redis_unavailable_using_in_process_cache"] >= 1
        assert log["redis_unavailable_using_in_process_rate_limits"] >= 1
        assert log["redis_recovered_for_rate_limits"] >= 1
        # Counted in Redis again soon after it is back (Redis is skipped 2 s after an error).
        assert result.recovery_seconds <= 2.0 + SLACK
        # A stopped Redis refuses at once: nothing waits for it.
        assert worst(result, READS) < SLACK
        assert result.worst_latency < HANG
        assert_no_write_lost(result)

    async def test_frozen_redis_costs_a_bounded_wait_and_no_5xx(self, topology: Topology) -> None:
        result = await scenarios.redis_frozen(topology)

        assert result.server_errors == []
        assert_only_allowed_kinds_failed(result)
        log = result.evidence["log"]
        assert log["redis_unavailable_using_in_process_rate_limits"] >= 1
        assert log["redis_recovered_for_rate_limits"] >= 1
        assert result.recovery_seconds <= 2.0 + SLACK
        # A call to a frozen Redis is given up after 2 s (the rate limiter's deadline; the
        # cache's is 0.5 s), and Redis is then skipped for 2 s.
        assert worst(result, READS) < 2.0 + 0.5 + SLACK
        assert result.worst_latency < HANG
        assert_no_write_lost(result)


def assert_s3_outage(result: ScenarioResult) -> None:
    assert_only_allowed_kinds_failed(result)
    analysis = result.evidence["slowest_upload_before"]
    uploads = result.evidence["uploads_during_fault"]
    assert set(uploads["answers"]) == {"503 storage_unavailable"}, uploads
    # The analysis, then at most the S3 call's deadline (2 x (1 + 1) s at PROVEO_S3_TIMEOUT=1).
    assert uploads["slowest"] <= analysis + S3_CALL_DEADLINE + SLACK
    # Logos visitors saw before the outage are still served, from nginx's copy, without a wait.
    logos = result.evidence["logos_during_fault"]
    assert logos["answers"], "no logo was read during the outage"
    assert {answer.split()[0] for answer in logos["answers"]} == {"200"}, logos
    assert logos["slowest"] < SLACK
    # Everything else is untouched, and quick.
    assert worst(result, ("search", "company", "catalog")) < SLACK
    # Uploads work again within seconds of S3's return (plus the probe upload's own time).
    assert result.recovery_seconds <= 5.0 + analysis
    assert result.worst_latency < HANG
    assert_no_write_lost(result)


class TestS3:
    async def test_stopped_s3_fails_uploads_fast_and_nothing_else(self, topology: Topology) -> None:
        result = await scenarios.s3_stopped(topology)
        assert_s3_outage(result)

    async def test_frozen_s3_fails_uploads_within_the_timeout(self, topology: Topology) -> None:
        result = await scenarios.s3_frozen(topology)
        assert_s3_outage(result)


class TestImageServiceKilled:
    async def test_uploads_fail_within_two_seconds_and_recover_after_restart(
        self, topology: Topology
    ) -> None:
        result = await scenarios.image_service_killed(topology)

        assert_only_allowed_kinds_failed(result)
        uploads = result.evidence["uploads_during_fault"]
        assert set(uploads["answers"]) == {"503 image_service_unavailable"}, uploads
        assert uploads["slowest"] < 2.0
        assert worst(result, READS) < SLACK
        # The breaker, open after 3 failures, lets a trial call through 5 s after it opened.
        assert result.recovery_seconds <= (
            DEFAULTS.image_service_open_seconds + result.evidence["slowest_upload_before"] + SLACK
        )
        assert result.worst_latency < HANG
        assert_no_write_lost(result)


class TestPrimaryRestarted:
    async def test_writes_fail_fast_recover_quickly_and_none_is_lost(
        self, topology: Topology
    ) -> None:
        result = await scenarios.primary_restarted(topology)

        assert_only_allowed_kinds_failed(result)
        writes = result.evidence["writes_during_fault"]
        assert set(writes["answers"]) == {"503 database_unavailable"}, writes
        # Fail fast: a refused connection, three quick retries, a 503.
        assert writes["slowest"] < SLACK
        assert result.worst_latency < HANG
        # Public reads go on, from the replica (and the cached catalogue).
        assert set(result.evidence["reads_during_fault"]["answers"]) == {"200 None"}
        assert result.recovery_seconds <= 5.0
        assert result.evidence["edit_recovered_after"] <= 5.0
        assert result.evidence["writes_answered_2xx"] > 0
        assert_no_write_lost(result)


class TestServeSigterm:
    async def test_requests_in_progress_finish_new_ones_are_refused_and_it_exits_0(
        self, topology: Topology
    ) -> None:
        result = await scenarios.serve_sigterm(topology)

        evidence = result.evidence
        assert evidence["held_uploads"] == ["200 None"] * scenarios.HELD_UPLOADS
        assert evidence["exit_code"] == 0
        # New connections are refused at the API's port once the workers close the socket;
        # through nginx a new request is its 502 (the upstream refuses), never a hang.
        assert evidence["refused_after"] < SLACK
        assert evidence["new_request_through_nginx"] == "502 upstream_unavailable"
        # Every 5xx is nginx's 502 for the API being down, none the app's own, and none for a
        # request sent before the SIGTERM (but for a request that nginx forwards on a kept-alive
        # connection at the moment uvicorn closes it, a race of a few milliseconds).
        assert set(evidence["server_errors"]) <= {"502 upstream_unavailable"}
        assert evidence["first_error_after_sigterm"] >= -0.2
        assert result.worst_latency < HANG
        assert_no_write_lost(result)
