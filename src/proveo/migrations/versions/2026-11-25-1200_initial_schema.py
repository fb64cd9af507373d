"""Initial schema: accounts, catalogue, companies, audit log, image moderation.

Revision ID: 20261125_1200
Revises:
Create Date: 2026-11-25 12:00:00
"""

from alembic import op

revision = "20261125_1200"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    # unaccent() is only STABLE (it reads a dictionary by name); pinning the dictionary makes a
    # wrapper that indexes may use.
    op.execute(
        """
        CREATE FUNCTION proveo.fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))
        """
    )
    op.execute(
        """
        CREATE FUNCTION proveo.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END $$
        """
    )

    op.execute(
        """
        CREATE TABLE proveo.user_account (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_user_account PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_user_account_uuid UNIQUE,
            name text NOT NULL CONSTRAINT ck_user_account_name CHECK (char_length(name) BETWEEN 1 AND 100),
            email text NOT NULL CONSTRAINT ck_user_account_email CHECK (char_length(email) BETWEEN 3 AND 254),
            password_hash text NOT NULL,
            role text NOT NULL DEFAULT 'user' CONSTRAINT ck_user_account_role CHECK (role IN ('user', 'admin')),
            email_verified boolean NOT NULL DEFAULT false,
            lang text NOT NULL DEFAULT 'es' CONSTRAINT ck_user_account_lang CHECK (lang IN ('es', 'en')),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz
        )
        """
    )
    # A deleted account frees its email for a new signup.
    op.execute(
        "CREATE UNIQUE INDEX uq_user_account_email_live ON proveo.user_account (lower(email)) "
        "WHERE deleted_at IS NULL"
    )
    op.execute(
        "CREATE TRIGGER tg_user_account_updated_at BEFORE UPDATE ON proveo.user_account "
        "FOR EACH ROW EXECUTE FUNCTION proveo.touch_updated_at()"
    )

    op.execute(
        """
        CREATE TABLE proveo.email_verification_token (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_email_verification_token PRIMARY KEY,
            user_id bigint NOT NULL CONSTRAINT fk_email_verification_token_user
                REFERENCES proveo.user_account (id) ON DELETE CASCADE,
            token_hash bytea NOT NULL CONSTRAINT uq_email_verification_token_hash UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_email_verification_token_user ON proveo.email_verification_token (user_id)"
    )

    # One row per login: logout and account deletion revoke it, and every request checks it.
    op.execute(
        """
        CREATE TABLE proveo.user_session (
            id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT pk_user_session PRIMARY KEY,
            user_id bigint NOT NULL CONSTRAINT fk_user_session_user
                REFERENCES proveo.user_account (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            ip inet,
            user_agent text CONSTRAINT ck_user_session_user_agent CHECK (char_length(user_agent) <= 512)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_user_session_user_live ON proveo.user_session (user_id) "
        "WHERE revoked_at IS NULL"
    )

    op.execute(
        """
        CREATE TABLE proveo.product (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_product PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_product_uuid UNIQUE,
            name_es text NOT NULL CONSTRAINT ck_product_name_es CHECK (char_length(name_es) BETWEEN 1 AND 100),
            name_en text NOT NULL CONSTRAINT ck_product_name_en CHECK (char_length(name_en) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX uq_product_name_es ON proveo.product (proveo.fold(name_es))")
    op.execute("CREATE UNIQUE INDEX uq_product_name_en ON proveo.product (proveo.fold(name_en))")
    op.execute(
        "CREATE TRIGGER tg_product_updated_at BEFORE UPDATE ON proveo.product "
        "FOR EACH ROW EXECUTE FUNCTION proveo.touch_updated_at()"
    )

    op.execute(
        """
        CREATE TABLE proveo.commune (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_commune PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_commune_uuid UNIQUE,
            name text NOT NULL CONSTRAINT ck_commune_name CHECK (char_length(name) BETWEEN 1 AND 100),
            region text NOT NULL CONSTRAINT ck_commune_region CHECK (char_length(region) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX uq_commune_name ON proveo.commune (proveo.fold(name))")
    op.execute(
        "CREATE TRIGGER tg_commune_updated_at BEFORE UPDATE ON proveo.commune "
        "FOR EACH ROW EXECUTE FUNCTION proveo.touch_updated_at()"
    )

    op.execute(
        """
        CREATE TABLE proveo.company (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_company PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_company_uuid UNIQUE,
            user_id bigint NOT NULL CONSTRAINT fk_company_user REFERENCES proveo.user_account (id),
            product_id bigint NOT NULL CONSTRAINT fk_company_product REFERENCES proveo.product (id),
            commune_id bigint NOT NULL CONSTRAINT fk_company_commune REFERENCES proveo.commune (id),
            name text NOT NULL CONSTRAINT ck_company_name CHECK (char_length(name) BETWEEN 1 AND 100),
            description_es text CONSTRAINT ck_company_description_es
                CHECK (char_length(description_es) BETWEEN 1 AND 1000),
            description_en text CONSTRAINT ck_company_description_en
                CHECK (char_length(description_en) BETWEEN 1 AND 1000),
            -- Which language the owner wrote, and where the other text came from.
            description_original_lang text NOT NULL CONSTRAINT ck_company_original_lang
                CHECK (description_original_lang IN ('es', 'en')),
            description_es_source text NOT NULL CONSTRAINT ck_company_description_es_source
                CHECK (description_es_source IN ('original', 'human', 'machine', 'pending')),
            description_en_source text NOT NULL CONSTRAINT ck_company_description_en_source
                CHECK (description_en_source IN ('original', 'human', 'machine', 'pending')),
            address text NOT NULL CONSTRAINT ck_company_address CHECK (char_length(address) BETWEEN 1 AND 200),
            phone text NOT NULL CONSTRAINT ck_company_phone CHECK (phone ~ '^\\+[1-9][0-9]{6,14}$'),
            email text NOT NULL CONSTRAINT ck_company_email CHECK (char_length(email) BETWEEN 3 AND 254),
            image_key text CONSTRAINT ck_company_image_key CHECK (image_key ~ '^[A-Za-z0-9_-]{16,64}$'),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz,
            CONSTRAINT ck_company_some_description
                CHECK (description_es IS NOT NULL OR description_en IS NOT NULL)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_company_user_live ON proveo.company (user_id) WHERE deleted_at IS NULL"
    )
    op.execute("CREATE INDEX ix_company_product ON proveo.company (product_id)")
    op.execute("CREATE INDEX ix_company_commune ON proveo.company (commune_id)")
    op.execute(
        "CREATE TRIGGER tg_company_updated_at BEFORE UPDATE ON proveo.company "
        "FOR EACH ROW EXECUTE FUNCTION proveo.touch_updated_at()"
    )

    op.execute(
        """
        CREATE TABLE proveo.admin_audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_admin_audit_log PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_admin_audit_log_uuid UNIQUE,
            actor_uuid uuid NOT NULL,
            action text NOT NULL CONSTRAINT ck_admin_audit_log_action CHECK (char_length(action) BETWEEN 1 AND 64),
            target_type text NOT NULL,
            target_uuid uuid,
            changes jsonb NOT NULL DEFAULT '{}'::jsonb,
            ip inet,
            request_id text,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_admin_audit_log_created ON proveo.admin_audit_log (created_at DESC, id DESC)"
    )
    op.execute("CREATE INDEX ix_admin_audit_log_actor ON proveo.admin_audit_log (actor_uuid)")
    op.execute(
        """
        CREATE FUNCTION proveo.refuse_audit_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'admin_audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER tg_admin_audit_log_append_only "
        "BEFORE UPDATE OR DELETE OR TRUNCATE ON proveo.admin_audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION proveo.refuse_audit_log_change()"
    )

    op.execute(
        """
        CREATE TABLE proveo.image_moderation (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_image_moderation PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_image_moderation_uuid UNIQUE,
            company_id bigint NOT NULL CONSTRAINT fk_image_moderation_company
                REFERENCES proveo.company (id) ON DELETE CASCADE,
            image_key text NOT NULL,
            nsfw_score real NOT NULL CONSTRAINT ck_image_moderation_score CHECK (nsfw_score BETWEEN 0 AND 1),
            status text NOT NULL DEFAULT 'pending'
                CONSTRAINT ck_image_moderation_status CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by_uuid uuid,
            decided_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_image_moderation_pending ON proveo.image_moderation (created_at) "
        "WHERE status = 'pending'"
    )


def downgrade() -> None:
    for table in (
        "image_moderation",
        "admin_audit_log",
        "company",
        "commune",
        "product",
        "user_session",
        "email_verification_token",
        "user_account",
    ):
        op.execute(f"DROP TABLE IF EXISTS proveo.{table}")
    op.execute("DROP FUNCTION IF EXISTS proveo.refuse_audit_log_change()")
    op.execute("DROP FUNCTION IF EXISTS proveo.touch_updated_at()")
    op.execute("DROP FUNCTION IF EXISTS proveo.fold(text)")
    # Extensions stay: other schemas of the same database may use them.
