#!/usr/bin/env bash
# Deploys Proveo into the namespace `proveo` of kubectl's current context (k3s), in order:
# namespace and network policies, configuration, secrets, the PostgreSQL primary then its
# replica, Redis and SeaweedFS (with the bucket), the migration Job, then the image service,
# the API and nginx, each waited for. Prints the LoadBalancer's address at the end.
#
#   deploy/k8s/deploy.sh                          # images imported into k3s (proveo-api:latest, ...)
#   deploy/k8s/deploy.sh registry.example.cl/pv   # registry.example.cl/pv/proveo-api:latest, ...
#   PROVEO_IMAGE_TAG=1.4.0 deploy/k8s/deploy.sh registry.example.cl/pv
#
# Secrets are generated once (openssl rand) and kept: a second run reuses the values in the
# cluster, since PostgreSQL keeps the passwords it was initialised with. SMTP credentials come
# from PROVEO_SMTP_USER and PROVEO_SMTP_PASSWORD in this script's environment when set.
# Running it again is safe: it applies what changed and runs the migrations again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
namespace=proveo
registry=${1:-}
registry=${registry%/}
tag=${PROVEO_IMAGE_TAG:-latest}

for tool in kubectl openssl; do
    if ! command -v "$tool" > /dev/null; then
        echo "deploy.sh: $tool is needed" >&2
        exit 2
    fi
done
if ! kubectl cluster-info > /dev/null 2>&1; then
    echo "deploy.sh: kubectl cannot reach a cluster (check KUBECONFIG or the current context)" >&2
    exit 2
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

say() {
    printf '\n== %s\n' "$*"
}

# A manifest with Proveo's own images renamed for the registry and tag, if any were given.
manifest() {
    local file=$here/$1
    if [[ -z $registry && $tag == latest ]]; then
        cat "$file"
    else
        sed -E "s#^([[:space:]]+image: )(proveo-[a-z-]+):latest\$#\\1${registry:+$registry/}\\2:${tag}#" "$file"
    fi
}

apply() {
    local file
    for file in "$@"; do
        manifest "$file" | kubectl apply -f -
    done
}

rollout() {
    kubectl rollout status "$1" --namespace "$namespace" --timeout "$2"
}

# Waits for a Job to complete; on failure prints its log and stops the deployment.
wait_for_job() {
    local name=$1 deadline=$((SECONDS + $2)) conditions
    while ((SECONDS < deadline)); do
        conditions=$(kubectl get job "$name" --namespace "$namespace" \
            -o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type} {end}')
        if [[ $conditions == *Complete* ]]; then
            echo "job/$name complete"
            return 0
        fi
        if [[ $conditions == *Failed* ]]; then
            break
        fi
        sleep 3
    done
    echo "deploy.sh: job/$name did not complete; its log:" >&2
    kubectl logs "job/$name" --namespace "$namespace" --all-containers --tail 50 >&2 || true
    exit 1
}

# A Job's template cannot change: each run starts from a new one.
run_job() {
    kubectl delete job "$1" --namespace "$namespace" --ignore-not-found --wait=true
    apply "$2"
}

# The current value of a key of a Secret, or nothing.
secret_value() {
    kubectl get secret "$1" --namespace "$namespace" \
        -o "go-template={{ index .data \"$2\" | base64decode }}" 2> /dev/null || true
}

# The Secret's current value for the key, or a new one from the command that follows.
kept_or() {
    local current
    current=$(secret_value "$1" "$2")
    if [[ -n $current ]]; then
        printf '%s' "$current"
    else
        "${@:3}"
    fi
}

# kubectl create secret ... --dry-run=client -o yaml | kubectl apply. The values go through
# files in a private directory, never on a command line (where `ps` would show them), and
# server-side apply keeps no copy of them in a last-applied annotation.
write_secret() {
    local name=$1 pair key dir
    shift
    dir=$workdir/$name
    mkdir -m 0700 "$dir"
    local sources=()
    for pair in "$@"; do
        key=${pair%%=*}
        printf '%s' "${pair#*=}" > "$dir/$key"
        sources+=("--from-file=$key=$dir/$key")
    done
    kubectl create secret generic "$name" --namespace "$namespace" "${sources[@]}" \
        --dry-run=client -o yaml |
        kubectl label --local -f - app.kubernetes.io/part-of=proveo -o yaml |
        kubectl apply --server-side --field-manager=proveo-deploy -f -
}

umask 077

say "Namespace, network policies (default deny first), configuration"
apply 00-namespace.yaml 13-networkpolicies.yaml 01-configmap.yaml

say "Secrets"
postgres_password=$(kept_or postgres POSTGRES_PASSWORD openssl rand -hex 24)
app_password=$(kept_or postgres POSTGRES_APP_PASSWORD openssl rand -hex 24)
replication_password=$(kept_or postgres POSTGRES_REPLICATION_PASSWORD openssl rand -hex 24)
redis_password=$(kept_or redis REDIS_PASSWORD openssl rand -hex 24)
secret_key=$(kept_or proveo-app PROVEO_SECRET_KEY openssl rand -base64 48 | tr -d '\n')
s3_access_key=$(kept_or proveo-app PROVEO_S3_ACCESS_KEY openssl rand -hex 10)
s3_secret_key=$(kept_or proveo-app PROVEO_S3_SECRET_KEY openssl rand -hex 20)
smtp_user=${PROVEO_SMTP_USER-$(secret_value proveo-app PROVEO_SMTP_USER)}
smtp_password=${PROVEO_SMTP_PASSWORD-$(secret_value proveo-app PROVEO_SMTP_PASSWORD)}

write_secret postgres \
    "POSTGRES_PASSWORD=$postgres_password" \
    "POSTGRES_APP_PASSWORD=$app_password" \
    "POSTGRES_REPLICATION_PASSWORD=$replication_password"
write_secret redis "REDIS_PASSWORD=$redis_password"
write_secret seaweedfs-s3 "s3.json=$(printf '{"identities": [{"name": "proveo", "credentials": [{"accessKey": "%s", "secretKey": "%s"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}' "$s3_access_key" "$s3_secret_key")"
write_secret proveo-app \
    "PROVEO_SECRET_KEY=$secret_key" \
    "PROVEO_DATABASE_URL=postgresql://proveo:$app_password@postgres-primary:5432/proveo?sslmode=require" \
    "PROVEO_DATABASE_REPLICA_URL=postgresql://proveo:$app_password@postgres-replica:5432/proveo?sslmode=require" \
    "PROVEO_REDIS_URL=redis://:$redis_password@redis:6379/0" \
    "PROVEO_S3_ACCESS_KEY=$s3_access_key" \
    "PROVEO_S3_SECRET_KEY=$s3_secret_key" \
    "PROVEO_SMTP_USER=$smtp_user" \
    "PROVEO_SMTP_PASSWORD=$smtp_password"

say "PostgreSQL primary"
apply 03-pvcs.yaml 04-postgres-primary.yaml
rollout statefulset/postgres-primary 300s

say "PostgreSQL replica (pg_basebackup from the primary on its first start)"
apply 05-postgres-replica.yaml
rollout statefulset/postgres-replica 600s

say "Redis and S3 (SeaweedFS), and the bucket"
apply 06-redis.yaml
kubectl delete job create-bucket --namespace "$namespace" --ignore-not-found --wait=true
apply 07-s3.yaml
rollout deployment/redis 180s
rollout deployment/seaweedfs 180s
wait_for_job create-bucket 330

say "Migrations"
run_job proveo-migrate migrate-job.yaml
wait_for_job proveo-migrate 930

say "Autoscalers and disruption budgets (before the Deployments: they start at two pods)"
apply 11-hpa.yaml 12-pdb.yaml

say "Image service"
apply 08-image-service.yaml
rollout deployment/image-service 300s

say "API"
apply 09-api.yaml
rollout deployment/api 300s

say "nginx"
apply 10-nginx.yaml
rollout deployment/nginx 180s

say "Done"
address=""
for _ in $(seq 1 30); do
    address=$(kubectl get service nginx --namespace "$namespace" \
        -o 'jsonpath={.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')
    if [[ -n $address ]]; then
        break
    fi
    sleep 2
done
if [[ -n $address ]]; then
    echo "Proveo answers at http://$address/ (put TLS in front of it: PROVEO_PUBLIC_BASE_URL is https)"
else
    echo "The LoadBalancer has no address yet: kubectl get service nginx --namespace $namespace"
fi
echo "Next: create the first admin (docs/operations.md, Deploy on k3s):"
echo "  kubectl exec -it --namespace $namespace deployment/api -- proveo create-admin --email you@example.cl"
