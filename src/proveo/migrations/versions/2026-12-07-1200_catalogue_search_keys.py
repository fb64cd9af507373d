"""Categories and communes store their names folded for search.

Every suggestion folded the names of all categories and communes again (`search_text`, 392
names at about 5 µs each) to find those a word of which starts with the prefix, and to sort
them. The folded names are now generated columns, computed when a name changes.

Revision ID: 20261207_1200
Revises: 20261207_1100
Create Date: 2026-12-07 12:00:00
"""

from alembic import op

revision = "20261207_1200"
down_revision = "20261207_1100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE proveo.product
            ADD COLUMN name_es_key text COLLATE "C"
                GENERATED ALWAYS AS (proveo.search_text(name_es)) STORED,
            ADD COLUMN name_en_key text COLLATE "C"
                GENERATED ALWAYS AS (proveo.search_text(name_en)) STORED
        """
    )
    op.execute(
        """
        ALTER TABLE proveo.commune
            ADD COLUMN name_key text COLLATE "C"
                GENERATED ALWAYS AS (proveo.search_text(name)) STORED
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE proveo.commune DROP COLUMN name_key")
    op.execute("ALTER TABLE proveo.product DROP COLUMN name_es_key, DROP COLUMN name_en_key")
