"""Search by geography and by every category: the index learns each company's region (its
commune's), the regions it serves besides (`company.served_regions`) and all its categories
(the primary `company.product_id` and up to two in `company_product`).

`company_search` gains `region` (btree with the name, for a region filter read in name order),
`served_regions` and `product_ids` (GIN: `@>` finds the companies that serve a region or list a
category). The extra categories' names join the catalogue document (`head_doc`) and `doc`, so
`contador` finds a company whose second category is Servicios contables. The refresh fires on
the columns it reads: a company's served regions, its rows in `company_product` (insert, update,
delete; statement-level, so a COPY is one refresh) and a commune's region.

Revision ID: 20261206_1400
Revises: 20261206_1300
Create Date: 2026-12-06 14:00:00
"""

from alembic import op

revision = "20261206_1400"
down_revision = "20261206_1300"
branch_labels = None
depends_on = None

# Rewrites the rows of the given companies from their current state; deleted or missing
# companies lose theirs. Set-based, so a COPY of 100k companies is one statement.
REFRESH = """
CREATE OR REPLACE FUNCTION proveo.refresh_company_search(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM proveo.company_search s
    WHERE s.company_id = ANY(ids)
      AND NOT EXISTS (
          SELECT 1 FROM proveo.company c WHERE c.id = s.company_id AND c.deleted_at IS NULL
      );
    WITH changed AS (
        SELECT c.* FROM proveo.company c WHERE c.id = ANY(ids) AND c.deleted_at IS NULL
    ),
    -- The categories beyond the primary one, and their names' lexemes.
    extra AS MATERIALIZED (
        SELECT cp.company_id, array_agg(cp.product_id ORDER BY cp.product_id) AS product_ids,
               proveo.search_vector(string_agg(p.name_es || ' ' || p.name_en, ' ')) AS doc
        FROM proveo.company_product cp JOIN proveo.product p ON p.id = cp.product_id
        WHERE cp.company_id = ANY(ids)
        GROUP BY cp.company_id
    ),
    -- Each product's and commune's lexemes once, not once per company.
    products AS MATERIALIZED (
        SELECT p.id, proveo.search_vector(p.name_es) || proveo.search_vector(p.name_en) AS doc
        FROM proveo.product p WHERE p.id IN (SELECT product_id FROM changed)
    ),
    communes AS MATERIALIZED (
        SELECT co.id, co.region, proveo.search_vector(co.name) AS doc
        FROM proveo.commune co WHERE co.id IN (SELECT commune_id FROM changed)
    ),
    fresh AS (
        SELECT c.id, c.product_id, c.commune_id, co.region, c.served_regions,
               CASE WHEN e.product_ids IS NULL THEN ARRAY[c.product_id]
                    ELSE ARRAY(SELECT DISTINCT x FROM unnest(c.product_id || e.product_ids) x)
               END AS product_ids,
               coalesce(proveo.search_text(c.name), '') AS name_key,
               proveo.search_vector(c.name) AS name_doc,
               p.doc || co.doc || coalesce(e.doc, ''::tsvector) AS catalog_doc,
               to_tsvector('spanish'::regconfig,
                           coalesce(proveo.search_text(c.description_es), ''))
                   || to_tsvector('english'::regconfig,
                                  coalesce(proveo.search_text(c.description_en), ''))
                   AS text_doc
        FROM changed c
        JOIN products p ON p.id = c.product_id
        JOIN communes co ON co.id = c.commune_id
        LEFT JOIN extra e ON e.company_id = c.id
    )
    INSERT INTO proveo.company_search AS s
        (company_id, product_id, commune_id, region, served_regions, product_ids, name_key,
         name_doc, head_doc, doc)
    SELECT id, product_id, commune_id, region, served_regions, product_ids, name_key,
           strip(name_doc), strip(name_doc || catalog_doc),
           strip(name_doc || catalog_doc || text_doc)
    FROM fresh
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
    FROM proveo.company c,
         LATERAL proveo.search_terms(
             concat_ws(' ', c.name, c.description_es, c.description_en)) AS w(term)
    WHERE c.id = ANY(ids) AND c.deleted_at IS NULL
    ON CONFLICT (term) DO NOTHING;
$$
"""

# The previous revision's function (20261125_1700), restored by the downgrade.
OLD_REFRESH = """
CREATE OR REPLACE FUNCTION proveo.refresh_company_search(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM proveo.company_search s
    WHERE s.company_id = ANY(ids)
      AND NOT EXISTS (
          SELECT 1 FROM proveo.company c WHERE c.id = s.company_id AND c.deleted_at IS NULL
      );
    WITH changed AS (
        SELECT c.* FROM proveo.company c WHERE c.id = ANY(ids) AND c.deleted_at IS NULL
    ),
    products AS MATERIALIZED (
        SELECT p.id, proveo.search_vector(p.name_es) || proveo.search_vector(p.name_en)
                   AS doc
        FROM proveo.product p WHERE p.id IN (SELECT product_id FROM changed)
    ),
    communes AS MATERIALIZED (
        SELECT co.id, proveo.search_vector(co.name) AS doc
        FROM proveo.commune co WHERE co.id IN (SELECT commune_id FROM changed)
    ),
    fresh AS (
        SELECT c.id, c.product_id, c.commune_id,
               coalesce(proveo.search_text(c.name), '') AS name_key,
               proveo.search_vector(c.name) AS name_doc,
               p.doc || co.doc AS catalog_doc,
               to_tsvector('spanish'::regconfig,
                           coalesce(proveo.search_text(c.description_es), ''))
                   || to_tsvector('english'::regconfig,
                                  coalesce(proveo.search_text(c.description_en), ''))
                   AS text_doc
        FROM changed c
        JOIN products p ON p.id = c.product_id
        JOIN communes co ON co.id = c.commune_id
    )
    INSERT INTO proveo.company_search AS s
        (company_id, product_id, commune_id, name_key, name_doc, head_doc, doc)
    SELECT id, product_id, commune_id, name_key, strip(name_doc),
           strip(name_doc || catalog_doc), strip(name_doc || catalog_doc || text_doc)
    FROM fresh
    ON CONFLICT (company_id) DO UPDATE SET
        product_id = excluded.product_id,
        commune_id = excluded.commune_id,
        name_key = excluded.name_key,
        name_doc = excluded.name_doc,
        head_doc = excluded.head_doc,
        doc = excluded.doc;
    INSERT INTO proveo.search_term (term)
    SELECT DISTINCT w.term
    FROM proveo.company c,
         LATERAL proveo.search_terms(
             concat_ws(' ', c.name, c.description_es, c.description_en)) AS w(term)
    WHERE c.id = ANY(ids) AND c.deleted_at IS NULL
    ON CONFLICT (term) DO NOTHING;
$$
"""


# Refreshes only rows whose searchable content changed: an image or phone update costs nothing.
# Now the served regions too.
UPDATED = """
CREATE OR REPLACE FUNCTION proveo.company_search_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM proveo.refresh_company_search(ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.name, n.description_es, n.description_en, n.product_id, n.commune_id,
               n.deleted_at, n.served_regions)
              IS DISTINCT FROM
              (o.name, o.description_es, o.description_en, o.product_id, o.commune_id,
               o.deleted_at, o.served_regions)
    ));
    RETURN NULL;
END $$
"""
# The previous revision's.
OLD_UPDATED = """
CREATE OR REPLACE FUNCTION proveo.company_search_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM proveo.refresh_company_search(ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.name, n.description_es, n.description_en, n.product_id, n.commune_id,
               n.deleted_at)
              IS DISTINCT FROM
              (o.name, o.description_es, o.description_en, o.product_id, o.commune_id,
               o.deleted_at)
    ));
    RETURN NULL;
END $$
"""

# A commune's rename or move to another region rewrites its companies' rows.
COMMUNE_TRIGGER = (
    "CREATE TRIGGER tg_company_search_commune_rename AFTER UPDATE OF {columns} "
    "ON proveo.commune FOR EACH ROW WHEN ({condition}) "
    "EXECUTE FUNCTION proveo.company_search_catalog_changed()"
)


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE proveo.company_search
            ADD COLUMN region text COLLATE "C",
            ADD COLUMN served_regions text[] NOT NULL DEFAULT '{}',
            ADD COLUMN product_ids bigint[] NOT NULL DEFAULT '{}'
        """
    )
    op.execute(REFRESH)
    op.execute(UPDATED)
    # A category added to or removed from a company (the table the profile form writes).
    op.execute(
        """
        CREATE FUNCTION proveo.company_search_products_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM proveo.refresh_company_search(ARRAY(
                    SELECT DISTINCT company_id FROM new_rows));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM proveo.refresh_company_search(ARRAY(
                    SELECT DISTINCT company_id FROM old_rows));
            ELSE
                PERFORM proveo.refresh_company_search(ARRAY(
                    SELECT company_id FROM new_rows UNION SELECT company_id FROM old_rows));
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER tg_company_search_products_{event.lower()} AFTER {event} "
            f"ON proveo.company_product REFERENCING {tables} "
            "FOR EACH STATEMENT EXECUTE FUNCTION proveo.company_search_products_changed()"
        )
    op.execute("DROP TRIGGER tg_company_search_commune_rename ON proveo.commune")
    op.execute(
        COMMUNE_TRIGGER.format(
            columns="name, region",
            condition="OLD.name IS DISTINCT FROM NEW.name OR OLD.region IS DISTINCT FROM NEW.region",
        )
    )
    op.execute(
        "SELECT proveo.refresh_company_search(ARRAY(SELECT id FROM proveo.company "
        "WHERE deleted_at IS NULL))"
    )
    op.execute("ALTER TABLE proveo.company_search ALTER COLUMN region SET NOT NULL")
    op.execute(
        "CREATE INDEX ix_company_search_region "
        "ON proveo.company_search (region, name_key, company_id)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_served_regions "
        "ON proveo.company_search USING gin (served_regions)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_product_ids "
        "ON proveo.company_search USING gin (product_ids)"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tg_company_search_commune_rename ON proveo.commune")
    op.execute(
        COMMUNE_TRIGGER.format(columns="name", condition="OLD.name IS DISTINCT FROM NEW.name")
    )
    for event in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER IF EXISTS tg_company_search_products_{event} ON proveo.company_product"
        )
    op.execute("DROP FUNCTION IF EXISTS proveo.company_search_products_changed()")
    op.execute(OLD_UPDATED)
    op.execute(OLD_REFRESH)
    op.execute("DROP INDEX IF EXISTS proveo.ix_company_search_product_ids")
    op.execute("DROP INDEX IF EXISTS proveo.ix_company_search_served_regions")
    op.execute("DROP INDEX IF EXISTS proveo.ix_company_search_region")
    op.execute(
        """
        ALTER TABLE proveo.company_search
            DROP COLUMN IF EXISTS product_ids,
            DROP COLUMN IF EXISTS served_regions,
            DROP COLUMN IF EXISTS region
        """
    )
    # The documents lose the extra categories' names.
    op.execute(
        "SELECT proveo.refresh_company_search(ARRAY(SELECT id FROM proveo.company "
        "WHERE deleted_at IS NULL))"
    )
