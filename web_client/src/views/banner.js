// The breakout banner: the group's task, the time left, messages from the facilitator and
// a way to ask for help. Also the self-select choice while a round is being prepared.
import { h, fill, announce } from '../dom.js'
import { onLang, t } from '../i18n.js'
import { mmss, showError } from './common.js'

const ANNOUNCE_AT = [60, 30, 10]

export class Banner {
  constructor({ store, conn }) {
    this.store = store
    this.conn = conn
    this.root = h('section', { class: 'banner', hidden: true, 'aria-labelledby': 'banner-title' })
    this.clock = h('span', { class: 'countdown', 'aria-hidden': 'true' })
    this.clockText = h('span', { class: 'visually-hidden' })
    this.said = new Set()
    for (const topic of ['round', 'help', 'room', 'rooms']) store.on(topic, () => this.render())
    store.on('broadcast', ({ text }) => announce(t('banner.broadcast_said', { text }), true))
    store.on('room', ({ from, to }) => this.moved(from, to))
    onLang(() => this.render())
    this.timer = setInterval(() => this.tick(), 1000)
    this.render()
  }

  moved(from, to) {
    if (!from) return
    const room = this.store.rooms.get(to)
    if (room?.kind === 'breakout') announce(t('banner.moved_to_group', { n: room.name }))
    else if (to === 'plenary') announce(t('banner.back_in_plenary'))
  }

  get active() {
    const r = this.store.round
    return this.store.inBreakout && r && (r.phase === 'open' || r.phase === 'closing') ? r : null
  }

  render() {
    const r = this.active
    if (!r) { this.renderChoice(); return }
    const s = this.store
    const index = s.groupIndex(s.room)
    const prompt = r.prompts?.[index] ?? r.prompts?.[0] ?? ''
    const myHelp = s.help.find((x) => x.participant === s.me)
    const roomHelp = s.help.filter((x) => x.room === s.room)
    const note = s.note && (!s.note.room || s.note.room === s.room) ? s.note : null
    const last = note ? note.text : r.broadcasts?.[r.broadcasts.length - 1]
    this.root.hidden = false
    this.root.className = `banner banner-${r.phase}`
    fill(this.root,
      h('div', { class: 'banner-main' },
        h('h2', { id: 'banner-title', i18n: 'room.group', vars: { n: s.rooms.get(s.room)?.name ?? index + 1 } }),
        prompt ? h('p', { class: 'prompt' }, h('span', { class: 'prompt-label', i18n: 'banner.task' }), ' ', prompt) : null,
        last ? h('p', { class: 'broadcast', role: 'note' }, h('strong', { i18n: note?.room ? 'banner.to_your_group' : 'banner.from_facilitator' }), ' ', last) : null),
      h('div', { class: 'banner-side' },
        h('div', { class: 'timer' }, h('span', { class: 'timer-label', i18n: r.phase === 'closing' ? 'banner.closing' : 'banner.time_left' }), this.clock, this.clockText),
        s.facilitator
          ? h('button', { type: 'button', i18n: 'banner.back_to_plenary', onClick: () => this.visitPlenary() })
          : h('button', { type: 'button', class: myHelp ? 'help pending' : 'help', disabled: Boolean(myHelp), onClick: () => this.askHelp() },
            t(myHelp ? 'banner.help_coming' : 'banner.ask_help')),
        roomHelp.length && !myHelp && !s.facilitator ? h('p', { class: 'help-note', i18n: 'banner.help_asked_by', vars: { name: s.name(roomHelp[0].participant) } }) : null,
        r.roaming && !s.facilitator ? this.roam(r, index) : null))
    this.tick()
  }

  /** A round with open doors: change group, or go back to the plenary. */
  roam(r, index) {
    const select = h('select', { id: 'roam-group', onChange: (e) => { if (e.target.value !== '') this.go(Number(e.target.value)) } },
      h('option', { value: '', i18n: 'banner.change_group' }),
      r.groups.map((_, i) => (i === index ? null : h('option', { value: String(i) }, t('room.group', { n: i + 1 })))))
    return h('div', { class: 'roam' },
      h('label', { for: 'roam-group', class: 'visually-hidden', i18n: 'banner.change_group' }), select,
      h('button', { type: 'button', class: 'small', i18n: 'banner.leave_group', onClick: () => this.go(null) }))
  }

  async go(group) {
    try { await this.conn.request('round.go', { group }) } catch (err) { showError(err) }
  }

  /** In the plenary while a round with open doors runs: the groups one may join. */
  renderDoors(r) {
    this.root.hidden = false
    this.root.className = 'banner banner-choice'
    fill(this.root, h('div', { class: 'banner-main' },
      h('h2', { id: 'banner-title', i18n: 'banner.doors_title' }),
      h('ul', { class: 'choices' }, r.groups.map((g, i) => h('li', {},
        h('button', { type: 'button', onClick: () => this.go(i) },
          h('strong', { i18n: 'banner.join_group', vars: { n: i + 1 } }),
          h('span', { class: 'muted' }, ` · ${t('banner.chosen_count', { count: g.length })}`)))))))
  }

  /** Self-select: while the facilitator prepares the round, participants pick a group. */
  renderChoice() {
    const r = this.store.round
    const s = this.store
    if (r && r.roaming && (r.phase === 'open' || r.phase === 'closing') && !s.facilitator && !s.inBreakout) { this.renderDoors(r); return }
    if (!(r && r.phase === 'preview' && r.strategy === 'self-select' && !s.facilitator)) {
      this.root.hidden = true
      this.root.replaceChildren()
      return
    }
    const mine = r.choices?.[s.me]
    const counts = r.groups.map((_, i) => Object.values(r.choices ?? {}).filter((g) => g === i).length)
    this.root.hidden = false
    this.root.className = 'banner banner-choice'
    fill(this.root, h('div', { class: 'banner-main' },
      h('h2', { id: 'banner-title', i18n: 'banner.choose_title' }),
      h('ul', { class: 'choices' }, r.groups.map((_, i) => h('li', {},
        h('button', { type: 'button', 'aria-pressed': String(mine === i), onClick: () => this.choose(mine === i ? null : i) },
          h('strong', { i18n: 'room.group', vars: { n: i + 1 } }), ' ', r.prompts?.[i] ?? '',
          h('span', { class: 'muted' }, ` · ${t('banner.chosen_count', { count: counts[i] })}${r.capacity ? ` / ${r.capacity}` : ''}`)))))))
  }

  tick() {
    const r = this.active
    if (!r) return
    const target = r.phase === 'closing' ? r.closes_at : r.deadline
    const left = target - this.store.now()
    this.clock.textContent = mmss(left)
    this.clockText.textContent = t('banner.time_left_sr', { time: mmss(left) })
    const secs = Math.max(0, Math.ceil(left / 1000))
    // The last minute is announced at 60, 30 and 10 seconds (once each, also when the
    // deadline jumps past a mark).
    const crossed = ANNOUNCE_AT.filter((mark) => secs <= mark && !this.said.has(`${r.id}:${r.deadline}:${mark}`))
    if (r.phase === 'open' && secs > 0 && crossed.length) {
      for (const mark of crossed) this.said.add(`${r.id}:${r.deadline}:${mark}`)
      announce(t(secs >= 60 ? 'banner.one_minute' : 'banner.seconds_left', { count: secs }))
    }
    const closingKey = `${r.id}:closing:${r.closes_at}`
    if (r.phase === 'closing' && !this.said.has(closingKey)) {
      this.said.add(closingKey)
      announce(t('banner.closing_now', { time: mmss(left) }), true)
    }
    this.root.classList.toggle('last-minute', r.phase === 'closing' || left < 60000)
  }

  async askHelp() {
    try {
      await this.conn.request('help.request', {})
      announce(t('banner.help_sent'))
    } catch (err) { showError(err) }
  }

  async visitPlenary() {
    try { await this.conn.request('round.visit', { group: null }) } catch (err) { showError(err) }
  }

  async choose(group) {
    try { await this.conn.request('round.choose', { group }) } catch (err) { showError(err) }
  }

  stop() { clearInterval(this.timer) }
}
