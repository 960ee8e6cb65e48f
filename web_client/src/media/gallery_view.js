// The plenary gallery's controls and the SFU's routing inside the meeting view: pages,
// "only video of those speaking", pinning (double-click or Enter on a tile), the active
// speaker large, and the notice when the video server falls back to mesh/stage.
import { h } from '../dom.js'
import { t } from '../i18n.js'
import { Gallery } from './gallery.js'
import { SfuClient } from './sfu.js'

const LEVELS_EVERY_MS = 500

export class PlenaryGallery {
  constructor({ store, conn, local, videos, notify }) {
    this.store = store
    this.videos = videos
    this.notify = notify
    this.gallery = new Gallery()
    this.mode = null
    this.fallback = false
    this.sfu = new SfuClient({
      local, iceServers: store.iceServers,
      request: (name, data) => conn.request(name, data),
      onStream: (id, stream, kind) => { this.videos.stream(id, stream, kind); this.mark() },
    })
    this.pageLabel = h('span', { class: 'gallery-page' })
    this.prev = h('button', { type: 'button', i18n: 'video.page_previous', onClick: () => { this.gallery.previous(); this.resubscribe() } })
    this.next = h('button', { type: 'button', i18n: 'video.page_next', onClick: () => { this.gallery.next(); this.resubscribe() } })
    this.speakingOnly = h('input', { type: 'checkbox', onChange: () => { this.gallery.speakingOnly = this.speakingOnly.checked; this.resubscribe() } })
    this.root = h('div', { class: 'gallery-bar', hidden: true },
      this.prev, this.pageLabel, this.next,
      h('label', {}, this.speakingOnly, ' ', h('span', { i18n: 'video.speaking_only' })))
    videos.root.prepend(this.root)
    videos.grid.addEventListener('dblclick', (e) => this.pin(e))
    videos.grid.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.pin(e) })
    this.timer = setInterval(() => this.listen(), LEVELS_EVERY_MS)
    store.on('participants', () => this.resubscribe()) // the stage may have changed
  }

  /** A `peers` plan: the SFU in sfu mode, otherwise leave it (the mesh takes over). */
  plan(data) {
    const was = this.mode
    this.mode = data.mode
    if (data.fallback && !this.fallback) this.notify(t('video.sfu_fallback'))
    if (!data.fallback && this.fallback && data.mode === 'sfu') this.notify(t('video.sfu_back'))
    this.fallback = Boolean(data.fallback)
    if (data.mode === 'sfu') this.sfu.start()
    else if (data.fallback) this.sfu.stop()
    else if (was === 'sfu') this.sfu.stepOut()
    this.root.hidden = data.mode !== 'sfu'
  }

  feeds(data) {
    this.gallery.setFeeds(data.feeds.filter((id) => id !== this.store.me))
    this.resubscribe()
  }

  resubscribe() {
    this.gallery.stage = new Set(this.store.stage)
    if (this.mode !== 'sfu') return
    this.sfu.subscribe(this.gallery.wanted())
    const pages = this.gallery.pages()
    this.pageLabel.textContent = t('video.page', { n: this.gallery.page + 1, of: pages })
    this.prev.hidden = this.next.hidden = this.pageLabel.hidden = pages < 2
    this.mark()
  }

  listen() {
    if (this.mode !== 'sfu') return
    const changed = this.gallery.hear(this.sfu.levels())
    if (changed || this.gallery.speakingOnly) this.resubscribe()
  }

  /** The active speaker's tile is large; pinned tiles come first. */
  mark() {
    for (const tile of this.videos.grid.querySelectorAll('.tile')) {
      const id = tile.dataset.peer
      tile.classList.toggle('speaker', id === this.gallery.speaker)
      tile.classList.toggle('pinned', this.gallery.pinned.has(id))
      tile.tabIndex = 0
    }
  }

  pin(e) {
    const id = e.target.closest?.('.tile')?.dataset.peer
    if (!id || id === this.store.me) return
    this.gallery.togglePin(id)
    this.resubscribe()
  }

  setIceServers(servers) { this.sfu.setIceServers(servers) }

  stop() {
    clearInterval(this.timer)
    this.sfu.stop()
  }
}
