"""Demo data for `make run`: the admin and 16 verified providers with companies and logos.

The passwords are public (they are in the README), which is why production mode refuses it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from proveo.accounts import service as accounts_service
from proveo.accounts.schemas import Role
from proveo.catalog import service as catalog_service
from proveo.companies import service as companies_service
from proveo.companies.schemas import CompanyCreate
from proveo.core.db import Connection
from proveo.core.security import hash_password_sync
from proveo.demo.companies import DEMO_COMPANIES, DemoCompany
from proveo.demo.logo import generate_logo, generate_photo
from proveo.imaging.client import ImageAnalyser
from proveo.integrations.storage import ImageStorage
from proveo.integrations.translation import NoTranslator

DEMO_ADMIN_EMAIL = "admin_test@mail.com"
DEMO_ADMIN_PASSWORD = "password"  # noqa: S105 - public demo credential, refused in production
DEMO_USER_PASSWORD = "TestPass123!"  # noqa: S105 - public demo credential, refused in production


def demo_user_email(number: int) -> str:
    return f"testuser{number:02d}@proveo.com"


def demo_emails() -> list[str]:
    return [DEMO_ADMIN_EMAIL, *(demo_user_email(n) for n in range(1, len(DEMO_COMPANIES) + 1))]


# The synthetic seed's accounts (demo/synthetic.py: synthetic-0000001@example.com), whose
# password is public too.
SYNTHETIC_EMAILS = "synthetic-%@example.com"


async def demo_accounts_left(conn: Connection) -> list[str]:
    """The demo and synthetic accounts this database still has (their passwords are public)."""
    return await accounts_service.live_accounts_among(conn, demo_emails(), [SYNTHETIC_EMAILS])


@dataclass(frozen=True)
class DemoSeedResult:
    created: bool
    users: int
    companies: int


# Gallery photos per demo company: a newcomer sees a gallery without uploading one.
DEMO_PHOTOS = 2


async def seed_demo_data(
    conn: Connection, storage: ImageStorage, analyser: ImageAnalyser, *, bcrypt_rounds: int
) -> DemoSeedResult:
    """Once per database: does nothing if the demo admin ever existed (even if since deleted,
    so a deleted demo account is not resurrected and cannot collide with its old neighbours).

    The companies are published the way `POST /companies` publishes them: the same checks,
    and logos through the image pipeline and its NSFW screening."""
    if await accounts_service.email_ever_used(conn, DEMO_ADMIN_EMAIL):
        return DemoSeedResult(created=False, users=0, companies=0)
    written: list[str] = []
    try:
        await _seed(conn, storage, analyser, bcrypt_rounds, written)
    except BaseException:
        # The transaction rolls back; the logos already stored must not outlive it.
        for name in written:
            await storage.delete(name)
        raise
    return DemoSeedResult(
        created=True, users=len(DEMO_COMPANIES) + 1, companies=len(DEMO_COMPANIES)
    )


async def _seed(
    conn: Connection,
    storage: ImageStorage,
    analyser: ImageAnalyser,
    bcrypt_rounds: int,
    written: list[str],
) -> None:
    # Pre-compute the hashes concurrently: 17 bcrypt rounds in sequence take seconds.
    admin_hash, user_hash = await asyncio.gather(
        asyncio.to_thread(hash_password_sync, DEMO_ADMIN_PASSWORD, bcrypt_rounds),
        asyncio.to_thread(hash_password_sync, DEMO_USER_PASSWORD, bcrypt_rounds),
    )
    await accounts_service.create_account_with_hash(
        conn,
        name="Administradora Proveo",
        email=DEMO_ADMIN_EMAIL,
        password_hash=admin_hash,
        role=Role.ADMIN,
    )
    # Both descriptions are given (the Spanish one is the original): nothing to translate.
    translator = NoTranslator()
    for number, company in enumerate(DEMO_COMPANIES, start=1):
        owner = await accounts_service.create_account_with_hash(
            conn,
            name=company.owner_name,
            email=demo_user_email(number),
            password_hash=user_hash,
            role=Role.USER,
        )
        extras = [
            await catalog_service.find_product_by_name(conn, n) for n in company.extra_products
        ]
        data = _company_form(company, [product.uuid for product in extras if product is not None])
        descriptions = await companies_service.describe_new(translator, data)
        logo = await companies_service.store_image(analyser, storage, generate_logo(company.name))
        written.extend(logo.object_names)
        record = await companies_service.publish_company_in(
            conn, owner.id, data, descriptions, logo
        )
        for photo_number in range(1, DEMO_PHOTOS + 1):
            photo = await companies_service.store_image(
                analyser, storage, generate_photo(company.name, photo_number)
            )
            written.extend(photo.object_names)
            await companies_service.add_photo_in(conn, record.id, photo)


def _company_form(company: DemoCompany, extra_product_uuids: list[UUID]) -> CompanyCreate:
    return CompanyCreate(
        name=company.name,
        product_name=company.product_es,
        commune_name=company.commune,
        address=company.address,
        phone=company.phone,
        email=company.email,
        description_es=company.description_es,
        description_en=company.description_en,
        lang="es",
        website=company.website,
        rut=company.rut,
        year_founded=company.year_founded,
        size_band=company.size_band,
        served_regions=list(company.served_regions),
        extra_product_uuids=extra_product_uuids,
    )
