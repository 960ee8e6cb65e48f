"""Domain errors of the whiteboard; each carries the code the adapter sends to clients."""

from __future__ import annotations


class BoardError(Exception):
    """Base class of whiteboard errors; `message` is a full sentence for people."""

    code = "board_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UpdateUndecodable(BoardError):
    """The bytes are not a Yjs v1 update this board can integrate."""

    code = "board_update_invalid"


class UpdateTooLarge(BoardError):
    """The update is larger than `BoardLimits.max_update_bytes`."""

    code = "board_update_too_large"


class BoardFull(BoardError):
    """Accepting the update could push the board past `BoardLimits.max_elements`."""

    code = "board_full"


class BacklogFull(BoardError):
    """Too many out-of-order updates are already waiting for their dependencies."""

    code = "board_backlog_full"


class StateVectorInvalid(BoardError):
    """The bytes are not a Yjs state vector."""

    code = "board_state_vector_invalid"


class ElementInvalid(BoardError):
    """An element's fields do not follow the board schema."""

    code = "board_element_invalid"
