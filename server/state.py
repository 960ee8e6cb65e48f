"""The meeting state the server folds, and its snapshot codec.

Snapshots are only a cache of the fold: one whose format version does not
match is ignored, and the meeting is replayed from its log instead.
"""

import msgspec

from rooms import Meeting

SNAPSHOT_VERSION = 1


class _Snapshot(msgspec.Struct):
    version: int
    state: Meeting


def new_state() -> Meeting:
    return Meeting()


def encode_snapshot(state: Meeting) -> bytes:
    return msgspec.msgpack.encode(_Snapshot(SNAPSHOT_VERSION, state))


def decode_snapshot(blob: bytes) -> Meeting | None:
    try:
        snap = msgspec.msgpack.decode(blob, type=_Snapshot)
    except msgspec.DecodeError:
        return None
    return snap.state if snap.version == SNAPSHOT_VERSION else None
