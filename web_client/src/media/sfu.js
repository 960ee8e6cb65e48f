// The plenary through the SFU (Janus's VideoRoom): one PeerConnection publishes this
// browser's camera and microphone, one receives the feeds the gallery shows. Session
// descriptions and candidates go over our own connection (`sfu.*`); the browser never
// talks to Janus's API, only sends and receives media.

export class SfuClient {
  /** request(name, data) -> Promise of the answer's data; onStream(id, stream|null, kind). */
  constructor({ local, request, onStream, iceServers = [] }) {
    this.local = local
    this.request = request
    this.onStream = onStream
    this.iceServers = iceServers
    this.publisher = null
    this.subscriber = null
    this.senders = new Map()
    this.screenTransceiver = null // the publisher's screen stream, kept (inactive) between shares
    this.carried = new Map() // mid -> participant
    this.streams = new Map() // participant -> MediaStream
    this.screens = new Map() // participant -> MediaStream of their shared screen
    this.screenMids = new Set()
    this.wanted = ''
    this.queue = Promise.resolve()
    this.active = false
    local.onChange((what) => this.localChanged(what))
  }

  /** One operation at a time: Janus renegotiates one subscription after another. */
  run(fn) {
    this.queue = this.queue.then(fn).catch((err) => console.warn('sfu', err))
    return this.queue
  }

  start() {
    if (this.active) return
    this.active = true
    if (this.publisher) this.run(() => this.pause(false))
    this.run(() => this.republish()) // the first publish, or tracks that changed meanwhile
  }

  /** To a breakout: stop receiving, and send nothing, but keep the publisher's connection
   *  (the server keeps its feed), so that the plenary resumes without new ICE and DTLS. */
  stepOut() {
    this.active = false
    this.wanted = ''
    this.subscriber?.close()
    this.subscriber = null
    this.dropUnwanted(new Set())
    this.run(() => this.pause(true))
  }

  async pause(paused) {
    for (const [track, sender] of this.senders) await sender.replaceTrack(paused ? null : track)
  }

  /** What to publish: the camera and microphone, and a shared screen. */
  outgoing() {
    return [...this.local.stream.getTracks(), ...(this.local.screen?.getVideoTracks() ?? [])]
  }

  async publish() {
    const tracks = this.local.stream.getTracks()
    const screen = this.local.screen?.getVideoTracks()[0] ?? null
    // Nothing to send yet (the camera and microphone are still being asked for, or were
    // refused): only receive; publish once tracks come (`localChanged`).
    if (tracks.length === 0 && !screen) return
    const pc = this.publisher = new RTCPeerConnection({ iceServers: this.iceServers })
    for (const track of tracks) {
      // Video in two simulcast layers: full, and a quarter of it for gallery thumbnails.
      const sender = track.kind === 'video'
        ? pc.addTransceiver(track, { direction: 'sendonly', streams: [this.local.stream], sendEncodings: SIMULCAST }).sender
        : pc.addTrack(track, this.local.stream)
      this.senders.set(track, sender)
    }
    // A shared screen: one more video stream of the same feed, in one layer (text must stay sharp).
    const shared = this.screenTransceiver = screen ? pc.addTransceiver(screen, { direction: 'sendonly', streams: [this.local.screen] }) : null
    if (shared) this.senders.set(screen, shared.sender)
    pc.onicecandidate = ({ candidate }) => this.trickle('publisher', candidate)
    await pc.setLocalDescription(await pc.createOffer())
    const offer = { description: plain(pc.localDescription) }
    if (shared) offer.screen = shared.mid
    const { description } = await this.request('sfu.publish', offer)
    if (this.publisher === pc) await pc.setRemoteDescription(description)
  }

  trickle(target, candidate) {
    const c = candidate ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex } : null
    this.request('sfu.trickle', { target, candidate: c }).catch(() => {})
  }

  /** Receive exactly these feeds: [{id, audio, video, layer: 'high'|'low'}]. */
  subscribe(feeds) {
    const key = JSON.stringify(feeds)
    if (key === this.wanted || !this.active) return this.queue
    this.wanted = key
    return this.run(async () => {
      let answer
      try {
        answer = await this.request('sfu.subscribe', { feeds })
      } catch (err) {
        this.wanted = '' // someone left meanwhile: the next feed list retries
        throw err
      }
      this.carry(answer.streams)
      this.dropUnwanted(new Set(feeds.map((f) => f.id)))
      if (!answer.description) return
      const pc = this.subscriber ?? this.newSubscriber()
      await pc.setRemoteDescription(answer.description)
      await pc.setLocalDescription(await pc.createAnswer())
      await this.request('sfu.answer', { description: plain(pc.localDescription) })
    })
  }

  /** Janus renegotiates by itself (a publisher left): `sfu.offer` {description, streams}. */
  janusOffer({ description, streams }) {
    return this.run(async () => {
      const pc = this.subscriber
      if (!pc) return
      this.carry(streams)
      this.dropUnwanted(new Set(streams.map((s) => s.participant)))
      await pc.setRemoteDescription(description)
      await pc.setLocalDescription(await pc.createAnswer())
      await this.request('sfu.answer', { description: plain(pc.localDescription) })
    })
  }

  newSubscriber() {
    const pc = this.subscriber = new RTCPeerConnection({ iceServers: this.iceServers })
    pc.onicecandidate = ({ candidate }) => this.trickle('subscriber', candidate)
    pc.ontrack = ({ track, transceiver }) => {
      const id = this.carried.get(transceiver.mid)
      if (!id) return
      const kind = this.screenMids.has(transceiver.mid) ? 'screen' : 'camera'
      const streams = kind === 'screen' ? this.screens : this.streams
      let stream = streams.get(id)
      if (!stream) streams.set(id, stream = new MediaStream())
      for (const old of stream.getTracks()) if (old.kind === track.kind) stream.removeTrack(old)
      stream.addTrack(track)
      this.onStream(id, stream, kind)
    }
    return pc
  }

  /** Which participant each subscriber mid carries, and which mids are shared screens;
   *  a screen no longer carried is taken down. */
  carry(streams) {
    this.carried = new Map(streams.map((s) => [s.mid, s.participant]))
    this.screenMids = new Set(streams.filter((s) => s.screen).map((s) => s.mid))
    const sharing = new Set(streams.filter((s) => s.screen).map((s) => s.participant))
    for (const id of [...this.screens.keys()]) {
      if (!sharing.has(id)) { this.screens.delete(id); this.onStream(id, null, 'screen') }
    }
  }

  dropUnwanted(keep) {
    for (const id of [...this.streams.keys()]) {
      if (!keep.has(id)) { this.streams.delete(id); this.onStream(id, null, 'camera') }
    }
    for (const id of [...this.screens.keys()]) {
      if (!keep.has(id)) { this.screens.delete(id); this.onStream(id, null, 'screen') }
    }
  }

  /** The speaking level (0..1) of each received participant's audio. */
  levels() {
    const out = new Map()
    for (const t of this.subscriber?.getTransceivers() ?? []) {
      const id = this.carried.get(t.mid)
      if (!id || t.receiver.track?.kind !== 'audio') continue
      const level = Math.max(0, ...t.receiver.getSynchronizationSources().map((s) => s.audioLevel ?? 0))
      out.set(id, level)
    }
    return out
  }

  /** The camera and microphone came (allowed after joining), went, or were replaced
   *  together, or a screen is shared or no longer: publish what there is now, unless it
   *  is what is sent already. Only the screen changed: renegotiate the publisher's
   *  connection, so that the others' view of the camera goes on without a gap. */
  async republish() {
    const tracks = this.outgoing()
    if (tracks.length === this.senders.size && tracks.every((t) => this.senders.has(t))) return
    if (this.onlyScreenChanged() && await this.reshare()) return
    this.publisher?.close()
    this.publisher = null
    this.senders.clear()
    this.screenTransceiver = null
    await this.publish()
  }

  onlyScreenChanged() {
    const pc = this.publisher
    if (!pc || pc.connectionState === 'failed' || pc.connectionState === 'closed') return false
    const screen = this.screenTransceiver?.sender
    const camera = this.local.stream.getTracks()
    const sent = [...this.senders].filter(([, sender]) => sender !== screen).map(([track]) => track)
    return camera.length > 0 && camera.length === sent.length && camera.every((t) => sent.includes(t))
  }

  /** Start or stop sending the screen on the publisher's connection (an `update` offer);
   *  false if the server has no such connection any more (publish anew). */
  async reshare() {
    const pc = this.publisher
    const screen = this.local.screen?.getVideoTracks()[0] ?? null
    let shared = this.screenTransceiver
    for (const [track, sender] of [...this.senders]) if (shared && sender === shared.sender) this.senders.delete(track)
    if (screen && shared) {
      await shared.sender.replaceTrack(screen)
      shared.sender.setStreams?.(this.local.screen)
      shared.direction = 'sendonly'
    } else if (screen) {
      shared = this.screenTransceiver = pc.addTransceiver(screen, { direction: 'sendonly', streams: [this.local.screen] })
    } else if (shared) {
      await shared.sender.replaceTrack(null)
      shared.direction = 'inactive'
    }
    if (screen) this.senders.set(screen, shared.sender)
    await pc.setLocalDescription(await pc.createOffer())
    const offer = { description: plain(pc.localDescription), update: true }
    if (screen) offer.screen = shared.mid
    let answer
    try {
      answer = await this.request('sfu.publish', offer)
    } catch (err) {
      if (err?.code !== 'sfu_no_publisher') console.warn('sfu', err)
      return false
    }
    if (this.publisher === pc) await pc.setRemoteDescription(answer.description)
    return true
  }

  localChanged(what) {
    if (what === 'tracks' || what === 'screen') {
      if (this.active) this.run(() => this.republish())
      return
    }
    if (!what?.replaced || !this.publisher) return
    const sender = this.senders.get(what.old)
    if (!sender) return
    this.senders.delete(what.old)
    this.senders.set(what.fresh, sender)
    sender.replaceTrack(what.fresh).catch(() => {})
  }

  setIceServers(servers) {
    this.iceServers = servers
    for (const pc of [this.publisher, this.subscriber]) {
      try { pc?.setConfiguration({ iceServers: servers }) } catch { /* kept the old ones */ }
    }
  }

  /** Leave the SFU (a breakout, or the server fell back to mesh/stage). */
  stop() {
    this.active = false
    this.wanted = ''
    for (const pc of [this.publisher, this.subscriber]) pc?.close()
    this.publisher = this.subscriber = null
    this.senders.clear()
    this.screenTransceiver = null
    this.dropUnwanted(new Set())
  }

  /** For tests and diagnostics: frames decoded per received participant. */
  async stats() {
    const out = {}
    if (!this.subscriber) return out
    const report = await this.subscriber.getStats()
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return
      const id = this.carried.get(s.mid) ?? s.mid
      out[id] = { framesDecoded: s.framesDecoded ?? 0, frameWidth: s.frameWidth ?? 0 }
    })
    return out
  }
}

const SIMULCAST = [ // Janus expects them high to low
  { rid: 'h', maxBitrate: 600_000 },
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 100_000 },
]

function plain({ type, sdp }) { return { type, sdp } }
