"""Who is online across processes (``ClusterConnections``): the same answers as a
merge of local and remote presence, at a cost that does not grow with the meeting."""

from typing import Any

from rooms import Role
from server.cluster.presence import ClusterConnections
from server.connections import Connection
from server.limits import TokenBucket


def joined(conns: ClusterConnections, sid: str, pid: str, meeting: str = "m") -> Connection:
    c = Connection(sid, meeting, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
    c.authenticated(None, None)
    conns.add(c)
    conns.bind(c, pid)
    return c


def test_local_and_remote_presence_merge_and_each_change_is_told_once() -> None:
    conns, told = ClusterConnections(), []
    conns.changed = lambda m, pid, online: told.append((pid, online))
    c1 = joined(conns, "s1", "anna")
    assert conns.set_remote("p2", "m", "bo", True) is True
    assert conns.set_remote("p3", "m", "bo", True) is False  # already online (on p2)
    assert conns.set_remote("p2", "m", "anna", True) is False  # online here already
    assert conns.online_set("m") == {"anna": {"s1"}, "bo": set()}
    assert conns.online("m", "bo") and conns.sids_of("m", "bo") == set()
    assert conns.set_remote("p2", "m", "bo", False) is False  # still on p3
    assert conns.set_remote("p3", "m", "bo", False) is True
    assert not conns.online("m", "bo") and "bo" not in conns.online_set("m")
    conns.unbind(c1)
    assert told == [("anna", True), ("anna", False)]
    assert conns.online("m", "anna")  # still held by p2
    assert conns.set_remote("p2", "m", "anna", False) is True
    assert conns.online_set("m") == {} and conns.online_in("m") == []
    c2 = joined(conns, "s2", "anna")
    joined(conns, "s3", "anna")
    conns.remove(c2.sid)
    assert conns.sids_of("m", "anna") == {"s3"}


def test_a_resync_reports_only_who_changed() -> None:
    conns = ClusterConnections()
    joined(conns, "s1", "anna")
    for i in range(300):
        conns.set_remote("p2", "m", f"x{i}", True)
    conns.set_remote("p2", "m", "anna", True)
    fresh = {"m": {f"x{i}": {"p2"} for i in range(1, 300)} | {"new": {"p3"}},
             "other": {"cy": {"p2"}}}
    fresh["m"]["x5"] = {"p3"}  # moved from p2 to p3: still online
    changes = conns.replace_remote(fresh)
    assert sorted(changes) == [("m", "new", True), ("m", "x0", False), ("other", "cy", True)]
    assert conns.online("m", "anna") and conns.online("m", "x5") and conns.online("other", "cy")
    assert conns.replace_remote({}) != [] and conns.online_set("m") == {"anna": {"s1"}}


class Walks(dict[str, Any]):
    """A meeting's participants that count every walk over them."""

    walked = 0

    def __iter__(self) -> Any:
        Walks.walked += 1
        return super().__iter__()

    def keys(self) -> Any:
        Walks.walked += 1
        return super().keys()

    def items(self) -> Any:
        Walks.walked += 1
        return super().items()

    def values(self) -> Any:
        Walks.walked += 1
        return super().values()

    def copy(self) -> Any:
        Walks.walked += 1
        return super().copy()


def test_one_remote_change_does_not_walk_the_meeting() -> None:
    """The cost of one presence message from another process is O(1) in the meeting's
    size: nothing iterates over the meeting's participants (it used to rebuild the
    merged view twice per message, and once more per participant in the resync)."""
    conns = ClusterConnections()
    for i in range(200):
        joined(conns, f"s{i}", f"local{i}")
        conns.set_remote("p2", "m", f"remote{i}", True)
    for table in vars(conns).values():  # every per-meeting table, whatever it is called
        if isinstance(table, dict) and isinstance(table.get("m"), dict):
            table["m"] = Walks(table["m"])
    Walks.walked = 0
    for i in range(50):
        assert conns.set_remote("p3", "m", "newcomer", i % 2 == 0) is True
        assert conns.set_remote("p3", "m", f"remote{i}", i % 2 == 0) is False
        assert conns.online("m", f"remote{i}") and conns.online("m", f"local{i}")
        assert conns.sids_of("m", f"local{i}") == {f"s{i}"}
        conns.online_set("m")
    assert Walks.walked == 0
