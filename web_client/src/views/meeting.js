// The meeting page: header, breakout banner, videos and board, side panels, controls,
// and for facilitators the console. Routes the server's media and board messages.
import { h, fill, announce } from '../dom.js'
import { onLang, t } from '../i18n.js'
import { Mesh } from '../media/mesh.js'
import { PlenaryGallery } from '../media/gallery_view.js'
import { SpeakingDetector } from '../media/speaking.js'
import { BoardSync } from '../board/sync.js'
import { BoardView } from '../board/view.js'
import { Banner } from './banner.js'
import { ChatPanel } from './chat.js'
import { Console } from './console.js'
import { Controls } from './controls.js'
import { Gallery } from './gallery.js'
import { PeoplePanel } from './people.js'
import { VideoGrid } from './videos.js'
import { errorText, langSwitch, toast, toasts } from './common.js'

export class MeetingView {
  constructor({ store, conn, local, leave }) {
    this.store = store
    this.conn = conn
    this.local = local
    this.boardOpen = false
    this.welcomes = 0
    this.videos = new VideoGrid({ store, local })
    this.mesh = new Mesh({
      me: store.me, local, iceServers: store.iceServers,
      send: (to, payload) => this.signal(to, payload),
      onStream: (id, stream, kind) => this.videos.stream(id, stream, kind),
      onGone: (id) => this.videos.gone(id),
    })
    this.plenary = new PlenaryGallery({ store, conn, local, videos: this.videos, notify: (text) => toast(text, 'info') })
    this.boardView = new BoardView()
    this.board = new BoardSync({
      conn, me: store.me,
      onDoc: (doc) => this.boardView.attach(doc),
      onError: (code) => toast(errorText({ code }), 'error'),
    })
    this.banner = new Banner({ store, conn })
    this.people = new PeoplePanel({ store, conn })
    this.chat = new ChatPanel({ store, conn })
    this.controls = new Controls({ store, conn, local, onBoardToggle: () => this.toggleBoard() })
    this.console = store.facilitator ? new Console({ store, conn }) : null
    this.gallery = store.facilitator ? null : new Gallery({ store, conn })
    this.root = this.layout(leave)
    store.on('room', () => this.roomChanged())
    store.on('board', (d) => this.board.applyEvent(d))
    store.on('board-shown', (d) => this.boardShown(d))
    store.on('reaction', (d) => this.reaction(d))
    store.on('meeting', () => this.renderHeader())
    onLang(() => this.renderHeader())
    this.roomChanged()
  }

  layout(leave) {
    this.title = h('span', { class: 'meeting-title' })
    this.roomBadge = h('span', { class: 'room-badge' })
    this.status = h('span', { class: 'conn-status', role: 'status' })
    this.tabs = this.console ? h('div', { class: 'view-tabs', role: 'tablist', i18nLabel: 'meeting.views' },
      this.tabButton('meeting', 'meeting.tab_meeting', true), this.tabButton('console', 'meeting.tab_console', false)) : null
    const header = h('header', { class: 'top' },
      h('div', { class: 'top-left' }, h('span', { class: 'brand' }, 'Ledarstig'), this.title, this.roomBadge),
      this.tabs,
      h('div', { class: 'top-right' }, this.status, langSwitch(),
        h('button', { type: 'button', class: 'leave', i18n: 'meeting.leave', onClick: () => { if (confirm(t('meeting.leave_confirm'))) leave() } })))
    this.boardBox = h('div', { class: 'board-box', hidden: true }, this.boardView.root)
    this.stage = h('div', { class: 'stage' }, this.videos.root, this.boardBox)
    this.meetingPanel = h('div', { class: 'meeting-panel', id: 'panel-meeting', role: this.console ? 'tabpanel' : null },
      h('main', { class: 'center', id: 'main' }, h('h1', { class: 'visually-hidden', i18n: 'meeting.heading' }), this.banner.root, this.gallery?.root, this.stage),
      this.sidebar())
    this.consolePanel = this.console ? h('main', { class: 'console-panel', id: 'panel-console', role: 'tabpanel', hidden: true }, this.console.root) : null
    this.renderHeader()
    if (this.console) window.matchMedia('(min-width: 1200px)').addEventListener('change', () => this.showTab(this.tabName ?? 'meeting'))
    return h('div', { class: 'meeting' }, header, h('div', { class: 'meeting-body' }, this.meetingPanel, this.consolePanel), this.controls.root, toasts())
  }

  tabButton(name, key, selected) {
    return h('button', { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `panel-${name}`, 'aria-selected': String(selected),
      tabindex: selected ? '0' : '-1', i18n: key, onClick: () => this.showTab(name),
      onKeydown: (e) => { if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') this.showTab(name === 'meeting' ? 'console' : 'meeting', true) } })
  }

  showTab(name, focus = false) {
    if (!this.console) return
    for (const tab of this.tabs.querySelectorAll('[role=tab]')) {
      const on = tab.id === `tab-${name}`
      tab.setAttribute('aria-selected', String(on))
      tab.tabIndex = on ? 0 : -1
      if (on && focus) tab.focus()
    }
    // On a wide screen the console opens beside the videos: faces and groups at once.
    const wide = window.matchMedia('(min-width: 1200px)').matches
    this.meetingPanel.hidden = name !== 'meeting' && !wide
    this.consolePanel.hidden = name !== 'console'
    this.root.classList.toggle('console-open', name === 'console')
    this.root.classList.toggle('side-by-side', name === 'console' && wide)
    this.tabName = name
  }

  sidebar() {
    const panels = { people: this.people.root, chat: this.chat.root }
    const tabs = h('div', { class: 'side-tabs', role: 'tablist', i18nLabel: 'meeting.side' })
    const body = h('div', { class: 'side-body' })
    const show = (name) => {
      for (const b of tabs.children) {
        const on = b.dataset.name === name
        b.setAttribute('aria-selected', String(on))
        b.tabIndex = on ? 0 : -1
      }
      fill(body, panels[name])
      body.setAttribute('aria-labelledby', `side-${name}`)
      this.sideShown = name
      renderUnread?.()
    }
    this.sideShown = 'people'
    const badge = h('span', { class: 'unread', 'aria-hidden': 'true' })
    const said = h('span', { class: 'visually-hidden' })
    const unread = h('span', { hidden: true }, ' ', badge, said)
    const renderUnread = () => {
      if (this.sideShown === 'chat') this.store.unread = 0
      const n = this.store.unread
      unread.hidden = !n
      badge.textContent = n ? String(n) : ''
      said.textContent = n ? t('chat.tab_unread', { count: n }) : ''
    }
    this.store.on('chat', renderUnread)
    onLang(renderUnread)
    for (const name of Object.keys(panels)) {
      tabs.append(h('button', { type: 'button', role: 'tab', id: `side-${name}`, 'aria-controls': 'side-body', dataset: { name },
        onClick: () => show(name),
        onKeydown: (e) => { if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { const other = name === 'people' ? 'chat' : 'people'; show(other); tabs.querySelector(`[data-name=${other}]`).focus() } } },
      h('span', { i18n: `meeting.${name}` }), name === 'chat' ? unread : null))
    }
    body.id = 'side-body'
    body.setAttribute('role', 'tabpanel')
    body.tabIndex = 0 // it scrolls: reachable by keyboard
    show('people')
    return h('aside', { class: 'side', i18nLabel: 'meeting.side' }, tabs, body)
  }

  renderHeader() {
    this.title.textContent = this.store.meeting?.title ?? ''
    const room = this.store.rooms.get(this.store.room)
    this.roomBadge.textContent = room?.kind === 'breakout' ? t('room.group', { n: room.name }) : t('room.plenary')
    document.title = `${this.store.meeting?.title ?? 'Ledarstig'} – Ledarstig`
  }

  mounted() {
    this.speaking = new SpeakingDetector({ local: this.local, send: (on) => this.conn.request('speaking', { on }) })
    if (!this.local.stream.getTracks().length && !this.local.error) this.local.start().then(() => this.sendMedia())
    else this.sendMedia()
  }

  async sendMedia() {
    try { await this.conn.request('media', this.local.state()) } catch { /* older servers lack it */ }
    this.speaking?.update()
  }

  /** Every welcome after the first follows a reconnect: the others have dropped their
   *  connections to this session, so start afresh with the plan the welcome carries. */
  welcomed(w) {
    if (w.ice_servers) { this.mesh.setIceServers(w.ice_servers); this.plenary.setIceServers(w.ice_servers) }
    if (this.welcomes++ > 0) { this.mesh.closeAll(); this.plenary.sfu.stop(); this.plenary.mode = null; this.speaking?.reset() }
  }

  /** Messages outside the log: peers, signal, board.state, ice. */
  receive(name, data) {
    if (name === 'peers') {
      this.store.peers = data
      this.plenary.plan(data)
      this.mesh.update(data)
      this.videos.peers(data.peers.map((p) => p.id))
      this.videos.setMode(data.mode, data.publish)
      this.store.emit('participants')
    } else if (name === 'signal') this.mesh.signal(data)
    else if (name === 'sfu.feeds') this.plenary.feeds(data)
    else if (name === 'sfu.offer') this.plenary.sfu.janusOffer(data)
    else if (name === 'board.state') this.board.load(data.room, data.update)
    else if (name === 'ice') this.mesh.setIceServers(data.ice_servers)
  }

  async signal(to, payload) {
    try {
      await this.conn.request('signal', { to, ...payload })
    } catch (err) {
      if (err.code !== 'peer_not_in_room' && err.code !== 'offline') console.warn('signal to', to, err.code)
    }
  }

  roomChanged() {
    this.board.enter(this.store.room)
    const breakout = this.store.inBreakout
    this.renderHeader()
    this.setBoard(breakout ? true : this.boardOpen && this.boardWanted, true)
    this.root.classList.toggle('in-breakout', breakout)
  }

  toggleBoard() {
    this.boardWanted = !this.boardOpen
    this.setBoard(this.boardWanted)
  }

  setBoard(open) {
    this.boardOpen = open
    this.boardBox.hidden = !open
    this.stage.classList.toggle('with-board', open)
    this.controls.setBoard(open)
    if (open) this.boardView.render()
  }

  /** A facilitator shows one group's board to everyone: a picture of it in a dialog.
   *  The picture's URL carries a read-only export token, never the resume token. */
  async boardShown({ room, actor }) {
    if (actor === this.store.me) return // the facilitator who shows it keeps their console
    const name = this.store.rooms.get(room)?.name ?? String(this.store.groupIndex(room) + 1)
    const meeting = encodeURIComponent(this.store.meeting.id)
    let exportToken = ''
    try {
      exportToken = (await this.conn.request('board.fetch', { room })).export
    } catch {
      return // not readable (yet): nothing to show
    }
    const src = `/api/meetings/${meeting}/boards/${encodeURIComponent(room)}.svg?export=${encodeURIComponent(exportToken)}&v=${this.store.seq}`
    const dialog = h('dialog', { class: 'shown-board', 'aria-labelledby': 'shown-board-h' },
      h('h2', { id: 'shown-board-h' }, t('board.shown', { n: name })),
      h('img', { src, alt: t('console.board_of', { n: name }) }),
      h('form', { method: 'dialog', class: 'actions' }, h('button', { class: 'primary', i18n: 'board.close_shown' })))
    dialog.addEventListener('close', () => dialog.remove())
    this.root.append(dialog)
    dialog.showModal()
    announce(t('board.shown', { n: name }))
  }

  reaction({ emoji, actor }) {
    const bubble = h('div', { class: 'reaction-bubble', 'aria-hidden': 'true' }, emoji, h('span', {}, this.store.name(actor)))
    this.videos.root.append(bubble)
    setTimeout(() => bubble.remove(), 2500)
  }

  setConnection(state, attempt = 0) {
    const text = state === 'online' ? '' : state === 'reconnecting' ? t('conn.reconnecting')
      : state === 'store_down' ? t('conn.store_down')
      : state === 'restarting' ? t('conn.restarting') : t('conn.closed')
    this.status.textContent = text
    this.status.className = `conn-status ${state}`
    this.root.classList.toggle('offline', state !== 'online')
    if (state === 'online' && this.wasOffline) { toast(t('conn.back')); this.wasOffline = false }
    if (state !== 'online') this.wasOffline = true
    void attempt
  }

  stop() {
    this.mesh.closeAll()
    this.plenary.stop()
    this.board.close()
    this.banner.stop()
    this.console?.stop()
    this.videos.stop()
  }
}
