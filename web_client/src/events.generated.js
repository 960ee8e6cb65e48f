// Generated from rooms/events.py by `python -m rooms.event_docs`; do not edit.

/** Every log event type the server sends, and who sees it. */
export const EVENT_TYPES = Object.freeze({
  "meeting.created": "meeting",
  "meeting.updated": "meeting",
  "meeting.ended": "meeting",
  "participant.joined": "meeting",
  "participant.left": "meeting",
  "participant.moved": "meeting",
  "presence.changed": "meeting",
  "recording.deleted": "meeting",
  "chat.sent": "room",
  "reaction.sent": "room",
  "hand.raised": "meeting",
  "hand.lowered": "meeting",
  "hands.cleared": "meeting",
  "hands.restored": "meeting",
  "round.previewed": "meeting",
  "round.cancelled": "meeting",
  "round.regrouped": "meeting",
  "round.chosen": "meeting",
  "round.opened": "meeting",
  "round.placed": "meeting",
  "round.moved": "meeting",
  "round.extended": "meeting",
  "round.warned": "meeting",
  "round.closing": "meeting",
  "round.closed": "meeting",
  "round.broadcast": "meeting",
  "round.messaged": "room and facilitators",
  "mix.constrained": "meeting",
  "help.requested": "room and facilitators",
  "help.answered": "room and facilitators",
  "agenda.set": "meeting",
  "agenda.started": "meeting",
  "media.changed": "room and facilitators",
  "stage.added": "meeting",
  "stage.removed": "meeting",
  "board.updated": "room",
  "board.shown": "meeting"
})

/** The events that open rooms, move people or close rooms, and the fields that
 *  carry those changes. */
export const BULK = Object.freeze({
  "round.opened": [
    "opens",
    "moves"
  ],
  "round.placed": [
    "moves"
  ],
  "round.moved": [
    "moves"
  ],
  "round.closed": [
    "moves",
    "closes"
  ]
})
