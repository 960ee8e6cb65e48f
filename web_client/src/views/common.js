// Pieces every screen uses: the language switch, full-page notices, toasts, error texts.
import { h, fill } from '../dom.js'
import { LANGUAGES, has, lang, onLang, setLang, t } from '../i18n.js'
import { icon } from '../icons.js'

export function langSwitch() {
  const select = h('select', { class: 'lang-select', i18nLabel: 'lang.label', onChange: (e) => setLang(e.target.value) },
    LANGUAGES.map((code) => h('option', { value: code, lang: code, selected: code === lang() }, t(`lang.${code}`))))
  onLang((code) => { select.value = code })
  return h('label', { class: 'lang' }, icon('globe'), select)
}

/** A calm full-page notice: what happened and the next step. */
export function notice({ title, text, actions = [], tone = 'info', busy = false, extra = null }) {
  return h('main', { class: `notice notice-${tone}`, id: 'main' },
    h('div', { class: 'notice-top' }, h('span', { class: 'brand' }, 'Ledarstig'), langSwitch()),
    h('div', { class: 'notice-card', role: tone === 'error' ? 'alert' : 'status' },
      busy ? h('div', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      h('h1', { i18n: title }),
      text ? h('p', { i18n: text.key ?? text, vars: text.vars }) : null,
      extra,
      actions.length ? h('div', { class: 'actions' }, actions.map((a) =>
        h('button', { type: 'button', class: a.primary ? 'primary' : '', i18n: a.label, vars: a.vars, onClick: a.onClick }))) : null))
}

/** A sentence for a server error code, in the user's language. */
export function errorText(err) {
  const code = err?.code ?? 'internal_error'
  return has(`error.${code}`) ? t(`error.${code}`, { message: err?.message ?? '' }) : t('error.generic', { message: err?.message ?? code })
}

let toastRegion = null

export function toasts() {
  toastRegion = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' })
  return toastRegion
}

export function toast(text, tone = 'info') {
  if (!toastRegion) return
  const item = h('div', { class: `toast toast-${tone}` }, text)
  toastRegion.append(item)
  setTimeout(() => item.remove(), tone === 'error' ? 8000 : 5000)
}

export function showError(err) { toast(errorText(err), 'error') }

export function mmss(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const m = Math.floor(total / 60)
  const s = total % 60
  return `${m}:${String(s).padStart(2, '0')}`
}

export function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('')
}

export { fill }
