"""A company's search row is defined once, by views a large seed reads on every core.

`refresh_company_search` built the rows in a statement PostgreSQL runs in one process: at
1,000,000 synthetic companies the seed spent 317 s of its 553 s there, on one of two cores.
The rows' definition is now three views: `company_search_text` (the costly part: the lexemes of
a company's name and descriptions), `company_search_catalog` (its categories, commune and
regions) and `company_search_token` (the space-separated tokens of its texts, for the
vocabulary of typo correction). The refresh reads them for the companies it is given; a large
seed reads the first for all its companies at once into a table, a statement PostgreSQL plans
in parallel (`CREATE TABLE AS`; an `INSERT` never is).

The lexemes of each category and commune are stored with it (`search_doc`, generated), so that
neither the refresh nor a seed folds the 392 categories' names again; an extra category's
lexemes are its stored ones (the same lexemes as its names folded together).

Revision ID: 20261207_0900
Revises: 20261207_0500
Create Date: 2026-12-07 09:00:00
"""

from alembic import op

from proveo.migrations.revisions import statement

revision = "20261207_0900"
down_revision = "20261207_0500"
branch_labels = None
depends_on = None

CATALOGUE_DOCS = """
ALTER TABLE proveo.product ADD COLUMN search_doc tsvector GENERATED ALWAYS AS
    (strip(proveo.search_vector(name_es) || proveo.search_vector(name_en))) STORED;
ALTER TABLE proveo.commune ADD COLUMN search_doc tsvector GENERATED ALWAYS AS
    (strip(proveo.search_vector(name))) STORED
"""

# The costly part of a row, from the company's own texts: no subquery and no lateral join, which
# would keep a parallel plan's projection in its leader process.
TEXT = """
CREATE VIEW proveo.company_search_text AS
SELECT c.id AS company_id,
       coalesce(proveo.search_text(c.name), '') AS name_key,
       strip(proveo.search_vector(c.name)) AS name_doc,
       strip(to_tsvector('spanish'::regconfig, coalesce(proveo.search_text(c.description_es), ''))
             || to_tsvector('english'::regconfig,
                            coalesce(proveo.search_text(c.description_en), ''))) AS text_doc
FROM proveo.company c
WHERE c.deleted_at IS NULL
"""

# The rest, from the catalogue: the lexemes of the company's categories (the extra ones' stored
# lexemes joined) and commune.
CATALOGUE = """
CREATE VIEW proveo.company_search_catalog AS
SELECT c.id AS company_id, c.product_id, c.commune_id, co.region, c.served_regions,
       coalesce(e.product_ids, ARRAY[c.product_id]) AS product_ids,
       p.search_doc || co.search_doc || coalesce(e.doc, ''::tsvector) AS catalog_doc
FROM proveo.company c
JOIN proveo.product p ON p.id = c.product_id
JOIN proveo.commune co ON co.id = c.commune_id
LEFT JOIN LATERAL (
    SELECT array_agg(DISTINCT listed.id ORDER BY listed.id) AS product_ids,
           array_to_tsvector(array_agg(DISTINCT lexemes.lexeme)) AS doc
    FROM proveo.company_product cp
    JOIN proveo.product x ON x.id = cp.product_id,
         LATERAL (VALUES (c.product_id), (cp.product_id)) AS listed(id),
         LATERAL unnest(x.search_doc) AS lexemes
    WHERE cp.company_id = c.id
    HAVING count(*) > 0
) e ON true
WHERE c.deleted_at IS NULL
"""

# A space separates words before and after folding, so the words of each distinct
# space-separated token are the text's words: the companies' texts repeat most tokens, and each
# is folded once instead of once per company.
TOKENS = """
CREATE VIEW proveo.company_search_token AS
SELECT c.id AS company_id, token
FROM proveo.company c,
     LATERAL string_to_table(concat_ws(' ', c.name, c.description_es, c.description_en), ' ')
         AS token
WHERE c.deleted_at IS NULL
"""

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
    INSERT INTO proveo.search_term (term)
    SELECT DISTINCT w.term
    FROM (SELECT DISTINCT token FROM proveo.company_search_token WHERE company_id = ANY(ids))
             AS tokens,
         LATERAL proveo.search_terms(tokens.token) AS w(term)
    ON CONFLICT (term) DO NOTHING;
$$
"""


def upgrade() -> None:
    op.execute(CATALOGUE_DOCS)
    op.execute(TEXT)
    op.execute(CATALOGUE)
    op.execute(TOKENS)
    op.execute(REFRESH)


def downgrade() -> None:
    op.execute(statement("2026-12-07-0100_bulk_company_inserts.py", "REFRESH"))
    op.execute("DROP VIEW proveo.company_search_token")
    op.execute("DROP VIEW proveo.company_search_catalog")
    op.execute("DROP VIEW proveo.company_search_text")
    op.execute("ALTER TABLE proveo.commune DROP COLUMN search_doc")
    op.execute("ALTER TABLE proveo.product DROP COLUMN search_doc")
