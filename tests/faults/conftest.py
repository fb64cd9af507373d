"""One topology for the module: its scenarios take turns breaking parts of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.topology import Topology, running_topology


@pytest.fixture(scope="module")
async def topology(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Topology]:
    async with running_topology(tmp_path_factory.mktemp("faults")) as topology:
        yield topology
