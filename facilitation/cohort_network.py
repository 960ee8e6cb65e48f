"""The network picture of a cohort: who has met whom in groups across its meetings.

People are person keys (see ``history.person_key``): a roster person is one node
across meetings, a guest is a node of their own. Municipalities are canonical ids.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from facilitation.history import opened_groups, person_key
from facilitation.session import Session
from rooms import Role
from rooms.municipalities import canonical_name, municipality_id


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    municipality: str  # canonical name, as shown
    municipality_id: str


@dataclass
class CohortNetwork:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[frozenset[str], int] = field(default_factory=dict)
    matrix: dict[tuple[str, str], int] = field(default_factory=dict)
    """(municipality id, municipality id), ids sorted -> encounters between them."""

    def met(self, key: str) -> dict[str, int]:
        """The people ``key`` has met, and how often."""
        found: dict[str, int] = {}
        for pair, times in self.edges.items():
            if key in pair:
                (other,) = pair - {key}
                found[other] = times
        return found

    def municipalities_met(self, key: str) -> list[str]:
        own = self.nodes[key].municipality_id
        return sorted({self.nodes[k].municipality for k in self.met(key)
                       if self.nodes[k].municipality_id != own})

    def municipalities(self) -> list[tuple[str, str]]:
        """(id, name) of every municipality with a node, by name."""
        return sorted({(n.municipality_id, n.municipality) for n in self.nodes.values()},
                      key=lambda m: m[1].casefold())


def cohort_network(sessions: Sequence[Session], only: Collection[str] = ()) -> CohortNetwork:
    """The network across ``sessions`` (oldest first), or only the meetings in ``only``."""
    net = CohortNetwork()
    for session in sessions:
        if only and session.id not in only:
            continue
        key_of = {}
        for p in session.meeting.participants.values():
            if p.role is not Role.PARTICIPANT:
                continue
            key = key_of[p.id] = person_key(p)
            net.nodes[key] = Node(key, p.name, canonical_name(p.municipality),
                                  municipality_id(p.municipality))
        for groups in opened_groups(session):
            for group in groups:
                keys = sorted({key_of[pid] for pid in group if pid in key_of})
                for a, b in combinations(keys, 2):
                    _count(net, a, b)
    return net


def _count(net: CohortNetwork, a: str, b: str) -> None:
    pair = frozenset((a, b))
    net.edges[pair] = net.edges.get(pair, 0) + 1
    ma, mb = sorted((net.nodes[a].municipality_id, net.nodes[b].municipality_id))
    net.matrix[(ma, mb)] = net.matrix.get((ma, mb), 0) + 1
