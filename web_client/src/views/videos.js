// Video tiles: yourself and everyone you exchange media with; shared screens get a wide tile.
import { h, fill } from '../dom.js'
import { onLang, t } from '../i18n.js'
import { initials } from './common.js'
import { icon } from '../icons.js'
import { municipalityName } from '../municipalities.js'

export class VideoGrid {
  constructor({ store, local }) {
    this.store = store
    this.local = local
    this.tiles = new Map()
    this.grid = h('div', { class: 'video-grid' })
    this.unmute = h('button', { type: 'button', class: 'unmute', hidden: true, i18n: 'video.enable_sound', onClick: () => this.enableSound() })
    this.modeNote = h('p', { class: 'mode-note', role: 'status' })
    this.root = h('section', { class: 'videos', tabindex: '0', i18nLabel: 'video.title' }, this.modeNote, this.unmute, this.grid)
    this.tile(store.me, 'camera', true)
    this.attachLocal()
    local.onChange(() => this.attachLocal())
    store.on('participants', () => this.refresh())
    onLang(() => this.refresh())
  }

  key(id, kind) { return kind === 'screen' ? `${id}:screen` : id }

  tile(id, kind = 'camera', self = false) {
    const key = this.key(id, kind)
    let tile = this.tiles.get(key)
    if (tile) return tile
    const video = h('video', { autoplay: true, playsInline: true, muted: self, class: self ? 'self' : '' })
    const avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' })
    const caption = h('figcaption', { class: 'tile-caption' })
    const el = h('figure', { class: `tile tile-${kind}`, dataset: { peer: id, kind } }, video, avatar, caption)
    tile = { el, video, avatar, caption, id, kind, self, hasVideo: false }
    this.tiles.set(key, tile)
    if (self) this.grid.prepend(el)
    else if (kind === 'screen') this.grid.prepend(el)
    else this.grid.append(el)
    this.label(tile)
    this.grid.dataset.count = String(Math.min(this.tiles.size, 5))
    return tile
  }

  attachLocal() {
    const tile = this.tiles.get(this.store.me)
    if (!tile) return
    if (tile.video.srcObject !== this.local.stream) tile.video.srcObject = this.local.stream
    tile.hasVideo = Boolean(this.local.videoTrack) && this.local.camera
    this.label(tile)
  }

  /** A peer's stream arrived (or, with stream null, went away). */
  stream(id, stream, kind) {
    if (!stream) { this.remove(this.key(id, kind)); return }
    const tile = this.tile(id, kind)
    if (tile.video.srcObject !== stream) {
      tile.video.srcObject = stream
      this.play(tile.video)
    }
    tile.hasVideo = stream.getVideoTracks().length > 0
    this.label(tile)
  }

  /** Peers we are connected to get a tile even before (or without) their media. */
  peers(ids) {
    for (const id of ids) this.tile(id)
  }

  gone(id) {
    this.remove(id)
    this.remove(`${id}:screen`)
  }

  remove(key) {
    const tile = this.tiles.get(key)
    if (!tile || tile.self) return
    tile.video.srcObject = null
    tile.el.remove()
    this.tiles.delete(key)
    this.grid.dataset.count = String(Math.min(this.tiles.size, 5))
  }

  play(video) {
    video.play().catch(() => {
      // Autoplay with sound needs a gesture: play muted and offer a button.
      video.muted = true
      video.play().catch(() => {})
      this.unmute.hidden = false
    })
  }

  enableSound() {
    for (const tile of this.tiles.values()) {
      if (tile.self) continue
      tile.video.muted = false
      tile.video.play().catch(() => {})
    }
    this.unmute.hidden = true
  }

  refresh() {
    for (const tile of this.tiles.values()) this.label(tile)
    this.grid.dataset.count = String(Math.min(this.tiles.size, 5))
  }

  setMode(mode, publish) {
    this.modeNote.textContent = mode === 'stage' ? t(publish ? 'video.stage_publish' : 'video.stage_watch') : ''
    this.modeNote.hidden = mode !== 'stage'
  }

  label(tile) {
    const p = this.store.participants.get(tile.id)
    const name = tile.self ? t('video.you', { name: p?.name ?? '' }) : p?.name ?? '…'
    const media = tile.self ? this.local.state() : { mic: p?.mic ?? true, camera: p?.camera ?? true }
    const showVideo = tile.hasVideo && (tile.kind === 'screen' || media.camera !== false)
    tile.el.classList.toggle('no-video', !showVideo)
    tile.avatar.textContent = initials(p?.name)
    const hand = this.store.hands.includes(tile.id)
    fill(tile.caption,
      h('span', { class: 'tile-name' }, tile.kind === 'screen' ? t('video.screen_of', { name: p?.name ?? '' }) : name),
      p?.municipality && tile.kind !== 'screen' ? h('span', { class: 'tile-muni' }, municipalityName(p.municipality)) : null,
      hand ? h('span', { class: 'tile-icon', title: t('people.hand_raised') }, icon('hand'), h('span', { class: 'visually-hidden' }, t('people.hand_raised'))) : null,
      media.mic === false ? h('span', { class: 'tile-icon', title: t('people.muted') }, icon('micOff'), h('span', { class: 'visually-hidden' }, t('people.muted'))) : null,
    )
    tile.el.setAttribute('aria-label', tile.kind === 'screen' ? t('video.screen_of', { name: p?.name ?? '' }) : name)
  }

  stop() {
    for (const tile of this.tiles.values()) tile.video.srcObject = null
  }
}
