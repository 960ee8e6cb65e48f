from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.media_servers import HAVE_JANUS, Janus, running_janus
from tests.support import Meeting, RunningServer, start_server

pytest_plugins = ["tests.disks"]  # small_disk: a real full disk


@pytest.fixture(params=["json", "msgpack"])
def serializer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def server(tmp_path, serializer):  # type: ignore[no-untyped-def]
    running = await start_server(tmp_path / "data", serializer)  # time stands still
    yield running
    await running.stop()


@pytest.fixture
async def meeting(server: RunningServer) -> Meeting:
    return await server.new_meeting()


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[Janus]:
    """A Janus of this test's own (the plenary's SFU); skipped where it is not installed."""
    if not HAVE_JANUS:
        pytest.skip("Janus is not installed (apt-get install janus; ./scripts/test does)")
    async with running_janus(tmp_path / "janus") as running:
        yield running
