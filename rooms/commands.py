"""Decisions: given the state and a command, the events to append.

Every function here checks the rules and either returns drafts or raises a
``DomainError``; none of them changes the state. Ids and times come in as
arguments, so the core never reads a clock or a random source.
"""

import unicodedata
from collections.abc import Collection

from msgspec.structs import replace

from rooms import events
from rooms.events import (
    ChatSent,
    Draft,
    HandLowered,
    HandRaised,
    HandsCleared,
    MediaChanged,
    MeetingCreated,
    MeetingUpdated,
    ParticipantJoined,
    ParticipantLeft,
    ReactionSent,
    StageAdded,
    StageRemoved,
)
from rooms.exceptions import (
    CohortNotAllowed,
    Forbidden,
    HandAlreadyRaised,
    HandNotRaised,
    InvalidValue,
    MeetingEnded,
    MeetingInUse,
    NotJoined,
    UnknownParticipant,
)
from rooms.meeting import PLENARY, Meeting, Participant, Role
from rooms.municipalities import canonical_name

NAME_MAX = 80
FIELD_MAX = 120
CHAT_MAX = 2000
REACTIONS = frozenset({"👍", "👏", "❤️", "😂", "😮", "🎉", "🤔", "🙏"})


def clean_text(value: str, *, field: str, max_len: int, required: bool = True) -> str:
    """Trim, normalise and bound a piece of user text, or raise ``InvalidValue``."""
    text = unicodedata.normalize("NFC", value).strip()
    # isprintable(): no control character or surrogate at all (the usual case, at C speed)
    if not text.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cs")
                                      and ch not in "\n\t" for ch in text):
        raise InvalidValue(f"The {field} contains control characters or broken Unicode.")
    if required and not text:
        raise InvalidValue(f"The {field} must not be empty.")
    if len(text) > max_len:
        raise InvalidValue(f"The {field} is longer than {max_len} characters.")
    return text


def create_meeting(meeting_id: str, title: str, starts_at: str, cohort: str) -> Draft:
    return MeetingCreated(
        id=meeting_id,
        title=clean_text(title, field="title", max_len=FIELD_MAX),
        starts_at=starts_at,
        cohort=clean_text(cohort, field="cohort", max_len=NAME_MAX, required=False),
    )


def update_meeting(m: Meeting, *, title: str | None = None, starts_at: str | None = None,
                   facilitators: list[str] | None = None) -> list[Draft]:
    """Change what an organiser prepares before the day; only what differs is logged."""
    _require_open(m)
    update = MeetingUpdated()
    if title is not None and clean_text(title, field="title", max_len=FIELD_MAX) != m.title:
        update = replace(update, title=clean_text(title, field="title", max_len=FIELD_MAX))
    if starts_at is not None and starts_at != m.starts_at:
        update = replace(update, starts_at=starts_at)
    if facilitators is not None and sorted(set(facilitators)) != sorted(m.facilitators):
        update = replace(update, facilitators=sorted(set(facilitators)))
    return [update] if update != MeetingUpdated() else []


def move_meeting(m: Meeting, cohort: str, allowed: Collection[str]) -> list[Draft]:
    """Move a meeting to another cohort of its programme (``allowed``: those cohorts).

    The meeting's log is the one truth of which cohort a meeting belongs to; the
    programme's log records no meetings, and every cohort view (meetings, personal
    links, ``mix`` history, the network picture) is derived from ``Meeting.cohort``.
    So a move is this one event and can never be half done: if the append fails,
    nothing moved and the organiser simply tries again.

    Not for an ended meeting (its figures belong to the cohort it was held in), nor
    while anyone is in it (they came in with the old cohort's links). The per-meeting
    facilitators are roster people of the old cohort, so they are cleared.
    """
    _require_open(m)
    if cohort == m.cohort:
        return []
    if cohort not in allowed:
        raise CohortNotAllowed("A meeting can only move to another group of its programme.")
    if m.present():
        raise MeetingInUse("People are in the meeting now; move it when it is empty.")
    return [MeetingUpdated(cohort=cohort, facilitators=[])]


def end_meeting(m: Meeting, actor: str | None = None) -> list[Draft]:
    """End the meeting: an organiser (no ``actor``) or a facilitator present in it."""
    _require_open(m)
    if actor is not None:
        require_facilitator(m, actor)
    return [events.MeetingEnded()]


def join(m: Meeting, participant_id: str, role: Role, *, name: str | None = None,
         municipality: str | None = None, sector: str | None = None,
         title: str | None = None, room: str = PLENARY,
         person: str | None = None) -> list[Draft]:
    """Join, or rejoin after leaving; an already present participant needs no event.

    Someone known rejoins with their role and, where not given anew, their profile;
    a newcomer must give a display name and municipality. ``person`` is the roster
    person a personal link names: the same person whatever they type.
    """
    _require_open(m)
    existing = m.participants.get(participant_id)
    if existing is not None and existing.present:
        return []
    if existing is not None:
        role = existing.role
        name, municipality = name or existing.name, municipality or existing.municipality
        sector, title = sector or existing.sector, title or existing.title
        person = existing.person
    if not name or not municipality:
        raise InvalidValue("Give your display name and municipality to join.")
    joined = ParticipantJoined(
        id=participant_id,
        name=clean_text(name, field="display name", max_len=NAME_MAX),
        municipality=canonical_name(
            clean_text(municipality, field="municipality", max_len=NAME_MAX)),
        role=role.value,
        room=room,
    )
    if person:
        joined = replace(joined, person=person)
    if sector:
        joined = replace(joined, sector=clean_text(sector, field="sector", max_len=NAME_MAX,
                                                   required=False))
    if title:
        joined = replace(joined, title=clean_text(title, field="title", max_len=NAME_MAX,
                                                  required=False))
    return [joined]


def leave(m: Meeting, participant_id: str, reason: str) -> list[Draft]:
    p = m.participants.get(participant_id)
    if p is None or not p.present:
        return []
    return [ParticipantLeft(id=participant_id, reason=reason)]


def chat(m: Meeting, actor: str, message_id: str, text: str) -> list[Draft]:
    p = present(m, actor)
    body = clean_text(text, field="message", max_len=CHAT_MAX)
    return [ChatSent(id=message_id, room=p.room, text=body)]


def raise_hand(m: Meeting, actor: str) -> list[Draft]:
    present(m, actor)
    if actor in m.hands:
        raise HandAlreadyRaised("Your hand is already raised.")
    return [HandRaised(id=actor)]


def lower_hand(m: Meeting, actor: str, target: str | None = None) -> list[Draft]:
    who = target or actor
    if who != actor:
        require_facilitator(m, actor)
    else:
        present(m, actor)
    if who not in m.hands:
        raise HandNotRaised("That hand is not raised.")
    return [HandLowered(id=who, by=actor)]


def clear_hands(m: Meeting, actor: str) -> list[Draft]:
    require_facilitator(m, actor)
    return [HandsCleared()] if m.hands else []


def react(m: Meeting, actor: str, emoji: str) -> list[Draft]:
    p = present(m, actor)
    if emoji not in REACTIONS:
        raise InvalidValue("That reaction is not one of the offered ones.")
    return [ReactionSent(room=p.room, emoji=emoji)]


def media(m: Meeting, actor: str, *, mic: bool, camera: bool, screen: bool) -> list[Draft]:
    p = present(m, actor)
    if (p.mic, p.camera, p.screen) == (mic, camera, screen):
        return []
    return [MediaChanged(id=actor, room=p.room, mic=mic, camera=camera, screen=screen)]


def stage_add(m: Meeting, actor: str, target: str) -> list[Draft]:
    require_facilitator(m, actor)
    p = m.participants.get(target)
    if p is None or not p.present:
        raise UnknownParticipant("That participant is not in the meeting.")
    return [] if target in m.stage else [StageAdded(id=target)]


def stage_remove(m: Meeting, actor: str, target: str) -> list[Draft]:
    require_facilitator(m, actor)
    return [StageRemoved(id=target)] if target in m.stage else []


def present(m: Meeting, actor: str) -> Participant:
    """The acting participant, who must be in the meeting right now."""
    _require_open(m)
    p = m.participants.get(actor)
    if p is None:
        raise UnknownParticipant("No such participant in this meeting.")
    if not p.present:
        raise NotJoined("You have left this meeting; join again first.")
    return p


def require_facilitator(m: Meeting, actor: str) -> Participant:
    p = present(m, actor)
    if p.role is not Role.FACILITATOR:
        raise Forbidden("Only a facilitator may do that.")
    return p


def _require_open(m: Meeting) -> None:
    if m.ended:
        raise MeetingEnded("This meeting has ended.")
