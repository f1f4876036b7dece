"""Pure, seeded planning for the four inspection modes (自查 / 互查 / 抽查 / 暗查).

Nothing here imports Flask or the database: plain frozen dataclasses go in, plain frozen dataclasses
come out, and every random choice is made by one ``random.Random(seed)``, so the same inputs and
the same seed always give the same plan. Input order never matters either: teams, outlets and
candidates are sorted by id before anything random happens, so a plan can be reproduced from rows
read back from the database in any order.

Operations call these functions and store the seed (and, for spot checks, the weights) next to the
assignments they create. Errors are :class:`PlanningError` (a ``ValueError`` with a stable ``code``
and Chinese ``messages``); operations turn it into the app's ``InvalidInput``, as they do for the
scoring engine's ``ScoringError``.

Peer cross-checks (互查) report infeasibility by **returning** a plan with ``ok=False``, an empty
``assignments`` tuple and a non-empty ``problems`` list (each a :class:`PlanningProblem` with a
machine ``code`` and a Chinese ``message``). Callers who prefer an exception call
:meth:`PeerPlan.raise_if_infeasible`, which raises :class:`PlanningInfeasible` carrying the same
problems. A rule is never silently relaxed.
"""
from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from itertools import product
from typing import Any, TypeAlias

from ..messages import N_, Message, joined

Id: TypeAlias = Hashable


# --------------------------------------------------------------------------------------------
# Errors and problems
# --------------------------------------------------------------------------------------------


class PlanningError(ValueError):
    """Input a planner cannot work with; ``messages`` are Chinese sentences for users
    (:class:`~inspect_app.messages.Message`, said in the reader's language where shown)."""

    code = "invalid_planning_input"

    def __init__(self, messages: str | Iterable[str], *, code: str | None = None):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        self.message: Message = joined(self.messages)
        if code:
            self.code = code
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """One reason a plan breaks (or cannot meet) a rule: a stable ``code`` and a Chinese message."""

    #: machine code, e.g. ``"reciprocal_forced"``; see :data:`PROBLEM_CODES`
    code: str
    #: a full Chinese sentence a service manager can act on
    message: str
    #: the sub-branches the problem is about, so a page can highlight them
    subbranch_ids: tuple[Id, ...] = ()


class PlanningInfeasible(PlanningError):
    """Raised by :meth:`PeerPlan.raise_if_infeasible` when the peer-check rules cannot all hold."""

    code = "planning_infeasible"

    def __init__(self, problems: Sequence[PlanningProblem]):
        self.problems: list[PlanningProblem] = list(problems)
        super().__init__([p.message for p in self.problems] or [Message("无法生成互查计划")])


#: Every problem code the peer planner and :func:`validate_peer_plan` can report.
PROBLEM_CODES: dict[str, str] = {
    "no_teams": "there are outlets to inspect but no inspection team at all",
    "team_capacity_exceeded": "outlets_per_team is too small for the number of outlets",
    "no_inspector_for_subbranch": "every other sub-branch is without teams or recently paired",
    "teams_without_targets": "a sub-branch's teams must work but have nothing they may inspect",
    "reciprocal_forced": "two sub-branches could only inspect each other",
    "load_balance_impossible": "the pairing rules hold only if team loads differ by more than 1",
    "search_exhausted": "the bounded search found no plan meeting every rule",
    # raised by validate_peer_plan on a finished (e.g. hand-edited) plan
    "unknown_team": "an assignment names a team that is not in scope",
    "unknown_outlet": "an assignment names an outlet that is not in scope",
    "subbranch_mismatch": "an assignment's sub-branch ids disagree with its team or outlet",
    "own_subbranch": "a team inspects an outlet of its own sub-branch",
    "outlet_unassigned": "an outlet in scope has no team",
    "outlet_assigned_twice": "an outlet has more than one team",
    "reciprocal_pair": "A inspects B and B inspects A in the same cycle",
    "recent_pair": "a sub-branch pair was used within the last no_repeat_cycles cycles",
    "load_unbalanced": "team loads differ by more than 1",
}


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _sort_key(value: Any) -> tuple[str, Any]:
    """Order ids of one type naturally and ids of mixed types by type name first."""
    return (type(value).__name__, value)


def _subbranch_label(subbranch_id: Id, names: Mapping[Id, str] | None) -> str:
    """``路北`` → ``路北支行``; a name that already ends in 支行 is kept as it is."""
    label = str((names or {}).get(subbranch_id, subbranch_id))
    return label if label.endswith("支行") else f"{label}支行"


def _check_unique(ids: Iterable[Id], what: str) -> None:
    duplicates = sorted((i for i, n in Counter(ids).items() if n > 1), key=_sort_key)
    if duplicates:
        shown = joined([str(i) for i in duplicates[:5]], Message("、"))
        raise PlanningError(Message("%(what)s编号重复：%(ids)s", what=Message(what), ids=shown),
                            code="duplicate_id")


# --------------------------------------------------------------------------------------------
# 1. Peer cross-check pairing (互查)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerTeam:
    """An inspection team and the sub-branch it belongs to."""

    id: Id
    subbranch_id: Id


@dataclass(frozen=True, slots=True)
class PeerOutlet:
    """An outlet in the campaign's scope and its sub-branch."""

    id: Id
    subbranch_id: Id


@dataclass(frozen=True, slots=True)
class PastPair:
    """A sub-branch pair from an earlier cycle: ``inspecting`` checked outlets of ``inspected``."""

    cycle_index: int
    inspecting_subbranch_id: Id
    inspected_subbranch_id: Id


@dataclass(frozen=True, slots=True)
class PeerAssignment:
    """One team inspecting one outlet of another sub-branch."""

    team_id: Id
    outlet_id: Id
    inspecting_subbranch_id: Id
    inspected_subbranch_id: Id


@dataclass(frozen=True, slots=True)
class SubbranchPair:
    """A directed sub-branch pair used by a plan and how many outlets it covers."""

    inspecting_subbranch_id: Id
    inspected_subbranch_id: Id
    outlet_count: int


@dataclass(frozen=True, slots=True)
class PeerPlan:
    """The result of :func:`pair_peer_checks`.

    ``ok=True``: ``assignments`` meets every rule. ``ok=False``: ``assignments`` and
    ``subbranch_pairs`` are empty and ``problems`` says, in Chinese, why no plan exists.
    """

    ok: bool
    assignments: tuple[PeerAssignment, ...] = ()
    subbranch_pairs: tuple[SubbranchPair, ...] = ()
    seed: Any = None
    problems: tuple[PlanningProblem, ...] = ()
    #: the cycle the plan is for (given, or one after the newest history entry)
    cycle_index: int = 0

    @property
    def messages(self) -> list[str]:
        """The Chinese problem messages, for a flash message or a JSON error."""
        return [p.message for p in self.problems]

    def team_loads(self) -> dict[Id, int]:
        """Number of outlets per team that received at least one."""
        return dict(Counter(a.team_id for a in self.assignments))

    def history_entries(self) -> list[PastPair]:
        """This plan's sub-branch pairs as history for planning the following cycles."""
        return [PastPair(self.cycle_index, p.inspecting_subbranch_id, p.inspected_subbranch_id)
                for p in self.subbranch_pairs]

    def raise_if_infeasible(self) -> PeerPlan:
        """Return the plan when ``ok``; otherwise raise :class:`PlanningInfeasible`."""
        if not self.ok:
            raise PlanningInfeasible(self.problems)
        return self


#: Neighbour counts tried, one ring per attempt, on the sparse ring search (large trees stay fast).
_RING_NEIGHBOURS = (2, 3, 4, 6, 8, 12, 16)
#: Balanced rings tried with the tidy conveyor before any flow search.
_CONVEYOR_RINGS = 4
#: Random-orientation attempts over all pairs, only for trees of at most _SMALL_TREE sub-branches.
_TOURNAMENT_ATTEMPTS = 24
_SMALL_TREE = 60
#: Every orientation of the contested pairs is tried when there are at most this many of them.
_EXHAUSTIVE_PAIRS = 10


def _as_past_pair(entry: PastPair | Sequence[Any]) -> PastPair:
    return entry if isinstance(entry, PastPair) else PastPair(*entry)


def _planned_cycle(history: Sequence[PastPair], cycle_index: int | None) -> int:
    if cycle_index is not None:
        return cycle_index
    return max((h.cycle_index for h in history), default=-1) + 1


def _recent_pairs(history: Sequence[PastPair], current: int, no_repeat_cycles: int
                  ) -> set[tuple[Id, Id]]:
    """Directed pairs used in cycles ``current - no_repeat_cycles … current - 1``."""
    return {(h.inspecting_subbranch_id, h.inspected_subbranch_id) for h in history
            if current - no_repeat_cycles <= h.cycle_index < current}


#: outlets routed per (inspecting, inspected) pair, and extra-load teams per inspecting sub-branch
_FlowResult: TypeAlias = tuple[dict[tuple[Id, Id], int], dict[Id, int]]


class _FlowNetwork:
    """Dinic's maximum flow with an iterative search (augmenting paths can be thousands long)."""

    def __init__(self, size: int):
        self.adjacent: list[list[int]] = [[] for _ in range(size)]
        self.head: list[int] = []
        self.capacity: list[int] = []

    def add_edge(self, tail: int, head: int, capacity: int) -> int:
        index = len(self.head)
        self.head += [head, tail]
        self.capacity += [capacity, 0]
        self.adjacent[tail].append(index)
        self.adjacent[head].append(index + 1)
        return index

    def flow_on(self, edge: int) -> int:
        return self.capacity[edge ^ 1]

    def max_flow(self, source: int, sink: int) -> int:
        total = 0
        while True:
            level = self._levels(source)
            if level[sink] < 0:
                return total
            cursor = [0] * len(self.adjacent)
            while pushed := self._augment(source, sink, level, cursor):
                total += pushed

    def _levels(self, source: int) -> list[int]:
        level = [-1] * len(self.adjacent)
        level[source] = 0
        frontier = [source]
        while frontier:
            following = []
            for node in frontier:
                for edge in self.adjacent[node]:
                    nxt = self.head[edge]
                    if self.capacity[edge] > 0 and level[nxt] < 0:
                        level[nxt] = level[node] + 1
                        following.append(nxt)
            frontier = following
        return level

    def _augment(self, source: int, sink: int, level: list[int], cursor: list[int]) -> int:
        path: list[int] = []
        node = source
        while True:
            if node == sink:
                pushed = min(self.capacity[e] for e in path)
                for edge in path:
                    self.capacity[edge] -= pushed
                    self.capacity[edge ^ 1] += pushed
                return pushed
            edges = self.adjacent[node]
            while cursor[node] < len(edges):
                edge = edges[cursor[node]]
                nxt = self.head[edge]
                if self.capacity[edge] > 0 and level[nxt] == level[node] + 1:
                    path.append(edge)
                    node = nxt
                    break
                cursor[node] += 1
            else:
                if node == source:
                    return 0
                level[node] = -1  # dead end for the rest of this phase
                node = self.head[path.pop() ^ 1]
                cursor[node] += 1


@dataclass(slots=True)
class _PeerScope:
    """Everything the search needs, indexed once."""

    subbranches: list[Id]
    teams: dict[Id, list[Id]]
    outlets: dict[Id, list[Id]]
    recent: set[tuple[Id, Id]]
    base_load: int
    extra_teams: int
    total_outlets: int

    def useful(self, inspecting: Id, inspected: Id) -> bool:
        """Whether teams of ``inspecting`` may inspect outlets of ``inspected`` at all."""
        return (inspecting != inspected and bool(self.teams.get(inspecting))
                and bool(self.outlets.get(inspected))
                and (inspecting, inspected) not in self.recent)

    def contested(self, a: Id, b: Id) -> bool:
        """Both directions are usable, so the reciprocal rule forces a choice between them."""
        return self.useful(a, b) and self.useful(b, a)


def _solve_flow(scope: _PeerScope, edges: Sequence[tuple[Id, Id]], balanced: bool
                ) -> _FlowResult | None:
    """Route every outlet over ``edges``; return flow per edge and extra-load teams per sub-branch.

    Balanced: sub-branch A's teams take ``base_load`` each, plus one more for exactly
    ``extra_teams`` teams overall (source → A for the base, source → X → A for the extras).
    Unbalanced (only to diagnose): A may take any number.
    """
    index = {sb: i for i, sb in enumerate(scope.subbranches)}
    count = len(scope.subbranches)
    source, sink, extra = 2 * count, 2 * count + 1, 2 * count + 2
    network = _FlowNetwork(2 * count + 3)
    extra_edges: dict[Id, int] = {}
    for sb in scope.subbranches:
        team_count = len(scope.teams.get(sb, ()))
        if team_count:
            if balanced:
                network.add_edge(source, index[sb], team_count * scope.base_load)
                if scope.extra_teams:
                    extra_edges[sb] = network.add_edge(extra, index[sb], team_count)
            else:
                network.add_edge(source, index[sb], scope.total_outlets)
        if scope.outlets.get(sb):
            network.add_edge(count + index[sb], sink, len(scope.outlets[sb]))
    if balanced and scope.extra_teams:
        network.add_edge(source, extra, scope.extra_teams)
    pair_edges = {(a, b): network.add_edge(index[a], count + index[b], scope.total_outlets)
                  for a, b in edges}
    if network.max_flow(source, sink) < scope.total_outlets:
        return None
    flows = {pair: network.flow_on(e) for pair, e in pair_edges.items() if network.flow_on(e)}
    extras = {sb: network.flow_on(e) for sb, e in extra_edges.items()}
    return flows, extras


def _balanced_ring(scope: _PeerScope, rng: random.Random) -> list[Id]:
    """A random ring order in which team capacity and outlets stay level as one walks round it.

    Sub-branches with more team capacity than outlets alternate with those with fewer, so every
    stretch of the ring can inspect roughly its own outlets shifted by a place or two; a plain
    shuffle drifts like a random walk, and a national tree would then need long-distance pairs.
    """
    teams_total = sum(len(ids) for ids in scope.teams.values())
    surplus: list[Id] = []
    deficit: list[Id] = []
    excess: dict[Id, int] = {}
    for sb in scope.subbranches:  # capacity minus outlets, scaled by teams_total to stay integral
        excess[sb] = (len(scope.teams.get(sb, ())) * scope.total_outlets
                      - len(scope.outlets.get(sb, ())) * teams_total)
        (surplus if excess[sb] > 0 else deficit).append(sb)
    rng.shuffle(surplus)
    rng.shuffle(deficit)
    ring: list[Id] = []
    running = 0
    while surplus or deficit:
        pool = surplus if (surplus and running <= 0) or not deficit else deficit
        ring.append(pool.pop())
        running += excess[ring[-1]]
    return ring


def _conveyor(scope: _PeerScope, ring: Sequence[Id], shift: int, rng: random.Random
              ) -> _FlowResult | None:
    """The tidiest plan: lay team slots and outlets round the ring, outlets ``shift`` places on.

    Each sub-branch then inspects one or two sub-branches just ahead of it. Returns ``None``
    when that breaks a rule (own sub-branch, recent or reciprocal pair); the flow search follows.
    """
    team_ids = [t for sb in scope.subbranches for t in scope.teams.get(sb, ())]
    team_sb = {t: sb for sb in scope.subbranches for t in scope.teams.get(sb, ())}
    extras: Counter[Id] = Counter(team_sb[t] for t in rng.sample(team_ids, scope.extra_teams))
    slots = [(sb, len(scope.teams.get(sb, ())) * scope.base_load + extras[sb]) for sb in ring]
    size = len(ring)
    pending = [(ring[(i + shift) % size], len(scope.outlets.get(ring[(i + shift) % size], ())))
               for i in range(size)]
    flows: dict[tuple[Id, Id], int] = {}
    cursor = 0
    for inspecting, wanted in slots:
        while wanted:
            inspected, left = pending[cursor]
            if not left:
                cursor += 1
                continue
            taken = min(left, wanted)
            if not scope.useful(inspecting, inspected):
                return None
            flows[inspecting, inspected] = flows.get((inspecting, inspected), 0) + taken
            pending[cursor] = (inspected, left - taken)
            wanted -= taken
    if any((b, a) in flows for a, b in flows):
        return None
    return flows, dict(extras)


def _ring_edges(scope: _PeerScope, ring: Sequence[Id], neighbours: int) -> list[tuple[Id, Id]]:
    """Candidate pairs on a ring: each sub-branch looks a few places ahead of itself.

    A contested pair may only point "forward" (less than half-way round the ring, ties broken by
    position), so no pair and its reverse are ever both candidates. Every sub-branch keeps its
    ``neighbours`` nearest usable targets and inspectors, so the graph stays sparse for a national
    tree while still giving the flow room to balance loads.
    """
    size = len(ring)
    position = {sb: i for i, sb in enumerate(ring)}

    def allowed(a: Id, b: Id) -> bool:
        if not scope.useful(a, b):
            return False
        if not scope.useful(b, a):
            return True
        distance = (position[b] - position[a]) % size
        return 2 * distance < size or (2 * distance == size and position[a] < position[b])

    chosen: dict[tuple[Id, Id], None] = {}
    for i, sb in enumerate(ring):
        for direction in (1, -1):
            if direction == 1 and not scope.teams.get(sb):
                continue
            if direction == -1 and not scope.outlets.get(sb):
                continue
            found = 0
            for step in range(1, size):
                other = ring[(i + direction * step) % size]
                pair = (sb, other) if direction == 1 else (other, sb)
                if allowed(*pair):
                    chosen[pair] = None
                    found += 1
                    if found == neighbours:
                        break
    # nearest first, so the flow search fills each sub-branch from its closest neighbours
    return sorted(chosen, key=lambda p: (position[p[0]], (position[p[1]] - position[p[0]]) % size))


def _all_pairs(scope: _PeerScope) -> tuple[list[tuple[Id, Id]], list[tuple[Id, Id]]]:
    """Usable pairs split into those free of the reciprocal rule and the contested ones."""
    free: list[tuple[Id, Id]] = []
    contested: list[tuple[Id, Id]] = []
    for i, a in enumerate(scope.subbranches):
        for b in scope.subbranches[i + 1:]:
            if scope.contested(a, b):
                contested.append((a, b))
            elif scope.useful(a, b):
                free.append((a, b))
            elif scope.useful(b, a):
                free.append((b, a))
    return free, contested


def _search(scope: _PeerScope, rng: random.Random, balanced: bool) -> _FlowResult | None:
    """Bounded seeded search, tidiest first.

    1. conveyor plans on a few balanced rings (balanced loads only);
    2. maximum flow over sparse ring neighbourhoods of growing width;
    3. trees of at most ``_SMALL_TREE`` sub-branches: flow over random orientations of all pairs;
    4. at most ``_EXHAUSTIVE_PAIRS`` contested pairs: every orientation, so tiny answers are exact.
    """
    size = len(scope.subbranches)
    if balanced:
        for _ in range(_CONVEYOR_RINGS):
            ring = _balanced_ring(scope, rng)
            for shift in range(1, min(4, size)):
                if result := _conveyor(scope, ring, shift, rng):
                    return result
    for neighbours in _RING_NEIGHBOURS:
        edges = _ring_edges(scope, _balanced_ring(scope, rng), neighbours)
        if result := _solve_flow(scope, edges, balanced):
            return result
        if neighbours >= size:
            break
    if size > _SMALL_TREE:
        return None
    free, contested = _all_pairs(scope)
    for _ in range(_TOURNAMENT_ATTEMPTS):
        oriented = [(a, b) if rng.random() < 0.5 else (b, a) for a, b in contested]
        if result := _solve_flow(scope, free + oriented, balanced):
            return result
    if len(contested) <= _EXHAUSTIVE_PAIRS:
        for flips in product((False, True), repeat=len(contested)):
            oriented = [(b, a) if flip else (a, b) for (a, b), flip in zip(contested, flips)]
            if result := _solve_flow(scope, free + oriented, balanced):
                return result
    return None


def _only_options(subject: Id, pool: Sequence[Id], members: set[Id], banned: set[Id]
                  ) -> list[Id] | None:
    """The partners left for ``subject`` when there are at most one; ``None`` when there are more.

    Counting first keeps this linear for a national tree: the scan only runs when the pool is
    hardly bigger than the banned set.
    """
    left = len(pool) - (subject in members) - len(banned)
    if left > 1:
        return None
    return [x for x in pool if x != subject and x not in banned]


def _static_problems(scope: _PeerScope, no_repeat_cycles: int, label: Callable[[Id], str]
                     ) -> list[PlanningProblem]:
    """Problems visible without any search: nobody can inspect X, X's teams have nothing, A⇄B."""
    problems: list[PlanningProblem] = []
    team_sbs = [sb for sb in scope.subbranches if scope.teams.get(sb)]
    outlet_sbs = [sb for sb in scope.subbranches if scope.outlets.get(sb)]
    team_set, outlet_set = set(team_sbs), set(outlet_sbs)
    banned_in: dict[Id, set[Id]] = defaultdict(set)
    banned_out: dict[Id, set[Id]] = defaultdict(set)
    for a, b in scope.recent:
        if a != b and a in team_set and b in outlet_set:
            banned_in[b].add(a)
            banned_out[a].add(b)
    forced: set[tuple[Id, Id]] = set()
    for b in outlet_sbs:
        options = _only_options(b, team_sbs, team_set, banned_in[b])
        if options == []:
            values = {"subbranch": label(b), "count": len(scope.outlets[b]),
                      "cycles": no_repeat_cycles}
            problems.append(PlanningProblem("no_inspector_for_subbranch", Message(
                "%(subbranch)s的 %(count)s 个网点无法分配：其他支行要么没有检查组，要么在最近 "
                "%(cycles)s 轮内已检查过该支行。", **values) if no_repeat_cycles else Message(
                "%(subbranch)s的 %(count)s 个网点无法分配：其他支行要么没有检查组。", **values),
                (b,)))
        elif options:
            forced.add((options[0], b))
    must_work = scope.base_load > 0
    for a in team_sbs if must_work else ():
        options = _only_options(a, outlet_sbs, outlet_set, banned_out[a])
        if options == []:
            values = {"subbranch": label(a), "count": len(scope.teams[a]),
                      "cycles": no_repeat_cycles, "load": scope.base_load}
            problems.append(PlanningProblem("teams_without_targets", Message(
                "%(subbranch)s的 %(count)s 个检查组没有可检查的网点（其他支行要么没有网点，要么在最近 "
                "%(cycles)s 轮内已被该支行检查过），而每个检查组至少要检查 %(load)s 个网点。",
                **values) if no_repeat_cycles else Message(
                "%(subbranch)s的 %(count)s 个检查组没有可检查的网点（其他支行要么没有网点），"
                "而每个检查组至少要检查 %(load)s 个网点。", **values),
                (a,)))
        elif options:
            forced.add((a, options[0]))
    for a, b in sorted(forced, key=lambda p: (_sort_key(p[0]), _sort_key(p[1]))):
        if (b, a) in forced and _sort_key(a) < _sort_key(b):
            problems.append(PlanningProblem(
                "reciprocal_forced",
                Message("%(a)s与%(b)s只能互相检查，但同一轮内不允许互查（%(a)s查%(b)s时，%(b)s不能再查%(a)s）。"
                        "请增加参与互查的支行或检查组，或减少不重复轮数。", a=label(a), b=label(b)),
                (a, b)))
    return problems


def pair_peer_checks(
    teams: Sequence[PeerTeam],
    outlets: Sequence[PeerOutlet],
    *,
    seed: Any,
    history: Iterable[PastPair | Sequence[Any]] = (),
    no_repeat_cycles: int = 2,
    outlets_per_team: int | None = None,
    cycle_index: int | None = None,
    subbranch_names: Mapping[Id, str] | None = None,
) -> PeerPlan:
    """Assign every outlet to exactly one team of another sub-branch for one 互查 cycle.

    Rules that hold in every ``ok`` plan:

    * a team never inspects an outlet of its own sub-branch;
    * no reciprocal pair: if a team of A inspects an outlet of B, no team of B inspects A;
    * a directed sub-branch pair used in the last ``no_repeat_cycles`` cycles (history entries
      with ``cycle_index - no_repeat_cycles <= entry < cycle_index``) is not used again; entries
      for the planned cycle or later are ignored, so re-planning a cycle is not blocked by its
      own draft. ``cycle_index`` defaults to one after the newest history entry (0 without any);
    * every outlet is assigned exactly once, and team loads (outlets per team, counting teams
      that got none) differ by at most 1; ``outlets_per_team`` (if given) caps every team's load.

    How: the sub-branch → sub-branch pairs form a directed graph with no self loops, no
    reciprocal arcs and no recent arcs. A bounded, seeded search proposes candidate graphs (sparse
    random rings first, which keep each team close to one or two sub-branches and stay fast for
    1,600 sub-branches; then random orientations; for tiny trees every orientation), and a
    maximum flow decides whether the outlets can be routed along them with balanced team loads.
    Each inspecting sub-branch's outlets are then dealt to its teams in contiguous runs.

    Returns a :class:`PeerPlan`. When the rules cannot all hold it has ``ok=False``, no
    assignments and Chinese ``problems`` with codes from :data:`PROBLEM_CODES`; call
    ``plan.raise_if_infeasible()`` to get :class:`PlanningInfeasible` instead. Raises
    :class:`PlanningError` for malformed input (duplicate ids, negative limits).
    """
    teams, outlets = list(teams), list(outlets)
    _check_unique((t.id for t in teams), N_("检查组"))
    _check_unique((o.id for o in outlets), N_("网点"))
    if no_repeat_cycles < 0:
        raise PlanningError(Message("不重复轮数不能为负数"), code="invalid_no_repeat_cycles")
    if outlets_per_team is not None and outlets_per_team < 1:
        raise PlanningError(Message("每个检查组的网点上限必须为正整数"),
                            code="invalid_outlets_per_team")
    past = [_as_past_pair(h) for h in history]
    current = _planned_cycle(past, cycle_index)

    def label(sb: Id) -> str:
        return _subbranch_label(sb, subbranch_names)

    def refuse(*problems: PlanningProblem) -> PeerPlan:
        return PeerPlan(False, seed=seed, problems=tuple(problems), cycle_index=current)

    teams_by_sb: dict[Id, list[Id]] = defaultdict(list)
    outlets_by_sb: dict[Id, list[Id]] = defaultdict(list)
    for team in sorted(teams, key=lambda t: _sort_key(t.id)):
        teams_by_sb[team.subbranch_id].append(team.id)
    for outlet in sorted(outlets, key=lambda o: _sort_key(o.id)):
        outlets_by_sb[outlet.subbranch_id].append(outlet.id)
    total, team_total = len(outlets), len(teams)
    if total == 0:
        return PeerPlan(True, seed=seed, cycle_index=current)
    if team_total == 0:
        return refuse(PlanningProblem("no_teams", Message(
            "有 %(total)s 个网点需要互查，但没有任何检查组。", total=total)))
    base_load, extra_teams = divmod(total, team_total)
    largest = base_load + (1 if extra_teams else 0)
    if outlets_per_team is not None and largest > outlets_per_team:
        return refuse(PlanningProblem(
            "team_capacity_exceeded",
            Message("%(total)s 个网点由 %(teams)s 个检查组均分，每组需检查 %(largest)s 个，"
                    "超过每组上限 %(cap)s 个；至少需要 %(needed)s 个检查组。", total=total,
                    teams=team_total, largest=largest, cap=outlets_per_team,
                    needed=math.ceil(total / outlets_per_team))))

    scope = _PeerScope(
        subbranches=sorted(set(teams_by_sb) | set(outlets_by_sb), key=_sort_key),
        teams=dict(teams_by_sb), outlets=dict(outlets_by_sb),
        recent=_recent_pairs(past, current, no_repeat_cycles),
        base_load=base_load, extra_teams=extra_teams, total_outlets=total)
    static = _static_problems(scope, no_repeat_cycles, label)
    if static:
        return refuse(*static)

    rng = random.Random(seed)
    found = _search(scope, rng, balanced=True)
    if found is None:
        if _search(scope, random.Random(seed), balanced=False) is not None:
            return refuse(PlanningProblem(
                "load_balance_impossible",
                Message("满足互查规则的方案存在，但无法使各检查组的工作量相差不超过 1 个网点"
                        "（%(total)s 个网点、%(teams)s 个检查组，每组应检查 %(low)s–%(high)s 个）。"
                        "请调整各支行的检查组数量。", total=total, teams=team_total,
                        low=base_load, high=largest)))
        return refuse(PlanningProblem(
            "search_exhausted",
            Message("在有限次搜索内未找到同时满足全部规则的互查方案（不查本支行、同一轮不互查、"
                    "最近 %(cycles)s 轮内不重复）。请减少不重复轮数或增加参与互查的支行。",
                    cycles=no_repeat_cycles)))
    flows, extras = found
    assignments = _deal_outlets(scope, flows, extras, rng)
    pairs = tuple(SubbranchPair(a, b, n) for (a, b), n in sorted(
        flows.items(), key=lambda item: (_sort_key(item[0][0]), _sort_key(item[0][1]))))
    plan = PeerPlan(True, tuple(assignments), pairs, seed, (), current)
    broken = validate_peer_plan(plan.assignments, teams, outlets, history=past,
                                no_repeat_cycles=no_repeat_cycles, cycle_index=current,
                                outlets_per_team=outlets_per_team)
    if broken:  # a bug in this module, never a user error: refuse loudly rather than mis-plan
        raise AssertionError(f"peer plan breaks its own rules: {broken}")
    return plan


def _deal_outlets(scope: _PeerScope, flows: Mapping[tuple[Id, Id], int],
                  extras: Mapping[Id, int], rng: random.Random) -> list[PeerAssignment]:
    """Split each inspected sub-branch's outlets along the flow, then deal runs to the teams."""
    remaining = {sb: list(ids) for sb, ids in scope.outlets.items()}
    taken: dict[Id, list[tuple[Id, Id]]] = defaultdict(list)
    for (a, b), count in flows.items():  # nearest pairs first, as the search built them
        chunk, remaining[b] = remaining[b][:count], remaining[b][count:]
        taken[a] += [(b, outlet) for outlet in chunk]
    assignments: list[PeerAssignment] = []
    for a in scope.subbranches:
        team_ids = scope.teams.get(a, [])
        heavier = set(rng.sample(team_ids, extras.get(a, 0))) if team_ids else set()
        queue = taken.get(a, [])
        start = 0
        for team in team_ids:
            load = scope.base_load + (1 if team in heavier else 0)
            for b, outlet in queue[start:start + load]:
                assignments.append(PeerAssignment(team, outlet, a, b))
            start += load
    return assignments


def validate_peer_plan(
    assignments: Iterable[PeerAssignment],
    teams: Sequence[PeerTeam],
    outlets: Sequence[PeerOutlet],
    *,
    history: Iterable[PastPair | Sequence[Any]] = (),
    no_repeat_cycles: int = 2,
    cycle_index: int | None = None,
    outlets_per_team: int | None = None,
    subbranch_names: Mapping[Id, str] | None = None,
) -> list[PlanningProblem]:
    """Every peer-check rule a finished plan breaks, in Chinese; empty when it breaks none.

    Used as the planner's own safety net and for plans edited by hand (reassignment): the
    caller decides which problems to accept (e.g. an unbalanced load after a team falls ill).
    """
    def label(sb: Id) -> str:
        return _subbranch_label(sb, subbranch_names)

    past = [_as_past_pair(h) for h in history]
    current = _planned_cycle(past, cycle_index)
    recent = _recent_pairs(past, current, no_repeat_cycles)
    team_sb = {t.id: t.subbranch_id for t in teams}
    outlet_sb = {o.id: o.subbranch_id for o in outlets}
    problems: list[PlanningProblem] = []
    seen: Counter[Id] = Counter()
    loads: Counter[Id] = Counter({t.id: 0 for t in teams})
    used: set[tuple[Id, Id]] = set()
    for a in assignments:
        if a.team_id not in team_sb:
            problems.append(PlanningProblem("unknown_team", Message(
                "检查组 %(team)s 不在本次互查范围内。", team=a.team_id)))
            continue
        if a.outlet_id not in outlet_sb:
            problems.append(PlanningProblem("unknown_outlet", Message(
                "网点 %(outlet)s 不在本次互查范围内。", outlet=a.outlet_id)))
            continue
        inspecting, inspected = team_sb[a.team_id], outlet_sb[a.outlet_id]
        if (a.inspecting_subbranch_id, a.inspected_subbranch_id) != (inspecting, inspected):
            problems.append(PlanningProblem(
                "subbranch_mismatch",
                Message("检查组 %(team)s 检查网点 %(outlet)s 的记录中支行与实际不符。",
                        team=a.team_id, outlet=a.outlet_id),
                (inspecting, inspected)))
        if inspecting == inspected:
            problems.append(PlanningProblem(
                "own_subbranch", Message("检查组 %(team)s 不能检查本支行（%(subbranch)s）的网点 "
                                         "%(outlet)s。", team=a.team_id,
                                         subbranch=label(inspected), outlet=a.outlet_id),
                (inspecting,)))
        seen[a.outlet_id] += 1
        loads[a.team_id] += 1
        used.add((inspecting, inspected))
    for outlet in sorted(outlet_sb, key=_sort_key):
        if seen[outlet] == 0:
            problems.append(PlanningProblem(
                "outlet_unassigned", Message("网点 %(outlet)s（%(subbranch)s）没有分配检查组。",
                                             outlet=outlet, subbranch=label(outlet_sb[outlet])),
                (outlet_sb[outlet],)))
        elif seen[outlet] > 1:
            problems.append(PlanningProblem(
                "outlet_assigned_twice", Message("网点 %(outlet)s 被分配了 %(times)s 次，应只分配一次。",
                                                 outlet=outlet, times=seen[outlet]),
                (outlet_sb[outlet],)))
    ordered = sorted(used, key=lambda p: (_sort_key(p[0]), _sort_key(p[1])))
    for a, b in ordered:
        problems += _pair_problems(a, b, used, recent, no_repeat_cycles, label,
                                   report_swap=_sort_key(a) < _sort_key(b))  # each swap once
    if loads and max(loads.values()) - min(loads.values()) > 1:
        problems.append(PlanningProblem(
            "load_unbalanced", Message("各检查组工作量不均衡：最少 %(low)s 个网点，"
                                       "最多 %(high)s 个网点（相差应不超过 1）。",
                                       low=min(loads.values()), high=max(loads.values()))))
    if outlets_per_team is not None and loads and max(loads.values()) > outlets_per_team:
        problems.append(PlanningProblem(
            "team_capacity_exceeded", Message("有检查组被分配了 %(load)s 个网点，超过每组上限 %(cap)s 个。",
                                              load=max(loads.values()), cap=outlets_per_team)))
    return problems


def _pair_problems(a: Id, b: Id, used: set[tuple[Id, Id]], recent: set[tuple[Id, Id]],
                   no_repeat_cycles: int, label: Callable[[Id], str], *,
                   report_swap: bool = True) -> list[PlanningProblem]:
    """The rules between sub-branches that the directed pair ``a`` → ``b`` of a cycle whose
    pairs are ``used`` must keep: no swap (``b`` → ``a`` in the same cycle) and no pair of
    the last cycles (``recent``). ``report_swap=False`` leaves the swap to its other pair."""
    problems: list[PlanningProblem] = []
    if report_swap and a != b and (b, a) in used:
        problems.append(PlanningProblem(
            "reciprocal_pair", Message("%(a)s与%(b)s在同一轮内互查。", a=label(a), b=label(b)),
            (a, b)))
    if (a, b) in recent:
        problems.append(PlanningProblem(
            "recent_pair", Message("%(a)s在最近 %(cycles)s 轮内已检查过%(b)s，本轮不能重复。",
                                   a=label(a), b=label(b), cycles=no_repeat_cycles),
            (a, b)))
    return problems


def peer_pair_problems(
    inspecting_subbranch_id: Id,
    inspected_subbranch_id: Id,
    *,
    cycle_pairs: Iterable[tuple[Id, Id]],
    history: Iterable[PastPair | Sequence[Any]] = (),
    no_repeat_cycles: int = 2,
    cycle_index: int | None = None,
    subbranch_names: Mapping[Id, str] | None = None,
) -> list[PlanningProblem]:
    """Every peer-check rule that a team of ``inspecting_subbranch_id`` inspecting an outlet of
    ``inspected_subbranch_id`` breaks in a finished plan whose other pairs are ``cycle_pairs``
    (each ``(inspecting, inspected)``): the rules :func:`pair_peer_checks` keeps and
    :func:`validate_peer_plan` checks, for one pair — what a reassignment (改派) must keep.

    ``own_subbranch`` (the team's own sub-branch), ``reciprocal_pair`` (the inspected
    sub-branch inspects the inspecting one in this cycle) and ``recent_pair`` (the pair was
    used in the last ``no_repeat_cycles`` cycles of ``history``, counted back from
    ``cycle_index`` as the planner does). Empty when the pair keeps them all.
    """
    def label(sb: Id) -> str:
        return _subbranch_label(sb, subbranch_names)

    a, b = inspecting_subbranch_id, inspected_subbranch_id
    if a == b:
        return [PlanningProblem("own_subbranch", Message(
            "%(subbranch)s的检查组不能检查本支行的网点。", subbranch=label(a)), (a,))]
    past = [_as_past_pair(h) for h in history]
    current = _planned_cycle(past, cycle_index)
    return _pair_problems(a, b, set(cycle_pairs), _recent_pairs(past, current, no_repeat_cycles),
                          no_repeat_cycles, label)


# --------------------------------------------------------------------------------------------
# 2. Spot-check sampling (抽查)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpotCheckCandidate:
    """An outlet the branch may spot-check, with the facts its draw weight comes from."""

    outlet_id: Id
    watch_listed: bool = False
    #: latest independent score, 0–100; None (no score yet) counts as the highest risk
    recent_score: float | None = None
    #: days since the last independent check; None = never checked (counts as ``age_cap_days``)
    days_since_independent_check: int | None = None

    def __post_init__(self) -> None:
        if self.recent_score is not None and not 0 <= self.recent_score <= 100:
            raise PlanningError(Message("网点 %(outlet)s 的近期得分应在 0–100 之间",
                                        outlet=self.outlet_id), code="invalid_candidate")
        if self.days_since_independent_check is not None and self.days_since_independent_check < 0:
            raise PlanningError(Message("网点 %(outlet)s 的距上次检查天数不能为负数",
                                        outlet=self.outlet_id), code="invalid_candidate")


@dataclass(frozen=True, slots=True)
class SpotCheckWeights:
    """How strongly each risk signal raises an outlet's chance of being drawn.

    ``weight = base + watch_listed·[on the watch-list] + low_score·(100 − score)/100
    + check_age·min(days, age_cap_days)/age_cap_days``; a missing score counts as 0 and a
    never-checked outlet as ``age_cap_days``. ``base > 0`` keeps every outlet in the draw.
    """

    base: float = 1.0
    watch_listed: float = 3.0
    low_score: float = 2.0
    check_age: float = 1.0
    age_cap_days: int = 180

    def __post_init__(self) -> None:
        problems = [Message("权重 %(name)s 不能为负数", name=name)
                    for name in ("watch_listed", "low_score", "check_age") if getattr(self, name) < 0]
        if not self.base > 0:
            problems.append(Message("基础权重 base 必须大于 0，否则部分网点永远不会被抽中"))
        if self.age_cap_days < 1:
            problems.append(Message("未检查天数上限 age_cap_days 必须为正整数"))
        if problems:
            raise PlanningError(problems, code="invalid_weights")

    def weight_for(self, candidate: SpotCheckCandidate) -> float:
        """The candidate's draw weight (rounded to 9 places so stored audits compare exactly)."""
        score = candidate.recent_score
        risk = 1.0 if score is None else (100.0 - score) / 100.0
        days = candidate.days_since_independent_check
        age = 1.0 if days is None else min(days, self.age_cap_days) / self.age_cap_days
        weight = (self.base + self.watch_listed * bool(candidate.watch_listed)
                  + self.low_score * risk + self.check_age * age)
        return round(weight, 9)

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready values, stored with the draw."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpotCheckWeights:
        """Rebuild weights from :meth:`to_dict` output; missing keys take defaults, unknown fail."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlanningError(Message("未知的抽查权重项：%(names)s", names="、".join(unknown)),
                                code="invalid_weights")
        return cls(**dict(data))


@dataclass(frozen=True, slots=True)
class SpotCheckDraw:
    """A stored, auditable spot-check draw; :func:`reproduce` replays it to the same ids."""

    seed: Any
    weights: SpotCheckWeights
    #: the requested sample size (the selection is shorter when there were fewer candidates)
    size: int
    #: the drawn outlets, in draw order (most likely first)
    selected_ids: tuple[Id, ...]
    #: every candidate's computed weight, for the audit trail
    candidate_weights: dict[Id, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (ids as given; weight keys become strings in JSON)."""
        return {"seed": self.seed, "weights": self.weights.to_dict(), "size": self.size,
                "selected_ids": list(self.selected_ids),
                "candidate_weights": [[k, v] for k, v in self.candidate_weights.items()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpotCheckDraw:
        """Inverse of :meth:`to_dict`."""
        return cls(data["seed"], SpotCheckWeights.from_dict(data["weights"]), int(data["size"]),
                   tuple(data["selected_ids"]), {k: v for k, v in data["candidate_weights"]})


def draw_spot_check_sample(
    candidates: Sequence[SpotCheckCandidate],
    *,
    size: int,
    seed: Any,
    weights: SpotCheckWeights = SpotCheckWeights(),
) -> SpotCheckDraw:
    """Draw ``size`` distinct outlets, weighted towards risk, reproducibly from ``seed``.

    Weighted sampling without replacement by Efraimidis–Spirakis keys: candidates are sorted by
    outlet id, each takes ``key = ln(u) / weight`` with ``u`` from ``random.Random(seed)``, and
    the largest keys win (the same distribution as drawing one at a time in proportion to weight).
    A ``size`` larger than the number of candidates returns all of them in draw order; a ``size``
    below 1, or duplicate outlet ids, raise :class:`PlanningError`.
    """
    if size < 1:
        raise PlanningError(Message("抽查数量必须为正整数，当前为 %(size)s", size=size),
                            code="invalid_sample_size")
    ordered = sorted(candidates, key=lambda c: _sort_key(c.outlet_id))
    _check_unique((c.outlet_id for c in ordered), N_("网点"))
    rng = random.Random(seed)
    candidate_weights = {c.outlet_id: weights.weight_for(c) for c in ordered}
    keys = [(math.log(1.0 - rng.random()) / candidate_weights[c.outlet_id], index)
            for index, c in enumerate(ordered)]
    keys.sort(key=lambda pair: (-pair[0], pair[1]))
    selected = tuple(ordered[index].outlet_id for _, index in keys[:size])
    return SpotCheckDraw(seed, weights, size, selected, candidate_weights)


def reproduce(draw: SpotCheckDraw, candidates: Sequence[SpotCheckCandidate]) -> SpotCheckDraw:
    """Redo a stored draw from its seed, weights and size over the same candidates.

    The result equals ``draw`` exactly when the candidates' facts are unchanged; comparing
    ``candidate_weights`` shows which outlet's data moved if it does not.
    """
    return draw_spot_check_sample(candidates, size=draw.size, seed=draw.seed, weights=draw.weights)


# --------------------------------------------------------------------------------------------
# 3. Mystery visits (暗查)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MysteryVisit:
    """A past or already scheduled visit of a shopper to an outlet."""

    shopper_id: Id
    outlet_id: Id
    visit_date: date


@dataclass(frozen=True, slots=True)
class MysteryShopper:
    """A shopper who could be assigned, with the visits already given to them this campaign."""

    id: Id
    #: current workload; the least loaded eligible shopper is preferred
    assigned_visits: int = 0
    #: outlets where the shopper would be recognised (e.g. where they bank or used to work)
    excluded_outlet_ids: frozenset[Id] = frozenset()


@dataclass(frozen=True, slots=True)
class ShopperPick:
    """The chosen shopper, or ``None`` with the reason; ``rejected`` explains each refusal."""

    shopper_id: Id | None
    reason: str | None = None
    rejected: dict[Id, list[str]] = field(default_factory=dict)


def _as_visit(entry: MysteryVisit | Sequence[Any]) -> MysteryVisit:
    return entry if isinstance(entry, MysteryVisit) else MysteryVisit(*entry)


def check_mystery_visit(
    shopper_id: Id,
    outlet_id: Id,
    window_start: date,
    history: Iterable[MysteryVisit | Sequence[Any]],
    *,
    min_days_between: int = 90,
) -> list[str]:
    """Chinese problems if the shopper would visit this outlet too soon; empty when allowed.

    Two visits of one shopper to one outlet must be at least ``min_days_between`` days apart
    (89 days before the window is refused at 90, exactly 90 is allowed). Visits after
    ``window_start`` that are already scheduled count too, so both directions are checked.
    """
    if min_days_between < 0:
        raise PlanningError(Message("暗访间隔天数不能为负数"), code="invalid_min_days_between")
    problems: list[str] = []
    for visit in sorted((_as_visit(v) for v in history), key=lambda v: v.visit_date):
        if visit.shopper_id != shopper_id or visit.outlet_id != outlet_id:
            continue
        gap = abs((window_start - visit.visit_date).days)
        if gap < min_days_between:
            values = {"shopper": shopper_id, "date": visit.visit_date.isoformat(),
                      "outlet": outlet_id, "start": window_start.isoformat(), "gap": gap,
                      "min_days": min_days_between}
            problems.append(Message(
                "神秘人 %(shopper)s 于 %(date)s 已暗访过网点 %(outlet)s，与本次窗口开始（%(start)s）"
                "仅相隔 %(gap)s 天，同一网点两次暗访需间隔至少 %(min_days)s 天。", **values)
                if visit.visit_date <= window_start else Message(
                "神秘人 %(shopper)s 于 %(date)s 已安排暗访网点 %(outlet)s，与本次窗口开始（%(start)s）"
                "仅相隔 %(gap)s 天，同一网点两次暗访需间隔至少 %(min_days)s 天。", **values))
    return problems


def pick_shopper(
    shoppers: Sequence[MysteryShopper],
    outlet_id: Id,
    window_start: date,
    history: Iterable[MysteryVisit | Sequence[Any]],
    *,
    seed: Any,
    min_days_between: int = 90,
) -> ShopperPick:
    """Choose an eligible shopper for a visit: least ``assigned_visits`` first, seeded among ties.

    Eligible means :func:`check_mystery_visit` finds nothing and the outlet is not in the
    shopper's ``excluded_outlet_ids``. With nobody eligible the pick is ``None`` with a Chinese
    ``reason`` and each shopper's refusal in ``rejected``.
    """
    visits = [_as_visit(v) for v in history]
    _check_unique((s.id for s in shoppers), N_("神秘人"))
    rejected: dict[Id, list[str]] = {}
    eligible: list[MysteryShopper] = []
    for shopper in sorted(shoppers, key=lambda s: _sort_key(s.id)):
        reasons = check_mystery_visit(shopper.id, outlet_id, window_start, visits,
                                      min_days_between=min_days_between)
        if outlet_id in shopper.excluded_outlet_ids:
            reasons.insert(0, Message("神秘人 %(shopper)s 在网点 %(outlet)s 可能被认出，不能暗访该网点。",
                                      shopper=shopper.id, outlet=outlet_id))
        if reasons:
            rejected[shopper.id] = reasons
        else:
            eligible.append(shopper)
    if not shoppers:
        return ShopperPick(None, Message("没有可安排的神秘人。"))
    if not eligible:
        return ShopperPick(
            None, Message("没有符合条件的神秘人：%(count)s 名神秘人均在 %(min_days)s 天内"
                          "暗访过（或已安排暗访）网点 %(outlet)s，或不宜暗访该网点。",
                          count=len(shoppers), min_days=min_days_between, outlet=outlet_id),
            rejected)
    lightest = min(s.assigned_visits for s in eligible)
    ties = [s for s in eligible if s.assigned_visits == lightest]
    return ShopperPick(random.Random(seed).choice(ties).id, None, rejected)


# --------------------------------------------------------------------------------------------
# 4. Self-check cycles (循环自查)
# --------------------------------------------------------------------------------------------


def _next_week(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _next_quarter(day: date) -> date:
    first_month = (day.month - 1) // 3 * 3 + 1
    return _next_month(_next_month(_next_month(date(day.year, first_month, 1))))


#: Cycle name → the first day of the calendar cycle after the one containing a date.
CYCLES: dict[str, Callable[[date], date]] = {
    "weekly": _next_week,  # ISO weeks, Monday to Sunday
    "monthly": _next_month,
    "quarterly": _next_quarter,
}


def self_check_cycles(period_start: date, period_end: date, cycle: str = "monthly"
                      ) -> list[tuple[date, date]]:
    """Split a campaign period into calendar self-check cycles with inclusive ends.

    Cycles follow the calendar (ISO weeks Monday–Sunday, calendar months, calendar quarters), so
    the first and last cycles are clipped to the period: 2026-01-15 … 2026-03-10 monthly gives
    (01-15, 01-31), (02-01, 02-28), (03-01, 03-10). The cycles are contiguous, do not overlap
    and cover every day of the period exactly once. Raises :class:`PlanningError` for an
    unknown ``cycle`` or an end before the start.
    """
    if cycle not in CYCLES:
        raise PlanningError(Message("不支持的自查周期：%(cycle)s（可选 %(choices)s）", cycle=cycle,
                                    choices="、".join(CYCLES)), code="invalid_cycle")
    if period_end < period_start:
        raise PlanningError(Message("周期结束日期不能早于开始日期"), code="invalid_period")
    following = CYCLES[cycle]
    cycles: list[tuple[date, date]] = []
    start = period_start
    while start <= period_end:
        end = min(following(start) - timedelta(days=1), period_end)
        cycles.append((start, end))
        start = end + timedelta(days=1)
    return cycles


__all__ = [
    "CYCLES", "PROBLEM_CODES", "MysteryShopper", "MysteryVisit", "PastPair", "PeerAssignment",
    "PeerOutlet", "PeerPlan", "PeerTeam", "PlanningError", "PlanningInfeasible",
    "PlanningProblem", "ShopperPick", "SpotCheckCandidate", "SpotCheckDraw", "SpotCheckWeights",
    "SubbranchPair", "check_mystery_visit", "draw_spot_check_sample", "pair_peer_checks",
    "peer_pair_problems", "pick_shopper", "reproduce", "self_check_cycles", "validate_peer_plan",
]
