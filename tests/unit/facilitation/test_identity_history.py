"""Identity across a cohort's meetings, start-time order and canonical municipalities."""

from facilitation import breakouts as b
from facilitation.breakouts import RoundSpec, assignable
from facilitation.history import cohort_encounters, network_report
from facilitation.rounds import Strategy
from facilitation.session import Session
from rooms import SYSTEM, Draft, Event, Role
from rooms import commands as cmd

T0 = 1_800_000_000_000


class Log:
    def __init__(self, meeting: str, starts_at: str, created: int = T0) -> None:
        self.state = Session()
        self.now = created
        self.do(SYSTEM, [cmd.create_meeting(meeting, "Träff", starts_at, "A")])
        self.do("f", b.join(self.state, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))

    def do(self, actor: str, drafts: list[Draft]) -> None:
        for d in drafts:
            self.state.apply(Event(self.state.seq + 1, self.now, actor, d.type, d.data))

    def join(self, pid: str, name: str, municipality: str, person: str | None = None) -> None:
        self.do(pid, b.join(self.state, pid, Role.PARTICIPANT, name=name,
                            municipality=municipality, person=person))

    def round(self, groups: list[list[str]]) -> None:
        mapping = {pid: i for i, g in enumerate(groups) for pid in g}
        spec = RoundSpec(strategy=Strategy.MANUAL, group_count=len(groups), mapping=mapping,
                         min_size=1)  # groups exactly as given, even of one
        self.do("f", b.preview(self.state, "f", f"r{len(self.state.rounds)}", spec, seed=1))
        self.do("f", b.open_round(self.state, "f", self.now))
        self.do("f", b.close(self.state, "f"))


def test_two_guests_with_one_name_stay_two_people() -> None:
    first = Log("m1", "2026-12-01T09:00:00+02:00")
    first.join("g1", "Anna Berg", "Vasa")
    first.join("x1", "Bo", "Esbo")
    first.round([["g1", "x1"]])
    second = Log("m2", "2026-12-08T09:00:00+02:00")
    second.join("g2", "Anna Berg", "Vasa")  # another guest of the same name
    second.join("x2", "Bo", "Esbo")
    assert len(cohort_encounters(second.state, [first.state])) == 0
    people = {p["id"]: p for p in network_report(second.state, [first.state])["participants"]}
    assert people["g2"]["people_met"] == 0


def test_a_roster_person_is_one_person_whatever_they_type() -> None:
    first = Log("m1", "2026-12-01T09:00:00+02:00")
    first.join("a1", "Anna Berg", "Vasa", person="anna")
    first.join("b1", "Bo Ek", "Esbo", person="bo")
    first.round([["a1", "b1"]])
    second = Log("m2", "2026-12-08T09:00:00+02:00")
    second.join("a2", "Anna B.", "vaasa", person="anna")
    second.join("b2", "B. Ek", "Espoo", person="bo")
    met = cohort_encounters(second.state, [first.state])
    assert met.count("a2", "b2") == 1
    people = {p["id"]: p for p in network_report(second.state, [first.state])["participants"]}
    assert people["a2"]["people_met"] == 1 and people["a2"]["municipalities_met"] == ["Esbo"]


def test_a_later_meeting_never_changes_an_earlier_one() -> None:
    early = Log("m-early", "2026-12-01T09:00:00+02:00", created=T0 + 5000)
    late = Log("m-late", "2026-12-08T09:00:00+02:00", created=T0)  # created first
    for log, suffix in ((early, "1"), (late, "2")):
        log.join(f"a{suffix}", "Anna", "Vasa", person="anna")
        log.join(f"b{suffix}", "Bo", "Esbo", person="bo")
    late.round([["a2", "b2"]])
    before = network_report(early.state, [])
    assert network_report(early.state, [late.state]) == before
    assert len(cohort_encounters(early.state, [late.state])) == 0
    early.round([["a1", "b1"]])
    assert network_report(early.state, [late.state])["rounds"][0]["repeat_pairs"] == 0
    # The later meeting does see the earlier one.
    assert network_report(late.state, [early.state])["rounds"][0]["repeat_pairs"] == 1


def test_municipalities_count_by_canonical_id() -> None:
    log = Log("m1", "2026-12-01T09:00:00+02:00")
    for i, typed in enumerate(["Vasa", "vasa", " VASA ", "Vaasa", "ACME  Oy", "acme oy"]):
        log.join(f"p{i}", f"P{i}", typed)
    shown = {p.id: p.municipality for p in log.state.meeting.present()}
    assert [shown[f"p{i}"] for i in range(4)] == ["Vasa"] * 4
    ids = {p.id: p.municipality for p in assignable(log.state)}
    assert len({ids[f"p{i}"] for i in range(4)}) == 1 and ids["p4"] == ids["p5"]
    log.round([["p0", "p1", "p2", "p3"], ["p4", "p5"]])
    mix = network_report(log.state, [])["rounds"][0]
    assert mix["same_municipality_pairs"] == 6 + 1


def test_old_logs_are_canonicalised_when_read() -> None:
    state = Session()
    state.apply(Event(1, T0, SYSTEM, "meeting.created", {
        "id": "m", "title": "t", "starts_at": "2026-12-01", "cohort": ""}))
    state.apply(Event(2, T0, "p", "participant.joined", {
        "id": "p", "name": "A", "municipality": "  helsinki ", "role": "participant",
        "room": "plenary"}))
    assert state.meeting.participants["p"].municipality == "Helsingfors"


def test_the_cohort_network_counts_people_and_municipalities() -> None:
    from facilitation.cohort_network import cohort_network
    from server.pages import graph

    first = Log("m1", "2026-12-01T09:00:00+02:00")
    second = Log("m2", "2026-12-08T09:00:00+02:00")
    for log, n in ((first, "1"), (second, "2")):
        log.join(f"a{n}", "Anna", "Vasa", person="anna")
        log.join(f"b{n}", "Bo", "vaasa", person="bo")
        log.join(f"c{n}", "Cia", "Esbo", person="cia")
    first.round([["a1", "b1", "c1"]])
    second.round([["a2", "b2"], ["c2"]])
    net = cohort_network([first.state, second.state])
    assert len(net.nodes) == 3 and "person:anna" in net.nodes
    assert net.met("person:anna") == {"person:bo": 2, "person:cia": 1}
    assert net.matrix == {("Vasa", "Vasa"): 2, ("Esbo", "Vasa"): 2}
    assert net.municipalities_met("person:anna") == ["Esbo"]
    only_first = cohort_network([first.state, second.state], {"m1"})
    assert only_first.met("person:anna") == {"person:bo": 1, "person:cia": 1}
    drawing = graph.svg(net, "network")
    assert drawing.count("<circle") == 3 and 'stroke-width="3.0"' in drawing  # a repeat
    assert graph.png(net).startswith(b"\x89PNG")
