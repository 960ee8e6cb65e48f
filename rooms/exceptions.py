"""Domain errors of the meeting core.

Each carries a stable ``code`` that the server maps to the client's error
acknowledgement; the message is a full sentence for people.
"""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MeetingEnded(DomainError):
    code = "meeting_ended"


class CohortNotAllowed(DomainError):
    code = "cohort_not_allowed"


class MeetingInUse(DomainError):
    code = "meeting_in_use"


class NotJoined(DomainError):
    code = "not_joined"


class UnknownParticipant(DomainError):
    code = "unknown_participant"


class UnknownRoom(DomainError):
    code = "unknown_room"


class NotInRoom(DomainError):
    code = "not_in_room"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidValue(DomainError):
    code = "invalid_value"


class HandAlreadyRaised(DomainError):
    code = "hand_already_raised"


class HandNotRaised(DomainError):
    code = "hand_not_raised"


class UnknownPeer(DomainError):
    code = "unknown_peer"


class PeerNotInRoom(DomainError):
    code = "peer_not_in_room"
