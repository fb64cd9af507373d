"""Greater Santiago is one lexeme of its companies' search text, as a region is.

A search in Greater Santiago (`contador santiago`) carried its 34 communes as an OR of 34
commune lexemes in its tsquery: for each of the words' matches, the word index advanced 34
posting lists (`contador` and its alternatives among 350,000 companies of the area at
1,000,000 companies: 154 ms alone, 230–800 ms under the bench's load), or the planner read the
table until 1,001 matches turned up. A commune now knows its area (`commune.area`, Greater
Santiago's 34 from the catalogue), and each company of an area has the area's lexeme in `doc`
and `head_doc`: `@a.` and a digest of the area's commune ids, which is what a search's filter
carries (`search_filter_query`'s `area`, the ids the API looks up by the area's name). The word
index then intersects the words with one list, as for a region.

An area's communes changing (one deleted, or given an area) rewrites its companies' rows.

Revision ID: 20261207_1600
Revises: 20261207_1500
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

from proveo.catalog.data import GREATER_SANTIAGO, GREATER_SANTIAGO_AREA
from proveo.migrations.revisions import rewrite_search_rows, statement

revision = "20261207_1600"
down_revision = "20261207_1500"
branch_labels = None
depends_on = None

AREA_COLUMN = "ALTER TABLE proveo.commune ADD COLUMN area text"
SET_AREA = "UPDATE proveo.commune SET area = :area WHERE name = ANY(:names)"

# The same ids give the same lexeme in any order; a set of communes that is no area's gives a
# lexeme no company has.
AREA_KEY = """
CREATE FUNCTION proveo.search_area_key(communes bigint[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN '@a.' || left(md5(array_to_string(
    ARRAY(SELECT DISTINCT c FROM unnest(communes) AS c ORDER BY c), ',')), 16)
"""

AREAS = """
CREATE VIEW proveo.commune_area AS
SELECT area, array_agg(id ORDER BY id) AS commune_ids
FROM proveo.commune WHERE area IS NOT NULL GROUP BY area
"""

PLACE_DOC = """
CREATE FUNCTION proveo.search_place_doc(
    commune_id bigint, region text, area_communes bigint[], served_regions text[],
    product_ids bigint[]
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN proveo.search_place_doc(commune_id, region, served_regions, product_ids)
    || array_to_tsvector(ARRAY(SELECT proveo.search_area_key(area_communes)
                               WHERE area_communes IS NOT NULL))
"""

PREVIOUS_FILTER_QUERY = statement("2026-12-07-1300_search_place_lexemes.py", "FILTER_QUERY")
COMMUNES_OR = """\
        SELECT coalesce(string_agg(quote_literal('@c.' || id), ' | ')::tsquery, nothing)
        INTO part FROM unnest(area) AS id;"""
AREA_LEXEME = """\
        part := CASE WHEN cardinality(area) = 0 THEN nothing
                     ELSE quote_literal(proveo.search_area_key(area))::tsquery END;"""
assert PREVIOUS_FILTER_QUERY.count(COMMUNES_OR) == 1
FILTER_QUERY = PREVIOUS_FILTER_QUERY.replace(COMMUNES_OR, AREA_LEXEME).replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)
PREVIOUS_FILTER_QUERY = PREVIOUS_FILTER_QUERY.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)

PREVIOUS_CATALOGUE = statement("2026-12-07-1300_search_place_lexemes.py", "CATALOGUE")
PLACE_DOC_CALL = "proveo.search_place_doc(c.commune_id, co.region, c.served_regions,"
AREA_PLACE_DOC_CALL = (
    "proveo.search_place_doc(c.commune_id, co.region, ar.commune_ids, c.served_regions,"
)
COMMUNE_JOIN = "JOIN proveo.commune co ON co.id = c.commune_id\n"
AREA_JOIN = COMMUNE_JOIN + "LEFT JOIN proveo.commune_area ar ON ar.area = co.area\n"
assert PREVIOUS_CATALOGUE.count(PLACE_DOC_CALL) == 1
assert PREVIOUS_CATALOGUE.count(COMMUNE_JOIN) == 1
CATALOGUE = PREVIOUS_CATALOGUE.replace(PLACE_DOC_CALL, AREA_PLACE_DOC_CALL).replace(
    COMMUNE_JOIN, AREA_JOIN
)

# Every row is written again, not only the area's: an updated row moves to the end of the
# table, and searches that read the table in its order until enough matches turn up (a common
# word in Greater Santiago) then read past the rest of the directory first (`servicios` in
# Greater Santiago, 1,001 matches: 584,000 rows, 286 ms, when only the area's rows moved).
ADD_AREA_LEXEMES = """
UPDATE proveo.company_search s
SET head_doc = s.head_doc || a.lexeme, doc = s.doc || a.lexeme
FROM (SELECT co.id, array_to_tsvector(ARRAY(
          SELECT proveo.search_area_key(ar.commune_ids) WHERE ar.commune_ids IS NOT NULL))
          AS lexeme
      FROM proveo.commune co LEFT JOIN proveo.commune_area ar ON ar.area = co.area) AS a
WHERE s.commune_id = a.id
"""
REMOVE_AREA_LEXEMES = """
UPDATE proveo.company_search s
SET head_doc = ts_delete(s.head_doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.head_doc) AS u WHERE u.lexeme LIKE '@a.%')),
    doc = ts_delete(s.doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.doc) AS u WHERE u.lexeme LIKE '@a.%'))
"""

# A commune joining or leaving an area changes the area's ids, and so the lexeme of every
# company in the area (admins can delete a commune no company uses; none can set an area).
AREA_CHANGED = """
CREATE FUNCTION proveo.company_search_area_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM proveo.refresh_company_search(ARRAY(
        SELECT s.company_id FROM proveo.company_search s
        JOIN proveo.commune co ON co.id = s.commune_id
        WHERE co.area IN (
            SELECT OLD.area WHERE TG_OP IN ('UPDATE', 'DELETE')
            UNION SELECT NEW.area WHERE TG_OP IN ('UPDATE', 'INSERT'))));
    RETURN NULL;
END $$
"""
AREA_TRIGGERS = (
    "CREATE TRIGGER tg_company_search_area_insert AFTER INSERT ON proveo.commune "
    "FOR EACH ROW WHEN (NEW.area IS NOT NULL) "
    "EXECUTE FUNCTION proveo.company_search_area_changed()",
    "CREATE TRIGGER tg_company_search_area_delete AFTER DELETE ON proveo.commune "
    "FOR EACH ROW WHEN (OLD.area IS NOT NULL) "
    "EXECUTE FUNCTION proveo.company_search_area_changed()",
    "CREATE TRIGGER tg_company_search_area_update AFTER UPDATE OF area ON proveo.commune "
    "FOR EACH ROW WHEN (OLD.area IS DISTINCT FROM NEW.area) "
    "EXECUTE FUNCTION proveo.company_search_area_changed()",
)


def upgrade() -> None:
    op.execute(AREA_COLUMN)
    op.execute(
        sa.text(SET_AREA).bindparams(area=GREATER_SANTIAGO_AREA, names=list(GREATER_SANTIAGO))
    )
    op.execute(AREA_KEY)
    op.execute(AREAS)
    op.execute(PLACE_DOC)
    op.execute(FILTER_QUERY)
    op.execute(CATALOGUE)
    rewrite_search_rows(ADD_AREA_LEXEMES)
    op.execute(AREA_CHANGED)
    for trigger in AREA_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER tg_company_search_area_{trigger} ON proveo.commune")
    op.execute("DROP FUNCTION proveo.company_search_area_changed")
    rewrite_search_rows(REMOVE_AREA_LEXEMES)
    op.execute(PREVIOUS_CATALOGUE)
    op.execute(PREVIOUS_FILTER_QUERY)
    op.execute("DROP FUNCTION proveo.search_place_doc(bigint, text, bigint[], text[], bigint[])")
    op.execute("DROP VIEW proveo.commune_area")
    op.execute("DROP FUNCTION proveo.search_area_key")
    op.execute("ALTER TABLE proveo.commune DROP COLUMN area")
