"""Backups: the database (pg_dump custom format) and every image object, with a manifest of
checksums, in a directory or under an S3 prefix; restoring one into an empty installation.

`service` holds the rules (what a backup holds, when a restore is refused, migrating forward),
`locations` where backups live (a directory, an S3 prefix), `pgtools` PostgreSQL's own tools,
`repository` the SQL, `schemas` the manifest.
"""
