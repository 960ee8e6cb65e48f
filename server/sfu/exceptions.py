"""Errors of the SFU adapter, with the codes clients see."""

from rooms.exceptions import DomainError


class SfuError(DomainError):
    code = "sfu_error"


class SfuUnavailable(SfuError):
    code = "sfu_unavailable"


class JanusError(SfuError):
    """Janus (or its VideoRoom plugin) refused a request."""

    code = "sfu_refused"

    def __init__(self, janus_code: int, reason: str) -> None:
        super().__init__(f"The video server refused: {reason} ({janus_code}).")
        self.janus_code = janus_code


class NoSubscription(SfuError):
    code = "sfu_no_subscription"


class NoPublisher(SfuError):
    """A renegotiation for a connection that publishes nothing (publish anew)."""

    code = "sfu_no_publisher"
