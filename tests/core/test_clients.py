from __future__ import annotations

import pytest

from proveo.core.clients import limit_subject, storable_ip


class TestStorableIp:
    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            ("203.0.113.9", "203.0.113.9"),
            ("2001:db8::1", "2001:db8::1"),
            ("fe80::1%eth0", "fe80::1"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            ("testclient", None),
            ("", None),
            (None, None),
        ],
    )
    def test_only_real_addresses_are_stored(self, host: str | None, expected: str | None) -> None:
        assert storable_ip(host) == expected


class TestLimitSubject:
    def test_ipv4_per_address(self) -> None:
        assert limit_subject("203.0.113.9") != limit_subject("203.0.113.10")

    def test_ipv6_per_64(self) -> None:
        assert limit_subject("2001:db8:1:2::1") == limit_subject("2001:db8:1:2:ffff::9")
        assert limit_subject("2001:db8:1:2::1") != limit_subject("2001:db8:1:3::1")

    def test_non_addresses_share_one_subject(self) -> None:
        assert limit_subject("garbage") == limit_subject(None) == "unknown"
