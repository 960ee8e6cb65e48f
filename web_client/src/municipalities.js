// The server's canonical list of municipalities (GET /municipalities.json), fetched once:
// a municipality is shown in the viewer's language; organisations as they were given.
import { lang } from './i18n.js'

let list = null
const byName = new Map()

export function municipalities() {
  list ??= fetch('/municipalities.json')
    .then((r) => (r.ok ? r.json() : []))
    .catch(() => [])
    .then((all) => {
      for (const m of all) byName.set(m.id, m)
      return all
    })
  return list
}

/** ``name`` (a canonical id from the server) in the viewer's language. */
export function municipalityName(name) {
  const m = byName.get(name)
  if (!m) return name ?? ''
  return lang() === 'fi' ? m.fi : m.sv
}
