#!/usr/bin/env bash
# postgres-replica's entrypoint. At its first start (an empty data directory) it copies the
# primary with pg_basebackup, which also writes standby.signal and primary_conninfo (-R): the
# copy starts as a hot standby streaming from the primary. Then, and at every later start, it
# hands over to the image's own entrypoint, which finds the data directory ready and runs
# postgres. The copy brings the primary's settings, roles and pg_hba.conf; the replica then
# makes a certificate of its own.
set -Eeuo pipefail

: "${PGDATA:?}"
: "${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD in deploy/.env}"
primary_host="${PRIMARY_HOST:-postgres}"
primary_port="${PRIMARY_PORT:-5432}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # No PG_VERSION: not a cluster, at most the remains of a copy that was interrupted.
    # pg_basebackup needs an empty directory.
    find "$PGDATA" -mindepth 1 -delete
    until pg_isready --quiet --host="$primary_host" --port="$primary_port"; do
        echo "proveo: waiting for the primary at ${primary_host}:${primary_port}"
        sleep 2
    done
    echo "proveo: copying the primary at ${primary_host}:${primary_port} into ${PGDATA}"
    # The password reaches pg_basebackup through its environment only; -R writes it into
    # primary_conninfo (postgresql.auto.conf, mode 0600) for the standby to reconnect with.
    PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" pg_basebackup \
        --dbname="host=${primary_host} port=${primary_port} user=replicator sslmode=require" \
        --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast \
        --no-password
    chmod 0700 "$PGDATA"
    proveo-pg-self-signed-cert "$PGDATA" "${POSTGRES_TLS_COMMON_NAME:-postgres-replica}"
fi

exec docker-entrypoint.sh "$@"
