"""Client commands, one module a concern; each registers itself on the gateway."""

from server.boards import Boards
from server.gateway import Gateway
from server.handlers import boards, meeting, rounds, sfu, signals
from server.sfu.videorooms import VideoRooms


def register_all(gateway: Gateway, board_store: Boards) -> VideoRooms:
    """Register every command; the SFU service, whose lifetime the caller owns."""
    video = VideoRooms(gateway.settings)
    for module in (meeting, rounds):
        module.register(gateway)
    signals.register(gateway, video)
    sfu.register(gateway, video)
    boards.register(gateway, board_store)
    return video
