"""The app's scheduler: APScheduler on the event loop, each run through `service.run_job`."""

from __future__ import annotations

import asyncio

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from proveo.core import metrics
from proveo.jobs.registry import Job, JobContext, JobRegistry, SqlJob, cron_trigger
from proveo.jobs.schemas import JobOutcome
from proveo.jobs.service import run_job

log = structlog.get_logger(__name__)

# How long stopping waits for running jobs before cancelling them.
STOP_GRACE_SECONDS = 10.0


class JobScheduler:
    """Runs every registered job in this process; replicas coordinate through the job locks.

    SQL jobs are scheduled here too: at each run, one that pg_cron owns is left to pg_cron.
    """

    def __init__(
        self,
        registry: JobRegistry,
        context: JobContext,
        *,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.registry = registry
        self.context = context
        self.stop_grace_seconds = stop_grace_seconds
        # coalesce: after a stall, one catch-up run instead of a burst of missed ones.
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._running: set[asyncio.Task[JobOutcome]] = set()
        self._stopping = False

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        metrics.jobs_known(job.name for job in self.registry.jobs)
        for job in self.registry.jobs:
            trigger = (
                cron_trigger(job.schedule)
                if isinstance(job, SqlJob)
                else IntervalTrigger(seconds=job.interval_seconds, timezone="UTC")
            )
            self._scheduler.add_job(self._fire, trigger, args=[job], id=job.name, name=job.name)
        self._scheduler.start()
        log.info("scheduler_started", jobs=[job.name for job in self.registry.jobs])

    async def _fire(self, job: Job) -> None:
        if self._stopping:
            return
        task = asyncio.create_task(self._run(job), name=f"job:{job.name}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            # APScheduler cancels the runs it started when it shuts down; the shield keeps the
            # job itself going, so that `stop` can give it its grace period.
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not self._stopping:
                raise

    async def _run(self, job: Job) -> JobOutcome:
        outcome = await run_job(job, self.context)
        metrics.job_ran(job.name, outcome)
        return outcome

    async def stop(self) -> None:
        """No new runs; running jobs get `stop_grace_seconds` to finish, then are cancelled."""
        if self._stopping or not self._scheduler.running:
            return
        self._stopping = True
        self._scheduler.shutdown(wait=False)
        # APScheduler's shutdown step is queued on the loop: let it run before waiting.
        await asyncio.sleep(0)
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=self.stop_grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        log.info("scheduler_stopped")
