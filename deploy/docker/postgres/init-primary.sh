#!/usr/bin/env bash
# The primary's first start. The image's entrypoint runs this once, on a new data directory,
# against the temporary server it starts on the local socket only (no network yet):
#   - a self-signed certificate, then ssl = on (the API connects with sslmode=require);
#   - the role proveo, not a superuser, owning the database proveo, where pg_cron is installed
#     and its schema granted to proveo (`proveo migrate` schedules the jobs as proveo, after
#     reading cron.database_name: hence pg_read_all_settings);
#   - the role replicator, for postgres-replica's streaming replication;
#   - pg_hba.conf: TLS and a password for every connection over the network, and the
#     superuser on the local socket only (`docker compose exec postgres psql -U postgres`).
# Passwords come from the environment (deploy/.env through compose) and are read by psql's
# \getenv, so they appear in no command line.
set -Eeuo pipefail

: "${PGDATA:?}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD in deploy/.env}"
: "${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD in deploy/.env}"

# deploy/.env.example's placeholder is no password: the replication role logs in over the network.
for variable in POSTGRES_PASSWORD POSTGRES_APP_PASSWORD POSTGRES_REPLICATION_PASSWORD; do
    if [[ "${!variable:-}" == *[Cc][Hh][Aa][Nn][Gg][Ee]-[Mm][Ee]* ]]; then
        echo "init-primary: $variable still holds the placeholder change-me from .env.example;" \
            "generate a password (openssl rand -base64 32)" >&2
        exit 1
    fi
done

as_superuser() {
    # The temporary server listens on the local socket only: no PGHOST.
    PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet \
        --username "${POSTGRES_USER:-postgres}" "$@"
}

proveo-pg-self-signed-cert "$PGDATA" "${POSTGRES_TLS_COMMON_NAME:-postgres}"

as_superuser --dbname postgres <<'SQL'
\getenv app_password POSTGRES_APP_PASSWORD
\getenv replication_password POSTGRES_REPLICATION_PASSWORD
CREATE ROLE proveo LOGIN PASSWORD :'app_password';
CREATE DATABASE proveo OWNER proveo;
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'replication_password';
ALTER SYSTEM SET ssl = on;
SQL

as_superuser --dbname proveo <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_cron;
GRANT USAGE ON SCHEMA cron TO proveo;
-- `proveo migrate` reads cron.database_name, a setting only superusers and this role may read.
GRANT pg_read_all_settings TO proveo;
-- pg_cron records every run; one job a minute would grow this table without end.
SELECT cron.schedule(
    'pg-cron-history-purge', '23 4 * * *',
    $$DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'$$
) AS purge_job \gset
SQL

# Replaces the image's default (`host all all all scram-sha-256`, TLS optional). pg_basebackup
# copies this file to the replica, whose clients are the same.
cat > "$PGDATA/pg_hba.conf" <<'HBA'
# Written by Proveo's init-primary.sh at the cluster's first start.
# TYPE   DATABASE     USER        ADDRESS        METHOD
# The local socket, inside this container only: the entrypoint's scripts and an operator's
# `docker compose exec postgres psql -U postgres`.
local    all          all                        trust
# Loopback inside the container: the health check's pg_isready (it sends no password).
host     all          all         127.0.0.1/32   scram-sha-256
# Over the network: TLS and a password, for the app's role and the replication role only.
hostssl  proveo       proveo      all            scram-sha-256
hostssl  replication  replicator  all            scram-sha-256
HBA

echo "proveo: roles proveo and replicator, database proveo with pg_cron, TLS and pg_hba.conf ready"
