"""Password reset links: single use, valid for an hour, stored as SHA-256 digests.

Revision ID: 20261125_1500
Revises: 20261125_1200
Create Date: 2026-11-25 15:00:00
"""

from alembic import op

revision = "20261125_1500"
down_revision = "20261125_1200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE proveo.password_reset_token (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_password_reset_token PRIMARY KEY,
            user_id bigint NOT NULL CONSTRAINT fk_password_reset_token_user
                REFERENCES proveo.user_account (id) ON DELETE CASCADE,
            token_hash bytea NOT NULL CONSTRAINT uq_password_reset_token_hash UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_password_reset_token_user ON proveo.password_reset_token (user_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS proveo.password_reset_token")
