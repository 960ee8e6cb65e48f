"""Client commands, one module a concern; each registers itself on the gateway."""

from server.boards import Boards
from server.gateway import Gateway
from server.handlers import boards, meeting, rounds, signals


def register_all(gateway: Gateway, board_store: Boards) -> None:
    for module in (meeting, rounds, signals):
        module.register(gateway)
    boards.register(gateway, board_store)
