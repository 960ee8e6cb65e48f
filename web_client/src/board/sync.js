// Keeps the current room's BoardDoc in step with the server: board.state loads it,
// board.updated events advance it, local edits go out as merged board.update batches.
import * as Y from 'yjs'
import { BoardDoc } from './doc.js'

const FLUSH_MS = 80
const MAX_BATCH_BYTES = 48 * 1024
const RESYNC = new Set(['board_update_invalid', 'board_backlog_full', 'board_update_too_large'])

export class BoardSync {
  /** onDoc(doc) when a new board is loaded; onError(code) for what the user should hear. */
  constructor({ conn, me, onDoc, onError }) {
    this.conn = conn
    this.me = me
    this.onDoc = onDoc
    this.onError = onError
    this.doc = null
    this.pending = []
    this.timer = null
    this.sending = false
    this.off = null
  }

  /** board.state {room, update, seq}: the whole board of the room just entered. */
  load(room, update) {
    if (this.doc && this.doc.room === room && update && !this.rejected) {
      this.merge(bytes(update))
      return
    }
    this.rejected = false
    this.off?.()
    this.doc?.destroy()
    this.pending = []
    this.doc = new BoardDoc(room, this.me)
    if (update) this.doc.load(bytes(update))
    this.off = this.doc.onLocalUpdate((u) => this.queue(u))
    this.onDoc(this.doc)
  }

  /** Entering a room starts on an empty board of that room: a freshly opened room gets no
   *  board.state (its prompt arrives as an event), any other room's board.state merges in. */
  enter(room) {
    if (this.doc?.room !== room) this.load(room, null)
  }

  /** The same board again (after a reconnect): keep local edits the server has not seen. */
  merge(update) {
    this.doc.apply(update)
    const missing = Y.encodeStateAsUpdate(this.doc.doc, Y.encodeStateVectorFromUpdate(update))
    const { structs, ds } = Y.decodeUpdate(missing)
    if (structs.length || ds.clients.size) this.queue(missing)
  }

  /** A board.updated log event (a clearing too: origin "clear"). */
  applyEvent(data) {
    if (!this.doc || data.room !== this.doc.room || !data.update) return
    this.doc.apply(bytes(data.update))
  }

  queue(update) {
    this.pending.push(update)
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS)
  }

  async flush() {
    this.timer = null
    if (this.sending || !this.pending.length) return
    this.sending = true
    const room = this.doc.room
    const batch = this.pending.splice(0)
    const merged = Y.mergeUpdates(batch)
    const updates = merged.byteLength <= MAX_BATCH_BYTES ? [merged] : batch
    try {
      for (const update of updates) await this.conn.request('board.update', { update: arrayBuffer(update) })
    } catch (err) {
      if (this.doc?.room === room) await this.recover(err.code)
    } finally {
      this.sending = false
      if (this.pending.length && !this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS)
    }
  }

  /** After a rejected update the local doc holds changes the server lacks: reload it. */
  async recover(code) {
    this.rejected = RESYNC.has(code) || code === 'board_full'
    if (code !== 'offline' && code !== 'timeout') this.onError(code)
    if (!RESYNC.has(code) && code !== 'board_full') return
    try {
      const answer = await this.conn.request('board.fetch', { room: this.doc.room })
      this.load(answer.room, answer.update)
    } catch (err) {
      this.onError(err.code)
    }
  }

  close() {
    clearTimeout(this.timer)
    this.off?.()
    this.doc?.destroy()
    this.doc = null
  }
}

export function bytes(data) {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return Uint8Array.from(data)
  return new Uint8Array()
}

/** Binary as an ArrayBuffer: both packet formats (JSON attachments, msgpack bin) carry it. */
function arrayBuffer(u8) {
  return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength)
}
