"""What one participant is shown of a meeting: the snapshot sent on join."""

from typing import Any

import msgspec

from rooms.meeting import Meeting, Participant


def participant_view(p: Participant) -> dict[str, Any]:
    return msgspec.to_builtins(p)  # type: ignore[no-any-return]


def meeting_view(m: Meeting, viewer: str) -> dict[str, Any]:
    """The meeting as ``viewer`` may see it; chat only of the viewer's room."""
    me = m.participants.get(viewer)
    room = me.room if me is not None else None
    return {
        "seq": m.seq,
        "meeting": {"id": m.id, "title": m.title, "starts_at": m.starts_at,
                    "cohort": m.cohort, "ended": m.ended},
        "you": viewer,
        "participants": [participant_view(p) for p in m.participants.values()],
        "rooms": [msgspec.to_builtins(r) for r in m.rooms.values() if r.open],
        "hands": list(m.hands),
        "hands_set_aside": list(m.hands_set_aside),
        "stage": list(m.stage),
        "chat": [msgspec.to_builtins(c) for c in m.chat.get(room or "", [])],
    }
