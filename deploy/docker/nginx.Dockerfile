# nginx in front of Proveo: the static front end from disk, /api/ and /images/ proxied to the
# API. Build from the repository root:
#   docker build -f deploy/docker/nginx.Dockerfile -t proveo-nginx .
# The unprivileged variant of the official image runs as uid 101, listens on 8080, and keeps
# its pid and temporary files under /tmp.
FROM nginxinc/nginx-unprivileged:1.27-alpine

# The image's entrypoint renders /etc/nginx/templates/*.template with envsubst into
# /etc/nginx/conf.d/ at every start, substituting only variables set in the environment.
ENV PROVEO_API_UPSTREAM=api:8000 \
    PROVEO_STATIC_ROOT=/usr/share/nginx/proveo \
    NGINX_LISTEN=8080

COPY deploy/nginx/proveo.conf.template /etc/nginx/templates/proveo.conf.template
# The front end, owned by root and read-only to nginx.
COPY src/proveo/web /usr/share/nginx/proveo

USER 0
# The stock default.conf would answer on 8080 too (its welcome page for Host: localhost).
# Text assets are compressed once here, for the template's gzip_static.
RUN rm -f /etc/nginx/conf.d/default.conf \
    && find /usr/share/nginx/proveo -type f \
        \( -name '*.html' -o -name '*.css' -o -name '*.js' -o -name '*.json' -o -name '*.svg' \) \
        -exec gzip -k {} +
USER 101

EXPOSE 8080

# Through nginx to the API's liveness: a healthy nginx rendered its template and reaches the
# app. Port 8080 is NGINX_LISTEN's: change both together.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/api/v1/health/"]
