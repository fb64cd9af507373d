"""A container's HEALTHCHECK: GET a path on loopback; exit 0 on a 2xx answer, 1 otherwise.

    python /usr/local/bin/proveo-healthcheck PROVEO_PORT /api/v1/health/

The first argument names the environment variable that holds the port, so the check follows
the setting the server reads (Docker runs HEALTHCHECK's JSON form without a shell to expand
it). The slim Python images have no curl or wget, and a `python -c` one-liner would leave a
traceback in `docker inspect` for every failed check: this prints one line. Standard library
only: it runs nothing of the app.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0
DEFAULT_PORTS = {"PROVEO_PORT": "8000", "PROVEO_IMAGE_SERVICE_PORT": "8001"}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[2].startswith("/"):
        print("usage: proveo-healthcheck PORT_VARIABLE /PATH", file=sys.stderr)
        return 2
    variable, path = argv[1], argv[2]
    port = os.environ.get(variable) or DEFAULT_PORTS.get(variable, "")
    if not port.isdigit():
        print(f"unhealthy: {variable} is not a port number", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {url} answered {exc.code}")
        return 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}")
        return 1
    if not 200 <= status < 300:
        print(f"unhealthy: {url} answered {status}")
        return 1
    print(f"healthy: {url} answered {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
