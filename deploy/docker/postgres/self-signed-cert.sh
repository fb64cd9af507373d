#!/usr/bin/env bash
# proveo-pg-self-signed-cert DATA_DIR COMMON_NAME
# A certificate and key of this cluster's own, made at its first start and kept in its data
# directory (server.crt, server.key: PostgreSQL's default names). Clients connect with
# sslmode=require: encrypted, and not verified against a CA. For verify-full, replace both
# files with ones your CA signed for the service's name, and restart.
set -Eeuo pipefail

data_dir="${1:?usage: proveo-pg-self-signed-cert DATA_DIR COMMON_NAME}"
common_name="${2:?usage: proveo-pg-self-signed-cert DATA_DIR COMMON_NAME}"

umask 077
openssl req -new -x509 -sha256 -days 3650 -nodes \
    -newkey rsa:3072 -subj "/CN=${common_name}" \
    -keyout "${data_dir}/server.key" -out "${data_dir}/server.crt" 2> /dev/null
chmod 0600 "${data_dir}/server.key"
echo "proveo: made a self-signed TLS certificate for ${common_name} in ${data_dir}"
