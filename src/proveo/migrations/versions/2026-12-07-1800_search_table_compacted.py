"""The search table compacted after the rewrites of 20261207_1300 and 20261207_1600.

Each of them wrote every search row again, so an upgraded directory's table held its rows in
its second half, behind as many empty pages: a search that reads the table in order until
1,001 matches turn up read the empty half first. At 100,000 companies, upgraded: `servicios`
counted in 22 ms instead of 2.8, an English product word's page took 81 ms instead of 7, and
under the bench's load English product words answered 26 requests a second (p95 3.5 s).

`VACUUM FULL` writes the table and its indexes again, compacted, holding the table's lock
meanwhile (searches and writes of companies wait): 2.4 s at 100,000 companies, about 25 s at
1,000,000. It cannot run in a transaction, so it runs on its own, after the migrations before
it are committed; a fresh database's empty table takes no time.

Revision ID: 20261207_1800
Revises: 20261207_1700
Create Date: 2026-12-07 18:00:00
"""

from alembic import op

revision = "20261207_1800"
down_revision = "20261207_1700"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("VACUUM (FULL, ANALYZE) proveo.company_search")


def downgrade() -> None:
    """Nothing to undo: the rows are the same."""
