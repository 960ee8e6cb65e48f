import pytest

from tests.support import Meeting, RunningServer, start_server


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
