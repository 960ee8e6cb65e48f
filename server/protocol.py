"""Client messages, typed once at the edge.

Each Socket.IO event a client may send has one frozen type here; the
gateway decodes the payload into it and handlers never touch raw dicts.
The wire codec itself (JSON or msgpack) is python-socketio's.
"""

from typing import Annotated, Any, Literal, TypeVar

import msgspec

from facilitation.breakouts import RoundSpec

Short = Annotated[str, msgspec.Meta(max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Seq = Annotated[int, msgspec.Meta(ge=0)]
T = TypeVar("T", bound=msgspec.Struct)


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every client message."""


class Join(Message):
    """Profile of a new participant; may be empty when resuming a session."""

    name: Short | None = None
    municipality: Short | None = None
    sector: Short | None = None
    title: Short | None = None


class Empty(Message):
    pass


class Chat(Message):
    text: Text


class ChatHistory(Message):
    after: Seq = 0  # only messages with a higher seq (what the client already has)


class LowerHand(Message):
    participant: Id | None = None


class React(Message):
    emoji: Annotated[str, msgspec.Meta(max_length=16)]


class Sync(Message):
    last_seq: Seq


class RoundPreview(RoundSpec, frozen=True, forbid_unknown_fields=True):
    """A round spec, and optionally a seed (for reproducible groups)."""

    seed: Annotated[int, msgspec.Meta(ge=0, lt=2**31)] | None = None

    def spec(self) -> RoundSpec:
        fields = {f: getattr(self, f) for f in RoundSpec.__struct_fields__}
        return RoundSpec(**fields)


class Extend(Message):
    delta_s: Annotated[int, msgspec.Meta(ge=-3 * 3600, le=3 * 3600)]


class Regroup(Message):
    participant: Id
    group: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class Choose(Message):
    group: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None


class Broadcast(Message):
    text: Text


class Visit(Message):
    group: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


class Move(Message):
    """A facilitator moves a participant to a group (``None``: to the plenary)."""

    participant: Id
    group: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


class GroupMessage(Message):
    group: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    text: Text


class Close(Message):
    countdown: bool = False  # with the round's closing countdown, instead of at once


class AnswerHelp(Message):
    participant: Id


class SetAgenda(Message):
    template: Annotated[str, msgspec.Meta(max_length=64)]
    lang: Literal["sv", "fi", "en"] = "sv"


class StartActivity(Message):
    index: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class MixConstraints(Message):
    """Pairs to keep together / apart in mixed rounds, and fair larger-group seats."""

    together: Annotated[list[Annotated[list[Id], msgspec.Meta(min_length=2, max_length=2)]],
                        msgspec.Meta(max_length=200)] = msgspec.field(default_factory=list)
    apart: Annotated[list[Annotated[list[Id], msgspec.Meta(min_length=2, max_length=2)]],
                     msgspec.Meta(max_length=200)] = msgspec.field(default_factory=list)
    fair_seats: bool = False


class Description(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, msgspec.Meta(max_length=64 * 1024)] = ""


class Candidate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    candidate: Annotated[str, msgspec.Meta(max_length=2048)]
    sdpMid: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # noqa: N815
    sdpMLineIndex: Annotated[int, msgspec.Meta(ge=0, le=1024)] | None = None  # noqa: N815
    usernameFragment: Annotated[str, msgspec.Meta(max_length=256)] | None = None  # noqa: N815


class Signal(Message):
    """One signalling message for one peer: a description, or a candidate
    (``candidate: null`` is end-of-candidates)."""

    to: Id
    description: Description | msgspec.UnsetType = msgspec.UNSET
    candidate: Candidate | None | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        has_description = self.description is not msgspec.UNSET
        has_candidate = self.candidate is not msgspec.UNSET
        if has_description == has_candidate:
            raise ValueError("give exactly one of description and candidate")


class Media(Message):
    mic: bool
    camera: bool
    screen: bool = False


class Speaking(Message):
    """The sender's own microphone level crossed its threshold (measured in its browser)."""

    on: bool


class Target(Message):
    participant: Id


class BoardUpdate(Message):
    update: bytes


class RoomRef(Message):
    room: Id


class Gallery(Message):
    round: Id | None = None


class SfuPublish(Message):
    """An offer of the tracks to publish into the plenary's VideoRoom; ``screen``: the
    ``mid`` of the offer's shared screen, if one is shared; ``update``: the offer
    renegotiates the connection's publisher (a screen shared or stopped) rather than
    publishing anew."""

    description: Description
    screen: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    update: bool = False


class SfuFeed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Id
    audio: bool = True
    video: bool = True
    layer: Literal["high", "low"] = "high"  # simulcast: "low" for a thumbnail


class SfuSubscribe(Message):
    """The feeds to receive (replaces the current subscription; empty: none)."""

    feeds: Annotated[list[SfuFeed], msgspec.Meta(max_length=100)]


class SfuAnswer(Message):
    description: Description


class SfuTrickle(Message):
    target: Literal["publisher", "subscriber"]
    candidate: Candidate | None  # null: end of candidates


class Auth(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The Socket.IO ``auth`` payload of a connection."""

    token: Annotated[str, msgspec.Meta(max_length=1024)]
    meeting: Id | None = None
    resume: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    last_seq: Seq | None = None


class InvalidMessage(Exception):
    code = "invalid_payload"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode(kind: type[T], data: Any) -> T:
    """Validate ``data`` into ``kind`` or raise ``InvalidMessage``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidMessage("The payload must be an object.")
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(f"The payload is not valid: {exc}.") from exc
    except UnicodeError as exc:  # a lone surrogate in a field name
        raise InvalidMessage("The payload contains broken Unicode.") from exc
