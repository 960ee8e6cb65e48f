"""Client commands, one module a concern; each registers itself on the gateway."""

from server.gateway import Gateway
from server.handlers import meeting, rounds, signals


def register_all(gateway: Gateway) -> None:
    for module in (meeting, rounds, signals):
        module.register(gateway)
