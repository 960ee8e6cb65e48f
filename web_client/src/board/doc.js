// One room's whiteboard: a Yjs document with one map of elements (see docs/whiteboard.md).
import * as Y from 'yjs'

export const LOCAL = { local: true }
export const REMOTE = 'remote'
export const TYPES = new Set(['pen', 'line', 'rect', 'ellipse', 'arrow', 'sticky', 'text'])
export const STICKY_FILL = '#fff3a3'
const LIMIT = 1e7

export class BoardDoc {
  constructor(room, me) {
    this.room = room
    this.me = me
    this.doc = new Y.Doc()
    this.elements = this.doc.getMap('elements')
    this.undo = new Y.UndoManager(this.elements, { trackedOrigins: new Set([LOCAL]), captureTimeout: 500 })
  }

  load(update) { Y.applyUpdate(this.doc, update, REMOTE) }
  apply(update) { Y.applyUpdate(this.doc, update, REMOTE) }
  edit(fn) { this.doc.transact(fn, LOCAL) }

  /** Updates made here (drawing, undo, redo) as opposed to ones that arrived. */
  onLocalUpdate(fn) {
    const handler = (update, origin) => { if (origin !== REMOTE) fn(update) }
    this.doc.on('update', handler)
    return () => this.doc.off('update', handler)
  }

  onChange(fn) {
    this.elements.observeDeep(fn)
    return () => this.elements.unobserveDeep(fn)
  }

  topZ() {
    let z = 0
    for (const el of this.elements.values()) z = Math.max(z, Number(el.get('z')) || 0)
    return z
  }

  /** Create an element from plain fields; `points` become a Y.Array. */
  add(fields) {
    const id = crypto.randomUUID()
    this.edit(() => {
      const el = new Y.Map()
      for (const [key, value] of Object.entries({ ...fields, author: this.me, z: this.topZ() + 1 })) {
        if (key === 'points') {
          const points = new Y.Array()
          points.push(value)
          el.set('points', points)
        } else el.set(key, value)
      }
      this.elements.set(id, el)
    })
    return id
  }

  set(id, fields) {
    const el = this.elements.get(id)
    if (!el) return
    this.edit(() => { for (const [key, value] of Object.entries(fields)) el.set(key, value) })
  }

  pushPoints(id, coords) {
    const points = this.elements.get(id)?.get('points')
    if (points) this.edit(() => points.push(coords))
  }

  /** Replace the last point (lines and arrows follow the pointer). */
  setEnd(id, dx, dy) {
    const points = this.elements.get(id)?.get('points')
    if (!points) return
    this.edit(() => {
      if (points.length >= 4) points.delete(points.length - 2, 2)
      points.push([dx, dy])
    })
  }

  remove(id) { this.edit(() => this.elements.delete(id)) }

  /** Elements that can be drawn, in stacking order; invalid ones are skipped. */
  list() {
    const out = []
    for (const [id, map] of this.elements.entries()) {
      const el = parse(id, map)
      if (el) out.push(el)
    }
    return out.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  get(id) {
    const map = this.elements.get(id)
    return map ? parse(id, map) : null
  }

  destroy() {
    this.undo.destroy()
    this.doc.destroy()
  }
}

function finite(v) { return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= LIMIT }
function colour(v, fallback) { return typeof v === 'string' && /^#[0-9a-fA-F]{6}$/.test(v) ? v : fallback }

/** A plain, validated copy of one element, or null when it cannot be drawn. */
export function parse(id, map) {
  if (!(map instanceof Y.Map)) return null
  const type = map.get('type')
  if (!TYPES.has(type)) return null
  const x = map.get('x')
  const y = map.get('y')
  if (!finite(x) || !finite(y)) return null
  const el = {
    id, type, x, y,
    color: colour(map.get('color'), '#000000'),
    width: finite(map.get('width')) && map.get('width') > 0 ? map.get('width') : 2,
    z: finite(map.get('z')) ? map.get('z') : 0,
    author: map.get('author') ?? null,
  }
  if (['pen', 'line', 'arrow'].includes(type)) {
    const raw = map.get('points')
    const points = raw instanceof Y.Array ? raw.toArray() : Array.isArray(raw) ? raw : null
    if (!points || !points.every(finite) || points.length % 2) return null
    if (points.length < (type === 'pen' ? 2 : 4)) return null
    el.points = points
  } else {
    let w = map.get('w')
    let h = map.get('h')
    if (!finite(w) || !finite(h)) return null
    if (w < 0) { el.x += w; w = -w }
    if (h < 0) { el.y += h; h = -h }
    el.w = w
    el.h = h
    const fill = map.get('fill')
    el.fill = type === 'sticky' ? colour(fill, STICKY_FILL) : fill ? colour(fill, null) : null
    if (type === 'sticky' || type === 'text') el.text = typeof map.get('text') === 'string' ? map.get('text') : ''
  }
  return el
}
