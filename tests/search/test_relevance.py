"""The labelled relevance set: the expected company is in the top 3 for at least 95 %."""

from __future__ import annotations

import httpx

from tests.search.conftest import SEARCH_URL
from tests.search.relevance import QUERIES

TOP_3_BAR = 0.95


async def test_top_3_hit_rate_reaches_the_bar(client: httpx.AsyncClient, directory: None) -> None:
    misses = []
    for query in QUERIES:
        params = {"q": query.q, "limit": "3"}
        if query.commune:
            params["commune"] = query.commune
        if query.product:
            params["product"] = query.product
        if query.region:
            params["region"] = query.region
        response = await client.get(SEARCH_URL, params=params)
        assert response.status_code == 200, (query, response.text)
        names = [hit["name"] for hit in response.json()]
        if query.expected not in names:
            misses.append(f"{query.q!r} -> {names} (expected {query.expected!r})")
    rate = 1 - len(misses) / len(QUERIES)
    print(f"\nsearch relevance: top-3 hit rate {rate:.1%} over {len(QUERIES)} queries")
    for miss in misses:
        print("  miss:", miss)
    assert len(QUERIES) >= 60
    assert rate >= TOP_3_BAR, misses
