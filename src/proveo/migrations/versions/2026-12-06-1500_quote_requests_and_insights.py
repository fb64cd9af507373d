"""Quote requests (a buyer describes a need once; the providers that fit answer) and provider
insights (per company and day: profile views, appearances in search results, contact clicks).

`quote_request` holds the buyer's need and contact until the contact is erased (12 months after
the request expires). Two secrets reach the buyer by email, stored as SHA-256 digests only: the
confirmation link's token (single use; nothing reaches a provider before it is used) and the
private page's token (every reply to the request, and closing it).

`quote_recipient` is one row per provider notified, with its answer. Its index by company and
notification time serves both the provider's inbox (newest first) and the fair rotation (how
many requests each candidate received lately).

`company_daily_stat` is written in batches by the app's insights recorder (one upsert per flush);
no address, user or session is stored. Quote requests received and replied are not copied here:
they are counted from `quote_recipient` when insights are read.

Revision ID: 20261206_1500
Revises: 20261206_1400
Create Date: 2026-12-06 15:00:00
"""

from alembic import op

revision = "20261206_1500"
down_revision = "20261206_1400"
branch_labels = None
depends_on = None

BUDGET_BANDS = ("under-1m", "1m-5m", "5m-20m", "over-20m")
REQUEST_STATUSES = ("pending", "open", "closed", "expired", "removed")
RECIPIENT_STATUSES = ("new", "read", "replied", "declined")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE proveo.quote_request (
            id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_quote_request PRIMARY KEY,
            uuid uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT uq_quote_request_uuid UNIQUE,
            product_id bigint NOT NULL
                CONSTRAINT fk_quote_request_product REFERENCES proveo.product (id),
            -- The place: a region (by name), a commune, or neither (all of Chile).
            region text CONSTRAINT ck_quote_request_region CHECK (char_length(region) <= 100),
            commune_id bigint CONSTRAINT fk_quote_request_commune REFERENCES proveo.commune (id),
            title text NOT NULL
                CONSTRAINT ck_quote_request_title CHECK (char_length(title) BETWEEN 1 AND 120),
            description text NOT NULL CONSTRAINT ck_quote_request_description
                CHECK (char_length(description) BETWEEN 1 AND 2000),
            needed_by date,
            budget_band text
                CONSTRAINT ck_quote_request_budget_band CHECK (budget_band IN ({_in(BUDGET_BANDS)})),
            -- The buyer's contact: NULL once erased (`contact_erased_at`).
            contact_name text CONSTRAINT ck_quote_request_contact_name
                CHECK (char_length(contact_name) BETWEEN 1 AND 100),
            contact_email text CONSTRAINT ck_quote_request_contact_email
                CHECK (char_length(contact_email) BETWEEN 3 AND 254),
            contact_phone text CONSTRAINT ck_quote_request_contact_phone
                CHECK (contact_phone ~ '^\\+[1-9][0-9]{{6,14}}$'),
            contact_company text CONSTRAINT ck_quote_request_contact_company
                CHECK (char_length(contact_company) BETWEEN 1 AND 100),
            lang text NOT NULL CONSTRAINT ck_quote_request_lang CHECK (lang IN ('es', 'en')),
            -- The signed-in buyer, when there was one.
            user_id bigint CONSTRAINT fk_quote_request_user REFERENCES proveo.user_account (id),
            status text NOT NULL DEFAULT 'pending'
                CONSTRAINT ck_quote_request_status CHECK (status IN ({_in(REQUEST_STATUSES)})),
            confirm_token_digest bytea CONSTRAINT uq_quote_request_confirm_token UNIQUE,
            access_token_digest bytea NOT NULL CONSTRAINT uq_quote_request_access_token UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            confirmed_at timestamptz,
            expires_at timestamptz,
            closed_at timestamptz,
            removed_at timestamptz,
            contact_erased_at timestamptz,
            CONSTRAINT ck_quote_request_one_place CHECK (region IS NULL OR commune_id IS NULL),
            CONSTRAINT ck_quote_request_contact
                CHECK (contact_erased_at IS NOT NULL OR
                       (contact_name IS NOT NULL AND contact_email IS NOT NULL)),
            CONSTRAINT ck_quote_request_confirmed
                CHECK (status = 'pending' OR confirmed_at IS NOT NULL OR status = 'removed')
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_quote_request_created ON proveo.quote_request (created_at DESC, id DESC)"
    )
    # The scheduled expiry and erasure read these.
    op.execute(
        "CREATE INDEX ix_quote_request_expires ON proveo.quote_request (expires_at) "
        "WHERE contact_erased_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_quote_request_pending ON proveo.quote_request (created_at) "
        "WHERE status = 'pending'"
    )
    op.execute(
        f"""
        CREATE TABLE proveo.quote_recipient (
            quote_request_id bigint NOT NULL CONSTRAINT fk_quote_recipient_request
                REFERENCES proveo.quote_request (id) ON DELETE CASCADE,
            company_id bigint NOT NULL
                CONSTRAINT fk_quote_recipient_company REFERENCES proveo.company (id),
            status text NOT NULL DEFAULT 'new' CONSTRAINT ck_quote_recipient_status
                CHECK (status IN ({_in(RECIPIENT_STATUSES)})),
            -- Why this provider: located in the place, or serving it.
            match text NOT NULL CONSTRAINT ck_quote_recipient_match
                CHECK (match IN ('located', 'serves')),
            reply text CONSTRAINT ck_quote_recipient_reply
                CHECK (char_length(reply) BETWEEN 1 AND 2000),
            notified_at timestamptz NOT NULL DEFAULT now(),
            read_at timestamptz,
            replied_at timestamptz,
            declined_at timestamptz,
            CONSTRAINT pk_quote_recipient PRIMARY KEY (quote_request_id, company_id),
            CONSTRAINT ck_quote_recipient_replied
                CHECK ((status = 'replied') = (reply IS NOT NULL AND replied_at IS NOT NULL))
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_quote_recipient_company "
        "ON proveo.quote_recipient (company_id, notified_at DESC)"
    )
    op.execute(
        """
        CREATE TABLE proveo.company_daily_stat (
            company_id bigint NOT NULL CONSTRAINT fk_company_daily_stat_company
                REFERENCES proveo.company (id) ON DELETE CASCADE,
            day date NOT NULL,
            views integer NOT NULL DEFAULT 0 CONSTRAINT ck_company_daily_stat_views
                CHECK (views >= 0),
            impressions integer NOT NULL DEFAULT 0 CONSTRAINT ck_company_daily_stat_impressions
                CHECK (impressions >= 0),
            phone_clicks integer NOT NULL DEFAULT 0
                CONSTRAINT ck_company_daily_stat_phone CHECK (phone_clicks >= 0),
            whatsapp_clicks integer NOT NULL DEFAULT 0
                CONSTRAINT ck_company_daily_stat_whatsapp CHECK (whatsapp_clicks >= 0),
            email_clicks integer NOT NULL DEFAULT 0
                CONSTRAINT ck_company_daily_stat_email CHECK (email_clicks >= 0),
            website_clicks integer NOT NULL DEFAULT 0
                CONSTRAINT ck_company_daily_stat_website CHECK (website_clicks >= 0),
            CONSTRAINT pk_company_daily_stat PRIMARY KEY (company_id, day)
        )
        """
    )
    # The admin's weekly totals read every company's days of a week.
    op.execute("CREATE INDEX ix_company_daily_stat_day ON proveo.company_daily_stat (day)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS proveo.company_daily_stat")
    op.execute("DROP TABLE IF EXISTS proveo.quote_recipient")
    op.execute("DROP TABLE IF EXISTS proveo.quote_request")
