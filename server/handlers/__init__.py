"""Client commands, one module a concern: named functions (or methods of a small class
holding their dependencies), listed in each module's ``commands``."""

from server.gateway import Gateway
from server.handlers import boards, meeting, rounds, sfu, signals
from server.handlers.command import Command
from server.planner import Planner
from server.sfu.videorooms import VideoRooms

__all__ = ["Command", "register_all"]


def register_all(gw: Gateway, video: VideoRooms, planner: Planner) -> None:
    """Register every command of every module on the gateway."""
    for command in (*meeting.commands(gw), *rounds.commands(gw, planner),
                    *signals.commands(gw), *sfu.commands(gw, video),
                    *boards.commands(gw)):
        gw.command(command.name, command.kind, command.run, command.joined)
