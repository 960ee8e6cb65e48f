// Which plenary feeds to receive and how to show them: pages of up to 25 tiles, the
// active speaker large, pinned people first, then whom a facilitator put on stage, and
// "only video of those speaking" for weak links (audio of everyone on the page, video
// only of who spoke lately, is pinned or is on stage).

export const PAGE_SIZE = 25
const SPEAKING_LEVEL = 0.02
const SPEAKING_KEEP_MS = 4000

export class Gallery {
  constructor() {
    this.feeds = []
    this.page = 0
    this.pinned = new Set()
    this.stage = new Set()
    this.speakingOnly = false
    this.spokeAt = new Map()
    this.speaker = null
    this.pageSize = PAGE_SIZE
  }

  setFeeds(feeds) {
    this.feeds = [...feeds]
    this.page = Math.min(this.page, this.pages() - 1)
  }

  pages() { return Math.max(1, Math.ceil(this.feeds.length / this.pageSize)) }

  /** The participants on the current page: pinned first, then the active speaker. */
  visible() {
    const order = [...this.feeds].sort((a, b) => rank(this, a) - rank(this, b) || (a < b ? -1 : 1))
    return order.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize)
  }

  /** The subscription: [{id, audio, video, layer}] for the visible participants; the
   *  thumbnails take the low simulcast layer, the pinned, staged and speaker the high. */
  wanted(now = Date.now()) {
    return this.visible().map((id) => {
      const big = this.pinned.has(id) || this.stage.has(id) || id === this.speaker
      return {
        id, audio: true, layer: big ? 'high' : 'low',
        video: !this.speakingOnly || this.pinned.has(id) || this.stage.has(id) || this.spokeRecently(id, now),
      }
    })
  }

  spokeRecently(id, now) { return now - (this.spokeAt.get(id) ?? -Infinity) < SPEAKING_KEEP_MS }

  /** Audio levels by participant; returns true when the active speaker changed. */
  hear(levels, now = Date.now()) {
    let loudest = null
    let top = SPEAKING_LEVEL
    for (const [id, level] of levels) {
      if (level >= SPEAKING_LEVEL) this.spokeAt.set(id, now)
      if (level > top) { top = level; loudest = id }
    }
    if (loudest === null || loudest === this.speaker) return false
    this.speaker = loudest
    return true
  }

  togglePin(id) { if (!this.pinned.delete(id)) this.pinned.add(id) }
  next() { this.page = (this.page + 1) % this.pages() }
  previous() { this.page = (this.page + this.pages() - 1) % this.pages() }
}

function rank(g, id) {
  if (g.pinned.has(id)) return 0
  if (g.stage.has(id)) return 1
  if (id === g.speaker) return 2
  return 3
}
