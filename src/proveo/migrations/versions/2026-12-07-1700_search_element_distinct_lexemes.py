"""Each lexeme once among a word's alternatives.

A word's alternatives (its completions and synonyms) share stems: `transporte|transportes`
gave `'transporte' | 'transport' | 'transportes' | 'transport'`, `electrica` completed to three
words gave `electr` three times, `contabilidad` with its synonyms `contador` and `account` twice.
The word index read each repeated lexeme's posting list again, and the planner added each one's
frequency again: at 1,000,000 companies `electrica` in the Metropolitan region was taken for
89,974 matches (15,806), and its facets read the table in order, 64,853 rows for 1,001
matches (57 ms). Deduplicated: 48,912. What matches is unchanged.

Revision ID: 20261207_1700
Revises: 20261207_1600
Create Date: 2026-12-07 17:00:00
"""

from alembic import op

from proveo.migrations.revisions import statement

revision = "20261207_1700"
down_revision = "20261207_1600"
branch_labels = None
depends_on = None

# An OR of lexemes (a buyer's words are letters and digits: no quote inside one) with each
# lexeme once.
DISTINCT_LEXEMES = r"""
CREATE FUNCTION proveo.search_distinct_lexemes(alternatives tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN (SELECT string_agg(DISTINCT m[1], ' | ')::tsquery
        FROM regexp_matches(alternatives::text, '(''[a-z0-9]+''(?::\*)?)', 'g') AS m)
"""

PREVIOUS_SEARCH_QUERY = statement("2026-12-07-1300_search_place_lexemes.py", "SEARCH_QUERY")
ELEMENT_DONE = "        CONTINUE WHEN element_query IS NULL;\n"
DISTINCT_ELEMENT = (
    ELEMENT_DONE
    + """\
        -- Alternatives of single words only (a phrase's words are ANDed).
        IF element_query::text !~ '[&<!]' THEN
            element_query := proveo.search_distinct_lexemes(element_query);
        END IF;
"""
)
assert PREVIOUS_SEARCH_QUERY.count(ELEMENT_DONE) == 1
SEARCH_QUERY = PREVIOUS_SEARCH_QUERY.replace(ELEMENT_DONE, DISTINCT_ELEMENT)


def upgrade() -> None:
    op.execute(DISTINCT_LEXEMES)
    op.execute(SEARCH_QUERY)


def downgrade() -> None:
    op.execute(PREVIOUS_SEARCH_QUERY)
    op.execute("DROP FUNCTION proveo.search_distinct_lexemes")
