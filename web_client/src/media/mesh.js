// Peer connections to everyone this client exchanges media with, using perfect negotiation:
// the server's `peers` message says whom to connect to and who is polite; `signal` relays.

export class Mesh {
  /** send(to, payload) relays a signal; onStream(peer, stream, kind) / onGone(peer) update tiles. */
  constructor({ me, local, send, onStream, onGone, iceServers = [] }) {
    this.me = me
    this.local = local
    this.send = send
    this.onStream = onStream
    this.onGone = onGone
    this.iceServers = iceServers
    this.peers = new Map()
    this.publish = true
    this.room = null
    local.onChange((what) => this.localChanged(what))
  }

  /** Apply a `peers` message. */
  update(msg) {
    const wanted = new Map(msg.peers.map((p) => [p.id, p.polite]))
    if (this.room !== null && msg.room !== this.room) {
      for (const id of [...this.peers.keys()]) if (!wanted.has(id)) this.drop(id)
    }
    this.room = msg.room
    for (const id of msg.close ?? []) this.drop(id)
    const publishChanged = msg.publish !== undefined && msg.publish !== this.publish
    if (msg.publish !== undefined) this.publish = msg.publish
    for (const [id, polite] of wanted) this.peer(id, polite)
    if (publishChanged) for (const peer of this.peers.values()) peer.syncTracks()
  }

  peer(id, polite = this.me > id) {
    let peer = this.peers.get(id)
    if (!peer) {
      peer = new Peer(this, id, polite)
      this.peers.set(id, peer)
    } else peer.polite = polite
    return peer
  }

  /** A relayed `signal` {from, description?|candidate?}. */
  signal(msg) { this.peer(msg.from).receive(msg) }

  drop(id) {
    const peer = this.peers.get(id)
    if (!peer) return
    peer.close()
    this.peers.delete(id)
    this.onGone(id)
  }

  setIceServers(servers) {
    this.iceServers = servers
    for (const peer of this.peers.values()) {
      try { peer.pc.setConfiguration({ iceServers: servers }) } catch { /* kept the old ones */ }
    }
  }

  localChanged(what) {
    if (what?.replaced) {
      for (const peer of this.peers.values()) peer.replaceTrack(what.old, what.fresh)
    } else if (what === 'screen' || what === 'tracks') {
      for (const peer of this.peers.values()) peer.syncTracks()
    }
  }

  closeAll() {
    for (const id of [...this.peers.keys()]) this.drop(id)
  }

  /** For tests and diagnostics: inbound video stats of every peer. */
  async stats() {
    const out = {}
    for (const [id, peer] of this.peers) {
      const report = await peer.pc.getStats()
      let framesDecoded = 0
      report.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded ?? 0 })
      out[id] = { framesDecoded, state: peer.pc.connectionState, signaling: peer.pc.signalingState, ice: peer.pc.iceConnectionState, polite: peer.polite, log: peer.log }
    }
    return out
  }
}

class Peer {
  constructor(mesh, id, polite) {
    this.mesh = mesh
    this.id = id
    this.polite = polite
    this.makingOffer = false
    this.ignoreOffer = false
    this.answerPending = false
    this.queue = Promise.resolve()
    this.senders = new Map()
    this.log = []
    this.streams = new Map()
    this.pc = new RTCPeerConnection({ iceServers: mesh.iceServers })
    this.pc.onnegotiationneeded = () => this.negotiate()
    this.pc.onicecandidate = ({ candidate }) => this.sendCandidate(candidate)
    this.pc.ontrack = (e) => this.track(e)
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed') this.pc.restartIce()
    }
    // Both sides learn of each other at once; to avoid glare on every first contact the
    // impolite side offers first and the polite side answers with its tracks. (Perfect
    // negotiation still resolves any later collision.)
    this.started = !polite
    if (this.started) this.open()
    else this.fallback = setTimeout(() => this.start(), 3000)
  }

  /** The first offer: our tracks, or receive-only slots when we have none to send. */
  open() {
    this.syncTracks()
    if (this.senders.size === 0) {
      this.pc.addTransceiver('audio', { direction: 'recvonly' })
      this.pc.addTransceiver('video', { direction: 'recvonly' })
    }
  }

  start() {
    clearTimeout(this.fallback)
    if (this.started) return
    this.started = true
    this.syncTracks()
  }

  /** Send what should be sent: camera and mic when publishing, plus the screen when shared. */
  syncTracks() {
    if (!this.started) return
    const { local } = this.mesh
    const wanted = new Map()
    if (this.mesh.publish) {
      for (const track of local.stream.getTracks()) wanted.set(track, local.stream)
      for (const track of local.screen?.getTracks() ?? []) wanted.set(track, local.screen)
    }
    for (const [track, sender] of this.senders) {
      if (!wanted.has(track)) {
        try { this.pc.removeTrack(sender) } catch { /* connection closed */ }
        this.senders.delete(track)
      }
    }
    for (const [track, stream] of wanted) {
      if (!this.senders.has(track)) this.senders.set(track, this.pc.addTrack(track, stream))
    }
  }

  replaceTrack(old, fresh) {
    const sender = old && this.senders.get(old)
    if (!sender) { this.syncTracks(); return }
    this.senders.delete(old)
    this.senders.set(fresh, sender)
    sender.replaceTrack(fresh).catch(() => this.syncTracks())
  }

  async negotiate() {
    try {
      this.makingOffer = true
      await this.pc.setLocalDescription()
      this.sendDescription()
    } catch (err) {
      console.warn('negotiation with', this.id, 'failed', err)
    } finally {
      this.makingOffer = false
    }
  }

  sendDescription() {
    const { type, sdp } = this.pc.localDescription
    if (this.log.length < 40) this.log.push(`out:${type}`)
    this.mesh.send(this.id, { description: { type, sdp } })
  }

  sendCandidate(candidate) {
    if (!candidate) { this.mesh.send(this.id, { candidate: null }); return }
    const { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } = candidate
    this.mesh.send(this.id, { candidate: { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } })
  }

  /** Signals of one peer are handled one at a time, in the order they arrived. */
  receive(msg) {
    this.queue = this.queue.then(() => this.handle(msg)).catch((err) => console.warn('signal from', this.id, err))
  }

  async handle({ description, candidate }) {
    const pc = this.pc
    if (this.log.length < 40) this.log.push(description ? `in:${description.type}@${pc.signalingState}` : `in:cand`)
    if (description) {
      const ready = !this.makingOffer && (pc.signalingState === 'stable' || this.answerPending)
      const collision = description.type === 'offer' && !ready
      this.ignoreOffer = !this.polite && collision
      if (this.ignoreOffer) return
      this.answerPending = description.type === 'answer'
      await pc.setRemoteDescription(description)
      this.answerPending = false
      if (description.type === 'offer') {
        this.start()
        await pc.setLocalDescription()
        this.sendDescription()
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate)
      } catch (err) {
        if (!this.ignoreOffer) throw err
      }
    }
  }

  track({ track, streams }) {
    const stream = streams[0] ?? new MediaStream([track])
    if (!this.streams.has(stream.id)) {
      // The first stream a peer sends is the camera; a later one is a shared screen.
      const kind = this.streams.size === 0 ? 'camera' : 'screen'
      this.streams.set(stream.id, kind)
      stream.addEventListener('removetrack', () => {
        if (stream.getTracks().length === 0) {
          this.streams.delete(stream.id)
          this.mesh.onStream(this.id, null, kind)
        }
      })
    }
    this.mesh.onStream(this.id, stream, this.streams.get(stream.id))
  }

  close() {
    clearTimeout(this.fallback)
    this.pc.close()
  }
}
