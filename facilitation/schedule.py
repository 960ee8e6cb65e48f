"""Planning a whole session of breakout rounds at once.

``plan_session`` returns the groups of every round still to come, so that,
in this order of importance,

1. no round has more same-municipality pairs than the fewest possible
   (each municipality spread as evenly as the group sizes allow),
2. the session has the fewest repeated pairs (two people sharing a group who
   already shared one, in an earlier meeting or round),
3. the person who meets fewest people meets as many as possible (reported).

Hard constraints come first of all: two people kept together (a mentor
pair) share a group in every round, two kept apart never do, and with
``fair_seats`` the seats in the larger groups of an uneven split rotate so
that any two people's counts differ by at most one.

How: a start (round after round with the greedy ``arrange``, or a known
design: a resolvable transversal design over a finite field, which is a
schedule without any repeat for up to q rounds of k*q people in groups of
k) and then a tabu search over the whole schedule (Dotú and Van Hentenryck's
for the social golfer problem): take a pair that breaks a rule, one of the
rounds where they meet, and apply the best swap of one of them with someone
of another group of that round, with an incremental cost; recently swapped
people are tabu for a few iterations; after a long stall the search
restarts from the best schedule with a few random swaps. It is bounded by
iterations, never by a clock, and deterministic for a seed.

``repeat_bound`` is a lower bound on repeated pairs for the first two
criteria, printed beside each result: when the search reaches it, the plan
is proven optimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from random import Random

from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import InfeasibleConstraint, InvalidConstraint
from facilitation.mixer import Bounds, arrange
from facilitation.people import Person, checked_people, municipality_codes
from facilitation.sizing import check_group_count, group_sizes

COLLEAGUE = 1_000_000
APART = 1_000_000_000
ITERATIONS = 6_000
STALL = 600
TENURE = (4, 12)
NOISE = 0.1
RUNS = 4
MIN_RUN = 500
BALANCE_LIMIT = 300

Groups = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Constraints:
    """What a facilitator asked for: pairs together, pairs apart, fair larger seats."""

    together: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    fair_seats: bool = False

    @property
    def empty(self) -> bool:
        return not self.together and not self.apart and not self.fair_seats


NO_CONSTRAINTS = Constraints()


@dataclass(frozen=True)
class Plan:
    """The rounds to come and how good they are."""

    rounds: tuple[Groups, ...]
    colleague_pairs: int
    colleague_minimum: int
    repeats: int
    repeat_bound: int
    fewest_met: int
    seat_spread: int
    iterations: int
    start: str = "greedy"

    @property
    def optimal(self) -> bool:
        return self.colleague_pairs == self.colleague_minimum and self.repeats == self.repeat_bound

    def summary(self) -> dict[str, object]:
        """The figures as logged beside a planned round."""
        return {"rounds": len(self.rounds), "colleague_pairs": self.colleague_pairs,
                "colleague_minimum": self.colleague_minimum, "repeats": self.repeats,
                "repeat_bound": self.repeat_bound, "fewest_met": self.fewest_met,
                "seat_spread": self.seat_spread, "start": self.start}


def plan_session(
    people: Iterable[Person],
    *,
    rounds: int,
    group_count: int,
    seed: int,
    encounters: Encounters = NO_ENCOUNTERS,
    constraints: Constraints = NO_CONSTRAINTS,
    seats: Mapping[str, int] | None = None,
    warm: Sequence[Sequence[Sequence[str]]] | None = None,
    iterations: int = ITERATIONS,
) -> Plan:
    """Plan ``rounds`` rounds of ``group_count`` balanced groups for ``people``.

    ``encounters`` is who met whom before; ``seats`` how many times each
    person already sat in a larger group; ``warm`` an earlier plan of the
    same rounds to start from (re-planning after a join or leave).
    """
    roster = checked_people(people)
    check_group_count(len(roster), group_count)
    if rounds < 1:
        raise ValueError("plan at least one round")
    problem = _Problem(roster, group_count, rounds, encounters, constraints, seats or {})
    rng = Random(seed)
    starts: list[tuple[str, list[list[list[int]]]]] = []
    if warm:
        adapted = problem.adapt(warm)
        if adapted is not None:
            starts.append(("warm", adapted))
    if not starts:
        design = problem.design()
        if design is not None:
            starts.append(("design", problem.greedy(rng.getrandbits(64), design)))
        starts.append(("greedy", problem.greedy(rng.getrandbits(64))))
    # Runs of this search either succeed early or stall: several shorter runs (the
    # starts in turn, each run with fresh randomness) beat one long one.
    best: tuple[int, str, list[list[list[int]]]] | None = None
    used = attempt = 0
    run_length = max(MIN_RUN, iterations // RUNS)
    floor = COLLEAGUE * problem.colleague_minimum() + problem.repeat_bound()
    while best is None or (used < iterations and best[0] > floor):
        name, start = starts[attempt % len(starts)]
        attempt += 1
        search = _Search(problem, start, Random(rng.getrandbits(64)))
        ran = search.run(min(run_length, iterations - used))
        used += ran
        if best is None or search.best_cost < best[0]:
            best = (search.best_cost, name, search.best)
        if ran == 0:
            break  # nothing left that a move could improve
    assert best is not None
    final = _Search(problem, best[2], Random(rng.getrandbits(64)))
    final.balance_seats()
    return problem.plan(final.members, used, best[1])


class _Problem:
    """The data of one planning problem, people as indices."""

    def __init__(self, people: list[Person], group_count: int, rounds: int,
                 encounters: Encounters, constraints: Constraints,
                 seats: Mapping[str, int]) -> None:
        self.people = people
        self.n = len(people)
        self.rounds = rounds
        self.sizes = group_sizes(self.n, group_count)
        self.index = {p.id: i for i, p in enumerate(people)}
        self.muni = municipality_codes(people)
        self.prior: list[dict[int, int]] = [{} for _ in people]
        for key, times in encounters.counts.items():
            a, b = tuple(key)
            ia, ib = self.index.get(a), self.index.get(b)
            if ia is not None and ib is not None:
                self.prior[ia][ib] = times
                self.prior[ib][ia] = times
        self.fair = constraints.fair_seats
        self.seats = [seats.get(p.id, 0) for p in people]
        self.apart: list[set[int]] = [set() for _ in people]
        self.together: list[set[int]] = [set() for _ in people]
        self.components = self._components(constraints)
        self.pinned = {i for comp in self.components for i in comp}
        muni_sizes: dict[int, int] = {}
        for code in self.muni:
            muni_sizes[code] = muni_sizes.get(code, 0) + 1
        self.muni_size = [muni_sizes[code] for code in self.muni]
        self.avoidable = [size <= group_count for size in self.muni_size]

    def _components(self, constraints: Constraints) -> list[list[int]]:
        for kind, pairs in (("together", constraints.together), ("apart", constraints.apart)):
            for a, b in pairs:
                if a == b:
                    raise InvalidConstraint(f"A {kind} constraint names {a!r} twice.")
        links: dict[int, set[int]] = {}
        for a, b in constraints.together:
            ia, ib = self.index.get(a), self.index.get(b)
            if ia is None or ib is None:
                continue  # someone absent: the constraint waits for them
            self.together[ia].add(ib)
            self.together[ib].add(ia)
            links.setdefault(ia, set()).add(ib)
            links.setdefault(ib, set()).add(ia)
        for a, b in constraints.apart:
            ia, ib = self.index.get(a), self.index.get(b)
            if ia is not None and ib is not None:
                self.apart[ia].add(ib)
                self.apart[ib].add(ia)
        components: list[list[int]] = []
        seen: set[int] = set()
        for start in sorted(links):
            if start in seen:
                continue
            comp, todo = [], [start]
            seen.add(start)
            while todo:
                i = todo.pop()
                comp.append(i)
                for j in links[i] - seen:
                    seen.add(j)
                    todo.append(j)
            components.append(sorted(comp))
        smallest = min(self.sizes)
        for comp in components:
            names = ", ".join(self.people[i].id for i in comp)
            if len(comp) > smallest:
                raise InfeasibleConstraint(
                    f"Keeping {names} together needs a group of {len(comp)}, but the "
                    f"smallest group has {smallest}.")
            for i, j in combinations(comp, 2):
                if j in self.apart[i]:
                    raise InfeasibleConstraint(
                        f"{self.people[i].id} and {self.people[j].id} are to be kept both "
                        "together and apart.")
        if len(components) > len(self.sizes) and sum(map(len, components)) > 0:
            room = [0] * len(self.sizes)
            for comp in sorted(components, key=len, reverse=True):
                g = min(range(len(room)), key=lambda x: room[x])
                room[g] += len(comp)
            if any(used > size for used, size in zip(room, self.sizes, strict=True)):
                raise InfeasibleConstraint("The pairs to keep together do not fit into the groups.")
        return components

    # -- starts ---------------------------------------------------------------

    def greedy(self, seed: int,
               prefix: list[list[list[int]]] | None = None) -> list[list[list[int]]]:
        """Round after round with ``arrange``, encounters accumulating (after ``prefix``)."""
        rng = Random(seed)
        history = {frozenset((self.people[a].id, self.people[b].id)): t
                   for a in range(self.n) for b, t in self.prior[a].items() if a < b}
        encounters = Encounters(history)
        schedule = list(prefix or [])
        for members in schedule:
            encounters = encounters.merged([[self.people[i].id for i in g] for g in members])
        seats = list(self.seats)
        bounds = Bounds.balanced(self.n, len(self.sizes))
        for r in range(len(schedule), self.rounds):
            pinned = self._pin_components(r)
            groups = arrange(self.people, bounds, seed=rng.getrandbits(64),
                             encounters=encounters, pinned=pinned)
            members = [[self.index[pid] for pid in g] for g in groups]
            members.sort(key=len, reverse=True)
            if self.fair:
                self._rotate_seats(members, seats)
            for group in members:
                if len(group) > self.sizes[-1]:
                    for i in group:
                        seats[i] += 1
            schedule.append(members)
            encounters = encounters.merged([[self.people[i].id for i in g] for g in members])
        return schedule

    def _pin_components(self, r: int) -> dict[str, int]:
        pinned: dict[str, int] = {}
        load = [0] * len(self.sizes)
        count = len(self.sizes)
        for c, comp in enumerate(sorted(self.components, key=len, reverse=True)):
            order = sorted(range(count), key=lambda g: (load[g], (g - r - c) % count))
            g = next(g for g in order if load[g] + len(comp) <= self.sizes[-1])
            load[g] += len(comp)
            for i in comp:
                pinned[self.people[i].id] = g
        return pinned

    def _rotate_seats(self, members: list[list[int]], seats: list[int]) -> None:
        """Swap so the larger groups hold the people with the fewest larger seats."""
        small = self.sizes[-1]
        large_groups = [g for g in members if len(g) > small]
        small_groups = [g for g in members if len(g) == small]
        while large_groups:
            big = [(seats[i], i, g) for g in large_groups for i in g if i not in self.pinned]
            little = [(seats[i], i, g) for g in small_groups for i in g if i not in self.pinned]
            if not big or not little:
                return
            most = max(big)
            least = min(little)
            if most[0] <= least[0]:
                return
            _, i, gi = most
            _, j, gj = least
            gi[gi.index(i)] = j
            gj[gj.index(j)] = i

    def design(self) -> list[list[list[int]]] | None:
        """The first rounds from a resolvable transversal design when one fits: k*q
        people in q groups of k (q a prime power, q >= k) for up to q rounds (k*k
        people: q+1 rounds, an affine plane); ``greedy`` continues after them.

        Column x holds the people (x, y); in round m, group b is
        {(x, m*x + b)}: two people of different columns meet exactly once
        over the q rounds, two of one column never. Municipalities fill
        columns, so colleagues stay apart.
        """
        count = len(self.sizes)
        k = self.sizes[0]
        if self.pinned or self.fair or len(set(self.sizes)) != 1 or k < 2 or count < k:
            return None
        field_ = _field(count)
        if field_ is None:
            return None
        add, mul = field_
        columns = self._fill_columns(k, count)
        schedule = []
        for m in range(min(self.rounds, count)):
            groups = [[columns[x][add[mul[m][x]][b]] for x in range(k)] for b in range(count)]
            schedule.append(groups)
        if self.rounds > count and count == k:
            schedule.append([list(column) for column in columns])
        return schedule

    def _fill_columns(self, k: int, q: int) -> list[list[int]]:
        by_muni: dict[int, list[int]] = {}
        for i, code in enumerate(self.muni):
            by_muni.setdefault(code, []).append(i)
        columns: list[list[int]] = [[] for _ in range(k)]
        for members in sorted(by_muni.values(), key=len, reverse=True):
            for i in members:
                fits = [x for x in range(k) if len(columns[x]) < q]
                same = [x for x in fits if columns[x] and self.muni[columns[x][-1]] == self.muni[i]]
                x = same[0] if same else min(fits, key=lambda c: (len(columns[c]), c))
                columns[x].append(i)
        return columns

    def adapt(self, warm: Sequence[Sequence[Sequence[str]]]) -> list[list[list[int]]] | None:
        """An earlier plan fitted to today's people and sizes, or None if it cannot be."""
        if len(warm) < self.rounds or any(len(groups) != len(self.sizes) for groups in warm):
            return None
        schedule = []
        for groups in warm[: self.rounds]:
            members = [[self.index[pid] for pid in g if pid in self.index] for g in groups]
            placed = {i for g in members for i in g}
            if len(placed) != sum(len(g) for g in members):
                return None
            extra = [i for i in range(self.n) if i not in placed]
            members.sort(key=len, reverse=True)
            for i in extra:
                g = min(range(len(members)), key=lambda x: (len(members[x]), x))
                members[g].append(i)
            while True:
                members.sort(key=len, reverse=True)
                if len(members[0]) - len(members[-1]) <= 1:
                    break
                members[-1].append(members[0].pop())
            if self.pinned and not self._components_whole(members):
                return None
            schedule.append(members)
        return schedule

    def _components_whole(self, members: list[list[int]]) -> bool:
        group_of = {i: g for g, group in enumerate(members) for i in group}
        return all(len({group_of[i] for i in comp}) == 1 for comp in self.components)

    # -- figures ---------------------------------------------------------------

    def colleague_minimum(self) -> int:
        """Fewest same-municipality pairs per round times rounds (blank ones excluded)."""
        sizes: dict[int, int] = {}
        for code in self.muni:
            sizes[code] = sizes.get(code, 0) + 1
        return sum(_spread_pairs(m, len(self.sizes)) for m in sizes.values()) * self.rounds

    def repeat_bound(self) -> int:
        """Repeated pairs no schedule with the fewest colleague pairs can avoid.

        Per person: the encounters they must have (the smallest group each
        round) minus the people they could still meet for the first time
        (non-colleagues they have not met; colleagues too when their
        municipality has more people than there are groups); every repeated
        pair counts for two people. Overall: all encounters minus all pairs
        not yet met. Every later round: the groups of the first round are
        cliques, spread over the groups no better than evenly. Pairs kept
        together are not counted.
        """
        if self.components:
            return 0
        meets = (self.sizes[-1] - 1) * self.rounds
        excess = 0
        for i in range(self.n):
            met = self.prior[i]
            new = self.n - 1 - len(met)
            if self.avoidable[i]:
                colleagues_met = sum(1 for j in met if self.muni[j] == self.muni[i])
                new -= self.muni_size[i] - 1 - colleagues_met
            excess += max(0, meets - new)
        per_person = (excess + 1) // 2
        encounters = sum(s * (s - 1) // 2 for s in self.sizes) * self.rounds
        fresh = self.n * (self.n - 1) // 2 - sum(len(m) for m in self.prior) // 2
        cliques = sum(_spread_pairs(size, len(self.sizes)) for size in self.sizes)
        return max(per_person, encounters - fresh, cliques * (self.rounds - 1))

    def plan(self, schedule: list[list[list[int]]], iterations: int, start: str) -> Plan:
        counts: list[dict[int, int]] = [dict(m) for m in self.prior]
        colleague = repeats = 0
        seats = list(self.seats)
        small = self.sizes[-1]
        rounds = []
        for members in schedule:
            members = sorted(members, key=len, reverse=True)
            for group in members:
                if len(group) > small:
                    for i in group:
                        seats[i] += 1
                for a, b in combinations(group, 2):
                    if self.muni[a] == self.muni[b]:
                        colleague += 1
                    c = counts[a].get(b, 0)
                    if c and b not in self.together[a]:
                        repeats += 1
                    counts[a][b] = counts[b][a] = c + 1
            for group in members:
                for a, b in combinations(group, 2):
                    if b in self.apart[a]:
                        raise InfeasibleConstraint(
                            f"{self.people[a].id} and {self.people[b].id} cannot be kept "
                            "apart with these groups.")
            rounds.append(tuple(tuple(self.people[i].id for i in sorted(g)) for g in members))
        fewest = min((len(c) for c in counts), default=0)
        spread = max(seats) - min(seats) if seats else 0
        return Plan(tuple(rounds), colleague, self.colleague_minimum(), repeats,
                    self.repeat_bound(), fewest, spread, iterations, start)


class _Search:
    """Tabu search over a whole schedule; people are indices, groups lists."""

    def __init__(self, problem: _Problem, schedule: list[list[list[int]]], rng: Random) -> None:
        self.p = problem
        self.rng = rng
        self.members = [[list(g) for g in groups] for groups in schedule]
        n = problem.n
        self.group_of = [[0] * n for _ in self.members]
        for r, groups in enumerate(self.members):
            for g, group in enumerate(groups):
                for i in group:
                    self.group_of[r][i] = g
        self.count = [dict(m) for m in problem.prior]
        self.seats = list(problem.seats)
        self.small = problem.sizes[-1]
        for groups in self.members:
            for group in groups:
                if len(group) > self.small:
                    for i in group:
                        self.seats[i] += 1
                for a, b in combinations(group, 2):
                    c = self.count[a].get(b, 0) + 1
                    self.count[a][b] = self.count[b][a] = c
        self.seat_values: dict[int, int] = {}
        for value in self.seats:
            self.seat_values[value] = self.seat_values.get(value, 0) + 1
        self.twice = [{b for b, c in partners.items() if c >= 2} for partners in self.count]
        self.simple = not problem.pinned and not any(problem.apart)
        self.hot: list[tuple[int, int]] = []
        self.hot_at: dict[tuple[int, int], int] = {}
        self.cost = 0
        for a in range(n):
            for b in self.count[a]:
                if a < b:
                    self._rehot(a, b)
                    self.cost += self._pair_cost(a, b)
        self.best = self.snapshot()
        self.best_cost = self.cost
        self.floor = COLLEAGUE * problem.colleague_minimum() + problem.repeat_bound()

    def snapshot(self) -> list[list[list[int]]]:
        return [[list(g) for g in groups] for groups in self.members]

    def _weight(self, a: int, b: int) -> int:
        w = COLLEAGUE if self.p.muni[a] == self.p.muni[b] else 0
        return w + APART if b in self.p.apart[a] else w

    def _pair_cost(self, a: int, b: int) -> int:
        if b in self.p.together[a]:
            return 0
        c = self.count[a].get(b, 0)
        k = c - self.p.prior[a].get(b, 0)
        return self._weight(a, b) * k + max(0, c - 1) - max(0, c - k - 1)

    def _is_hot(self, a: int, b: int) -> bool:
        c = self.count[a].get(b, 0)
        if c == 0 or b in self.p.together[a]:
            return False
        if c - self.p.prior[a].get(b, 0) < 1:
            return False
        if c >= 2 or b in self.p.apart[a]:
            return True
        return self.p.muni[a] == self.p.muni[b] and self.p.avoidable[a]

    def _rehot(self, a: int, b: int) -> None:
        key = (a, b) if a < b else (b, a)
        hot = self._is_hot(a, b)
        at = self.hot_at.get(key)
        if hot and at is None:
            self.hot_at[key] = len(self.hot)
            self.hot.append(key)
        elif not hot and at is not None:
            last = self.hot.pop()
            if last != key:
                self.hot[at] = last
                self.hot_at[last] = at
            del self.hot_at[key]

    def _gain_in(self, a: int, x: int) -> int:
        """Cost change when a meets x once more."""
        if x in self.p.together[a]:
            return 0
        return self._weight(a, x) + (1 if self.count[a].get(x, 0) >= 1 else 0)

    def _gain_out(self, a: int, x: int) -> int:
        """Cost change when a meets x once less."""
        if x in self.p.together[a]:
            return 0
        return -self._weight(a, x) - (1 if self.count[a].get(x, 0) >= 2 else 0)

    def run(self, iterations: int) -> int:
        """Search for at most ``iterations`` moves; returns how many it used."""
        tabu = [[0] * self.p.n for _ in self.members]
        last_gain = 0
        it = 0
        pinned = self.p.pinned
        floor = self.floor
        while it < iterations and self.hot and self.best_cost > floor:
            it += 1
            a, b = self.hot[self.rng.randrange(len(self.hot))]
            rounds = [r for r, gof in enumerate(self.group_of) if gof[a] == gof[b]]
            r = self.rng.choice(rounds)
            movers = [i for i in (a, b) if i not in pinned]
            move: tuple[int, int, int] | None = None
            for m in movers:
                found = self._best_swap(r, m, tabu[r], it)
                if found is not None and (move is None or found[0] < move[0]):
                    move = (found[0], m, found[1])
            if move is None:
                continue
            delta, m, o = move
            if delta > 0 and self.rng.random() >= NOISE:
                continue
            self._swap(r, m, o)
            self.cost += delta
            low, high = TENURE
            tabu[r][m] = it + self.rng.randint(low, high)
            tabu[r][o] = it + self.rng.randint(low, high)
            if self.cost < self.best_cost:
                self.best_cost = self.cost
                self.best = self.snapshot()
                last_gain = it
            elif it - last_gain > STALL:
                self._restart()
                tabu = [[0] * self.p.n for _ in self.members]
                last_gain = it
        return it

    def _best_swap(self, r: int, m: int, tabu: list[int], it: int) -> tuple[int, int] | None:
        if self.simple:
            return self._best_swap_fast(r, m, tabu, it)
        gof = self.group_of[r]
        groups = self.members[r]
        ga = gof[m]
        home = groups[ga]
        out_m = sum(self._gain_out(m, x) for x in home if x != m)
        best: tuple[int, int] | None = None
        ties = 0
        pinned = self.p.pinned
        fair = self.p.fair
        for gb, other in enumerate(groups):
            if gb == ga:
                continue
            sized = len(other) != len(home)
            in_m = sum(self._gain_in(m, y) for y in other)
            for o in other:
                if o in pinned:
                    continue
                if sized and fair and not self._fair_swap(
                        *((m, o) if len(home) > len(other) else (o, m))):
                    continue
                delta = out_m + in_m - self._gain_in(m, o)
                delta += sum(self._gain_out(o, y) for y in other if y != o)
                delta += sum(self._gain_in(o, x) for x in home if x != m)
                if tabu[o] > it and self.cost + delta >= self.best_cost:
                    continue
                if best is None or delta < best[0]:
                    best, ties = (delta, o), 1
                elif delta == best[0]:
                    ties += 1
                    if self.rng.randrange(ties) == 0:
                        best = (delta, o)
        return best

    def _best_swap_fast(self, r: int, m: int, tabu: list[int],
                        it: int) -> tuple[int, int] | None:
        """``_best_swap`` without pairs kept together or apart: counts by set and
        municipality tallies instead of a cost call per pair."""
        muni, count, twice = self.p.muni, self.count, self.twice
        groups = self.members[r]
        home = groups[self.group_of[r][m]]
        mm = muni[m]
        cm, tm = count[m], twice[m]
        home_set = set(home)
        home_munis: dict[int, int] = {}
        for x in home:
            home_munis[muni[x]] = home_munis.get(muni[x], 0) + 1
        out_m = -COLLEAGUE * (home_munis[mm] - 1) - len(tm & home_set)
        best: tuple[int, int] | None = None
        ties = 0
        fair = self.p.fair
        limit = self.best_cost - self.cost
        rng = self.rng
        for other in groups:
            if other is home:
                continue
            sized = len(other) != len(home)
            other_set = set(other)
            other_munis: dict[int, int] = {}
            for y in other:
                other_munis[muni[y]] = other_munis.get(muni[y], 0) + 1
            in_m = COLLEAGUE * other_munis.get(mm, 0) + len(cm.keys() & other_set)
            for o in other:
                if sized and fair and not self._fair_swap(
                        *((m, o) if len(home) > len(other) else (o, m))):
                    continue
                mo = muni[o]
                co = count[o]
                same = mm == mo
                delta = out_m + in_m - (COLLEAGUE if same else 0) - (o in cm)
                delta -= COLLEAGUE * (other_munis[mo] - 1) + len(twice[o] & other_set)
                delta += (COLLEAGUE * (home_munis.get(mo, 0) - (1 if same else 0))
                          + len(co.keys() & home_set) - (m in co))
                if tabu[o] > it and delta >= limit:
                    continue
                if best is None or delta < best[0]:
                    best, ties = (delta, o), 1
                elif delta == best[0]:
                    ties += 1
                    if rng.randrange(ties) == 0:
                        best = (delta, o)
        return best

    def _fair_swap(self, leaving: int, joining: int) -> bool:
        """True if ``leaving`` may give its larger-group seat to ``joining``: the
        seat counts end no further apart than one (or than they already are)."""
        seats = self.seats
        low, high = min(self.seat_values), max(self.seat_values)
        values = dict(self.seat_values)
        for i, step in ((leaving, -1), (joining, 1)):
            values[seats[i]] -= 1
            values[seats[i] + step] = values.get(seats[i] + step, 0) + 1
        present = [v for v, c in values.items() if c > 0]
        return max(present) - min(present) <= max(1, high - low)

    def _swap(self, r: int, m: int, o: int) -> None:
        gof = self.group_of[r]
        groups = self.members[r]
        ga, gb = gof[m], gof[o]
        home, other = groups[ga], groups[gb]
        for x in home:
            if x != m:
                self._meet(m, x, -1)
        for y in other:
            if y != o:
                self._meet(o, y, -1)
        home[home.index(m)] = o
        other[other.index(o)] = m
        gof[m], gof[o] = gb, ga
        for x in home:
            if x != o:
                self._meet(o, x, 1)
        for y in other:
            if y != m:
                self._meet(m, y, 1)
        if len(home) != len(other):
            step = 1 if len(other) > len(home) else -1
            for i, change in ((m, step), (o, -step)):
                self.seat_values[self.seats[i]] -= 1
                self.seats[i] += change
                self.seat_values[self.seats[i]] = self.seat_values.get(self.seats[i], 0) + 1
            for value in [v for v, c in self.seat_values.items() if c == 0]:
                del self.seat_values[value]

    def _meet(self, a: int, b: int, step: int) -> None:
        c = self.count[a].get(b, 0) + step
        if c:
            self.count[a][b] = self.count[b][a] = c
        else:
            del self.count[a][b]
            del self.count[b][a]
        if c >= 2:
            self.twice[a].add(b)
            self.twice[b].add(a)
        else:
            self.twice[a].discard(b)
            self.twice[b].discard(a)
        self._rehot(a, b)

    def balance_seats(self) -> None:
        """The third criterion: move larger-group seats from people with more to people
        with at least two fewer, by swaps that cost nothing (no colleague, no repeat),
        so that whoever meets fewest people meets more. Each swap lowers the sum of
        squared seat counts, so this ends; it is skipped for very large meetings."""
        if self.p.pinned or len(set(self.p.sizes)) == 1 or self.p.n > BALANCE_LIMIT:
            return
        for _ in range(self.p.n):
            if max(self.seat_values) - min(self.seat_values) <= 1 or not self._give_seat():
                return

    def _give_seat(self) -> bool:
        """One free swap in some round from a person in a larger group to one in a
        smaller group with at least two seats fewer; False if there is none."""
        seats, small = self.seats, self.small
        for r, groups in enumerate(self.members):
            givers = sorted(((seats[i], i, g) for g in groups if len(g) > small for i in g
                             if i not in self.p.pinned), reverse=True)
            takers = sorted((seats[j], j, g) for g in groups if len(g) == small for j in g
                            if j not in self.p.pinned)
            for high, i, big in givers:
                for low, j, little in takers:
                    if high - low < 2:
                        break
                    delta = sum(self._gain_out(i, x) for x in big if x != i)
                    delta += sum(self._gain_in(i, y) for y in little if y != j)
                    delta += sum(self._gain_out(j, y) for y in little if y != j)
                    delta += sum(self._gain_in(j, x) for x in big if x != i)
                    if delta <= 0:
                        self._swap(r, i, j)
                        self.cost += delta
                        return True
        return False

    def _restart(self) -> None:
        """Back to the best schedule, shaken by a few random swaps of equal-size groups."""
        shaken = [[list(g) for g in groups] for groups in self.best]
        free = [i for i in range(self.p.n) if i not in self.p.pinned]
        for _ in range(max(2, self.p.n // 10) if len(free) > 1 else 0):
            groups = shaken[self.rng.randrange(len(shaken))]
            m, o = self.rng.sample(free, 2)
            gm = next(g for g in groups if m in g)
            go = next(g for g in groups if o in g)
            if gm is not go and len(gm) == len(go):
                gm[gm.index(m)], go[go.index(o)] = o, m
        state = _Search(self.p, shaken, self.rng)
        self.members, self.group_of, self.count = state.members, state.group_of, state.count
        self.twice, self.seats, self.seat_values = state.twice, state.seats, state.seat_values
        self.hot, self.hot_at, self.cost = state.hot, state.hot_at, state.cost


def _spread_pairs(people: int, groups: int) -> int:
    """Fewest pairs among ``people`` of one kind spread over ``groups`` groups."""
    base, extra = divmod(people, groups)
    return extra * (base + 1) * base // 2 + (groups - extra) * base * (base - 1) // 2


def _field(q: int) -> tuple[list[list[int]], list[list[int]]] | None:
    """Addition and multiplication tables of GF(q), or None if q is no prime power."""
    p = next((d for d in range(2, q + 1) if q % d == 0), q)
    e, rest = 0, q
    while rest % p == 0:
        rest //= p
        e += 1
    if rest != 1 or q < 2:
        return None
    if e == 1:
        return ([[(a + b) % p for b in range(q)] for a in range(q)],
                [[(a * b) % p for b in range(q)] for a in range(q)])
    poly = _primitive(p, e)

    def digits(x: int) -> list[int]:
        return [(x // p**i) % p for i in range(e)]

    def number(ds: Sequence[int]) -> int:
        return sum(d * p**i for i, d in enumerate(ds))

    def times(x: int, y: int) -> int:
        prod = [0] * (2 * e - 1)
        for i, a in enumerate(digits(x)):
            for j, b in enumerate(digits(y)):
                prod[i + j] = (prod[i + j] + a * b) % p
        for deg in range(2 * e - 2, e - 1, -1):
            lead = prod[deg]
            if lead:
                for i in range(e + 1):
                    prod[deg - e + i] = (prod[deg - e + i] - lead * poly[i]) % p
        return number(prod[:e])

    add = [[number([(a + b) % p for a, b in zip(digits(x), digits(y), strict=True)])
            for y in range(q)] for x in range(q)]
    mul = [[times(x, y) for y in range(q)] for x in range(q)]
    return add, mul


def _primitive(p: int, e: int) -> list[int]:
    """Coefficients (lowest first, monic) of a primitive polynomial of degree e over GF(p)."""
    q = p**e
    for code in range(q):
        poly = [(code // p**i) % p for i in range(e)] + [1]
        if poly[0] == 0:
            continue
        x = [0] * e
        x[0] = 1
        order = 0
        while True:
            carry = x[e - 1]
            x = [0, *x[: e - 1]]
            x = [(x[i] - carry * poly[i]) % p for i in range(e)]
            order += 1
            if x == [1] + [0] * (e - 1) or order > q:
                break
        if order == q - 1:
            return poly
    raise AssertionError(f"no primitive polynomial of degree {e} over GF({p})")
