#!/usr/bin/env bash
# Deletes Proveo from kubectl's current context: the namespace `proveo` and everything in it,
# volumes included (k3s's local-path volumes are deleted with their claims): the database,
# the images and the generated secrets are gone for good. Back up first (docs/operations.md).
#
#   deploy/k8s/cleanup.sh          # asks before deleting
#   deploy/k8s/cleanup.sh --yes    # does not ask (scripts)
set -euo pipefail

namespace=proveo

if ! command -v kubectl > /dev/null; then
    echo "cleanup.sh: kubectl is needed" >&2
    exit 2
fi

if [[ ${1:-} != --yes ]]; then
    read -r -p "Delete namespace $namespace with its database, images and secrets? [y/N] " answer
    if [[ $answer != [yY] ]]; then
        echo "Nothing deleted."
        exit 1
    fi
fi

kubectl delete namespace "$namespace" --ignore-not-found --wait=true
echo "Namespace $namespace deleted."
