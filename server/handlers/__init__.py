"""Client commands, one module a concern; each registers itself on the gateway."""

from server.gateway import Gateway
from server.handlers import meeting, rounds


def register_all(gateway: Gateway) -> None:
    for module in (meeting, rounds):
        module.register(gateway)
