"""A connection's phases: handshake, authenticated, joined, replaced, closing."""

import pytest

from rooms import Role
from rooms.exceptions import NotJoined
from server.connections import BadTransition, Connection, Connections, Phase
from server.limits import TokenBucket


def conn(sid: str = "s1") -> Connection:
    return Connection(sid, "m", Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))


def test_join_leave_and_join_again_as_the_resumed_participant() -> None:
    conns, c = Connections(), conn()
    assert c.phase is Phase.HANDSHAKE
    c.authenticated("p1", 7)
    conns.add(c)
    with pytest.raises(NotJoined):
        _ = c.pid
    assert c.participant == "p1" and c.take_resume_seq() == 7 and c.take_resume_seq() is None
    conns.bind(c, "p1")
    assert c.joined and c.pid == "p1" and conns.online("m", "p1")
    conns.unbind(c)  # left the meeting
    assert c.phase is Phase.AUTHENTICATED and not conns.online("m", "p1")
    assert c.participant == "p1"  # joining again resumes the same participant


def test_a_replaced_connection_keeps_its_participant_but_is_not_online() -> None:
    conns, old, new = Connections(), conn("old"), conn("new")
    for c in (old, new):
        c.authenticated(None, None)
        conns.add(c)
        conns.bind(c, "p1")
    conns.unbind(old, Phase.REPLACED)
    assert old.phase is Phase.REPLACED and old.participant == "p1"
    assert conns.sids_of("m", "p1") == {"new"}
    removed = conns.remove("old")
    assert removed is old and old.phase is Phase.CLOSING
    assert conns.sids_of("m", "p1") == {"new"}  # the newer tab stays online


def test_transitions_the_machine_forbids() -> None:
    c = conn()
    with pytest.raises(BadTransition):
        c.to(Phase.JOINED)  # not authenticated yet
    c.authenticated(None, None)
    with pytest.raises(BadTransition):
        c.to(Phase.REPLACED)  # only a joined connection is replaced
    c.to(Phase.CLOSING)
    with pytest.raises(BadTransition):
        c.to(Phase.JOINED)
