from __future__ import annotations

from pathlib import Path

import pytest

from proveo.integrations.storage import LocalImageStorage, is_valid_object_name, new_image_key


class TestObjectNames:
    def test_keys_are_random_and_valid(self) -> None:
        keys = {new_image_key() for _ in range(100)}
        assert len(keys) == 100
        assert all(is_valid_object_name(f"{key}.webp") for key in keys)
        assert all(is_valid_object_name(f"{key}_thumb.webp") for key in keys)

    @pytest.mark.parametrize("name", ["../x.webp", "a/b.webp", "short.webp", "x" * 20 + ".png"])
    def test_rejects_anything_else(self, name: str) -> None:
        assert not is_valid_object_name(name)


class TestLocalStorage:
    async def test_put_get_delete_list(self, tmp_path: Path) -> None:
        storage = LocalImageStorage(tmp_path / "images")
        name = f"{new_image_key()}.webp"
        await storage.put(name, b"data", "image/webp")
        assert await storage.get(name) == b"data"
        assert await storage.list_names() == [name]
        await storage.delete(name)
        assert await storage.get(name) is None
        await storage.delete(name)  # deleting twice is fine

    async def test_refuses_to_write_outside_its_directory(self, tmp_path: Path) -> None:
        storage = LocalImageStorage(tmp_path / "images")
        with pytest.raises(ValueError, match="invalid object name"):
            await storage.put("../escape.webp", b"x", "image/webp")
