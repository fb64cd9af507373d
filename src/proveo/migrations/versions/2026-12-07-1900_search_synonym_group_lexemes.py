"""A synonym group is one lexeme of its companies' search text, as Greater Santiago is.

A word of a synonym group (`search.synonyms`) searched for the OR of every entry's lexemes:
`contabilidad` 11 of them, `aseo` 8. The word index unions that many posting lists before it
intersects them with a place or another word: at 1,000,000 companies `contabilidad` in the
Metropolitan region counted in 30–33 ms (20 of them the union), `aseo` in Maipú took 5.2 ms for
the word index alone where one of its lists took 1.8. Each group now has a lexeme, `@g.` and a
digest of its entries (`synonyms.group_lexeme`), which every search text matching any of its
entries holds (`name_doc`, `head_doc` and `doc`, and so the name's words); a query's word of a
group carries that one lexeme, and the typed word as well only while it is a prefix.

`search_synonym_group` holds the groups as this revision knows them: a change to
`synonyms.SYNONYM_GROUPS` needs a revision that updates the table and the rows (a test compares
the two). Every search row is written again and the table compacted after, as in 20261207_1800.

Revision ID: 20261207_1900
Revises: 20261207_1800
Create Date: 2026-12-07 19:00:00
"""

import sqlalchemy as sa
from alembic import op

from proveo.migrations.revisions import rewrite_search_rows, statement

revision = "20261207_1900"
down_revision = "20261207_1800"
branch_labels = None
depends_on = None

# `synonyms.SYNONYM_GROUPS` when this revision was written.
GROUPS = (
    ("gasfiter", "gasfiteria", "plomero", "plomeria", "fontanero", "fontaneria", "plumber",
     "plumbing"),
    ("rrhh", "recursos humanos", "human resources"),
    ("abogado", "abogados", "juridico", "juridica", "lawyer", "lawyers", "attorney"),
    ("contador", "contadores", "contabilidad", "contable", "accountant", "accounting",
     "bookkeeping"),
    ("aseo", "limpieza", "cleaning", "janitorial"),
    ("fumigacion", "fumigaciones", "control de plagas", "pest control", "exterminator"),
    ("banqueteria", "catering"),
    ("electricista", "electricistas", "electrician", "electricians"),
    ("climatizacion", "aire acondicionado", "hvac", "air conditioning"),
    ("jardinero", "jardineria", "paisajismo", "gardener", "gardening", "landscaping"),
    ("traductor", "traductores", "traduccion", "translator", "translation"),
    ("guardia", "guardias", "vigilancia", "security guard", "security guards"),
    ("flete", "fletes", "freight", "transporte de carga"),
)  # fmt: skip

TABLE = """
CREATE TABLE proveo.search_synonym_group (
    lexeme text COLLATE "C" NOT NULL,
    entries text[] NOT NULL,
    query tsquery NOT NULL,
    CONSTRAINT pk_search_synonym_group PRIMARY KEY (lexeme)
)
"""
# A group's query is what a word of it searched for: every entry, none a prefix.
ADD_GROUP = """
INSERT INTO proveo.search_synonym_group (lexeme, entries, query)
SELECT '@g.' || left(md5(array_to_string(g.entries, '|')), 16), g.entries,
       proveo.search_query(ARRAY['=' || array_to_string(g.entries, '|')])
FROM (SELECT CAST(:entries AS text[]) AS entries) AS g
"""

WITH_GROUPS = """
CREATE FUNCTION proveo.search_with_groups(doc tsvector) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE STRICT
RETURN doc || array_to_tsvector(ARRAY(
    SELECT g.lexeme FROM proveo.search_synonym_group g WHERE doc @@ g.query ORDER BY 1))
"""

# A group's lexeme is one of a word's alternatives, and named once like the others.
PREVIOUS_DISTINCT_LEXEMES = statement(
    "2026-12-07-1700_search_element_distinct_lexemes.py", "DISTINCT_LEXEMES"
).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
LETTERS = "''[a-z0-9]+''"
assert PREVIOUS_DISTINCT_LEXEMES.count(LETTERS) == 1
DISTINCT_LEXEMES = PREVIOUS_DISTINCT_LEXEMES.replace(LETTERS, "''[a-z0-9@.]+''")

PREVIOUS_SEARCH_QUERY = statement(
    "2026-12-07-1700_search_element_distinct_lexemes.py", "SEARCH_QUERY"
)
DECLARED = "    completed boolean;\n"
ELEMENT_START = "        typed := true;\n"
ALTERNATIVE_START = (
    "        FOREACH alternative IN ARRAY string_to_array(element, '|') LOOP\n"
    "            phrase_query := NULL;\n"
)
# The typed word is a prefix where it was (one test of it, above, for the group's lexeme too).
PREFIX_ARGUMENT = (
    "                    typed AND position = last"
    " AND alternative NOT LIKE '% %' AND NOT completed\n"
)
SEARCH_QUERY = (
    PREVIOUS_SEARCH_QUERY.replace(DECLARED, DECLARED + "    typed_prefix boolean;\n")
    .replace(ELEMENT_START, ELEMENT_START + "        typed_prefix := false;\n")
    .replace(
        ALTERNATIVE_START,
        """\
        FOREACH alternative IN ARRAY string_to_array(element, '|') LOOP
            -- A synonym group's lexeme stands for every entry of the group, the typed word
            -- among them, which then adds only what it matches as a prefix.
            IF alternative LIKE '@g.%' AND NOT typed THEN
                element_query := CASE WHEN element_query IS NULL OR NOT typed_prefix
                                      THEN quote_literal(alternative)::tsquery
                                      ELSE element_query || quote_literal(alternative)::tsquery
                                 END;
                CONTINUE;
            END IF;
            phrase_query := NULL;
            IF typed THEN
                typed_prefix := position = last AND alternative NOT LIKE '% %' AND NOT completed;
            END IF;
""",
    )
    .replace(PREFIX_ARGUMENT, "                    typed AND typed_prefix\n")
)
for part in (DECLARED, ELEMENT_START, ALTERNATIVE_START, PREFIX_ARGUMENT):
    assert PREVIOUS_SEARCH_QUERY.count(part) == 1, part

# The rows of a refresh (and of a large seed, `demo.repository`) hold their groups' lexemes.
PREVIOUS_REFRESH = statement("2026-12-07-1400_search_name_words.py", "REFRESH")
DOCS = """\
           t.name_key, t.name_doc, t.name_doc || k.catalog_doc,
           t.name_doc || k.catalog_doc || t.text_doc
"""
GROUPED_DOCS = """\
           t.name_key, proveo.search_with_groups(t.name_doc),
           proveo.search_with_groups(t.name_doc || k.catalog_doc),
           proveo.search_with_groups(t.name_doc || k.catalog_doc || t.text_doc)
"""
assert PREVIOUS_REFRESH.count(DOCS) == 1
REFRESH = PREVIOUS_REFRESH.replace(DOCS, GROUPED_DOCS)

ADD_GROUP_LEXEMES = """
UPDATE proveo.company_search s
SET name_doc = proveo.search_with_groups(s.name_doc),
    head_doc = proveo.search_with_groups(s.head_doc),
    doc = proveo.search_with_groups(s.doc)
"""
ADD_NAME_WORDS = """
INSERT INTO proveo.company_search_name_word (company_id, word, name_key, commune_id, region)
SELECT s.company_id, w.word, s.name_key, s.commune_id, s.region
FROM proveo.company_search s, unnest(tsvector_to_array(s.name_doc)) AS w(word)
WHERE w.word LIKE '@g.%'
"""
REMOVE_GROUP_LEXEMES = """
UPDATE proveo.company_search s
SET name_doc = ts_delete(s.name_doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.name_doc) AS u WHERE u.lexeme LIKE '@g.%')),
    head_doc = ts_delete(s.head_doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.head_doc) AS u WHERE u.lexeme LIKE '@g.%')),
    doc = ts_delete(s.doc, ARRAY(
        SELECT u.lexeme FROM unnest(s.doc) AS u WHERE u.lexeme LIKE '@g.%'))
"""
REMOVE_NAME_WORDS = "DELETE FROM proveo.company_search_name_word WHERE word LIKE '@g.%'"


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(DISTINCT_LEXEMES)
    op.execute(SEARCH_QUERY)
    for entries in GROUPS:
        op.execute(sa.text(ADD_GROUP).bindparams(entries=list(entries)))
    op.execute(WITH_GROUPS)
    op.execute(REFRESH)
    rewrite_search_rows(ADD_GROUP_LEXEMES)
    op.execute(ADD_NAME_WORDS)
    with op.get_context().autocommit_block():
        op.execute("VACUUM (FULL, ANALYZE) proveo.company_search")


def downgrade() -> None:
    op.execute(PREVIOUS_REFRESH)
    rewrite_search_rows(REMOVE_GROUP_LEXEMES)
    op.execute(REMOVE_NAME_WORDS)
    op.execute("DROP FUNCTION proveo.search_with_groups")
    op.execute(PREVIOUS_SEARCH_QUERY)
    op.execute(PREVIOUS_DISTINCT_LEXEMES)
    op.execute("DROP TABLE proveo.search_synonym_group")
