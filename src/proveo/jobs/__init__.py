"""Scheduled jobs: one registry, run by pg_cron (SQL jobs) or the app's scheduler.

`registry.build_registry()` lists every job; `scheduler.JobScheduler` runs them in the app
under a PostgreSQL advisory lock per job; `service.schedule_sql_jobs_in_pg_cron` is what
`proveo migrate` calls to hand the SQL jobs to pg_cron where the extension exists.
"""
