"""Profiles a buyer can trust and addresses people share: website, RUT, year founded, size band,
served regions, up to two more categories, a photo gallery, and a readable slug per company
with every slug it ever had (old ones answer with a redirect).

Revision ID: 20261206_1300
Revises: 20261126_0900
Create Date: 2026-12-06 13:00:00
"""

from alembic import op

revision = "20261206_1300"
down_revision = "20261126_0900"
branch_labels = None
depends_on = None

SIZE_BANDS = ("1-9", "10-49", "50-199", "200+")


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE proveo.company
            ADD COLUMN slug text,
            ADD COLUMN website text CONSTRAINT ck_company_website
                CHECK (website ~ '^https?://[^[:space:]]+$' AND char_length(website) <= 300),
            -- Normalised: digits without dots, a dash, the check digit (0-9 or K).
            ADD COLUMN rut text CONSTRAINT ck_company_rut CHECK (rut ~ '^[1-9][0-9]{{0,7}}-[0-9K]$'),
            ADD COLUMN year_founded smallint CONSTRAINT ck_company_year_founded
                CHECK (year_founded BETWEEN 1800 AND 2100),
            ADD COLUMN size_band text CONSTRAINT ck_company_size_band
                CHECK (size_band IN ({", ".join(f"'{band}'" for band in SIZE_BANDS)})),
            -- The regions served besides the commune's own (all 16: the whole country).
            ADD COLUMN served_regions text[] NOT NULL DEFAULT '{{}}'
                CONSTRAINT ck_company_served_regions CHECK (cardinality(served_regions) <= 16)
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_company_rut_live ON proveo.company (rut) "
        "WHERE deleted_at IS NULL AND rut IS NOT NULL"
    )

    # Categories beyond the primary one (company.product_id): at most two, checked by the service.
    op.execute(
        """
        CREATE TABLE proveo.company_product (
            company_id bigint NOT NULL CONSTRAINT fk_company_product_company
                REFERENCES proveo.company (id) ON DELETE CASCADE,
            product_id bigint NOT NULL CONSTRAINT fk_company_product_product
                REFERENCES proveo.product (id),
            CONSTRAINT pk_company_product PRIMARY KEY (company_id, product_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_company_product_product ON proveo.company_product (product_id)")

    # The gallery: up to six photos per company, in the owner's order.
    op.execute(
        """
        CREATE TABLE proveo.company_photo (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_company_photo PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_company_photo_uuid UNIQUE,
            company_id bigint NOT NULL CONSTRAINT fk_company_photo_company
                REFERENCES proveo.company (id) ON DELETE CASCADE,
            image_key text NOT NULL CONSTRAINT ck_company_photo_image_key
                CHECK (image_key ~ '^[A-Za-z0-9_-]{16,64}$'),
            position smallint NOT NULL CONSTRAINT ck_company_photo_position
                CHECK (position BETWEEN 1 AND 6),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_company_photo_position UNIQUE (company_id, position)
                DEFERRABLE INITIALLY DEFERRED
        )
        """
    )

    # Slugs: lower-case ASCII words joined by dashes, from the name.
    op.execute(
        r"""
        CREATE FUNCTION proveo.slugify(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN coalesce(
            nullif(left(trim(BOTH '-' FROM
                regexp_replace(proveo.fold(value), '[^a-z0-9]+', '-', 'g')), 80), ''),
            'empresa')
        """
    )
    # Every slug a company ever had, the current one included: an old address keeps working
    # (a redirect to the current one) and is never given to another company.
    op.execute(
        """
        CREATE TABLE proveo.company_slug (
            slug text COLLATE "C" NOT NULL CONSTRAINT pk_company_slug PRIMARY KEY,
            company_id bigint NOT NULL CONSTRAINT fk_company_slug_company
                REFERENCES proveo.company (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_company_slug_company ON proveo.company_slug (company_id)")
    # Existing companies: the name's slug for the oldest of each name, with a piece of the uuid
    # for the others.
    op.execute(
        """
        WITH named AS (
            SELECT id, uuid, proveo.slugify(name) AS base,
                   row_number() OVER (PARTITION BY proveo.slugify(name) ORDER BY id) AS nth
            FROM proveo.company
        )
        UPDATE proveo.company c
        SET slug = CASE WHEN n.nth = 1 THEN n.base
                        ELSE n.base || '-' || left(replace(n.uuid::text, '-', ''), 8) END
        FROM named n WHERE n.id = c.id
        """
    )
    op.execute(
        "INSERT INTO proveo.company_slug (slug, company_id) SELECT slug, id FROM proveo.company"
    )
    op.execute("ALTER TABLE proveo.company ALTER COLUMN slug SET NOT NULL")
    op.execute("CREATE UNIQUE INDEX uq_company_slug ON proveo.company (slug)")
    # A new company, or a renamed one whose name gives another slug, gets the name's slug, or,
    # when another company holds it, the name's slug with a piece of its uuid. A rename back to
    # an earlier name takes that earlier slug again.
    op.execute(
        """
        CREATE FUNCTION proveo.company_assign_slug() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            base text := proveo.slugify(NEW.name);
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.slug IS NOT DISTINCT FROM OLD.slug
               AND proveo.slugify(OLD.name) = base THEN
                RETURN NEW;
            END IF;
            IF TG_OP = 'UPDATE' AND NEW.slug IS DISTINCT FROM OLD.slug THEN
                RETURN NEW;  -- set explicitly
            END IF;
            -- The company table too: rows an earlier part of the same statement inserted
            -- (a COPY) have their slugs there before the AFTER trigger records them.
            IF EXISTS (SELECT 1 FROM proveo.company_slug s
                       WHERE s.slug = base AND s.company_id IS DISTINCT FROM NEW.id)
               OR EXISTS (SELECT 1 FROM proveo.company c
                          WHERE c.slug = base AND c.id IS DISTINCT FROM NEW.id) THEN
                base := left(base, 71) || '-' || left(replace(NEW.uuid::text, '-', ''), 8);
            END IF;
            NEW.slug := base;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER tg_company_assign_slug BEFORE INSERT OR UPDATE OF name, slug "
        "ON proveo.company FOR EACH ROW EXECUTE FUNCTION proveo.company_assign_slug()"
    )
    op.execute(
        """
        CREATE FUNCTION proveo.company_record_slug() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO proveo.company_slug (slug, company_id) VALUES (NEW.slug, NEW.id)
            ON CONFLICT (slug) DO NOTHING;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER tg_company_record_slug AFTER INSERT "
        "ON proveo.company FOR EACH ROW EXECUTE FUNCTION proveo.company_record_slug()"
    )
    # Not `UPDATE OF slug`: that fires only when the statement sets it, not the trigger above.
    op.execute(
        "CREATE TRIGGER tg_company_record_new_slug AFTER UPDATE ON proveo.company "
        "FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug) "
        "EXECUTE FUNCTION proveo.company_record_slug()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tg_company_record_new_slug ON proveo.company")
    op.execute("DROP TRIGGER IF EXISTS tg_company_record_slug ON proveo.company")
    op.execute("DROP TRIGGER IF EXISTS tg_company_assign_slug ON proveo.company")
    op.execute("DROP FUNCTION IF EXISTS proveo.company_record_slug()")
    op.execute("DROP FUNCTION IF EXISTS proveo.company_assign_slug()")
    op.execute("DROP TABLE IF EXISTS proveo.company_slug")
    op.execute("DROP FUNCTION IF EXISTS proveo.slugify(text)")
    op.execute("DROP TABLE IF EXISTS proveo.company_photo")
    op.execute("DROP TABLE IF EXISTS proveo.company_product")
    op.execute("DROP INDEX IF EXISTS proveo.uq_company_rut_live")
    op.execute(
        """
        ALTER TABLE proveo.company
            DROP COLUMN IF EXISTS served_regions,
            DROP COLUMN IF EXISTS size_band,
            DROP COLUMN IF EXISTS year_founded,
            DROP COLUMN IF EXISTS rut,
            DROP COLUMN IF EXISTS slug,
            DROP COLUMN IF EXISTS website
        """
    )
