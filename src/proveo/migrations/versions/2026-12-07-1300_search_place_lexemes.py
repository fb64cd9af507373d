"""A company's place and categories are lexemes of its search text, for the word index.

A search with words and a place (a region, a commune, Greater Santiago, the region it serves)
or a category found the words' matches in the place either by reading the table until enough
turned up (86,000 rows for `contabilidad` in Valparaíso at 1,000,000 companies: 95 ms) or by
intersecting the word index's entries with the region index's (60–110 ms): neither index knew
the other's column. The place and the categories are now lexemes of `doc` and `head_doc`
(`@c.<commune id>`, `@r.<region>`, `@s.<served region>`, `@p.<category id>`: a buyer's words
are letters and digits only, so none of them can match one), and a search's tsquery carries
its filters (`search_query_in`): the word index intersects them itself, and the planner's
statistics on the lexemes estimate how common the combination is. The same query with its
filters as columns stays in the statements, so the lexemes only narrow what is read.

Revision ID: 20261207_1300
Revises: 20261207_1200
Create Date: 2026-12-07 13:00:00
"""

from alembic import op

from proveo.migrations.revisions import rewrite_search_rows, statement

revision = "20261207_1300"
down_revision = "20261207_1200"
branch_labels = None
depends_on = None

PLACE_KEY = """
CREATE FUNCTION proveo.search_place_key(region text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN translate(proveo.search_text(region), ' ', '-')
"""

PLACE_DOC = """
CREATE FUNCTION proveo.search_place_doc(
    commune_id bigint, region text, served_regions text[], product_ids bigint[]
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN array_to_tsvector(
    ARRAY['@c.' || commune_id, '@r.' || proveo.search_place_key(region)]
    || ARRAY(SELECT '@s.' || proveo.search_place_key(r) FROM unnest(served_regions) AS r)
    || ARRAY(SELECT '@p.' || p FROM unnest(product_ids) AS p)
)
"""

# The filters of `search/repository.py` (`_FILTERS`) as a tsquery, or NULL without filters: a
# category, a place (a commune, a region, communes: each one given must hold), or, with a
# region served, the companies that serve it and are not located in the place.
FILTER_QUERY = r"""
CREATE FUNCTION proveo.search_filter_query(
    commune bigint, product bigint, region text, area bigint[], served text
) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    nothing CONSTANT tsquery := '@none'::tsquery;  -- no company has this lexeme
    located tsquery;
    part tsquery;
    result tsquery;
BEGIN
    IF commune IS NOT NULL THEN
        located := quote_literal('@c.' || commune)::tsquery;
    END IF;
    IF region IS NOT NULL THEN
        part := quote_literal('@r.' || proveo.search_place_key(region))::tsquery;
        located := CASE WHEN located IS NULL THEN part ELSE located && part END;
    END IF;
    IF area IS NOT NULL THEN
        SELECT coalesce(string_agg(quote_literal('@c.' || id), ' | ')::tsquery, nothing)
        INTO part FROM unnest(area) AS id;
        located := CASE WHEN located IS NULL THEN part ELSE located && part END;
    END IF;
    IF served IS NOT NULL THEN
        -- Located nowhere in particular: no company is outside the place.
        located := CASE WHEN located IS NULL THEN nothing
                        ELSE quote_literal('@s.' || proveo.search_place_key(served))::tsquery
                             && !! located END;
    END IF;
    IF product IS NOT NULL THEN
        result := quote_literal('@p.' || product)::tsquery;
    END IF;
    IF located IS NOT NULL THEN
        result := CASE WHEN result IS NULL THEN located ELSE result && located END;
    END IF;
    RETURN result;
END $$
"""

QUERY_IN = """
CREATE FUNCTION proveo.search_query_in(
    words text[], commune bigint, product bigint, region text, area bigint[], served text
) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN proveo.search_filter_query(commune, product, region, area, served) IS NULL
            THEN proveo.search_query(words)
            ELSE proveo.search_query(words)
                 && proveo.search_filter_query(commune, product, region, area, served) END
"""

# The last word the buyer typed is a prefix (`ltda:*`), which the word index reads by collecting
# every entry of every lexeme it begins (300,000 companies' for `ltda` at 1,000,000) before it
# can intersect them with anything. The API now completes it from the vocabulary when few
# words begin it, and marks such an element with a leading `=`: its alternatives are then
# plain lexemes, which the index intersects entry by entry.
COMPLETED_MARK = "AND NOT completed"
SEARCH_QUERY = r"""
CREATE OR REPLACE FUNCTION proveo.search_query(words text[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    result tsquery;
    element_query tsquery;
    phrase_query tsquery;
    word_query tsquery;
    element text;
    alternative text;
    word text;
    typed boolean;
    position int := 0;
    last int := cardinality(words);
    completed boolean;
BEGIN
    FOREACH element IN ARRAY words LOOP
        position := position + 1;
        element_query := NULL;
        typed := true;
        completed := left(element, 1) = '=';
        FOREACH alternative IN ARRAY string_to_array(element, '|') LOOP
            phrase_query := NULL;
            FOREACH word IN ARRAY string_to_array(alternative, ' ') LOOP
                word := left(regexp_replace(word, '[^a-z0-9]', '', 'g'), 64);
                CONTINUE WHEN word = '';
                -- A stop word the buyer typed before the last word drops the whole
                -- element; inside a phrase it is only skipped.
                IF proveo.search_stop_word(word) AND NOT (typed AND position = last) THEN
                    IF typed AND alternative NOT LIKE '% %' THEN
                        EXIT;
                    END IF;
                    CONTINUE;
                END IF;
                -- A prefix of one or two letters would expand to a good part of the
                -- vocabulary; the name-prefix tier still completes short ones.
                word_query := proveo.search_word_query(
                    word,
                    typed AND position = last AND alternative NOT LIKE '% %' AND NOT completed
                );
                phrase_query := CASE WHEN phrase_query IS NULL THEN word_query
                                     ELSE phrase_query && word_query END;
            END LOOP;
            IF typed AND phrase_query IS NULL THEN
                EXIT;  -- what the buyer typed is no term: nor are its alternatives
            END IF;
            typed := false;
            CONTINUE WHEN phrase_query IS NULL;
            element_query := CASE WHEN element_query IS NULL THEN phrase_query
                                  ELSE element_query || phrase_query END;
        END LOOP;
        CONTINUE WHEN element_query IS NULL;
        result := CASE WHEN result IS NULL THEN element_query
                       ELSE result && element_query END;
    END LOOP;
    RETURN result;
END $$
"""

# The catalogue's view as migration 20261207_0900 made it, its companies' filters appended.
PREVIOUS_CATALOGUE = statement("2026-12-07-0900_search_rows_in_parallel.py", "CATALOGUE").replace(
    "CREATE VIEW", "CREATE OR REPLACE VIEW"
)
CATALOGUE_DOC = (
    "       p.search_doc || co.search_doc || coalesce(e.doc, ''::tsvector) AS catalog_doc"
)
PLACE_LEXEMES = """\
       p.search_doc || co.search_doc || coalesce(e.doc, ''::tsvector)
           || proveo.search_place_doc(c.commune_id, co.region, c.served_regions,
                                      coalesce(e.product_ids, ARRAY[c.product_id]))
           AS catalog_doc"""
assert PREVIOUS_CATALOGUE.count(CATALOGUE_DOC) == 1
CATALOGUE = PREVIOUS_CATALOGUE.replace(CATALOGUE_DOC, PLACE_LEXEMES)


ADD_LEXEMES = """
UPDATE proveo.company_search s
SET head_doc = s.head_doc || proveo.search_place_doc(
        s.commune_id, s.region, s.served_regions, s.product_ids),
    doc = s.doc || proveo.search_place_doc(
        s.commune_id, s.region, s.served_regions, s.product_ids)
"""
REMOVE_LEXEMES = """
UPDATE proveo.company_search s
SET head_doc = ts_delete(s.head_doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.head_doc) AS u WHERE u.lexeme LIKE '@%')),
    doc = ts_delete(s.doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.doc) AS u WHERE u.lexeme LIKE '@%'))
"""


def upgrade() -> None:
    op.execute(PLACE_KEY)
    op.execute(PLACE_DOC)
    op.execute(FILTER_QUERY)
    op.execute(QUERY_IN)
    op.execute(SEARCH_QUERY)
    op.execute(CATALOGUE)
    rewrite_search_rows(ADD_LEXEMES)


def downgrade() -> None:
    op.execute(
        SEARCH_QUERY.replace(f" {COMPLETED_MARK}", "")
        .replace("    completed boolean;\n", "")
        .replace("        completed := left(element, 1) = '=';\n", "")
    )
    op.execute(PREVIOUS_CATALOGUE)
    rewrite_search_rows(REMOVE_LEXEMES)
    op.execute("DROP FUNCTION proveo.search_query_in")
    op.execute("DROP FUNCTION proveo.search_filter_query")
    op.execute("DROP FUNCTION proveo.search_place_doc")
    op.execute("DROP FUNCTION proveo.search_place_key")
