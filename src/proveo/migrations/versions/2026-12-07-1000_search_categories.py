"""One search row per company and category, for the searches a category filters.

A category filter matches any of a company's three categories (`product_ids @> ARRAY[id]`, a
GIN index), which gives no order: at 1,000,000 companies, the page of a category's companies
in a commune sorted or walked tens of thousands of rows (12 ms, 90 for a category's eleventh
page), and its count read 1,001 matches in 13 ms. `company_search_category` holds one row per
company and category with what the filters and the order need, under btree indexes on the
category and then the commune or the region and the name: the same count reads one range of an
index (0.3 ms), the same page its first rows (0.25 ms). `refresh_company_search` keeps it with
the search rows.

Revision ID: 20261207_1000
Revises: 20261207_0900
Create Date: 2026-12-07 10:00:00
"""

from alembic import op

from proveo.migrations.revisions import statement

revision = "20261207_1000"
down_revision = "20261207_0900"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE proveo.company_search_category (
    company_id bigint NOT NULL,
    product_id bigint NOT NULL,
    commune_id bigint NOT NULL,
    region text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    served_regions text[] NOT NULL,
    CONSTRAINT pk_company_search_category PRIMARY KEY (company_id, product_id)
)
"""

# Every company's rows, from its search row.
ROWS = """
INSERT INTO proveo.company_search_category
    (company_id, product_id, commune_id, region, name_key, served_regions)
SELECT s.company_id, listed.id, s.commune_id, s.region, s.name_key, s.served_regions
FROM proveo.company_search s, unnest(s.product_ids) AS listed(id)
"""

INDEXES = (
    "CREATE INDEX ix_company_search_category_name "
    "ON proveo.company_search_category (product_id, name_key, company_id)",
    "CREATE INDEX ix_company_search_category_commune "
    "ON proveo.company_search_category (product_id, commune_id, name_key, company_id)",
    "CREATE INDEX ix_company_search_category_region "
    "ON proveo.company_search_category (product_id, region, name_key, company_id)",
)

REFRESH = """
CREATE OR REPLACE FUNCTION proveo.refresh_company_search(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM proveo.company_search s
    WHERE s.company_id = ANY(ids)
      AND NOT EXISTS (
          SELECT 1 FROM proveo.company c WHERE c.id = s.company_id AND c.deleted_at IS NULL
      );
    INSERT INTO proveo.company_search AS s
        (company_id, product_id, commune_id, region, served_regions, product_ids, name_key,
         name_doc, head_doc, doc)
    SELECT k.company_id, k.product_id, k.commune_id, k.region, k.served_regions, k.product_ids,
           t.name_key, t.name_doc, t.name_doc || k.catalog_doc,
           t.name_doc || k.catalog_doc || t.text_doc
    FROM proveo.company_search_catalog k
    JOIN proveo.company_search_text t ON t.company_id = k.company_id
    WHERE k.company_id = ANY(ids)
    ON CONFLICT (company_id) DO UPDATE SET
        product_id = excluded.product_id,
        commune_id = excluded.commune_id,
        region = excluded.region,
        served_regions = excluded.served_regions,
        product_ids = excluded.product_ids,
        name_key = excluded.name_key,
        name_doc = excluded.name_doc,
        head_doc = excluded.head_doc,
        doc = excluded.doc;
    DELETE FROM proveo.company_search_category WHERE company_id = ANY(ids);
    INSERT INTO proveo.company_search_category
        (company_id, product_id, commune_id, region, name_key, served_regions)
    SELECT s.company_id, listed.id, s.commune_id, s.region, s.name_key, s.served_regions
    FROM proveo.company_search s, unnest(s.product_ids) AS listed(id)
    WHERE s.company_id = ANY(ids);
    INSERT INTO proveo.search_term (term)
    SELECT DISTINCT w.term
    FROM (SELECT DISTINCT token FROM proveo.company_search_token WHERE company_id = ANY(ids))
             AS tokens,
         LATERAL proveo.search_terms(tokens.token) AS w(term)
    ON CONFLICT (term) DO NOTHING;
$$
"""


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(ROWS)
    for index in INDEXES:
        op.execute(index)
    op.execute("ANALYZE proveo.company_search_category")
    op.execute(REFRESH)


def downgrade() -> None:
    op.execute(statement("2026-12-07-0900_search_rows_in_parallel.py", "REFRESH"))
    op.execute("DROP TABLE proveo.company_search_category")
