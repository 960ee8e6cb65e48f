"""What one participant is shown of a session: the snapshot sent on join."""

from typing import Any

import msgspec

from facilitation.session import Session
from rooms import Role, meeting_view


def session_view(s: Session, viewer: str) -> dict[str, Any]:
    """The meeting view, plus the current round, help requests and agenda."""
    view = meeting_view(s.meeting, viewer)
    me = s.meeting.participants.get(viewer)
    facilitator = me is not None and me.role is Role.FACILITATOR
    current = s.current() or (s.rounds[-1] if s.rounds else None)
    view["round"] = msgspec.to_builtins(current) if current is not None else None
    view["help"] = [msgspec.to_builtins(h) for h in s.help.values()
                    if facilitator or (me is not None and h.room == me.room)]
    view["agenda"] = msgspec.to_builtins(s.agenda) if s.agenda is not None else None
    view["shown_board"] = s.shown_board
    if facilitator:
        view["constraints"] = msgspec.to_builtins(s.constraints)
    return view
