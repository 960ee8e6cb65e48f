// The chat of the room you are in.
import { h, fill, nextId } from '../dom.js'
import { lang, onLang, t } from '../i18n.js'
import { showError } from './common.js'

export class ChatPanel {
  constructor({ store, conn }) {
    this.store = store
    this.conn = conn
    // The log is a region that scrolls (reachable by keyboard) around a plain list.
    this.list = h('ol', { class: 'chat-list' })
    this.log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', tabindex: '0', i18nLabel: 'chat.messages' }, this.list)
    const id = nextId('chat')
    this.input = h('textarea', { id, rows: '2', maxlength: '2000', i18nPlaceholder: 'chat.placeholder' })
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); this.form.requestSubmit() }
    })
    this.form = h('form', { class: 'chat-form' },
      h('label', { for: id, class: 'visually-hidden', i18n: 'chat.label' }), this.input,
      h('button', { type: 'submit', class: 'primary', i18n: 'chat.send' }))
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.send() })
    this.root = h('div', { class: 'chat' }, this.log, this.form)
    store.on('chat', () => this.render())
    store.on('room', ({ to }) => this.catchUp(to))
    onLang(() => this.render())
    this.render()
  }

  render() {
    const msgs = this.store.chat
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40
    const time = new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit' })
    fill(this.list, msgs.length ? msgs.map((m) => h('li', { class: m.author === this.store.me ? 'mine' : '' },
      h('div', { class: 'chat-meta' }, h('strong', {}, this.store.name(m.author)), ' ', h('time', { datetime: new Date(m.ts).toISOString() }, time.format(m.ts))),
      h('p', { class: 'chat-text' }, m.text)))
      : h('li', { class: 'empty', i18n: this.store.inBreakout ? 'chat.empty_group' : 'chat.empty' }))
    if (atBottom) this.log.scrollTop = this.log.scrollHeight
  }

  /** Back in a room: fetch what was said there meanwhile (spread over two seconds, so a
   *  round closing for everyone does not bring every request at once). */
  catchUp(room) {
    clearTimeout(this.catchUpTimer)
    this.catchUpTimer = setTimeout(async () => {
      if (this.store.room !== room) return
      const after = (this.store.chats.get(room) ?? []).reduce((max, m) => Math.max(max, m.seq), 0)
      try {
        const { messages } = await this.conn.request('chat.history', { after })
        if (this.store.room === room) this.store.mergeChat(room, messages)
      } catch { /* the chat from now on still arrives */ }
    }, Math.random() * 2000)
  }

  async send() {
    const text = this.input.value.trim()
    if (!text) return
    try {
      await this.conn.request('chat', { text })
      this.input.value = ''
    } catch (err) {
      showError(err)
    }
  }
}
