"""The vocabulary holds words of any length from three letters.

The last word a buyer types is completed from the vocabulary (`search_term`) instead of read
as a prefix (`search/repository.py` `query_words`), so the vocabulary must hold every word a
prefix could begin. It held words of 3 to 40 letters only, for typo correction: found by a
review, typing the start of a 45-letter word of a description found nothing until 31 letters.
Typo correction only looks at words of up to 20 letters, so a longer word in the vocabulary
costs it nothing. The companies' long words are added here.

Revision ID: 20261207_1500
Revises: 20261207_1400
Create Date: 2026-12-07 15:00:00
"""

from alembic import op

revision = "20261207_1500"
down_revision = "20261207_1400"
branch_labels = None
depends_on = None

# The words of a text a search may complete a prefix to, or correct a typo towards: no short
# words, no numbers.
TERMS = """
CREATE OR REPLACE FUNCTION proveo.search_terms(value text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT w.term
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
             coalesce(proveo.search_text(value), '')))) AS w(term)
    WHERE char_length(w.term) >= 3 AND w.term !~ '^[0-9]+$'
$$
"""

LONG_WORDS = """
INSERT INTO proveo.search_term (term)
SELECT DISTINCT w.term
FROM (SELECT DISTINCT token FROM proveo.company_search_token) AS tokens,
     LATERAL proveo.search_terms(tokens.token) AS w(term)
WHERE char_length(w.term) > 40
ON CONFLICT (term) DO NOTHING
"""
CATALOGUE_LONG_WORDS = """
INSERT INTO proveo.search_term (term)
SELECT DISTINCT w.term
FROM (SELECT name_es || ' ' || name_en AS name FROM proveo.product
      UNION ALL SELECT name FROM proveo.commune) AS names,
     LATERAL proveo.search_terms(names.name) AS w(term)
WHERE char_length(w.term) > 40
ON CONFLICT (term) DO NOTHING
"""


def upgrade() -> None:
    op.execute(TERMS)
    op.execute(LONG_WORDS)
    op.execute(CATALOGUE_LONG_WORDS)


def downgrade() -> None:
    op.execute(TERMS.replace("char_length(w.term) >= 3", "char_length(w.term) BETWEEN 3 AND 40"))
    op.execute("DELETE FROM proveo.search_term WHERE char_length(term) > 40")
