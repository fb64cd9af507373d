"""SQL for provider insights: the only module that writes `company_daily_stat`.

Quote requests received and replied are not copied into the daily table: they are counted
from `quote_recipient` when insights are read. Days are UTC days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from proveo.core.db import Connection
from proveo.insights.schemas import DailyCount, DailyStatRow, QuoteDayRow, WeeklyTotals

# One statement per flush. The uuid becomes the company's id here: a company deleted since
# (its row gone) takes its counts with it. Soft-deleted companies keep counting nothing more,
# since no page or search shows them.
UPSERT_DAILY_COUNTS = """
INSERT INTO proveo.company_daily_stat AS s
    (company_id, day, views, impressions, phone_clicks, whatsapp_clicks, email_clicks,
     website_clicks)
SELECT c.id, b.day, b.views, b.impressions, b.phone, b.whatsapp, b.email, b.website
FROM unnest($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[],
            $8::int[]) AS b(uuid, day, views, impressions, phone, whatsapp, email, website)
JOIN proveo.company c ON c.uuid = b.uuid
ORDER BY c.id, b.day
ON CONFLICT (company_id, day) DO UPDATE SET
    views = s.views + EXCLUDED.views,
    impressions = s.impressions + EXCLUDED.impressions,
    phone_clicks = s.phone_clicks + EXCLUDED.phone_clicks,
    whatsapp_clicks = s.whatsapp_clicks + EXCLUDED.whatsapp_clicks,
    email_clicks = s.email_clicks + EXCLUDED.email_clicks,
    website_clicks = s.website_clicks + EXCLUDED.website_clicks
"""

SELECT_DAILY_STATS = """
SELECT s.day, s.views, s.impressions, s.phone_clicks, s.whatsapp_clicks, s.email_clicks,
       s.website_clicks
FROM proveo.company_daily_stat s
JOIN proveo.company c ON c.id = s.company_id
WHERE c.uuid = $1 AND s.day BETWEEN $2 AND $3
ORDER BY s.day
"""

# Received: the day the provider was notified; replied: the day it replied (UTC days).
SELECT_QUOTE_DAYS = """
WITH mine AS (
    SELECT r.notified_at, r.replied_at
    FROM proveo.quote_recipient r
    JOIN proveo.company c ON c.id = r.company_id
    WHERE c.uuid = $1
      AND (r.notified_at >= $2::date::timestamp AT TIME ZONE 'UTC'
           OR r.replied_at >= $2::date::timestamp AT TIME ZONE 'UTC')
), days AS (
    SELECT (notified_at AT TIME ZONE 'UTC')::date AS day, 1 AS received, 0 AS replied FROM mine
    UNION ALL
    SELECT (replied_at AT TIME ZONE 'UTC')::date, 0, 1 FROM mine WHERE replied_at IS NOT NULL
)
SELECT day, sum(received)::int AS received, sum(replied)::int AS replied
FROM days WHERE day BETWEEN $2 AND $3
GROUP BY day ORDER BY day
"""

# The directory's weeks (Monday, UTC), newest first, zeros filled. A request belongs to the
# week it was confirmed in (removed ones are not counted); its reply rate is the share of
# those requests that have at least one reply by now. Replies count in the week they were sent.
SELECT_WEEKLY_TOTALS = """
WITH weeks AS (
    SELECT generate_series($1::date, $2::date, interval '7 days')::date AS week_start
), requests AS (
    SELECT date_trunc('week', q.confirmed_at AT TIME ZONE 'UTC')::date AS week_start,
           count(*)::int AS quote_requests,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM proveo.quote_recipient r
               WHERE r.quote_request_id = q.id AND r.replied_at IS NOT NULL))::int AS answered
    FROM proveo.quote_request q
    WHERE q.confirmed_at >= $1::date::timestamp AT TIME ZONE 'UTC' AND q.status <> 'removed'
    GROUP BY 1
), replies AS (
    SELECT date_trunc('week', r.replied_at AT TIME ZONE 'UTC')::date AS week_start,
           count(*)::int AS replies
    FROM proveo.quote_recipient r
    WHERE r.replied_at >= $1::date::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1
), stats AS (
    SELECT date_trunc('week', s.day)::date AS week_start,
           sum(s.views)::bigint AS views, sum(s.impressions)::bigint AS impressions,
           sum(s.phone_clicks + s.whatsapp_clicks + s.email_clicks + s.website_clicks)::bigint
               AS contacts
    FROM proveo.company_daily_stat s
    WHERE s.day >= $1::date
    GROUP BY 1
)
SELECT w.week_start,
       coalesce(q.quote_requests, 0) AS quote_requests,
       coalesce(r.replies, 0) AS replies,
       CASE WHEN coalesce(q.quote_requests, 0) = 0 THEN NULL
            ELSE q.answered::float8 / q.quote_requests END AS reply_rate,
       coalesce(s.views, 0) AS views,
       coalesce(s.impressions, 0) AS impressions,
       coalesce(s.contacts, 0) AS contacts
FROM weeks w
LEFT JOIN requests q USING (week_start)
LEFT JOIN replies r USING (week_start)
LEFT JOIN stats s USING (week_start)
ORDER BY w.week_start DESC
"""


async def upsert_daily_counts(conn: Connection, counts: Sequence[DailyCount]) -> None:
    if not counts:
        return
    await conn.execute(
        UPSERT_DAILY_COUNTS,
        [c.company_uuid for c in counts],
        [c.day for c in counts],
        [c.views for c in counts],
        [c.impressions for c in counts],
        [c.phone_clicks for c in counts],
        [c.whatsapp_clicks for c in counts],
        [c.email_clicks for c in counts],
        [c.website_clicks for c in counts],
    )


async def select_daily_stats(
    conn: Connection, company_uuid: UUID, first: date, last: date
) -> list[DailyStatRow]:
    rows = await conn.fetch(SELECT_DAILY_STATS, company_uuid, first, last)
    return [DailyStatRow.model_validate(dict(row)) for row in rows]


async def select_quote_days(
    conn: Connection, company_uuid: UUID, first: date, last: date
) -> list[QuoteDayRow]:
    rows = await conn.fetch(SELECT_QUOTE_DAYS, company_uuid, first, last)
    return [QuoteDayRow.model_validate(dict(row)) for row in rows]


async def select_weekly_totals(
    conn: Connection, first_week: date, last_week: date
) -> list[WeeklyTotals]:
    rows = await conn.fetch(SELECT_WEEKLY_TOTALS, first_week, last_week)
    return [WeeklyTotals.model_validate(dict(row)) for row in rows]
