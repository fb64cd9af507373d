"""Demo data for `make run`: the admin and 16 verified providers with companies and logos.

The passwords are public (they are in the README), which is why production mode refuses it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from proveo.accounts import service as accounts_service
from proveo.accounts.schemas import Role
from proveo.catalog import service as catalog_service
from proveo.companies import service as companies_service
from proveo.core.db import Connection
from proveo.core.security import hash_password_sync
from proveo.demo.companies import DEMO_COMPANIES
from proveo.demo.logo import generate_logo
from proveo.imaging.client import ImageAnalyser, InProcessImageAnalyser
from proveo.integrations.storage import ImageStorage, new_image_key

DEMO_ADMIN_EMAIL = "admin_test@mail.com"
DEMO_ADMIN_PASSWORD = "password"  # noqa: S105 - public demo credential, refused in production
DEMO_USER_PASSWORD = "TestPass123!"  # noqa: S105 - public demo credential, refused in production


def demo_user_email(number: int) -> str:
    return f"testuser{number:02d}@proveo.com"


@dataclass(frozen=True)
class DemoSeedResult:
    created: bool
    users: int
    companies: int


async def seed_demo_data(
    conn: Connection,
    storage: ImageStorage,
    *,
    bcrypt_rounds: int,
    analyser: ImageAnalyser | None = None,
) -> DemoSeedResult:
    """Once per database: does nothing if the demo admin ever existed (even if since deleted,
    so a deleted demo account is not resurrected and cannot collide with its old neighbours).

    Logos go through `analyser` (the app's, in process or the image service), as uploads do.
    """
    if await accounts_service.email_ever_used(conn, DEMO_ADMIN_EMAIL):
        return DemoSeedResult(created=False, users=0, companies=0)
    written: list[str] = []
    try:
        await _seed(conn, storage, analyser or InProcessImageAnalyser(), bcrypt_rounds, written)
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
    for number, company in enumerate(DEMO_COMPANIES, start=1):
        owner = await accounts_service.create_account_with_hash(
            conn,
            name=company.owner_name,
            email=demo_user_email(number),
            password_hash=user_hash,
            role=Role.USER,
        )
        product = await catalog_service.find_product_by_name(conn, company.product_es)
        commune = await catalog_service.find_commune_by_name(conn, company.commune)
        if product is None or commune is None:
            raise LookupError(f"demo company {company.name!r}: unknown product or commune")
        image = await analyser.analyse(generate_logo(company.name))
        image_key = new_image_key()
        for name, data in (
            (f"{image_key}.webp", image.full),
            (f"{image_key}_thumb.webp", image.thumbnail),
        ):
            await storage.put(name, data, "image/webp")
            written.append(name)
        await companies_service.create_bilingual_company(
            conn,
            owner_id=owner.id,
            product_uuid=product.uuid,
            commune_uuid=commune.uuid,
            name=company.name,
            description_es=company.description_es,
            description_en=company.description_en,
            address=company.address,
            phone=company.phone,
            email=company.email,
            image_key=image_key,
        )
