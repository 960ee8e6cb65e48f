// Who is here: raised hands in order, then everyone present, with municipality and room.
import { h, fill } from '../dom.js'
import { onLang, t } from '../i18n.js'
import { showError } from './common.js'
import { icon } from '../icons.js'
import { municipalityName } from '../municipalities.js'

export class PeoplePanel {
  constructor({ store, conn }) {
    this.store = store
    this.conn = conn
    this.hands = h('div', { class: 'hands' })
    this.list = h('ul', { class: 'people-list' })
    this.root = h('div', { class: 'people' }, this.hands, this.list)
    for (const topic of ['participants', 'round', 'rooms']) store.on(topic, () => this.render())
    store.on('room', () => this.render())
    onLang(() => this.render())
    this.render()
  }

  roomLabel(room) {
    const r = this.store.rooms.get(room)
    if (!r || r.kind === 'plenary') return t('room.plenary')
    return t('room.group', { n: r.name })
  }

  render() {
    const s = this.store
    const raised = s.hands.filter((id) => s.participants.get(id)?.present)
    fill(this.hands, raised.length ? [
      h('h3', { i18n: 'people.hands', vars: { count: raised.length } }),
      h('ol', { class: 'hand-queue' }, raised.map((id) => h('li', {},
        h('span', {}, s.name(id)),
        s.facilitator ? h('button', { type: 'button', class: 'small', i18n: 'people.lower_hand', vars: { name: s.name(id) }, onClick: () => this.lower(id) }) : null))),
      s.facilitator ? h('button', { type: 'button', class: 'small', i18n: 'people.clear_hands', onClick: () => this.clear() }) : null,
    ] : [],
    this.restoreButton())
    const present = [...s.participants.values()].filter((p) => p.present)
    present.sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name, 'sv') : a.role === 'facilitator' ? -1 : 1))
    fill(this.list,
      h('li', { class: 'people-count', i18n: 'people.count', vars: { count: present.length } }),
      present.map((p) => this.row(p)))
  }

  /** After a round, the facilitator may put back the plenary's queue the round lowered. */
  restoreButton() {
    const s = this.store
    const r = s.round
    const live = r && (r.phase === 'open' || r.phase === 'closing')
    const waiting = s.handsSetAside.filter((id) => s.participants.get(id)?.present)
    if (!s.facilitator || live || !waiting.length) return null
    return h('button', { type: 'button', class: 'small restore-hands', i18n: 'people.restore_hands', vars: { count: waiting.length },
      onClick: async () => { try { await this.conn.request('hands.restore', {}) } catch (err) { showError(err) } } })
  }

  row(p) {
    const s = this.store
    const online = s.online.has(p.id)
    const details = [municipalityName(p.municipality), p.title].filter(Boolean).join(' · ')
    const stageButton = s.facilitator && s.peers?.mode === 'stage' && p.role !== 'facilitator'
      ? h('button', { type: 'button', class: 'small', i18n: s.stage.has(p.id) ? 'people.stage_remove' : 'people.stage_add', vars: { name: p.name },
        onClick: () => this.toggleStage(p.id) }) : null
    return h('li', { class: `person ${online ? 'online' : 'offline'}`, dataset: { id: p.id } },
      h('span', { class: 'presence-dot', role: 'img', 'aria-label': t(online ? 'people.online' : 'people.offline') }),
      h('div', { class: 'person-main' },
        h('span', { class: 'person-name' }, p.name, p.id === s.me ? h('span', { class: 'muted' }, ` (${t('people.you')})`) : null),
        h('span', { class: 'person-details' }, details),
        h('span', { class: 'person-room' }, [
          p.role === 'facilitator' ? t('people.facilitator') : null,
          p.room !== s.room ? this.roomLabel(p.room) : null,
        ].filter(Boolean).join(' · '))),
      h('span', { class: 'person-icons' },
        s.hands.includes(p.id) ? h('span', { class: 'hand-icon', title: t('people.hand_raised') }, icon('hand'), h('span', { class: 'visually-hidden' }, t('people.hand_raised'))) : null,
        p.mic === false && online ? h('span', { title: t('people.muted') }, icon('micOff'), h('span', { class: 'visually-hidden' }, t('people.muted'))) : null,
        p.screen ? h('span', { title: t('people.sharing') }, icon('screen'), h('span', { class: 'visually-hidden' }, t('people.sharing'))) : null),
      stageButton)
  }

  async lower(id) {
    try { await this.conn.request('hand.lower', id === this.store.me ? {} : { participant: id }) } catch (err) { showError(err) }
  }

  async clear() {
    try { await this.conn.request('hands.clear', {}) } catch (err) { showError(err) }
  }

  async toggleStage(id) {
    try { await this.conn.request(this.store.stage.has(id) ? 'stage.remove' : 'stage.add', { participant: id }) } catch (err) { showError(err) }
  }
}
