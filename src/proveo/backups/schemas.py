"""The manifest of a backup, and what a backup or a restore reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from proveo.integrations.storage import HELD_PREFIX, is_valid_object_name

FORMAT: Final = "proveo-backup"
# Raised when a backup's layout or manifest changes in a way an older restore cannot read.
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DUMP_NAME = "database.dump"
OBJECTS_DIR = "objects/"


class BackupFile(BaseModel):
    """One file of a backup, by its path inside the backup."""

    model_config = ConfigDict(frozen=True)

    path: str
    size: int
    sha256: str

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("not a SHA-256 hex digest")
        return value

    @property
    def object_name(self) -> str:
        """The image object's name in the store (for a file under objects/)."""
        return self.path.removeprefix(OBJECTS_DIR)


class PostgresInfo(BaseModel):
    server_version: str  # as the server reports it, such as "18.1" or "15.14 (Debian ...)"
    server_version_num: int  # 180001
    pg_dump_version: str  # the pg_dump that wrote the dump, such as "18.1"

    @property
    def pg_dump_major(self) -> int:
        return int(self.pg_dump_version.split(".")[0])


class BackupCounts(BaseModel):
    objects: int
    held_objects: int  # of which awaiting moderation (under held/)
    object_bytes: int
    database_bytes: int
    rows: dict[str, int]  # every table of the proveo schema, in the dump's snapshot


class Manifest(BaseModel):
    """`manifest.json`: written last, so a backup without one is unfinished."""

    model_config = ConfigDict(extra="ignore")

    format: Literal["proveo-backup"] = FORMAT
    format_version: int = FORMAT_VERSION
    name: str
    created_at: datetime  # UTC; also the moment of the database snapshot
    proveo_version: str
    schema_revision: str  # the Alembic revision of the dumped schema
    postgres: PostgresInfo
    storage: str  # the image storage the objects were read from (local, s3)
    database: BackupFile
    objects: list[BackupFile]
    counts: BackupCounts

    @model_validator(mode="after")
    def _paths_stay_inside_the_backup(self) -> Manifest:
        """A manifest names only the dump and valid object names: never `../` or any other
        path a damaged or hostile manifest could make a restore read or write."""
        if self.database.path != DUMP_NAME:
            raise ValueError(f"the database file must be {DUMP_NAME}")
        seen: set[str] = set()
        for entry in self.objects:
            if not entry.path.startswith(OBJECTS_DIR) or not is_valid_object_name(
                entry.object_name
            ):
                raise ValueError(f"{entry.path!r} is not an image object's path")
            if entry.path in seen:
                raise ValueError(f"{entry.path!r} is listed twice")
            seen.add(entry.path)
        return self

    @property
    def files(self) -> list[BackupFile]:
        return [self.database, *self.objects]


def held_count(names: list[str]) -> int:
    return sum(name.startswith(HELD_PREFIX) for name in names)


@dataclass(frozen=True)
class BackupResult:
    manifest: Manifest
    location: str  # where it is, as the operator would name it (a path, an s3:// URL)
    seconds: float


@dataclass(frozen=True)
class RestoredMigration:
    revision: str
    title: str


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    location: str
    migrations: list[RestoredMigration]  # applied after the dump, to reach this code's schema
    refreshed_views: list[str]
    replaced_data: bool  # --force replaced accounts, companies or objects
    seconds: float
