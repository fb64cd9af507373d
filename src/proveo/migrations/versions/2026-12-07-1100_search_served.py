"""One search row per company, category and region it serves, for a category's serving pages.

A search filtered by a place lists the companies located there, then those located elsewhere
that serve its region. With a category and no words, `company_search_category` gives the first
as an index range, but not the second: at 1,000,000 companies, counting a category's companies
that serve a region walked the category's rows testing each one's served regions (median 14 ms,
150 ms for a category whose companies rarely serve the region). `company_search_served` holds
one row per company, category and explicitly served region (2.7 million at 1,000,000
companies: 30 % serve more than their own region, 8 % all of Chile), under a btree on the
category, the region and the name: the same count and page are one range of it.
`refresh_company_search` keeps it with the search rows.

Revision ID: 20261207_1100
Revises: 20261207_1000
Create Date: 2026-12-07 11:00:00
"""

from alembic import op

from proveo.migrations.revisions import statement

revision = "20261207_1100"
down_revision = "20261207_1000"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE proveo.company_search_served (
    company_id bigint NOT NULL,
    product_id bigint NOT NULL,
    served_region text COLLATE "C" NOT NULL,
    commune_id bigint NOT NULL,
    region text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    CONSTRAINT pk_company_search_served PRIMARY KEY (company_id, product_id, served_region)
)
"""

ROWS = """
INSERT INTO proveo.company_search_served
    (company_id, product_id, served_region, commune_id, region, name_key)
SELECT s.company_id, listed.id, served.region, s.commune_id, s.region, s.name_key
FROM proveo.company_search s, unnest(s.product_ids) AS listed(id),
     unnest(s.served_regions) AS served(region)
"""

# The place a serving company is not located in is tested on the index's own columns.
INDEX = (
    "CREATE INDEX ix_company_search_served_region ON proveo.company_search_served "
    "(product_id, served_region, name_key, company_id) INCLUDE (commune_id, region)"
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
    DELETE FROM proveo.company_search_served WHERE company_id = ANY(ids);
    INSERT INTO proveo.company_search_served
        (company_id, product_id, served_region, commune_id, region, name_key)
    SELECT s.company_id, listed.id, served.region, s.commune_id, s.region, s.name_key
    FROM proveo.company_search s, unnest(s.product_ids) AS listed(id),
         unnest(s.served_regions) AS served(region)
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
    op.execute(INDEX)
    op.execute("ANALYZE proveo.company_search_served")
    op.execute(REFRESH)


def downgrade() -> None:
    op.execute(statement("2026-12-07-1000_search_categories.py", "REFRESH"))
    op.execute("DROP TABLE proveo.company_search_served")
