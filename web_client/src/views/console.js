// The facilitator's console: agenda, a round from form to preview to open groups, the live
// view of every group, and the boards afterwards.
import { h, fill, nextId, announce } from '../dom.js'
import { lang, onLang, t } from '../i18n.js'
import { mmss, showError, toast } from './common.js'
import { municipalityName } from '../municipalities.js'

const STRATEGIES = ['mix', 'random', 'manual', 'self-select', 'keep']
const EXTEND = [60, 300, -60]

export class Console {
  constructor({ store, conn }) {
    this.store = store
    this.conn = conn
    this.templates = []
    this.gallery = null
    this.agendaBox = h('section', { class: 'card', 'aria-labelledby': 'agenda-h' })
    this.roundBox = h('section', { class: 'card round-card', 'aria-labelledby': 'round-h' })
    this.galleryBox = h('section', { class: 'card', 'aria-labelledby': 'gallery-h', hidden: true })
    this.form = this.roundForm()
    this.root = h('div', { class: 'console' },
      h('h1', { class: 'visually-hidden', i18n: 'console.title' }),
      h('div', { class: 'console-columns' },
        h('div', { class: 'console-side' }, this.agendaBox, endMeetingBox((e) => this.act(e)), this.reviewLink()),
        h('div', { class: 'console-main' }, this.galleryBox, this.roundBox)))
    this.mixSetup()
    store.on('agenda', (d) => { if (d?.started) this.prefill(d.started.activity); this.renderAgenda() })
    for (const topic of ['round', 'help', 'participants', 'rooms', 'room']) store.on(topic, () => this.renderRound())
    store.on('help', (d) => { if (d?.requested) this.helpRequested(d.requested) })
    store.on('round', () => this.roundChanged())
    store.on('speaking', () => this.renderSpeakers())
    onLang(() => { this.renderAgenda(); this.roundKey = null; this.renderRound(); this.renderGallery() })
    this.timer = setInterval(() => this.tick(), 1000)
    this.reviewAnchor.href = this.reviewHref()
    this.overviewTimer = setInterval(() => this.refreshOverview(), 4000)
    this.renderAgenda()
    this.renderRound()
    this.loadTemplates()
  }

  /** The review player for this meeting; a facilitator's own resume token is the key. */
  reviewLink() {
    this.reviewAnchor = h('a', { href: '#', target: '_blank', rel: 'noopener', i18n: 'console.review' })
    this.reviewAnchor.addEventListener('focus', () => { this.reviewAnchor.href = this.reviewHref() })
    this.reviewAnchor.addEventListener('mouseenter', () => { this.reviewAnchor.href = this.reviewHref() })
    return h('p', { class: 'review-link' }, this.reviewAnchor)
  }

  reviewHref() {
    const id = this.store.meeting?.id ?? ''
    // A roster facilitator's personal link is their key; a guest facilitator's, the resume token.
    const own = this.conn.token?.startsWith('p.') ? this.conn.token : this.conn.resume
    const key = own ? `?key=${encodeURIComponent(own)}` : ''
    return `/review/${encodeURIComponent(id)}${key}`
  }

  // -- agenda ----------------------------------------------------------------

  async loadTemplates() {
    try {
      this.templates = (await this.conn.request('agenda.templates', {})).templates
      this.renderAgenda()
    } catch (err) { showError(err) }
  }

  renderAgenda() {
    const agenda = this.store.agenda
    const select = h('select', { id: 'agenda-template' },
      h('option', { value: '' }, t('console.agenda_pick')),
      this.templates.map((tpl) => h('option', { value: tpl.id, selected: agenda?.template === tpl.id }, tpl.titles[lang()] ?? tpl.titles.sv)))
    const choose = h('form', { class: 'inline-form' },
      h('label', { for: 'agenda-template', i18n: 'console.agenda_template' }), select,
      h('button', { type: 'submit', i18n: 'console.agenda_use' }))
    choose.addEventListener('submit', (e) => { e.preventDefault(); if (select.value) this.setAgenda(select.value) })
    fill(this.agendaBox,
      h('h2', { id: 'agenda-h', i18n: 'console.agenda' }),
      choose,
      agenda ? h('ol', { class: 'agenda-list' }, agenda.activities.map((a, i) => h('li', { class: i === agenda.cursor ? 'current' : '', 'aria-current': i === agenda.cursor ? 'step' : null },
        h('div', {}, h('strong', {}, a.title),
          h('div', { class: 'muted small' }, `${t(`console.kind_${a.kind}`)} · ${t('console.minutes', { count: Math.round(a.duration_s / 60) })}`)),
        h('button', { type: 'button', class: 'small', i18n: i === agenda.cursor ? 'console.agenda_restart' : 'console.agenda_start', vars: { title: a.title },
          onClick: () => this.startActivity(i) }))))
        : h('p', { class: 'muted', i18n: 'console.agenda_none' }))
  }

  async setAgenda(template) {
    try { await this.conn.request('agenda.set', { template, lang: lang() }) } catch (err) { showError(err) }
  }

  async startActivity(index) {
    try { await this.conn.request('agenda.start', { index }) } catch (err) { showError(err) }
  }

  /** A breakout activity fills the round form. */
  prefill(activity) {
    if (!activity || activity.kind !== 'breakout') return
    const f = this.form.fields
    f.prompt.value = activity.prompt ?? ''
    f.duration.value = String(Math.round(activity.duration_s / 30) / 2) // half minutes: 30 s warm-ups
    if (activity.group_size) { f.sizeMode.value = 'size'; f.size.value = String(activity.group_size) }
    if (activity.strategy) { // prepared by an organiser
      f.strategy.value = activity.strategy
      f.strategy.dispatchEvent(new Event('change'))
    }
    this.form.activity = activity.id
    toast(t('console.prefilled', { title: activity.title }))
  }

  // -- round form --------------------------------------------------------------

  roundForm() {
    const id = (name) => `round-${name}`
    const strategy = h('select', { id: id('strategy') }, STRATEGIES.map((s) => h('option', { value: s, i18n: `strategy.${s}` })))
    const sizeMode = h('select', { id: id('mode') },
      h('option', { value: 'count', i18n: 'console.by_count' }), h('option', { value: 'size', i18n: 'console.by_size' }))
    const size = h('input', { id: id('size'), type: 'number', min: '1', max: '100', value: '2', required: true })
    const duration = h('input', { id: id('duration'), type: 'number', min: '0.5', max: '180', step: '0.5', value: '15', inputmode: 'decimal' })
    const warning = h('input', { id: id('warning'), type: 'number', min: '0', max: '3600', step: '1', value: '60', inputmode: 'numeric' })
    const closing = h('input', { id: id('closing'), type: 'number', min: '0', max: '600', step: '1', value: '30', inputmode: 'numeric' })
    const roaming = h('input', { id: id('roaming'), type: 'checkbox' })
    const problem = h('p', { class: 'form-error', id: id('problem'), role: 'alert' })
    const prompt = h('textarea', { id: id('prompt'), rows: '3', maxlength: '2000' })
    const help = h('p', { class: 'help', id: id('strategy-help') })
    strategy.setAttribute('aria-describedby', help.id)
    const explain = () => { help.textContent = t(`strategy.${strategy.value}_help`) }
    strategy.addEventListener('change', explain)
    onLang(explain)
    explain()
    const el = h('form', { class: 'round-form' },
      h('div', { class: 'field' }, h('label', { for: strategy.id, i18n: 'console.strategy' }), strategy, help),
      h('div', { class: 'field-row' },
        h('div', { class: 'field' }, h('label', { for: sizeMode.id, i18n: 'console.groups' }), sizeMode),
        h('div', { class: 'field' }, h('label', { for: size.id, i18n: 'console.number' }), size),
        h('div', { class: 'field' }, h('label', { for: duration.id, i18n: 'console.duration' }), duration)),
      h('div', { class: 'field-row' },
        h('div', { class: 'field' }, h('label', { for: warning.id, i18n: 'console.warning_s' }), warning),
        h('div', { class: 'field' }, h('label', { for: closing.id, i18n: 'console.closing_s' }), closing)),
      h('div', { class: 'field' }, h('label', { for: prompt.id, i18n: 'console.prompt' }), prompt),
      h('div', { class: 'field check' }, roaming, h('label', { for: roaming.id, i18n: 'console.roaming' })),
      problem,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', i18n: 'console.preview' })))
    // Our own checks and messages, in the page's language (not the browser's).
    el.noValidate = true
    el.addEventListener('submit', (e) => { e.preventDefault(); if (this.validate()) this.preview() })
    onLang(() => { if (this.form?.problemKey) this.validate() })
    return { el, activity: null, problem, problemKey: null, fields: { strategy, sizeMode, size, duration, prompt, warning, closing, roaming } }
  }

  /** The form's values within the server's limits, or a translated message at the field. */
  validate() {
    const f = this.form.fields
    const checks = [
      [f.duration, (v) => v >= 0.5 && v <= 180, 'console.invalid_duration'],
      [f.size, (v) => Number.isInteger(v) && v >= 1 && v <= 100, 'console.invalid_number'],
      [f.warning, (v) => Number.isInteger(v) && v >= 0 && v <= 3600, 'console.invalid_warning'],
      [f.closing, (v) => Number.isInteger(v) && v >= 0 && v <= 600, 'console.invalid_closing'],
    ]
    for (const input of Object.values(f)) input.removeAttribute?.('aria-invalid')
    const bad = checks.find(([input, ok]) => input.value.trim() === '' || !ok(Number(input.value)))
    this.form.problemKey = bad ? bad[2] : null
    this.form.problem.textContent = bad ? t(bad[2]) : ''
    if (bad) {
      bad[0].setAttribute('aria-invalid', 'true')
      bad[0].setAttribute('aria-describedby', this.form.problem.id)
      bad[0].focus()
    }
    return !bad
  }

  spec(seed) {
    const f = this.form.fields
    const spec = { strategy: f.strategy.value, duration_s: Math.round(Number(f.duration.value) * 60),
      warning_s: Number(f.warning.value), closing_s: Number(f.closing.value) }
    if (f.roaming.checked) spec.roaming = true
    if (spec.strategy !== 'keep') spec[f.sizeMode.value === 'size' ? 'group_size' : 'group_count'] = Number(f.size.value)
    if (f.prompt.value.trim()) spec.prompt = f.prompt.value.trim()
    if (spec.strategy === 'self-select') spec.capacity = Math.max(1, Math.ceil(this.assignableCount() / Math.max(1, Number(f.size.value))) + 1)
    if (spec.strategy === 'manual') spec.mapping = {}
    if (this.form.activity) spec.activity = this.form.activity
    if (seed !== undefined) spec.seed = seed
    this.mixSpec(spec)
    return spec
  }

  assignableCount() {
    return [...this.store.participants.values()].filter((p) => p.present && p.role === 'participant').length
  }

  async preview() {
    try {
      await this.conn.request('round.preview', this.spec())
    } catch (err) { showError(err) }
  }

  async reshuffle() {
    try { await this.conn.request('round.preview', this.spec(Math.floor(Math.random() * 2 ** 31))) } catch (err) { showError(err) }
  }

  // -- round: preview, live, closed ---------------------------------------------

  roundChanged() {
    const r = this.store.round
    if (r?.phase === 'closed' && this.gallery?.round !== r.id) this.loadGallery(r.id)
  }

  /** The skeleton is rebuilt only when the round or its phase changes, so typing is never lost. */
  renderRound() {
    const r = this.store.round
    const phase = r?.phase ?? 'none'
    const key = `${r?.id}:${phase}`
    if (key !== this.roundKey) {
      this.roundKey = key
      this.dynamic = h('div', { class: 'round-dynamic' })
      this.clock = null
      let body
      if (phase === 'preview') body = this.previewView(r)
      else if (phase === 'open' || phase === 'closing') body = this.liveView(r)
      else body = [phase === 'closed' ? h('p', { class: 'info-box', i18n: 'console.round_done', vars: { n: r.number } }) : null, this.dynamic, this.form.el]
      fill(this.roundBox, h('h2', { id: 'round-h', i18n: phase === 'open' || phase === 'closing' ? 'console.live' : 'console.round', vars: { n: r?.number ?? 1 } }), body)
    }
    if (phase === 'preview') fill(this.dynamic, h('div', { class: 'groups' }, r.groups.map((members, i) => this.dropZone(r, members, i))))
    else if (phase === 'open' || phase === 'closing') this.renderLive(r)
    else fill(this.dynamic, this.restoreHands())
    this.tick()
  }

  /** After a round: put back the plenary's queue of hands that the round lowered. */
  restoreHands() {
    const s = this.store
    const waiting = s.handsSetAside.filter((id) => s.participants.get(id)?.present)
    if (!waiting.length) return null
    return h('p', { class: 'actions' }, h('button', { type: 'button', i18n: 'people.restore_hands', vars: { count: waiting.length },
      onClick: () => this.act('hands.restore') }))
  }

  previewView(r) {
    return [
      h('p', { class: 'muted', i18n: 'console.preview_help' }),
      this.mixPreviewInfo(r),
      this.dynamic,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', i18n: 'console.open', onClick: () => this.act('round.open') }),
        r.strategy === 'manual' || r.strategy === 'self-select' ? null : h('button', { type: 'button', i18n: 'console.reshuffle', onClick: () => this.reshuffle() }),
        h('button', { type: 'button', i18n: 'console.cancel', onClick: () => this.act('round.cancel') })),
    ]
  }

  dropZone(r, members, index) {
    const zone = h('div', { class: 'group drop', dataset: { group: String(index) } },
      h('h3', { i18n: 'room.group', vars: { n: index + 1 } }),
      r.prompts?.[index] ? h('p', { class: 'group-prompt' }, r.prompts[index]) : null,
      h('ul', { class: 'chips' }, members.map((pid) => this.chip(r, pid, index))))
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over') })
    zone.addEventListener('dragleave', () => zone.classList.remove('over'))
    zone.addEventListener('drop', (e) => {
      e.preventDefault()
      zone.classList.remove('over')
      const pid = e.dataTransfer.getData('text/plain')
      if (pid) this.regroup(pid, index)
    })
    return zone
  }

  chip(r, pid, index) {
    const p = this.store.participants.get(pid)
    const selectId = nextId('move')
    const move = h('select', { id: selectId, class: 'chip-move', onChange: (e) => this.regroup(pid, Number(e.target.value)) },
      r.groups.map((_, i) => h('option', { value: String(i), selected: i === index }, t('room.group', { n: i + 1 }))))
    return h('li', { class: 'chip', draggable: 'true', dataset: { id: pid },
      onDragstart: (e) => { e.dataTransfer.setData('text/plain', pid); e.dataTransfer.effectAllowed = 'move' } },
    h('span', { class: 'chip-name' }, p?.name ?? pid),
    h('span', { class: 'chip-muni' }, municipalityName(p?.municipality)),
    h('label', { for: selectId, class: 'visually-hidden', i18n: 'console.move_person', vars: { name: p?.name ?? pid } }), move)
  }

  async regroup(participant, group) {
    try { await this.conn.request('round.regroup', { participant, group }) } catch (err) { showError(err) }
  }

  liveView(r) {
    this.clock = h('span', { class: 'countdown' })
    const broadcast = h('input', { id: 'broadcast-text', maxlength: '500', autocomplete: 'off' })
    const bform = h('form', { class: 'inline-form' },
      h('label', { for: 'broadcast-text', i18n: 'console.broadcast' }), broadcast,
      h('button', { type: 'submit', i18n: 'console.send' }))
    bform.addEventListener('submit', async (e) => {
      e.preventDefault()
      if (!broadcast.value.trim()) return
      if (await this.act('round.broadcast', { text: broadcast.value.trim() })) broadcast.value = ''
    })
    return [
      h('div', { class: 'live-top' },
        h('div', { class: 'timer' }, h('span', { class: 'timer-label', i18n: r.phase === 'closing' ? 'banner.closing' : 'banner.time_left' }), this.clock),
        h('div', { class: 'actions' },
          EXTEND.map((delta) => h('button', { type: 'button', class: 'small', i18n: delta > 0 ? 'console.extend' : 'console.shorten', vars: { count: Math.abs(delta) / 60 },
            onClick: () => this.act('round.extend', { delta_s: delta }) })),
          r.phase === 'open' && r.closing_s > 0
            ? h('button', { type: 'button', i18n: 'console.close_countdown', vars: { count: r.closing_s }, onClick: () => this.act('round.close', { countdown: true }) }) : null,
          h('button', { type: 'button', class: 'danger', i18n: 'console.close', onClick: () => this.act('round.close') }))),
      bform,
      this.groupMessageForm(r),
      this.mixRebalancedInfo(r),
      this.dynamic,
    ]
  }

  /** A message to one group only. */
  groupMessageForm(r) {
    const group = h('select', { id: 'group-message-group' }, r.groups.map((_, i) => h('option', { value: String(i) }, t('room.group', { n: i + 1 }))))
    const text = h('input', { id: 'group-message-text', maxlength: '500', autocomplete: 'off' })
    const form = h('form', { class: 'inline-form' },
      h('label', { for: 'group-message-group', i18n: 'console.message_group' }), group,
      h('label', { for: 'group-message-text', class: 'visually-hidden', i18n: 'console.message_text' }), text,
      h('button', { type: 'submit', i18n: 'console.send_group' }))
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      if (!text.value.trim()) return
      if (await this.act('round.message', { group: Number(group.value), text: text.value.trim() })) text.value = ''
    })
    return form
  }

  async refreshOverview() {
    const r = this.store.round
    if (!r || (r.phase !== 'open' && r.phase !== 'closing')) return
    try {
      this.overview = (await this.conn.request('round.overview', {})).rooms
      this.renderRound()
    } catch { /* the overview is a help, not a must */ }
  }

  renderLive(r) {
    const s = this.store
    const myRoom = s.room
    fill(this.dynamic,
      myRoom !== 'plenary' ? h('p', { class: 'info-box' }, t('console.visiting', { n: s.groupIndex(myRoom) + 1 }), ' ',
        h('button', { type: 'button', class: 'small', i18n: 'banner.back_to_plenary', onClick: () => this.act('round.visit', { group: null }) })) : null,
      h('div', { class: 'groups live' }, r.groups.map((members, i) => this.liveGroup(r, members, i))),
      this.inPlenary(r))
  }

  /** Participants who are not in any group (they went back, or were moved, to the plenary). */
  inPlenary(r) {
    const s = this.store
    const grouped = new Set(r.groups.flat())
    const here = [...s.participants.values()].filter((p) => p.present && p.role === 'participant' && !grouped.has(p.id))
    if (!here.length) return null
    return h('div', { class: 'group in-plenary' }, h('h3', { i18n: 'room.plenary' }),
      h('ul', { class: 'members' }, here.map((p) => h('li', {}, h('span', { class: 'member-name' }, p.name), this.moveSelect(r, p.id, -1)))))
  }

  liveGroup(r, members, index) {
    const s = this.store
    const room = r.rooms[index]
    const help = s.help.filter((x) => x.room === room)
    const visitors = [...s.participants.values()].filter((p) => p.present && p.room === room && p.role === 'facilitator')
    const speaking = members.filter((pid) => s.participants.get(pid)?.mic && s.online.has(pid)).length
    const updates = this.overview?.[room]?.board_edits ?? 0
    return h('div', { class: `group ${help.length ? 'needs-help' : ''}`, dataset: { group: String(index) } },
      h('h3', {}, t('room.group', { n: index + 1 }), help.length ? h('span', { class: 'badge' }, t('console.help_badge')) : null),
      r.prompts?.[index] ? h('p', { class: 'group-prompt' }, r.prompts[index]) : null,
      h('p', { class: 'group-activity muted small' }, t('console.mics_on', { count: speaking }), ' · ', t('console.board_changes', { count: updates })),
      this.speakers(room),
      h('ul', { class: 'members' }, members.map((pid) => {
        const p = s.participants.get(pid)
        const online = s.online.has(pid)
        return h('li', { class: online ? 'online' : 'offline' },
          h('span', { class: 'presence-dot', role: 'img', 'aria-label': t(online ? 'people.online' : 'people.offline') }),
          h('span', { class: 'member-name' }, ` ${p?.name ?? pid}`, h('span', { class: 'muted' }, ` · ${municipalityName(p?.municipality)}`),
            p?.mic && online ? h('span', { class: 'muted' }, ` · ${t('console.mic_on')}`) : null,
            p && p.room !== room ? h('span', { class: 'muted' }, ` (${t('console.elsewhere')})`) : null),
          this.moveSelect(r, pid, index))
      }), visitors.map((p) => h('li', { class: 'visitor' }, t('console.visitor', { name: p.name })))),
      help.map((x) => h('p', { class: 'help-request', role: 'note' }, t('console.help_from', { name: s.name(x.participant) }), ' ',
        h('button', { type: 'button', class: 'small', i18n: 'console.answer', vars: { name: s.name(x.participant) }, onClick: () => this.act('help.answer', { participant: x.participant }) }))),
      h('div', { class: 'actions' },
        s.room === room ? h('span', { class: 'muted', i18n: 'console.you_are_here' })
          : h('button', { type: 'button', class: 'small', i18n: 'console.visit', vars: { n: index + 1 }, onClick: () => this.act('round.visit', { group: index }) })))
  }

  /** Who in this group is talking now (their own browser says so), in words. */
  speakers(room) {
    const el = h('p', { class: 'group-speaking small', dataset: { room } })
    this.fillSpeakers(el)
    return el
  }

  fillSpeakers(el) {
    const s = this.store
    const names = [...s.speaking].filter((pid) => s.online.has(pid) && s.participants.get(pid)?.room === el.dataset.room).map((pid) => s.name(pid))
    el.classList.toggle('talking', names.length > 0)
    el.textContent = names.length ? t('console.speaking', { names: names.join(', ') }) : t('console.nobody_speaking')
  }

  /** Changes often: update the lines in place, not the whole round (keeps focus). */
  renderSpeakers() {
    for (const el of this.roundBox.querySelectorAll('.group-speaking')) this.fillSpeakers(el)
  }

  /** Move someone to another group (or to the plenary) while the round is open. */
  moveSelect(r, pid, index) {
    const id = nextId('live-move')
    const name = this.store.name(pid)
    const select = h('select', { id, class: 'chip-move', onChange: (e) => {
      const value = e.target.value
      this.act('round.move', { participant: pid, group: value === 'plenary' ? null : Number(value) })
    } },
    r.groups.map((_, i) => h('option', { value: String(i), selected: i === index }, t('room.group', { n: i + 1 }))),
    h('option', { value: 'plenary', selected: index < 0 }, t('room.plenary')))
    return [h('label', { for: id, class: 'visually-hidden', i18n: 'console.move_person', vars: { name } }), select]
  }

  helpRequested(d) {
    const group = this.store.groupIndex(d.room) + 1
    announce(t('console.help_announce', { name: this.store.name(d.participant), n: group }), true)
    toast(t('console.help_announce', { name: this.store.name(d.participant), n: group }), 'warn')
  }

  tick() {
    const r = this.store.round
    if (!this.clock || !r || (r.phase !== 'open' && r.phase !== 'closing')) return
    this.clock.textContent = mmss((r.phase === 'closing' ? r.closes_at : r.deadline) - this.store.now())
  }

  async act(event, data = {}) {
    try {
      await this.conn.request(event, data)
      return true
    } catch (err) {
      showError(err)
      return false
    }
  }

  // -- gallery ----------------------------------------------------------------------

  async loadGallery(roundId) {
    try {
      const { boards } = await this.conn.request('board.gallery', { round: roundId })
      this.gallery = { round: roundId, boards }
    } catch (err) {
      this.gallery = { round: roundId, boards: [], error: err }
    }
    this.renderGallery()
  }

  renderGallery() {
    const g = this.gallery
    this.galleryBox.hidden = !g
    if (!g) return
    fill(this.galleryBox,
      h('h2', { id: 'gallery-h', i18n: 'console.gallery' }),
      g.error ? h('p', { class: 'muted', i18n: 'console.gallery_unavailable' }) : null,
      h('ul', { class: 'gallery' }, g.boards.map((b) => h('li', {},
        h('figure', {},
          h('img', { src: b.svg, alt: t('console.board_of', { n: b.name }), loading: 'lazy' }),
          h('figcaption', {}, t('room.group', { n: b.name }), ' · ', t('console.elements', { count: b.elements }), ' · ',
            h('a', { href: b.png, download: `grupp-${b.name}.png` }, 'PNG'))),
        h('button', { type: 'button', class: 'small', i18n: 'console.show_all', onClick: () => this.act('board.show', { room: b.room }) })))))
  }

  stop() { clearInterval(this.timer); clearInterval(this.overviewTimer) }

  // -- mixing: planned rounds, people away, rebalancing, constraints ------------------

  mixSetup() {
    this.mixRounds = h('input', { id: 'round-plan', type: 'number', min: '1', max: '12', 'aria-describedby': 'round-plan-help' })
    this.form.el.insertBefore(h('div', { class: 'field' },
      h('label', { for: 'round-plan', i18n: 'console.mix_rounds' }), this.mixRounds,
      h('p', { class: 'help', id: 'round-plan-help', i18n: 'console.mix_rounds_help' })), this.form.el.querySelector('.actions'))
    this.mixBox = h('section', { class: 'card mix-card', 'aria-labelledby': 'mix-h' })
    this.root.querySelector('.console-side').append(this.mixBox)
    for (const topic of ['constraints', 'participants']) this.store.on(topic, () => this.renderMix())
    onLang(() => this.renderMix())
    this.renderMix()
  }

  mixSpec(spec) {
    const rounds = Number(this.mixRounds?.value)
    if (spec.strategy === 'mix' && rounds >= 1) spec.rounds = Math.min(12, rounds)
  }

  mixPreviewInfo(r) {
    const names = (r.away ?? []).map((pid) => this.store.name(pid)).join(', ')
    return h('div', { class: 'mix-info' },
      r.plan ? h('p', { class: 'muted', i18n: 'console.mix_plan', vars: { rounds: r.plan.rounds, repeats: r.plan.repeats, bound: r.plan.repeat_bound } }) : null,
      names ? h('p', { class: 'info-box' }, t('console.mix_away', { names }), ' ',
        r.include_away ? null : h('button', { type: 'button', class: 'small', i18n: 'console.mix_include_away',
          onClick: () => this.act('round.preview', { ...this.spec(r.seed), include_away: true }) })) : null)
  }

  mixRebalancedInfo(r) {
    const done = r.rebalanced
    return done ? h('p', { class: 'info-box', role: 'status' },
      t('console.mix_rebalanced', { groups: done.merged.join(', '), min: done.min_size })) : null
  }

  mixConstraints() {
    const c = this.store.constraints ?? {}
    return { together: c.together ?? [], apart: c.apart ?? [], fair_seats: !!c.fair_seats }
  }

  async mixSave(change) {
    await this.act('mix.constraints', { ...this.mixConstraints(), ...change })
  }

  renderMix() {
    const c = this.mixConstraints()
    const people = [...this.store.participants.values()].filter((p) => p.present && p.role === 'participant')
    const pick = (id) => h('select', { id }, people.map((p) => h('option', { value: p.id }, `${p.name} · ${municipalityName(p.municipality)}`)))
    const first = pick('mix-first')
    const second = pick('mix-second')
    const add = (kind) => () => {
      if (first.value && second.value) this.mixSave({ [kind]: [...c[kind], [first.value, second.value]] })
    }
    const pairs = [['together', c.together], ['apart', c.apart]].flatMap(([kind, list]) => list.map((pair, i) =>
      h('li', {}, t(`console.mix_pair_${kind}`, { a: this.store.name(pair[0]), b: this.store.name(pair[1]) }), ' ',
        h('button', { type: 'button', class: 'small', i18n: 'console.mix_remove',
          onClick: () => this.mixSave({ [kind]: list.filter((_, j) => j !== i) }) }))))
    const fair = h('input', { id: 'mix-fair', type: 'checkbox', checked: c.fair_seats,
      onChange: (e) => this.mixSave({ fair_seats: e.target.checked }) })
    fill(this.mixBox,
      h('h2', { id: 'mix-h', i18n: 'console.mix_constraints' }),
      h('div', { class: 'field-row' },
        h('div', { class: 'field' }, h('label', { for: first.id, i18n: 'console.mix_first' }), first),
        h('div', { class: 'field' }, h('label', { for: second.id, i18n: 'console.mix_second' }), second)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', i18n: 'console.mix_together', onClick: add('together') }),
        h('button', { type: 'button', class: 'small', i18n: 'console.mix_apart', onClick: add('apart') })),
      pairs.length ? h('ul', { class: 'mix-pairs' }, pairs) : h('p', { class: 'muted', i18n: 'console.mix_none' }),
      h('div', { class: 'field checkbox' }, fair, h('label', { for: fair.id, i18n: 'console.mix_fair' })))
  }
}

/** Ending the meeting for everyone, with a second click to confirm. */
function endMeetingBox(act) {
  const confirm = h('button', { type: 'button', class: 'danger', hidden: true, i18n: 'console.end_confirm', onClick: () => act('meeting.end') })
  const ask = h('button', { type: 'button', i18n: 'console.end', onClick: () => { ask.hidden = true; confirm.hidden = false; confirm.focus() } })
  return h('section', { class: 'card', 'aria-labelledby': 'end-h' },
    h('h2', { id: 'end-h', i18n: 'console.end_title' }), ask, confirm)
}
