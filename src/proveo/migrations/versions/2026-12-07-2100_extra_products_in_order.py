"""A company's extra categories keep the order their owner chose them in.

They were listed by name, so a provider who picked Mantención eléctrica second and
Climatización third saw them the other way round in the API, on the page and in the form
(found by the newcomer). Rows written before this revision have position 0 and keep the
name order among themselves.

Revision ID: 20261207_2100
Revises: 20261207_2000
Create Date: 2026-12-07 21:00:00
"""

from alembic import op

revision = "20261207_2100"
down_revision = "20261207_2000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE proveo.company_product ADD COLUMN position smallint NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE proveo.company_product DROP COLUMN position")
