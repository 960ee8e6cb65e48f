// The review player: scrub, play 1×–16×, jump, filter the event list.
// The server renders each moment (GET …/moment?at=); this script only asks for it.
(function () {
  'use strict'
  const form = document.getElementById('player')
  if (!form) return
  const base = form.dataset.base
  const key = form.dataset.key
  const scrub = document.getElementById('scrub')
  const when = document.getElementById('when')
  const live = document.getElementById('live')
  const play = document.getElementById('play')
  const speed = document.getElementById('speed')
  const list = document.getElementById('events')
  const last = Number(form.dataset.last)
  let timer = null
  let pending = null

  function query (params) {
    const q = new URLSearchParams(params)
    if (key) q.set('key', key)
    return '?' + q.toString()
  }
  function clock (ms) { return new Date(ms).toISOString().slice(11, 19) + ' UTC' }

  async function show (params) {
    const token = {}
    pending = token
    const resp = await fetch(base + '/moment' + query(params), { credentials: 'same-origin' })
    if (pending !== token || !resp.ok) return
    live.innerHTML = await resp.text()
    const moment = document.getElementById('moment')
    const at = Number(moment.dataset.at)
    if (!params.at) scrub.value = String(at)
    when.textContent = clock(at)
    const url = new URL(window.location.href)
    url.searchParams.delete('seq')
    url.searchParams.set('at', String(params.at || at))
    history.replaceState(null, '', url)
    document.body.dataset.seq = moment.dataset.seq
  }

  scrub.addEventListener('input', () => { when.textContent = clock(Number(scrub.value)) })
  scrub.addEventListener('change', () => show({ at: scrub.value }))

  play.addEventListener('click', () => {
    if (timer) { clearInterval(timer); timer = null; play.textContent = form.dataset.play; return }
    play.textContent = form.dataset.pause
    timer = setInterval(() => {
      const next = Math.min(last, Number(scrub.value) + 1000 * Number(speed.value))
      scrub.value = String(next)
      show({ at: next })
      if (next >= last) play.click()
    }, 1000)
  })

  form.querySelectorAll('[data-jump]').forEach((button) => {
    button.addEventListener('click', async () => {
      const moment = document.getElementById('moment')
      const after = moment ? moment.dataset.seq : '0'
      const resp = await fetch(base + '/next.json' + query({ kind: button.dataset.jump, after }))
      const found = await resp.json()
      if (found.seq) await show({ seq: found.seq })
    })
  })

  async function loadEvents () {
    const types = [...document.querySelectorAll('#filters input:checked')].map((i) => i.value)
    const resp = await fetch(base + '/events.json' + query({ types: types.join(','), limit: 500 }))
    if (!resp.ok) return
    const { events } = await resp.json()
    list.replaceChildren(...events.map((e) => {
      const li = document.createElement('li')
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'link'
      b.textContent = clock(e.ts) + ' ' + e.type + ' · ' + e.name + (e.text ? ': ' + e.text : '')
      b.addEventListener('click', () => show({ seq: e.seq }))
      li.append(b)
      return li
    }))
  }
  document.getElementById('filters').addEventListener('change', loadEvents)
  loadEvents()
})()
