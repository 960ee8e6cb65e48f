// Translation catalogs (Swedish first, then Finnish and English) and the current language.
import sv from './i18n/sv.json'
import fi from './i18n/fi.json'
import en from './i18n/en.json'

export const LANGUAGES = ['sv', 'fi', 'en']
const CATALOGS = { sv, fi, en }
const STORAGE_KEY = 'ledarstig:lang'
const listeners = new Set()
let current = initialLanguage()

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get('lang')
  if (LANGUAGES.includes(asked)) return asked
  const kept = safeStorage()?.getItem(STORAGE_KEY)
  return LANGUAGES.includes(kept) ? kept : 'sv'
}

function safeStorage() {
  try { return window.localStorage } catch { return null }
}

export function lang() { return current }

export function setLang(code) {
  if (!LANGUAGES.includes(code) || code === current) return
  current = code
  safeStorage()?.setItem(STORAGE_KEY, code)
  document.documentElement.lang = code
  translateTree(document.body)
  for (const fn of listeners) fn(code)
}

/** Call fn whenever the language changes; returns the unsubscribe function. */
export function onLang(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** The text of key in the current language, with {name} placeholders filled from vars.
 *  With vars.count, key_one / key_other are tried first. */
export function t(key, vars = {}) {
  const text = lookup(pluralKey(key, vars)) ?? lookup(key) ?? key
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m))
}

/** Whether the catalogs know key (used for server error codes). */
export function has(key) { return lookup(key) !== undefined }

function lookup(key) {
  return CATALOGS[current][key] ?? CATALOGS.sv[key]
}

function pluralKey(key, vars) {
  if (typeof vars.count !== 'number') return key
  const form = new Intl.PluralRules(current).select(vars.count) === 'one' ? 'one' : 'other'
  return `${key}_${form}`
}

/** Re-translate static elements marked with data-i18n* attributes. */
export function translateTree(root) {
  for (const el of root.querySelectorAll('[data-i18n],[data-i18n-label],[data-i18n-title],[data-i18n-placeholder]')) {
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : {}
    if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, vars)
    if (el.dataset.i18nLabel) el.setAttribute('aria-label', t(el.dataset.i18nLabel, vars))
    if (el.dataset.i18nTitle) el.title = t(el.dataset.i18nTitle, vars)
    if (el.dataset.i18nPlaceholder) el.placeholder = t(el.dataset.i18nPlaceholder, vars)
  }
}

document.documentElement.lang = current
