"""One search row per company and word of its name, in name order per word.

Search ranks the companies whose name holds the query's words second, in name order. Those are
found either by walking the name index until enough turn up, or by collecting them all from the
name's word index and sorting. Neither holds at 1,000,000 companies for a word that many names
begin with: the walk reads every name before the word's place in the alphabet first
(`accounting` and its synonyms: 34,000 names for 20, 94 ms), the sort reads all of them (the
same page by the index: 202 ms). `company_search_name_word` holds one row per company and
lexeme of its name (`name_doc`), under a btree on the lexeme and the name: the first names
holding any of a query's lexemes are the first rows of each lexeme's range, merged.
`refresh_company_search` keeps it with the search rows.

Revision ID: 20261207_1400
Revises: 20261207_1300
Create Date: 2026-12-07 14:00:00
"""

from alembic import op

from proveo.migrations.revisions import statement

revision = "20261207_1400"
down_revision = "20261207_1300"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE proveo.company_search_name_word (
    company_id bigint NOT NULL,
    word text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    commune_id bigint NOT NULL,
    region text COLLATE "C" NOT NULL,
    CONSTRAINT pk_company_search_name_word PRIMARY KEY (company_id, word)
)
"""

ROWS = """
INSERT INTO proveo.company_search_name_word (company_id, word, name_key, commune_id, region)
SELECT s.company_id, w.word, s.name_key, s.commune_id, s.region
FROM proveo.company_search s, unnest(tsvector_to_array(s.name_doc)) AS w(word)
"""

# The place a located company is in is tested on the index's own columns.
INDEX = (
    "CREATE INDEX ix_company_search_name_word ON proveo.company_search_name_word "
    "(word, name_key, company_id) INCLUDE (commune_id, region)"
)

# The lexemes of a search's words (their tsquery's, each once): for one word, those any of
# which the name tier's names hold.
LEXEMES = r"""
CREATE FUNCTION proveo.search_lexemes(words text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT m[1]
    FROM regexp_matches(coalesce(proveo.search_query(words)::text, ''), '''([^'']+)''', 'g')
        AS m
    ORDER BY 1
)
"""

# The refresh writes the given companies' rows too, before the vocabulary.
PREVIOUS_REFRESH = statement("2026-12-07-1100_search_served.py", "REFRESH")
VOCABULARY = "    INSERT INTO proveo.search_term (term)"
NAME_WORDS = """\
    DELETE FROM proveo.company_search_name_word WHERE company_id = ANY(ids);
    INSERT INTO proveo.company_search_name_word (company_id, word, name_key, commune_id, region)
    SELECT s.company_id, w.word, s.name_key, s.commune_id, s.region
    FROM proveo.company_search s, unnest(tsvector_to_array(s.name_doc)) AS w(word)
    WHERE s.company_id = ANY(ids);
"""
assert PREVIOUS_REFRESH.count(VOCABULARY) == 1
REFRESH = PREVIOUS_REFRESH.replace(VOCABULARY, NAME_WORDS + VOCABULARY)


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(ROWS)
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.execute(INDEX)
    op.execute("ANALYZE proveo.company_search_name_word")
    op.execute(LEXEMES)
    op.execute(REFRESH)


def downgrade() -> None:
    op.execute(PREVIOUS_REFRESH)
    op.execute("DROP FUNCTION proveo.search_lexemes")
    op.execute("DROP TABLE proveo.company_search_name_word")
