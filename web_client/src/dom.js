// A small element builder: h('button', {class, onClick, i18n: 'key'}, ...children).
import { t } from './i18n.js'

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'muted',
  'autoplay', 'playsInline', 'srcObject', 'tabIndex', 'multiple', 'required', 'open'])

export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag)
  if (props?.vars) el.dataset.i18nVars = JSON.stringify(props.vars)
  for (const [key, value] of Object.entries(props || {})) if (key !== 'vars') setProp(el, key, value)
  append(el, children)
  return el
}

function setProp(el, key, value) {
  if (value === undefined || value === null || value === false) return
  if (key === 'class') el.setAttribute('class', value)
  else if (key === 'i18n' || key === 'i18nLabel' || key === 'i18nTitle' || key === 'i18nPlaceholder') {
    el.dataset[key] = value
    applyI18n(el, key, value)
  } else if (key === 'vars') el.dataset.i18nVars = JSON.stringify(value)
  else if (key === 'dataset') Object.assign(el.dataset, value)
  else if (key.startsWith('on') && typeof value === 'function') {
    el.addEventListener(key.slice(2).toLowerCase(), value)
  } else if (PROPERTIES.has(key)) el[key] = value
  else el.setAttribute(key, value === true ? '' : String(value))
}

function applyI18n(el, key, value) {
  const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : {}
  if (key === 'i18n') el.textContent = t(value, vars)
  if (key === 'i18nLabel') el.setAttribute('aria-label', t(value, vars))
  if (key === 'i18nTitle') el.title = t(value, vars)
  if (key === 'i18nPlaceholder') el.placeholder = t(value, vars)
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

/** Replace all children of el. */
export function fill(el, ...children) {
  el.replaceChildren()
  return append(el, children)
}

let uid = 0
export function nextId(prefix = 'id') { uid += 1; return `${prefix}-${uid}` }

const polite = () => document.getElementById('announcer-polite')
const assertive = () => document.getElementById('announcer-assertive')

/** Say text to screen readers; urgent ones interrupt. */
export function announce(text, urgent = false) {
  const region = urgent ? assertive() : polite()
  if (!region) return
  region.textContent = ''
  requestAnimationFrame(() => { region.textContent = text })
}
