"""The organisers' side of the server: accounts, sessions, programmes and the
personal links that bring a roster person into a meeting."""

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from facilitation.history import meeting_order
from facilitation.session import Session
from programmes import Cohort, Person, Programme
from programmes import commands as pc
from programmes.exceptions import UnknownCohort
from rooms import Role
from rooms.events import ProgrammeDraft
from rooms.exceptions import DomainError
from server.clock import Clock
from server.hub import Hub
from server.organisers.accounts import Accounts
from server.organisers.ledger import Ledger
from server.organisers.sessions import Sessions, SignInThrottle
from server.store import LogStore
from server.store.namespaces import ORGANISERS, PROGRAMME_PREFIX, programme_log
from server.tokens import Invite, TokenExpired, TokenRevoked, Tokens


class Workspace:
    def __init__(self, store: LogStore, clock: Clock, tokens: Tokens,
                 accounts: Ledger[Accounts], programmes: dict[str, Ledger[Programme]]) -> None:
        self.store, self.clock, self.tokens = store, clock, tokens
        self.accounts = accounts
        self.programmes = programmes
        self.sessions = Sessions()
        self.throttle = SignInThrottle()
        self.hub: Hub | None = None  # set once the live side is up

    @classmethod
    async def load(cls, store: LogStore, clock: Clock, tokens: Tokens) -> "Workspace":
        accounts = await Ledger.load(store, ORGANISERS, Accounts(), clock)
        programmes = {}
        for key in await store.meetings():
            if key.startswith(PROGRAMME_PREFIX):
                ledger = await Ledger.load(store, key, Programme(), clock)
                programmes[ledger.state.id] = ledger
        return cls(store, clock, tokens, accounts, programmes)

    # -- programmes -----------------------------------------------------------

    async def create_programme(self, actor: str, name: str) -> str:
        programme_id = secrets.token_hex(6)
        draft = pc.create_programme(programme_id, name)
        ledger = Ledger(self.store, programme_log(programme_id), Programme(), self.clock)
        await ledger.execute(actor, lambda p: [draft])
        self.programmes[programme_id] = ledger
        return programme_id

    async def run(self, programme_id: str, actor: str,
                  decide: Callable[[Programme], Sequence[ProgrammeDraft]]) -> None:
        await self.programme(programme_id).execute(actor, decide)

    def programme(self, programme_id: str) -> Ledger[Programme]:
        ledger = self.programmes.get(programme_id)
        if ledger is None:
            raise UnknownCohort("There is no such programme.")
        return ledger

    def cohort(self, cohort_id: str) -> tuple[Programme, Cohort]:
        for ledger in self.programmes.values():
            if cohort_id in ledger.state.cohorts:
                return ledger.state, ledger.state.cohorts[cohort_id]
        raise UnknownCohort("There is no such cohort.")

    def meetings(self, cohort_id: str) -> list[Session]:
        """The cohort's meetings in the order they start."""
        hub = self._hub()
        return sorted((live.state for live in hub.all()
                       if live.state.meeting.cohort == cohort_id), key=meeting_order)

    # -- personal links -------------------------------------------------------

    def personal_token(self, meeting: str, person: Person) -> str:
        return self.tokens.personal(meeting, person.id, person.link)

    def cohort_token(self, cohort: str, person: Person) -> str:
        return self.tokens.cohort_link(cohort, person.id, person.link)

    def person(self, cohort_id: str, person_id: str, link: int) -> Person:
        """The roster person a personal link names, if it still works."""
        _, cohort = self.cohort(cohort_id)
        person = cohort.people.get(person_id)
        if person is None or person.removed or person.link != link:
            raise TokenRevoked("This personal link has been revoked; ask the organiser "
                               "for a new one.")
        today = datetime.fromtimestamp(self.clock.now_ms() / 1000, UTC).date().isoformat()
        if cohort.ends_on and cohort.ends_on < today:
            raise TokenExpired("The programme group has ended; this link no longer works.")
        return person

    def admit(self, invite: Invite) -> Invite:
        """A personal invite, checked against the roster, with the person's role."""
        if invite.person is None:
            return invite
        try:
            meeting = self._hub().get(invite.meeting).state.meeting
            person = self.person(meeting.cohort, invite.person, invite.link)
        except DomainError as exc:  # no such meeting or cohort any more
            raise TokenRevoked("This personal link no longer works.") from exc
        role = Role.FACILITATOR if person.facilitates(meeting.facilitators) else Role.PARTICIPANT
        return Invite(invite.meeting, role, invite.person, invite.link, person.municipality)

    def _hub(self) -> Hub:
        if self.hub is None:
            raise RuntimeError("The workspace is used before the live side is up.")
        return self.hub
