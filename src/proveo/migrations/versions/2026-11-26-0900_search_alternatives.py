"""Search words with alternatives: `plomero|gasfiter`, `rrhh|recursos humanos`.

Each element of the words array may list alternatives separated by `|` (any of them matches),
and an alternative may be a phrase of words separated by spaces (all of them match). The API
builds them from its synonym groups (`proveo.search.synonyms`); the first alternative is what
the buyer typed, and only it is completed as a prefix or dropped as a stop word. Words are still
reduced to [a-z0-9] and quoted as lexemes here: no text is parsed as tsquery syntax.

Revision ID: 20261126_0900
Revises: 20261125_1710
Create Date: 2026-11-26 09:00:00
"""

from alembic import op

revision = "20261126_0900"
down_revision = "20261125_1710"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One word: its surface form, its Spanish and English stems, and with `prefix` (three
    # letters or more) any word it begins. NULL for a word with no letters or digits.
    op.execute(
        r"""
        CREATE FUNCTION proveo.search_word_query(word text, prefix boolean) RETURNS tsquery
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
        DECLARE
            term tsquery;
            es text[];
            en text[];
        BEGIN
            word := left(regexp_replace(word, '[^a-z0-9]', '', 'g'), 64);
            IF word = '' THEN
                RETURN NULL;
            END IF;
            es := ts_lexize('spanish_stem', word);
            en := ts_lexize('english_stem', word);
            term := quote_literal(word)::tsquery;
            IF prefix AND char_length(word) >= 3 THEN
                term := term || (quote_literal(word) || ':*')::tsquery;
            END IF;
            IF cardinality(es) > 0 THEN
                term := term || quote_literal(es[1])::tsquery;
            END IF;
            IF cardinality(en) > 0 THEN
                term := term || quote_literal(en[1])::tsquery;
            END IF;
            RETURN term;
        END $$
        """
    )
    # A stop word (in either language) is no search term, unless it is the buyer's last word.
    op.execute(
        r"""
        CREATE FUNCTION proveo.search_stop_word(word text) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN ts_lexize('spanish_stem', word) = '{}' OR ts_lexize('english_stem', word) = '{}'
        """
    )
    op.execute(
        r"""
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
        BEGIN
            FOREACH element IN ARRAY words LOOP
                position := position + 1;
                element_query := NULL;
                typed := true;
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
                            word, typed AND position = last AND alternative NOT LIKE '% %'
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
    )


def downgrade() -> None:
    op.execute(
        r"""
        CREATE OR REPLACE FUNCTION proveo.search_query(words text[]) RETURNS tsquery
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
    op.execute("DROP FUNCTION IF EXISTS proveo.search_stop_word(text)")
    op.execute("DROP FUNCTION IF EXISTS proveo.search_word_query(text, boolean)")
