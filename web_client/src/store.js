// The meeting as this client knows it: loaded from welcome, advanced by log events in seq order.

import { BULK } from './events.generated.js'

export const PLENARY = 'plenary'

export class Store {
  constructor() {
    this.listeners = new Map()
    this.seq = 0
    this.me = null
    this.role = 'participant'
    this.offset = 0
    this.meeting = null
    this.participants = new Map()
    this.rooms = new Map()
    this.online = new Set()
    this.speaking = new Set() // who is talking now (facilitators only hear of it)
    this.hands = []
    this.handsSetAside = []
    this.note = null // the facilitator's latest word to everyone or to your group: {text, room, seq}
    this.chats = new Map() // room id -> messages: each room's chat is kept across moves
    this.unread = 0
    this.round = null
    this.constraints = null
    this.help = []
    this.agenda = null
    this.stage = new Set()
    this.peers = null
  }

  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set())
    this.listeners.get(topic).add(fn)
    return () => this.listeners.get(topic).delete(fn)
  }

  emit(topic, detail) {
    for (const fn of this.listeners.get(topic) ?? []) fn(detail)
  }

  get facilitator() { return this.role === 'facilitator' }
  get self() { return this.participants.get(this.me) }
  get room() { return this.self?.room ?? PLENARY }
  get inBreakout() { return this.rooms.get(this.room)?.kind === 'breakout' }
  /** The chat of the room you are in. */
  get chat() { return this.chats.get(this.room) ?? [] }

  /** Server wall-clock time in ms, corrected by the offset measured at welcome. */
  now() { return Date.now() + this.offset }

  loadWelcome(w) {
    const roomBefore = this.me ? this.room : null
    this.me = w.participant
    this.role = w.role
    this.online = new Set(w.online)
    this.offset = w.server_time - Date.now()
    this.iceServers = w.ice_servers ?? this.iceServers ?? []
    this.loading = true
    if (w.snapshot) this.loadSnapshot(w.snapshot)
    for (const e of w.missed ?? []) this.apply(e)
    this.loading = false
    this.seq = Math.max(this.seq, w.seq)
    for (const topic of ['meeting', 'participants', 'chat', 'round', 'help', 'agenda']) this.emit(topic)
    if (roomBefore !== this.room) this.emit('room', { from: roomBefore, to: this.room })
  }

  loadSnapshot(s) {
    this.seq = s.seq
    this.meeting = s.meeting
    this.participants = new Map(s.participants.map((p) => [p.id, { ...p }]))
    this.rooms = new Map(s.rooms.map((r) => [r.id, r]))
    this.hands = [...s.hands]
    this.handsSetAside = [...(s.hands_set_aside ?? [])]
    this.chats.set(this.participants.get(s.you ?? this.me)?.room ?? PLENARY, [...s.chat])
    this.round = s.round ?? null
    this.help = s.help ?? []
    this.agenda = s.agenda ?? null
    this.stage = new Set(s.stage ?? [])
    this.constraints = s.constraints ?? null
  }

  /** The answer of `sync` without a snapshot: the missed events, applied as they would
   *  have been live, then who is online now (a missed join says nothing of that). */
  catchUp(w) {
    for (const e of w.missed ?? []) this.apply(e)
    this.online = new Set(w.online)
    this.emit('participants')
  }

  /** Apply one log event; events at or below the applied seq are ignored. */
  apply(e) {
    if (e.seq <= this.seq) return false
    this.seq = e.seq
    const reducer = REDUCERS[e.type]
    if (reducer) reducer(this, e.data, e)
    if (BULK[e.type]?.some((field) => e.data?.[field])) this.applyBulk(e.data)
    this.emit('event', e)
    return true
  }

  /** The events of BULK open rooms, move people and close rooms at once (a round opening or
   *  closing): {opens: [Room], moves: {participant: room}, closes: [room id]}. */
  applyBulk({ opens = [], moves = {}, closes = [] }) {
    for (const r of opens) this.rooms.set(r.id, { round: null, ...r, open: true })
    for (const [id, room] of Object.entries(moves)) {
      const p = this.participants.get(id)
      if (p && p.room !== room) participantMoved(this, { id, room, from: p.room })
    }
    for (const id of closes) this.rooms.delete(id)
    this.emit('rooms')
    this.emit('participants')
  }

  /** Messages of a room said while you were elsewhere (chat.history), merged in order. */
  mergeChat(room, messages) {
    const kept = this.chats.get(room) ?? []
    const known = new Set(kept.map((m) => m.id))
    const fresh = messages.filter((m) => !known.has(m.id))
    if (!fresh.length) return
    this.chats.set(room, [...kept, ...fresh].sort((a, b) => a.seq - b.seq))
    this.emit('chat')
  }

  setOnline(id, online) {
    if (online) this.online.add(id)
    else { this.online.delete(id); this.speaking.delete(id) } // back later: silent until said
    this.emit('participants')
  }

  setSpeaking(id, on) {
    if (on === this.speaking.has(id)) return
    if (on) this.speaking.add(id)
    else this.speaking.delete(id)
    this.emit('speaking')
  }

  name(id) { return this.participants.get(id)?.name ?? '?' }

  members(room) {
    return [...this.participants.values()].filter((p) => p.present && p.room === room)
  }

  groupIndex(room) { return this.round?.rooms?.indexOf(room) ?? -1 }
}

function participantJoined(s, d, e) {
  const known = s.participants.get(d.id) ?? {}
  s.participants.set(d.id, { ...known, ...d, present: true, joined_at: e.ts, left_at: null })
  // A join as it happens is its participant coming online: no `presence` follows it. A
  // replayed one (the welcome's missed events) is not: the welcome says who is online.
  if (!s.loading) s.online.add(d.id)
  s.emit('participants')
}

function participantLeft(s, d, e) {
  const p = s.participants.get(d.id)
  if (p) Object.assign(p, { present: false, left_at: e.ts })
  s.hands = s.hands.filter((id) => id !== d.id)
  s.stage.delete(d.id)
  s.emit('participants')
}

function participantMoved(s, d) {
  const p = s.participants.get(d.id)
  if (!p) return
  p.room = d.room
  if (d.id === s.me) {
    s.help = s.facilitator ? s.help : []
    s.emit('chat')
    if (!s.loading) s.emit('room', { from: d.from, to: d.room })
  }
  s.emit('participants')
}

function chatSent(s, d, e) {
  if (!s.chats.has(d.room)) s.chats.set(d.room, [])
  s.chats.get(d.room).push({ id: d.id, seq: e.seq, ts: e.ts, author: e.actor, room: d.room, text: d.text })
  if (d.room === s.room && e.actor !== s.me && !s.loading) s.unread += 1
  s.emit('chat', { message: d })
}

function roundUpdate(fields) {
  return (s, d, e) => {
    if (!s.round || s.round.id !== d.id) return
    Object.assign(s.round, typeof fields === 'function' ? fields(d, e, s.round) : fields)
    if (e.type === 'round.opened') s.note = null
    s.emit('round')
  }
}

/** One reducer per log event type the client folds (the types: events.generated.js). */
export const REDUCERS = {
  'meeting.ended': (s) => { s.meeting = { ...s.meeting, ended: true }; s.emit('meeting') },
  'participant.joined': participantJoined,
  'participant.left': participantLeft,
  'participant.moved': participantMoved,
  'chat.sent': chatSent,
  'reaction.sent': (s, d, e) => { if (d.room === s.room) s.emit('reaction', { emoji: d.emoji, actor: e.actor }) },
  'hand.raised': (s, d) => { if (!s.hands.includes(d.id)) s.hands.push(d.id); s.emit('participants') },
  'hand.lowered': (s, d) => { s.hands = s.hands.filter((id) => id !== d.id); s.emit('participants') },
  'hands.cleared': (s, d) => {
    if (d.reason === 'round') s.handsSetAside = [...d.hands]
    s.hands = []
    s.emit('participants')
  },
  'hands.restored': (s, d) => {
    s.hands = [...d.hands, ...s.hands.filter((id) => !d.hands.includes(id))]
    s.handsSetAside = []
    s.emit('participants')
  },
  'round.moved': roundUpdate((d, e, r) => ({
    groups: r.groups.map((g, i) => [...g.filter((id) => id !== d.participant), ...(i === d.group ? [d.participant] : [])]),
  })),
  'round.messaged': (s, d, e) => {
    s.note = { text: d.text, room: d.room, group: d.group, seq: e.seq }
    s.emit('broadcast', { text: d.text, actor: e.actor, room: d.room, group: d.group })
    s.emit('round')
  },
  'media.changed': (s, d) => {
    const p = s.participants.get(d.id)
    if (p) Object.assign(p, { mic: d.mic, camera: d.camera, screen: d.screen })
    s.emit('participants')
  },
  'stage.added': (s, d) => { s.stage.add(d.id); s.emit('participants') },
  'stage.removed': (s, d) => { s.stage.delete(d.id); s.emit('participants') },
  'round.previewed': (s, d) => {
    s.round = { capacity: null, activity: null, ...d, phase: 'preview', rooms: [], choices: {},
      opened_at: null, deadline: null, warned: false, closes_at: null, closed_at: null,
      close_reason: null, broadcasts: [] }
    s.emit('round')
  },
  'round.cancelled': roundUpdate({ phase: 'cancelled' }),
  'round.regrouped': roundUpdate((d) => ({ groups: d.groups })),
  'round.chosen': roundUpdate((d, e, r) => {
    const choices = { ...r.choices }
    if (d.group === null) delete choices[d.participant]
    else choices[d.participant] = d.group
    return { choices }
  }),
  'round.opened': roundUpdate((d, e) => ({ groups: d.groups, rooms: d.rooms, prompts: d.prompts,
    deadline: d.deadline, warned: d.warned, phase: 'open', opened_at: e.ts,
    rebalanced: d.rebalanced ?? null, away: d.away ?? [] })),
  'mix.constrained': (s, d) => { s.constraints = d; s.emit('constraints') },
  'round.placed': roundUpdate((d, e, r) => ({
    groups: r.groups.map((g, i) => (i === d.group && !g.includes(d.participant) ? [...g, d.participant] : g)),
  })),
  'round.extended': roundUpdate((d) => ({ deadline: d.deadline, warned: d.warned, phase: 'open', closes_at: null })),
  'round.warned': roundUpdate({ warned: true }),
  'round.closing': roundUpdate((d) => ({ phase: 'closing', closes_at: d.closes_at })),
  'round.closed': roundUpdate((d, e) => ({ phase: 'closed', close_reason: d.reason, closed_at: e.ts })),
  'round.broadcast': (s, d, e) => {
    if (s.round?.id === d.id) s.round.broadcasts = [...s.round.broadcasts, d.text]
    s.note = { text: d.text, room: null, seq: e.seq }
    s.emit('broadcast', { text: d.text, actor: e.actor })
    s.emit('round')
  },
  'help.requested': (s, d, e) => {
    s.help = [...s.help.filter((h) => h.participant !== d.participant),
      { participant: d.participant, room: d.room, round: d.round, at: e.ts }]
    s.emit('help', { requested: d })
  },
  'help.answered': (s, d) => {
    s.help = s.help.filter((h) => h.participant !== d.participant)
    s.emit('help', { answered: d })
  },
  'agenda.set': (s, d) => { s.agenda = { template: d.template, lang: d.lang, activities: d.activities, cursor: null }; s.emit('agenda') },
  'agenda.started': (s, d) => {
    if (s.agenda) s.agenda.cursor = d.index
    s.emit('agenda', { started: d })
  },
  'board.updated': (s, d) => s.emit('board', d),
  'board.shown': (s, d, e) => s.emit('board-shown', { room: d.room, actor: e.actor }),
}

/** Log event types the client receives and deliberately does not fold. */
export const IGNORED = new Set([
  'meeting.created', // before anyone joins
  'meeting.updated', // an organiser's change before the day; the next welcome carries it
  'presence.changed', // the live `presence` message is the signal; this one is for review
  'recording.deleted', // after the meeting
])
