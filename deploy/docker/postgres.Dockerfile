# PostgreSQL 15 for Proveo: the official image plus pg_cron, TLS, and the replication set-up.
# One image for both roles: `postgres` (the primary; docker-entrypoint-initdb.d/ sets it up at
# its first start) and `postgres-replica` (entrypoint proveo-replica-entrypoint: pg_basebackup
# from the primary at its first start). Build from the repository root:
#   docker build -f deploy/docker/postgres.Dockerfile -t proveo-postgres .
FROM postgres:15-bookworm

# pg_cron from the PGDG repository the base image already installs PostgreSQL from, and openssl
# (already there through ssl-cert; named because the first start makes a certificate with it).
# DL3008 (pin apt versions) is ignored on purpose: PGDG keeps only the current build of each
# package, so an exact pin breaks every rebuild after its next release, and pg_cron follows the
# PostgreSQL 15 minor release that the base image's tag already chooses.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-cron" openssl \
    && rm -rf /var/lib/apt/lists/*

COPY deploy/docker/postgres/proveo.conf /etc/postgresql/proveo.conf
COPY --chmod=0755 deploy/docker/postgres/self-signed-cert.sh /usr/local/bin/proveo-pg-self-signed-cert
COPY --chmod=0755 deploy/docker/postgres/replica-entrypoint.sh /usr/local/bin/proveo-replica-entrypoint
COPY --chmod=0755 deploy/docker/postgres/init-primary.sh /docker-entrypoint-initdb.d/10-proveo-primary.sh

# initdb copies this sample into every new cluster's postgresql.conf.
RUN echo "include '/etc/postgresql/proveo.conf'" >> /usr/share/postgresql/postgresql.conf.sample

# The image's postgres user (uid and gid 999) from the start: its entrypoint supports running
# as that user, and the data volume is created owned by it.
USER 999:999

# Over TCP on loopback, which the temporary server of the first start does not open: healthy
# only once the real server accepts connections (a replica: once it is a consistent standby).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=6 \
    CMD ["pg_isready", "--quiet", "--host=127.0.0.1", "--port=5432", "--dbname=postgres"]
