// SVG for board elements: one <g data-id> per element, drawn from a parsed element.
import { h } from '../dom.js'

const SVG = 'svg:'

export function absolute(el) {
  const out = []
  for (let i = 0; i < el.points.length; i += 2) out.push([el.x + el.points[i], el.y + el.points[i + 1]])
  return out
}

export function bounds(el) {
  if (el.points) {
    const pts = absolute(el)
    const xs = pts.map((p) => p[0])
    const ys = pts.map((p) => p[1])
    const pad = el.width / 2 + (el.type === 'arrow' ? el.width * 4 : 0)
    return { x: Math.min(...xs) - pad, y: Math.min(...ys) - pad,
      w: Math.max(...xs) - Math.min(...xs) + 2 * pad, h: Math.max(...ys) - Math.min(...ys) + 2 * pad }
  }
  return { x: el.x, y: el.y, w: el.w, h: el.h }
}

function arrowHead(el) {
  const pts = absolute(el)
  const [x2, y2] = pts[pts.length - 1]
  let [x1, y1] = pts[pts.length - 2]
  if (x1 === x2 && y1 === y2) [x1, y1] = [x2 - 1, y2]
  const angle = Math.atan2(y2 - y1, x2 - x1)
  const len = el.width * 4
  const spread = Math.PI / 7
  const p = (a) => `${x2 - len * Math.cos(a)},${y2 - len * Math.sin(a)}`
  return h(`${SVG}polygon`, { points: `${x2},${y2} ${p(angle - spread)} ${p(angle + spread)}`, fill: el.color })
}

function textBox(el, className) {
  const box = h(`${SVG}foreignObject`, { x: el.x, y: el.y, width: Math.max(el.w, 1), height: Math.max(el.h, 1) })
  box.append(h('div', { class: className, style: `color:${el.color}` }, el.text))
  return box
}

/** The drawing of one element (without the wide invisible hit area for thin strokes). */
export function draw(el, label) {
  const g = h(`${SVG}g`, { 'data-id': el.id, 'data-type': el.type, class: 'board-el' })
  const stroke = { stroke: el.color, 'stroke-width': el.width, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }
  if (el.points) {
    const points = absolute(el).map((p) => p.join(',')).join(' ')
    g.append(h(`${SVG}polyline`, { points, fill: 'none', stroke: 'transparent', 'stroke-width': Math.max(el.width, 14), class: 'hit' }))
    g.append(h(`${SVG}polyline`, { points, fill: 'none', ...stroke }))
    if (el.type === 'arrow') g.append(arrowHead(el))
  } else if (el.type === 'rect') {
    g.append(h(`${SVG}rect`, { x: el.x, y: el.y, width: el.w, height: el.h, fill: el.fill ?? 'transparent', ...stroke }))
  } else if (el.type === 'ellipse') {
    g.append(h(`${SVG}ellipse`, { cx: el.x + el.w / 2, cy: el.y + el.h / 2, rx: el.w / 2, ry: el.h / 2, fill: el.fill ?? 'transparent', ...stroke }))
  } else if (el.type === 'sticky') {
    g.append(h(`${SVG}rect`, { x: el.x, y: el.y, width: el.w, height: el.h, rx: 4, fill: el.fill, stroke: '#c9b458', 'stroke-width': 1, class: 'sticky-paper' }))
    g.append(textBox(el, 'board-sticky-text'))
  } else if (el.type === 'text') {
    g.append(h(`${SVG}rect`, { x: el.x, y: el.y, width: el.w, height: el.h, fill: 'transparent', class: 'hit' }))
    g.append(textBox(el, 'board-text'))
  }
  if (label) g.append(h(`${SVG}title`, {}, label))
  return g
}
