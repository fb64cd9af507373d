"""Company publishing: description provenance the database can vouch for, the translation retry
and moderation look-ups indexed, and images withdrawn from moderation told apart from rejected.

Revision ID: 20261125_1600
Revises: 20261125_1500
Create Date: 2026-11-25 16:00:00
"""

from alembic import op

revision = "20261125_1600"
down_revision = "20261125_1500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A pending description has no text yet (readers show the original in its place), and only
    # the original language's description is 'original'.
    op.execute(
        """
        ALTER TABLE proveo.company
            ADD CONSTRAINT ck_company_description_es_pending
                CHECK ((description_es IS NULL) = (description_es_source = 'pending')),
            ADD CONSTRAINT ck_company_description_en_pending
                CHECK ((description_en IS NULL) = (description_en_source = 'pending')),
            ADD CONSTRAINT ck_company_description_original
                CHECK ((description_es_source = 'original') = (description_original_lang = 'es')
                   AND (description_en_source = 'original') = (description_original_lang = 'en'))
        """
    )
    # What the translation retry job scans for: few rows, so a partial index stays tiny.
    op.execute(
        "CREATE INDEX ix_company_pending_translation ON proveo.company (id) "
        "WHERE deleted_at IS NULL "
        "AND (description_es_source = 'pending' OR description_en_source = 'pending')"
    )
    # The admin list's default order.
    op.execute("CREATE INDEX ix_company_created ON proveo.company (created_at DESC, id DESC)")
    # A company's held images (withdrawn when it gets a new one or goes away).
    op.execute("CREATE INDEX ix_image_moderation_company ON proveo.image_moderation (company_id)")
    # 'withdrawn': the owner replaced the image or the company went away before any decision.
    op.execute(
        """
        ALTER TABLE proveo.image_moderation
            DROP CONSTRAINT ck_image_moderation_status,
            ADD CONSTRAINT ck_image_moderation_status
                CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn'))
        """
    )


def downgrade() -> None:
    op.execute("UPDATE proveo.image_moderation SET status = 'rejected' WHERE status = 'withdrawn'")
    op.execute(
        """
        ALTER TABLE proveo.image_moderation
            DROP CONSTRAINT ck_image_moderation_status,
            ADD CONSTRAINT ck_image_moderation_status
                CHECK (status IN ('pending', 'approved', 'rejected'))
        """
    )
    op.execute("DROP INDEX IF EXISTS proveo.ix_image_moderation_company")
    op.execute("DROP INDEX IF EXISTS proveo.ix_company_created")
    op.execute("DROP INDEX IF EXISTS proveo.ix_company_pending_translation")
    op.execute(
        """
        ALTER TABLE proveo.company
            DROP CONSTRAINT IF EXISTS ck_company_description_original,
            DROP CONSTRAINT IF EXISTS ck_company_description_en_pending,
            DROP CONSTRAINT IF EXISTS ck_company_description_es_pending
        """
    )
