"""Directory statistics (a materialized view refreshed concurrently every minute by a SQL job)
and search analytics (aggregated query counts per day: no IPs, no user ids).

Revision ID: 20261125_1710
Revises: 20261125_1700
Create Date: 2026-11-25 17:10:00
"""

from alembic import op

revision = "20261125_1710"
down_revision = "20261125_1700"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Live companies per product and per commune, zero counts included. Not on the search path
    # (search counts its own facets, fresh on write): a minute-old figure is fine for the
    # directory's overview. `refreshed_at` says how old it is.
    op.execute(
        """
        CREATE MATERIALIZED VIEW proveo.directory_statistics AS
        SELECT 'product'::text AS dimension, p.id AS entry_id, p.uuid AS entry_uuid,
               count(c.id) AS companies, now() AS refreshed_at
        FROM proveo.product p
        LEFT JOIN proveo.company c ON c.product_id = p.id AND c.deleted_at IS NULL
        GROUP BY p.id
        UNION ALL
        SELECT 'commune'::text, m.id, m.uuid, count(c.id), now()
        FROM proveo.commune m
        LEFT JOIN proveo.company c ON c.commune_id = m.id AND c.deleted_at IS NULL
        GROUP BY m.id
        WITH DATA
        """
    )
    # REFRESH ... CONCURRENTLY needs a unique index over every row; readers never wait for it.
    op.execute(
        "CREATE UNIQUE INDEX uq_directory_statistics "
        "ON proveo.directory_statistics (dimension, entry_id)"
    )
    # One row per normalised query and UTC day; the recorder adds its batched counts.
    op.execute(
        """
        CREATE TABLE proveo.search_query_stat (
            day date NOT NULL,
            query text NOT NULL CONSTRAINT ck_search_query_stat_query
                CHECK (char_length(query) BETWEEN 1 AND 200),
            searches bigint NOT NULL CONSTRAINT ck_search_query_stat_searches
                CHECK (searches > 0),
            zero_results bigint NOT NULL CONSTRAINT ck_search_query_stat_zero_results
                CHECK (zero_results BETWEEN 0 AND searches),
            CONSTRAINT pk_search_query_stat PRIMARY KEY (day, query)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS proveo.search_query_stat")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS proveo.directory_statistics")
