"""The meeting state the server folds, and its snapshot codec.

Snapshots are only a cache of the fold: one whose format version does not
match is ignored, and the meeting is replayed from its log instead.
"""

import msgspec

from facilitation.session import Session

SNAPSHOT_VERSION = 4  # 4: hands set aside by a round, board edits


class _Snapshot(msgspec.Struct):
    version: int
    state: Session


def new_state() -> Session:
    return Session()


def encode_snapshot(state: Session) -> bytes:
    return msgspec.msgpack.encode(_Snapshot(SNAPSHOT_VERSION, state))


def decode_snapshot(blob: bytes) -> Session | None:
    try:
        snap = msgspec.msgpack.decode(blob, type=_Snapshot)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return snap.state if snap.version == SNAPSHOT_VERSION else None
