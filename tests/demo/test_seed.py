from __future__ import annotations

from pathlib import Path

from proveo.core.db import Connection
from proveo.demo.seed import DEMO_ADMIN_EMAIL, seed_demo_data
from proveo.imaging.client import InProcessImageAnalyser
from proveo.integrations.storage import LocalImageStorage


class TestSeedDemoData:
    async def test_seeds_once_and_never_resurrects_deleted_demo_accounts(
        self, conn: Connection, tmp_path: Path
    ) -> None:
        """Found in review: a deleted demo admin made the next start crash on testuser01."""
        storage = LocalImageStorage(tmp_path / "images")
        analyser = InProcessImageAnalyser()
        first = await seed_demo_data(conn, storage, analyser, bcrypt_rounds=4)
        assert (first.created, first.users, first.companies) == (True, 17, 16)
        # A logo and two gallery photos each, every one in full size and thumbnail.
        assert len(await storage.list_names()) == 16 * 3 * 2
        galleries = await conn.fetch(
            "SELECT count(p.*) AS photos, count(m.*) AS held FROM proveo.company c "
            "JOIN proveo.company_photo p ON p.company_id = c.id "
            "LEFT JOIN proveo.image_moderation m ON m.image_key = p.image_key GROUP BY c.id"
        )
        assert [(row["photos"], row["held"]) for row in galleries] == [(2, 0)] * 16

        await conn.execute(
            "UPDATE proveo.user_account SET deleted_at = now() WHERE email = $1", DEMO_ADMIN_EMAIL
        )
        again = await seed_demo_data(conn, storage, analyser, bcrypt_rounds=4)
        assert again.created is False
        assert len(await storage.list_names()) == 16 * 3 * 2
