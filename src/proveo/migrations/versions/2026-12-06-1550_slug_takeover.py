"""A company's name beats another company's old name: a slug that only redirects (an earlier
name of some company) goes to the company that now takes that name, and a suffixed slug is
checked free like the plain one.

Before, every slug a company ever had was kept for it forever, so one account could rename its
company through "Sodimac", "Entel"... and keep those addresses redirecting to itself, and a
company could be kept from its own name for good (its suffixed slug held too: 409 on every
save). Now only the slugs companies carry today block a name; an old address redirects until
another company takes that name.

Revision ID: 20261206_1550
Revises: 20261206_1500
Create Date: 2026-12-06 15:50:00
"""

from alembic import op

revision = "20261206_1550"
down_revision = "20261206_1500"
branch_labels = None
depends_on = None

ASSIGN = """
CREATE OR REPLACE FUNCTION proveo.company_assign_slug() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    base text := proveo.slugify(NEW.name);
    candidate text;
    suffix text := left(replace(NEW.uuid::text, '-', ''), 8);
    n integer := 1;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.slug IS NOT DISTINCT FROM OLD.slug
       AND proveo.slugify(OLD.name) = base THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.slug IS DISTINCT FROM OLD.slug THEN
        RETURN NEW;  -- set explicitly
    END IF;
    candidate := base;
    -- Only the slugs companies carry now block a name (rows an earlier part of the same
    -- statement inserted, a COPY, included); an old one of another company is taken over.
    WHILE EXISTS (SELECT 1 FROM proveo.company c
                  WHERE c.slug = candidate AND c.id IS DISTINCT FROM NEW.id) LOOP
        candidate := left(base, 68) || '-' || suffix || CASE WHEN n > 1 THEN '-' || n ELSE '' END;
        n := n + 1;
    END LOOP;
    NEW.slug := candidate;
    RETURN NEW;
END $$
"""

RECORD = """
CREATE OR REPLACE FUNCTION proveo.company_record_slug() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO proveo.company_slug (slug, company_id) VALUES (NEW.slug, NEW.id)
    ON CONFLICT (slug) DO UPDATE SET company_id = EXCLUDED.company_id, created_at = now()
        WHERE proveo.company_slug.company_id <> EXCLUDED.company_id;
    RETURN NULL;
END $$
"""

OLD_ASSIGN = """
CREATE OR REPLACE FUNCTION proveo.company_assign_slug() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    base text := proveo.slugify(NEW.name);
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.slug IS NOT DISTINCT FROM OLD.slug
       AND proveo.slugify(OLD.name) = base THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.slug IS DISTINCT FROM OLD.slug THEN
        RETURN NEW;
    END IF;
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

OLD_RECORD = """
CREATE OR REPLACE FUNCTION proveo.company_record_slug() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO proveo.company_slug (slug, company_id) VALUES (NEW.slug, NEW.id)
    ON CONFLICT (slug) DO NOTHING;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(ASSIGN)
    op.execute(RECORD)


def downgrade() -> None:
    op.execute(OLD_RECORD)
    op.execute(OLD_ASSIGN)
