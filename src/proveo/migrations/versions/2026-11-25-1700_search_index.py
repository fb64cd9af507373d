"""Search index: one row per live company with its search documents, kept fresh on write.

`company_search` holds what the search path reads: the normalised name (exact, prefix and
ordered scans), the product and commune ids (filters) and three tsvectors that give the ranking
tiers (name; name + product + commune; everything). The tiers replace weights, so the vectors
are stripped of positions: a narrower heap makes counting a common word's matches cheaper. Triggers on company, product and commune
rewrite the affected rows in the writing transaction, so a commit is visible to the next search.
`search_term` is the vocabulary that typo correction looks words up in (trigram similarity over
tens of thousands of words rather than over every company).

Revision ID: 20261125_1700
Revises: 20261125_1600
Create Date: 2026-11-25 17:00:00
"""

from alembic import op

revision = "20261125_1700"
down_revision = "20261125_1600"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The folding the API applies to queries (search/service.py normalise_query): no accents,
    # lower case, anything but letters and digits a single space.
    op.execute(
        """
        CREATE FUNCTION proveo.search_text(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN btrim(regexp_replace(proveo.fold(value), '[^a-z0-9]+', ' ', 'g'))
        """
    )
    # Every language's lexemes of a text: the surface words (prefixes and names match them) and
    # the Spanish and English stems (plurals and inflections match them).
    op.execute(
        """
        CREATE FUNCTION proveo.search_vector(value text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN to_tsvector('simple'::regconfig, coalesce(proveo.search_text(value), ''))
            || to_tsvector('spanish'::regconfig, coalesce(proveo.search_text(value), ''))
            || to_tsvector('english'::regconfig, coalesce(proveo.search_text(value), ''))
        """
    )
    # A query from words the API has already normalised: each word is its surface form or one of
    # its stems (AND between words); the last word (three letters or more) also matches as a
    # prefix. Words are reduced to [a-z0-9] again here and quoted as lexemes, so no user text is
    # ever parsed as tsquery syntax. A stop word (in either language) is dropped unless it is
    # the last word.
    op.execute(
        r"""
        CREATE FUNCTION proveo.search_query(words text[]) RETURNS tsquery
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
        DECLARE
            result tsquery;
            term tsquery;
            word text;
            es text[];
            en text[];
            position int := 0;
            last int := cardinality(words);
        BEGIN
            FOREACH word IN ARRAY words LOOP
                position := position + 1;
                word := left(regexp_replace(word, '[^a-z0-9]', '', 'g'), 64);
                CONTINUE WHEN word = '';
                es := ts_lexize('spanish_stem', word);
                en := ts_lexize('english_stem', word);
                IF position < last AND (es = '{}' OR en = '{}') THEN
                    CONTINUE;
                END IF;
                term := quote_literal(word)::tsquery;
                -- A prefix of one or two letters would expand to a good part of the
                -- vocabulary; the name-prefix tier still completes short ones.
                IF position = last AND char_length(word) >= 3 THEN
                    term := term || (quote_literal(word) || ':*')::tsquery;
                END IF;
                IF cardinality(es) > 0 THEN
                    term := term || quote_literal(es[1])::tsquery;
                END IF;
                IF cardinality(en) > 0 THEN
                    term := term || quote_literal(en[1])::tsquery;
                END IF;
                result := CASE WHEN result IS NULL THEN term ELSE result && term END;
            END LOOP;
            RETURN result;
        END $$
        """
    )

    op.execute(
        """
        CREATE TABLE proveo.company_search (
            company_id bigint NOT NULL CONSTRAINT pk_company_search PRIMARY KEY
                CONSTRAINT fk_company_search_company REFERENCES proveo.company (id) ON DELETE CASCADE,
            product_id bigint NOT NULL,
            commune_id bigint NOT NULL,
            name_key text COLLATE "C" NOT NULL,
            name_doc tsvector NOT NULL,
            head_doc tsvector NOT NULL,
            doc tsvector NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_company_search_name ON proveo.company_search (name_key, company_id)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_product "
        "ON proveo.company_search (product_id, name_key, company_id)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_commune "
        "ON proveo.company_search (commune_id, name_key, company_id)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_name_doc ON proveo.company_search USING gin (name_doc)"
    )
    op.execute(
        "CREATE INDEX ix_company_search_head_doc ON proveo.company_search USING gin (head_doc)"
    )
    op.execute("CREATE INDEX ix_company_search_doc ON proveo.company_search USING gin (doc)")
    op.execute(
        "CREATE INDEX ix_company_search_name_trgm "
        "ON proveo.company_search USING gin (name_key gin_trgm_ops)"
    )

    op.execute(
        """
        CREATE TABLE proveo.search_term (
            term text COLLATE "C" NOT NULL CONSTRAINT pk_search_term PRIMARY KEY
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_search_term_trgm ON proveo.search_term USING gin (term gin_trgm_ops)"
    )
    # Trigram look-ups on the catalogue for typos in product and commune names.
    op.execute(
        "CREATE INDEX ix_product_name_es_trgm ON proveo.product "
        "USING gin (proveo.search_text(name_es) gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_product_name_en_trgm ON proveo.product "
        "USING gin (proveo.search_text(name_en) gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_commune_name_trgm ON proveo.commune "
        "USING gin (proveo.search_text(name) gin_trgm_ops)"
    )

    # The words of a text worth correcting a typo towards (no short words, no numbers).
    op.execute(
        """
        CREATE FUNCTION proveo.search_terms(value text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT w.term
            FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
                     coalesce(proveo.search_text(value), '')))) AS w(term)
            WHERE char_length(w.term) BETWEEN 3 AND 40 AND w.term !~ '^[0-9]+$'
        $$
        """
    )
    # Rewrites the rows of the given companies from their current state; deleted or missing
    # companies lose theirs. Set-based, so a COPY of 100k companies is one statement.
    op.execute(
        """
        CREATE FUNCTION proveo.refresh_company_search(ids bigint[]) RETURNS void
        LANGUAGE sql AS $$
            DELETE FROM proveo.company_search s
            WHERE s.company_id = ANY(ids)
              AND NOT EXISTS (
                  SELECT 1 FROM proveo.company c WHERE c.id = s.company_id AND c.deleted_at IS NULL
              );
            WITH changed AS (
                SELECT c.* FROM proveo.company c WHERE c.id = ANY(ids) AND c.deleted_at IS NULL
            ),
            -- Each product's and commune's lexemes once, not once per company.
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
    )
    op.execute(
        """
        CREATE FUNCTION proveo.company_search_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM proveo.refresh_company_search(ARRAY(SELECT id FROM new_rows));
            RETURN NULL;
        END $$
        """
    )
    # Only rows whose searchable content changed: an image or phone update costs nothing.
    op.execute(
        """
        CREATE FUNCTION proveo.company_search_updated() RETURNS trigger
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
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_insert AFTER INSERT ON proveo.company "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION proveo.company_search_inserted()"
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_update AFTER UPDATE ON proveo.company "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION proveo.company_search_updated()"
    )
    # Catalogue names are vocabulary too, and a renamed product or commune changes the
    # documents of every company that uses it.
    op.execute(
        """
        CREATE FUNCTION proveo.company_search_catalog_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'product' THEN
                INSERT INTO proveo.search_term (term)
                SELECT DISTINCT t.term FROM proveo.search_terms(NEW.name_es || ' ' || NEW.name_en) AS t(term)
                ON CONFLICT (term) DO NOTHING;
                IF TG_OP = 'UPDATE' THEN
                    PERFORM proveo.refresh_company_search(ARRAY(
                        SELECT s.company_id FROM proveo.company_search s
                        WHERE s.product_id = NEW.id));
                END IF;
            ELSE
                INSERT INTO proveo.search_term (term)
                SELECT DISTINCT t.term FROM proveo.search_terms(NEW.name) AS t(term)
                ON CONFLICT (term) DO NOTHING;
                IF TG_OP = 'UPDATE' THEN
                    PERFORM proveo.refresh_company_search(ARRAY(
                        SELECT s.company_id FROM proveo.company_search s
                        WHERE s.commune_id = NEW.id));
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_product_insert AFTER INSERT ON proveo.product "
        "FOR EACH ROW EXECUTE FUNCTION proveo.company_search_catalog_changed()"
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_product_rename AFTER UPDATE OF name_es, name_en "
        "ON proveo.product FOR EACH ROW "
        "WHEN (OLD.name_es IS DISTINCT FROM NEW.name_es OR OLD.name_en IS DISTINCT FROM NEW.name_en) "
        "EXECUTE FUNCTION proveo.company_search_catalog_changed()"
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_commune_insert AFTER INSERT ON proveo.commune "
        "FOR EACH ROW EXECUTE FUNCTION proveo.company_search_catalog_changed()"
    )
    op.execute(
        "CREATE TRIGGER tg_company_search_commune_rename AFTER UPDATE OF name "
        "ON proveo.commune FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) "
        "EXECUTE FUNCTION proveo.company_search_catalog_changed()"
    )
    op.execute(
        """
        INSERT INTO proveo.search_term (term)
        SELECT DISTINCT w.term
        FROM (SELECT name_es || ' ' || name_en AS name FROM proveo.product
              UNION ALL SELECT name FROM proveo.commune) AS catalog,
             LATERAL proveo.search_terms(catalog.name) AS w(term)
        ON CONFLICT (term) DO NOTHING
        """
    )
    op.execute(
        "SELECT proveo.refresh_company_search(ARRAY(SELECT id FROM proveo.company "
        "WHERE deleted_at IS NULL))"
    )


def downgrade() -> None:
    for trigger, table in (
        ("tg_company_search_commune_rename", "commune"),
        ("tg_company_search_commune_insert", "commune"),
        ("tg_company_search_product_rename", "product"),
        ("tg_company_search_product_insert", "product"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON proveo.{table}")
    op.execute("DROP TRIGGER IF EXISTS tg_company_search_update ON proveo.company")
    op.execute("DROP TRIGGER IF EXISTS tg_company_search_insert ON proveo.company")
    op.execute("DROP FUNCTION IF EXISTS proveo.company_search_catalog_changed()")
    op.execute("DROP FUNCTION IF EXISTS proveo.company_search_updated()")
    op.execute("DROP FUNCTION IF EXISTS proveo.company_search_inserted()")
    op.execute("DROP FUNCTION IF EXISTS proveo.refresh_company_search(bigint[])")
    op.execute("DROP FUNCTION IF EXISTS proveo.search_terms(text)")
    op.execute("DROP INDEX IF EXISTS proveo.ix_commune_name_trgm")
    op.execute("DROP INDEX IF EXISTS proveo.ix_product_name_en_trgm")
    op.execute("DROP INDEX IF EXISTS proveo.ix_product_name_es_trgm")
    op.execute("DROP TABLE IF EXISTS proveo.search_term")
    op.execute("DROP TABLE IF EXISTS proveo.company_search")
    op.execute("DROP FUNCTION IF EXISTS proveo.search_query(text[])")
    op.execute("DROP FUNCTION IF EXISTS proveo.search_vector(text)")
    op.execute("DROP FUNCTION IF EXISTS proveo.search_text(text)")
