"""Who is on the other end: a client address safe to store, and a key safe to rate-limit on."""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

IPV6_SUBJECT_PREFIX = 64


def _parse(host: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def storable_ip(host: str | None) -> str | None:
    """The address as PostgreSQL `inet` accepts it, or None when the peer is not an IP."""
    address = _parse(host)
    return str(address) if address else None


def limit_subject(host: str | None) -> str:
    """IPv4 per address; IPv6 per /64, since one host commonly holds a whole /64."""
    address = _parse(host)
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_SUBJECT_PREFIX), strict=False)
        return str(network)
    return str(address)


def request_subject(connection: HTTPConnection) -> str:
    """The rate limits' key for the client of a request (its proxy-resolved address)."""
    client = connection.client
    return limit_subject(client.host if client is not None else None)
