// After a round, for participants: every group's board, and a download of your own group's.
import { h, fill } from '../dom.js'
import { onLang, t } from '../i18n.js'

export class Gallery {
  constructor({ store, conn }) {
    this.store = store
    this.conn = conn
    this.data = null
    this.dismissed = null
    this.root = h('section', { class: 'card gallery-card', hidden: true, 'aria-labelledby': 'gallery-title' })
    store.on('round', () => this.roundChanged())
    onLang(() => this.render())
    this.roundChanged()
  }

  roundChanged() {
    const r = this.store.round
    if (r?.phase === 'closed' && this.data?.round !== r.id) this.load(r)
    else if (r?.phase !== 'closed' && this.data) { this.data = null; this.render() }
  }

  async load(r) {
    this.data = { round: r.id, boards: [] }
    try {
      this.data.boards = (await this.conn.request('board.gallery', { round: r.id })).boards
    } catch { /* no gallery: nothing shown */ }
    this.render()
  }

  /** The room of the group you ended the round in (or were placed in). */
  myRoom() {
    const r = this.store.round
    const index = r?.groups?.findIndex((g) => g.includes(this.store.me)) ?? -1
    return index >= 0 ? r.rooms?.[index] : null
  }

  render() {
    const g = this.data
    this.root.hidden = !g || !g.boards.length || this.dismissed === g.round
    if (this.root.hidden) { this.root.replaceChildren(); return }
    const mine = this.myRoom()
    const own = g.boards.find((b) => b.room === mine)
    fill(this.root,
      h('div', { class: 'gallery-head' },
        h('h2', { id: 'gallery-title', i18n: 'gallery.title' }),
        h('button', { type: 'button', class: 'small', i18n: 'gallery.close', onClick: () => { this.dismissed = g.round; this.render() } })),
      own ? h('p', {}, h('a', { class: 'button-link primary', href: own.png, download: `grupp-${own.name}.png` }, t('gallery.download_own'))) : null,
      h('ul', { class: 'gallery' }, g.boards.map((b) => h('li', { class: b.room === mine ? 'own' : '' },
        h('figure', {},
          h('img', { src: b.svg, alt: t('console.board_of', { n: b.name }), loading: 'lazy' }),
          h('figcaption', {}, b.room === mine ? t('gallery.your_group', { n: b.name }) : t('room.group', { n: b.name }), ' · ',
            h('a', { href: b.png, download: `grupp-${b.name}.png` }, t('gallery.download', { n: b.name }))))))))
  }
}
