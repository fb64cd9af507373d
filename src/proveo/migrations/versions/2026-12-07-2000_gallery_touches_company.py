"""A change to a company's gallery is a change to its page: the company's `updated_at` moves.

The sitemap's `lastmod` is the company's `updated_at`, and adding, removing, reordering or
replacing a photo (the owner, an admin, moderation) changed the page without moving it (found
by the adversary: search engines would not come back for the new gallery). One statement-level
trigger on `company_photo` covers every path that writes it. Touching `updated_at` alone does
not rewrite the company's search row (its trigger compares the searched columns only).

Revision ID: 20261207_2000
Revises: 20261207_1900
Create Date: 2026-12-07 20:00:00
"""

from alembic import op

revision = "20261207_2000"
down_revision = "20261207_1900"
branch_labels = None
depends_on = None

EVENTS = {
    "insert": "REFERENCING NEW TABLE AS changed_rows",
    "update": "REFERENCING NEW TABLE AS changed_rows",
    "delete": "REFERENCING OLD TABLE AS changed_rows",
}


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION proveo.company_photo_touch_company() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE proveo.company SET updated_at = now()
             WHERE id IN (SELECT DISTINCT company_id FROM changed_rows);
            RETURN NULL;
        END $$
        """
    )
    for event, transition in EVENTS.items():
        op.execute(
            f"CREATE TRIGGER tg_company_photo_{event}_touch AFTER {event.upper()} "
            f"ON proveo.company_photo {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION proveo.company_photo_touch_company()"
        )


def downgrade() -> None:
    for event in EVENTS:
        op.execute(f"DROP TRIGGER tg_company_photo_{event}_touch ON proveo.company_photo")
    op.execute("DROP FUNCTION proveo.company_photo_touch_company()")
