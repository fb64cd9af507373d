"""What owners and admins read: the company's daily series and the directory's weeks."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from proveo.accounts.schemas import Role
from proveo.core.db import Connection
from proveo.insights.recorder import Counter, utc_today
from proveo.insights.service import week_start
from tests.factories import create_company, create_user, log_in
from tests.insights.support import add_day, add_quote_request, recorder

ZERO = {
    "views": 0,
    "impressions": 0,
    "contacts": {"phone": 0, "whatsapp": 0, "email": 0, "website": 0},
    "quote_requests": {"received": 0, "replied": 0},
}


class TestMyCompanyInsights:
    async def test_one_entry_per_day_zeros_filled_oldest_first_with_totals(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        other = await create_company(conn, (await create_user(conn)).id, name="Ajena")
        today = utc_today()
        await add_day(conn, company.uuid, today, views=5, impressions=40, phone_clicks=1)
        await add_day(conn, company.uuid, today - timedelta(days=2), views=2, website_clicks=3)
        await add_day(conn, company.uuid, today - timedelta(days=29), email_clicks=4)
        await add_day(conn, company.uuid, today - timedelta(days=30), views=100)  # too old
        await add_day(conn, other.uuid, today, views=7)  # another company's
        # Counts still in the buffer arrive with the next flush.
        recorder(app).record(Counter.WHATSAPP, [company.uuid, company.uuid])
        await recorder(app).flush()
        # Quote requests: received the day the provider was notified, replied the day it
        # answered; another company's and a 31-day-old notification are not counted.
        await add_quote_request(
            conn, confirmed=today - timedelta(days=2),
            recipients=[(company.uuid, today - timedelta(days=2), today),
                        (other.uuid, today - timedelta(days=2), today)],
        )  # fmt: skip
        await add_quote_request(conn, confirmed=today, recipients=[(company.uuid, today, None)])
        await add_quote_request(
            conn, confirmed=today - timedelta(days=31),
            recipients=[(company.uuid, today - timedelta(days=31), today - timedelta(days=29))],
        )  # fmt: skip
        await log_in(client, owner)

        response = await client.get(app.url_path_for("insights:my_company"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["days"] == 30
        assert body["from"] == str(today - timedelta(days=29))
        assert body["to"] == str(today)
        series = body["series"]
        assert [entry["day"] for entry in series] == [
            str(today - timedelta(days=n)) for n in range(29, -1, -1)
        ]
        by_day = {entry.pop("day"): entry for entry in series}
        assert by_day[str(today)] == {
            "views": 5, "impressions": 40,
            "contacts": {"phone": 1, "whatsapp": 2, "email": 0, "website": 0},
            "quote_requests": {"received": 1, "replied": 1},
        }  # fmt: skip
        assert by_day[str(today - timedelta(days=2))] == {
            **ZERO, "views": 2,
            "contacts": {**ZERO["contacts"], "website": 3},  # type: ignore[dict-item]
            "quote_requests": {"received": 1, "replied": 0},
        }  # fmt: skip
        assert by_day[str(today - timedelta(days=29))] == {
            **ZERO, "contacts": {**ZERO["contacts"], "email": 4},  # type: ignore[dict-item]
            "quote_requests": {"received": 0, "replied": 1},
        }  # fmt: skip
        assert by_day[str(today - timedelta(days=1))] == ZERO
        assert body["totals"] == {
            "views": 7, "impressions": 40,
            "contacts": {"phone": 1, "whatsapp": 2, "email": 4, "website": 3},
            "quote_requests": {"received": 2, "replied": 2},
        }  # fmt: skip

    @pytest.mark.parametrize(("days", "first"), [("1", 0), ("7", 6), ("90", 89)])
    async def test_days_picks_the_window(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, days: str, first: int
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        today = utc_today()
        await add_day(conn, company.uuid, today - timedelta(days=first), views=1)
        await add_day(conn, company.uuid, today - timedelta(days=first + 1), views=10)
        await log_in(client, owner)
        response = await client.get(app.url_path_for("insights:my_company"), params={"days": days})
        body = response.json()
        assert len(body["series"]) == int(days) == body["days"]
        assert body["from"] == str(today - timedelta(days=first))
        assert body["totals"]["views"] == 1

    @pytest.mark.parametrize("days", ["0", "91", "-3", "treinta", ""])
    async def test_days_outside_1_to_90_is_a_422(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, days: str
    ) -> None:
        owner = await create_user(conn)
        await create_company(conn, owner.id)
        await log_in(client, owner)
        response = await client.get(app.url_path_for("insights:my_company"), params={"days": days})
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")

    async def test_anonymous_is_401_and_without_a_company_404(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        path = app.url_path_for("insights:my_company")
        anonymous = await client.get(path)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
        await log_in(client, await create_user(conn))
        none = await client.get(path)
        assert (none.status_code, none.json()["code"]) == (404, "company_not_found")

    async def test_each_owner_sees_only_their_own_company(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        stranger = await create_user(conn)
        company = await create_company(conn, owner.id)
        theirs = await create_company(conn, stranger.id, name="Del Otro")
        await add_day(conn, company.uuid, utc_today(), views=9)
        await add_day(conn, theirs.uuid, utc_today(), views=1)
        await log_in(client, stranger)
        response = await client.get(app.url_path_for("insights:my_company"))
        assert response.json()["totals"]["views"] == 1

    async def test_a_deleted_company_has_no_insights(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        owner = await create_user(conn)
        company = await create_company(conn, owner.id)
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE uuid = $1", company.uuid
        )
        await log_in(client, owner)
        response = await client.get(app.url_path_for("insights:my_company"))
        assert response.status_code == 404


class TestWeeklyTotals:
    async def test_weeks_newest_first_with_requests_replies_rate_views_and_contacts(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        this_week = week_start(utc_today())
        last_week = this_week - timedelta(weeks=1)
        a = await create_company(conn, (await create_user(conn)).id, name="Uno")
        b = await create_company(conn, (await create_user(conn)).id, name="Dos")
        await add_day(conn, a.uuid, this_week, views=10, impressions=50, phone_clicks=2)
        await add_day(conn, b.uuid, this_week, views=5, email_clicks=1, whatsapp_clicks=1)
        await add_day(conn, a.uuid, last_week + timedelta(days=6), views=3, website_clicks=4)
        await add_day(conn, a.uuid, this_week - timedelta(weeks=3), views=1000)  # outside
        # This week: two requests, one answered (twice); last week: one, answered this week.
        await add_quote_request(
            conn, confirmed=this_week,
            recipients=[(a.uuid, this_week, this_week), (b.uuid, this_week, this_week)],
        )  # fmt: skip
        await add_quote_request(conn, confirmed=this_week, recipients=[(a.uuid, this_week, None)])
        await add_quote_request(
            conn, confirmed=last_week, recipients=[(b.uuid, last_week, this_week)]
        )
        await add_quote_request(conn, confirmed=None, status="pending")  # never confirmed
        await add_quote_request(conn, confirmed=this_week, status="removed")
        await log_in(client, await create_user(conn, role=Role.ADMIN))

        response = await client.get(app.url_path_for("insights:admin_weekly"), params={"weeks": 3})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "weeks": [
                {"week_start": str(this_week), "quote_requests": 2, "replies": 3,
                 "reply_rate": 0.5, "views": 15, "impressions": 50, "contacts": 4},
                {"week_start": str(last_week), "quote_requests": 1, "replies": 0,
                 "reply_rate": 1.0, "views": 3, "impressions": 0, "contacts": 4},
                {"week_start": str(last_week - timedelta(weeks=1)), "quote_requests": 0,
                 "replies": 0, "reply_rate": None, "views": 0, "impressions": 0, "contacts": 0},
            ]
        }  # fmt: skip

    async def test_twelve_weeks_by_default_each_a_monday(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await log_in(client, await create_user(conn, role=Role.ADMIN))
        weeks = (await client.get(app.url_path_for("insights:admin_weekly"))).json()["weeks"]
        assert len(weeks) == 12
        assert weeks[0]["week_start"] == str(week_start(utc_today()))
        assert all(
            (week_start(utc_today()) - timedelta(weeks=n)).isoformat() == w["week_start"]
            for n, w in enumerate(weeks)
        )

    @pytest.mark.parametrize("weeks", ["0", "53", "x"])
    async def test_weeks_outside_1_to_52_is_a_422(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, weeks: str
    ) -> None:
        await log_in(client, await create_user(conn, role=Role.ADMIN))
        response = await client.get(
            app.url_path_for("insights:admin_weekly"), params={"weeks": weeks}
        )
        assert response.status_code == 422

    async def test_anonymous_is_401_and_a_user_is_403(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        path = app.url_path_for("insights:admin_weekly")
        anonymous = await client.get(path)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
        owner = await create_user(conn)
        await create_company(conn, owner.id)
        await log_in(client, owner)
        user = await client.get(path)
        assert (user.status_code, user.json()["code"]) == (403, "admin_required")
