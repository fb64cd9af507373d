"""What stops a backup or a restore: each error is one line for the operator."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in one line."""


class BackupNotFound(BackupError):
    """No backup (no manifest) where one was named."""


class BackupCorrupt(BackupError):
    """A manifest that cannot be read, or a file that is missing or differs from it."""


class BackupIncompatible(BackupError):
    """A backup this version of Proveo cannot restore (a newer format or schema)."""


class RestoreRefused(BackupError):
    """The target holds data, and `--force` was not given."""


class BackupLocationUnavailable(BackupError):
    """The directory or S3 prefix cannot be read or written."""


class PostgresToolFailed(BackupError):
    """pg_dump, pg_restore or psql is missing, too old, or failed."""


class NothingToBackUp(BackupError):
    """The database has no Proveo schema."""
