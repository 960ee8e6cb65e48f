// The whiteboard on screen: a toolbar, an SVG surface, pointer and keyboard editing.
import { h, announce } from '../dom.js'
import { t } from '../i18n.js'
import { bounds, draw } from './shapes.js'
import { icon } from '../icons.js'

const WIDTH = 1600
const HEIGHT = 1000
const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2]
const TOOLS = ['select', 'pen', 'line', 'arrow', 'rect', 'ellipse', 'sticky', 'text']
const COLORS = ['#1f2933', '#c0392b', '#1d6fb8', '#2e7d32', '#b7791f', '#7b3fa0']
const COLOR_KEYS = ['black', 'red', 'blue', 'green', 'orange', 'purple']
const STICKY = { w: 200, h: 140 }
const TEXT = { w: 260, h: 48 }
const EDIT_DEBOUNCE_MS = 300

export class BoardView {
  constructor() {
    this.doc = null
    this.tool = 'pen'
    this.color = COLORS[0]
    this.selected = null
    this.action = null
    this.dirty = false
    this.nodes = new Map()
    this.editor = null
    this.view = { x: 0, y: 0, zoom: 1, w: WIDTH, h: HEIGHT }
    this.root = this.build()
    new ResizeObserver(() => this.resize()).observe(this.frame)
  }

  /** The visible part of the board follows the frame's size: one board unit is one pixel at 100 %. */
  resize() {
    const rect = this.frame.getBoundingClientRect()
    if (!rect.width || !rect.height) return
    this.view.w = rect.width
    this.view.h = rect.height
    this.applyView()
  }

  applyView() {
    const { x, y, zoom, w, h } = this.view
    this.svg.setAttribute('viewBox', `${x} ${y} ${w / zoom} ${h / zoom}`)
    this.zoomLabel.textContent = `${Math.round(zoom * 100)} %`
  }

  zoomBy(step) {
    const at = ZOOMS.findIndex((z) => z >= this.view.zoom - 1e-6)
    const next = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (at < 0 ? ZOOMS.length - 1 : at) + step))]
    const cx = this.view.x + this.view.w / this.view.zoom / 2
    const cy = this.view.y + this.view.h / this.view.zoom / 2
    this.view.zoom = next
    this.view.x = cx - this.view.w / next / 2
    this.view.y = cy - this.view.h / next / 2
    this.applyView()
  }

  /** Show everything on the board (never larger than 100 %). */
  fit() {
    const els = this.doc?.list() ?? []
    if (!els.length) { Object.assign(this.view, { x: 0, y: 0, zoom: 1 }); this.applyView(); return }
    const boxes = els.map(bounds)
    const x0 = Math.min(...boxes.map((b) => b.x)) - 24
    const y0 = Math.min(...boxes.map((b) => b.y)) - 24
    const x1 = Math.max(...boxes.map((b) => b.x + b.w)) + 24
    const y1 = Math.max(...boxes.map((b) => b.y + b.h)) + 24
    const zoom = Math.min(1, this.view.w / (x1 - x0), this.view.h / (y1 - y0))
    Object.assign(this.view, { zoom, x: x0, y: y0 })
    this.applyView()
  }

  build() {
    this.toolButtons = new Map(TOOLS.map((tool) => [tool, h('button', {
      type: 'button', class: 'tool', 'aria-pressed': String(tool === this.tool), dataset: { tool },
      i18nLabel: `board.tool.${tool}`, i18nTitle: `board.tool.${tool}`, onClick: () => this.setTool(tool),
    }, icon(tool))]))
    this.colorButtons = COLORS.map((color, i) => h('button', {
      type: 'button', class: 'swatch', style: `--swatch:${color}`, 'aria-pressed': String(i === 0),
      i18nLabel: `board.color.${COLOR_KEYS[i]}`, i18nTitle: `board.color.${COLOR_KEYS[i]}`, onClick: () => this.setColor(i),
    }))
    this.undoButton = h('button', { type: 'button', class: 'tool', i18nLabel: 'board.undo', i18nTitle: 'board.undo', onClick: () => this.undo() }, icon('undo'))
    this.redoButton = h('button', { type: 'button', class: 'tool', i18nLabel: 'board.redo', i18nTitle: 'board.redo', onClick: () => this.redo() }, icon('redo'))
    this.zoomLabel = h('span', { class: 'zoom-label', 'aria-live': 'polite' }, '100 %')
    this.zoomGroup = h('div', { class: 'tool-group zoom-group' },
      h('button', { type: 'button', class: 'tool', i18nLabel: 'board.zoom_out', i18nTitle: 'board.zoom_out', onClick: () => this.zoomBy(-1) }, '−'),
      this.zoomLabel,
      h('button', { type: 'button', class: 'tool', i18nLabel: 'board.zoom_in', i18nTitle: 'board.zoom_in', onClick: () => this.zoomBy(1) }, '+'),
      h('button', { type: 'button', class: 'tool text-tool', i18n: 'board.fit', onClick: () => this.fit() }))
    this.deleteButton = h('button', { type: 'button', class: 'tool', i18nLabel: 'board.delete', i18nTitle: 'board.delete', disabled: true, onClick: () => this.deleteSelected() }, icon('trash'))
    const toolbar = h('div', { class: 'board-toolbar', role: 'toolbar', i18nLabel: 'board.tools' },
      h('div', { class: 'tool-group' }, [...this.toolButtons.values()]),
      h('div', { class: 'tool-group' }, this.colorButtons),
      h('div', { class: 'tool-group' }, this.undoButton, this.redoButton, this.deleteButton))
    this.layer = h('svg:g', { class: 'board-layer' })
    this.overlay = h('svg:g', { class: 'board-overlay' })
    this.svg = h('svg:svg', {
      class: 'board-surface', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, tabindex: '0', role: 'application',
      'aria-roledescription': 'whiteboard', i18nLabel: 'board.surface', 'data-tool': this.tool,
    }, this.layer, this.overlay)
    this.svg.addEventListener('pointerdown', (e) => this.down(e))
    this.svg.addEventListener('pointermove', (e) => this.move(e))
    this.svg.addEventListener('pointerup', (e) => this.up(e))
    this.svg.addEventListener('pointercancel', (e) => this.up(e))
    this.svg.addEventListener('dblclick', (e) => this.doubleClick(e))
    this.svg.addEventListener('wheel', (e) => this.wheel(e), { passive: false })
    this.svg.addEventListener('keydown', (e) => this.key(e))
    this.frame = h('div', { class: 'board-frame' }, this.svg, this.zoomGroup)
    this.hint = h('p', { class: 'board-hint', i18n: 'board.hint' })
    return h('section', { class: 'board', i18nLabel: 'board.title' }, toolbar, this.frame, this.hint)
  }

  /** Show another room's board (a new BoardDoc); the old one is forgotten. */
  attach(doc) {
    this.offChange?.()
    this.closeEditor(false)
    this.doc = doc
    this.selected = null
    this.nodes.clear()
    this.layer.replaceChildren()
    this.offChange = doc.onChange(() => this.schedule())
    this.render()
  }

  schedule() {
    if (this.dirty) return
    this.dirty = true
    requestAnimationFrame(() => this.render())
  }

  render() {
    this.dirty = false
    if (!this.doc) return
    const seen = new Set()
    let before = null
    const elements = this.doc.list()
    for (let i = elements.length - 1; i >= 0; i -= 1) {
      const el = elements[i]
      seen.add(el.id)
      const key = JSON.stringify(el)
      let node = this.nodes.get(el.id)
      if (!node || node.key !== key) {
        const fresh = draw(el, this.label(el))
        if (node) node.g.replaceWith(fresh)
        node = { g: fresh, key }
        this.nodes.set(el.id, node)
      }
      if (node.g.nextSibling !== before || node.g.parentNode !== this.layer) this.layer.insertBefore(node.g, before)
      before = node.g
    }
    for (const [id, node] of this.nodes) if (!seen.has(id)) { node.g.remove(); this.nodes.delete(id) }
    if (this.selected && !seen.has(this.selected)) this.select(null)
    this.drawSelection()
    this.undoButton.disabled = !this.doc.undo.canUndo()
    this.redoButton.disabled = !this.doc.undo.canRedo()
  }

  label(el) {
    const what = t(`board.kind.${el.type}`)
    return el.text ? `${what}: ${el.text}` : what
  }

  drawSelection() {
    this.overlay.replaceChildren()
    const el = this.selected && this.doc?.get(this.selected)
    this.deleteButton.disabled = !el
    if (!el) return
    const b = bounds(el)
    this.overlay.append(h('svg:rect', { x: b.x - 6, y: b.y - 6, width: b.w + 12, height: b.h + 12, class: 'selection' }))
  }

  setTool(tool) {
    this.tool = tool
    this.svg.dataset.tool = tool
    for (const [name, button] of this.toolButtons) button.setAttribute('aria-pressed', String(name === tool))
    if (tool !== 'select') this.select(null)
  }

  setColor(i) {
    this.color = COLORS[i]
    this.colorButtons.forEach((b, j) => b.setAttribute('aria-pressed', String(i === j)))
    if (this.selected) this.doc.set(this.selected, { color: this.color })
  }

  select(id) {
    this.selected = id
    this.drawSelection()
  }

  point(e) {
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(this.svg.getScreenCTM().inverse())
    return { x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 }
  }

  down(e) {
    if (!this.doc || e.button > 0 || this.editor) return
    const p = this.point(e)
    const target = e.target.closest?.('[data-id]')?.dataset.id ?? null
    this.svg.setPointerCapture(e.pointerId)
    const style = { color: this.color, width: 3 }
    switch (this.tool) {
      case 'select':
        this.select(target)
        if (target) {
          const el = this.doc.get(target)
          this.action = { kind: 'move', id: target, from: p, origin: { x: el.x, y: el.y } }
        } else {
          this.action = { kind: 'pan', from: { x: e.clientX, y: e.clientY }, origin: { x: this.view.x, y: this.view.y } }
        }
        return
      case 'pen':
        this.action = { kind: 'pen', id: this.doc.add({ type: 'pen', x: p.x, y: p.y, points: [0, 0], ...style }), from: p, last: p }
        return
      case 'line': case 'arrow':
        this.action = { kind: 'line', id: this.doc.add({ type: this.tool, x: p.x, y: p.y, points: [0, 0, 0, 0], ...style }), from: p }
        return
      case 'rect': case 'ellipse':
        this.action = { kind: 'box', id: this.doc.add({ type: this.tool, x: p.x, y: p.y, w: 0, h: 0, ...style }), from: p }
        return
      case 'sticky': case 'text':
        // Keep the focus change of this press from closing the editor it opens.
        e.preventDefault()
        this.svg.releasePointerCapture(e.pointerId)
        this.createNote(this.tool, p)
    }
  }

  move(e) {
    const a = this.action
    if (!a) return
    const p = this.point(e)
    if (a.kind === 'pen') {
      if (Math.hypot(p.x - a.last.x, p.y - a.last.y) < 2) return
      a.last = p
      this.doc.pushPoints(a.id, [p.x - a.from.x, p.y - a.from.y])
    } else if (a.kind === 'line') {
      this.doc.setEnd(a.id, p.x - a.from.x, p.y - a.from.y)
    } else if (a.kind === 'box') {
      this.doc.set(a.id, { x: Math.min(p.x, a.from.x), y: Math.min(p.y, a.from.y), w: Math.abs(p.x - a.from.x), h: Math.abs(p.y - a.from.y) })
    } else if (a.kind === 'move') {
      this.doc.set(a.id, { x: a.origin.x + p.x - a.from.x, y: a.origin.y + p.y - a.from.y })
    } else if (a.kind === 'pan') {
      this.view.x = a.origin.x - (e.clientX - a.from.x) / this.view.zoom
      this.view.y = a.origin.y - (e.clientY - a.from.y) / this.view.zoom
      this.applyView()
    }
  }

  wheel(e) {
    e.preventDefault()
    if (e.ctrlKey) { this.zoomBy(e.deltaY < 0 ? 1 : -1); return }
    this.view.x += e.deltaX / this.view.zoom
    this.view.y += e.deltaY / this.view.zoom
    this.applyView()
  }

  up(e) {
    const a = this.action
    this.action = null
    if (this.svg.hasPointerCapture?.(e.pointerId)) this.svg.releasePointerCapture(e.pointerId)
    if (!a || !this.doc || a.kind === 'pan') return
    const el = this.doc.get(a.id)
    const tiny = el && ((a.kind === 'box' && el.w < 3 && el.h < 3)
      || (a.kind === 'line' && Math.hypot(el.points[2], el.points[3]) < 3))
    if (tiny) this.doc.remove(a.id)
    else if (a.kind !== 'move') announce(t('board.added', { kind: t(`board.kind.${el?.type}`) }))
  }

  createNote(type, p) {
    const size = type === 'sticky' ? STICKY : TEXT
    const fields = { type, x: p.x, y: p.y, w: size.w, h: size.h, text: '', color: type === 'sticky' ? '#1f2933' : this.color, width: 2 }
    const id = this.doc.add(fields)
    this.setTool('select')
    this.select(id)
    this.openEditor(id)
  }

  doubleClick(e) {
    const id = e.target.closest?.('[data-id]')?.dataset.id
    const el = id && this.doc?.get(id)
    if (el && (el.type === 'sticky' || el.type === 'text')) this.openEditor(id)
  }

  /** A textarea over the note; text is written (debounced) while typing. */
  openEditor(id) {
    this.closeEditor(true)
    const el = this.doc.get(id)
    if (!el) return
    const frame = this.frame.getBoundingClientRect()
    const ctm = this.svg.getScreenCTM()
    const scale = ctm.a
    const left = ctm.e + el.x * scale - frame.left
    const top = ctm.f + el.y * scale - frame.top
    const area = h('textarea', {
      class: `board-editor ${el.type}`, value: el.text, i18nLabel: el.type === 'sticky' ? 'board.edit_sticky' : 'board.edit_text',
      style: `left:${left}px;top:${top}px;width:${el.w * scale}px;height:${el.h * scale}px;font-size:${Math.max(12, 16 * scale)}px`,
    })
    let timer = null
    const write = () => { clearTimeout(timer); timer = null; if (this.doc?.get(id)) this.doc.set(id, { text: area.value }) }
    area.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(write, EDIT_DEBOUNCE_MS) })
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' || (e.key === 'Enter' && (e.ctrlKey || e.metaKey))) { e.preventDefault(); this.closeEditor(true); this.svg.focus() }
    })
    area.addEventListener('blur', () => this.closeEditor(true))
    this.editor = { id, area, write }
    this.frame.append(area)
    requestAnimationFrame(() => area.focus())
  }

  closeEditor(save) {
    const ed = this.editor
    if (!ed) return
    this.editor = null
    if (save && this.doc?.get(ed.id)) {
      ed.write()
      const el = this.doc.get(ed.id)
      if (el?.type === 'text' && !el.text.trim()) this.doc.remove(ed.id)
    }
    ed.area.remove()
  }

  key(e) {
    if (!this.doc || this.editor) return
    const mod = e.ctrlKey || e.metaKey
    if (mod && e.key.toLowerCase() === 'z') { e.preventDefault(); if (e.shiftKey) this.redo(); else this.undo(); return }
    if (mod && e.key.toLowerCase() === 'y') { e.preventDefault(); this.redo(); return }
    if ((e.key === 'Delete' || e.key === 'Backspace') && this.selected) { e.preventDefault(); this.deleteSelected(); return }
    if (e.key === 'Enter') { e.preventDefault(); this.keyboardCreateOrEdit(); return }
    const step = e.shiftKey ? 50 : 10
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }
    if (moves[e.key] && this.selected) {
      e.preventDefault()
      const el = this.doc.get(this.selected)
      this.doc.set(this.selected, { x: el.x + moves[e.key][0], y: el.y + moves[e.key][1] })
    } else if (e.key === 'n' || e.key === 'p') {
      this.cycleSelection(e.key === 'n' ? 1 : -1)
    }
  }

  /** Keyboard users: Enter adds a note in the middle (note or text tool) or edits the selected one. */
  keyboardCreateOrEdit() {
    const el = this.selected && this.doc.get(this.selected)
    if (el && (el.type === 'sticky' || el.type === 'text')) { this.openEditor(el.id); return }
    const type = this.tool === 'text' ? 'text' : 'sticky'
    const count = this.doc.list().length
    const cx = this.view.x + this.view.w / this.view.zoom / 2
    const cy = this.view.y + this.view.h / this.view.zoom / 2
    this.createNote(type, { x: cx - STICKY.w / 2 + (count % 8) * 20, y: cy - STICKY.h / 2 + (count % 8) * 20 })
  }

  cycleSelection(dir) {
    const ids = this.doc.list().map((el) => el.id)
    if (!ids.length) return
    const at = ids.indexOf(this.selected)
    const next = ids[(at + dir + ids.length) % ids.length]
    this.setTool('select')
    this.select(next)
    announce(this.label(this.doc.get(next)))
  }

  deleteSelected() {
    if (!this.selected) return
    this.doc.remove(this.selected)
    this.select(null)
    announce(t('board.deleted'))
  }

  undo() { this.doc?.undo.undo(); this.render() }
  redo() { this.doc?.undo.redo(); this.render() }
}
