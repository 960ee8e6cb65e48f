// This browser's camera, microphone and screen: acquisition, device choice and toggles.

const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } }

export class LocalMedia {
  constructor() {
    this.stream = new MediaStream()
    this.screen = null
    this.mic = true
    this.camera = true
    this.error = null
    this.listeners = new Set()
    this.audioId = null
    this.videoId = null
  }

  onChange(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn) }
  changed(what) { for (const fn of this.listeners) fn(what) }

  get available() { return Boolean(navigator.mediaDevices?.getUserMedia) }
  get audioTrack() { return this.stream.getAudioTracks()[0] ?? null }
  get videoTrack() { return this.stream.getVideoTracks()[0] ?? null }
  get sharing() { return this.screen !== null }

  /** Ask for camera and microphone; on refusal remember why and go on without them. */
  async start() {
    this.error = null
    if (!this.available) { this.error = 'unsupported'; this.changed('tracks'); return }
    try {
      const stream = await navigator.mediaDevices.getUserMedia(this.constraints())
      this.replaceAll(stream)
    } catch (err) {
      this.error = errorKind(err)
      await this.startAudioOnly()
    }
    this.changed('tracks')
  }

  async startAudioOnly() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraint() })
      this.replaceAll(stream)
      this.camera = false
    } catch {
      this.mic = false
      this.camera = false
    }
  }

  constraints() {
    return { audio: this.audioConstraint(), video: this.videoId ? { ...VIDEO, deviceId: { exact: this.videoId } } : VIDEO }
  }

  audioConstraint() {
    return this.audioId ? { deviceId: { exact: this.audioId } } : true
  }

  replaceAll(stream) {
    for (const track of this.stream.getTracks()) { track.stop(); this.stream.removeTrack(track) }
    for (const track of stream.getTracks()) this.stream.addTrack(track)
    if (this.audioTrack) this.audioTrack.enabled = this.mic
    if (this.videoTrack) this.videoTrack.enabled = this.camera
  }

  async devices() {
    if (!navigator.mediaDevices?.enumerateDevices) return { audio: [], video: [] }
    const all = await navigator.mediaDevices.enumerateDevices()
    return {
      audio: all.filter((d) => d.kind === 'audioinput'),
      video: all.filter((d) => d.kind === 'videoinput'),
    }
  }

  /** Switch to another device of the same kind; peers swap the track in place. */
  async useDevice(kind, deviceId) {
    if (kind === 'audio') this.audioId = deviceId
    else this.videoId = deviceId
    try {
      const constraint = kind === 'audio' ? { audio: this.audioConstraint() }
        : { video: { ...VIDEO, deviceId: { exact: deviceId } } }
      const stream = await navigator.mediaDevices.getUserMedia(constraint)
      const fresh = stream.getTracks()[0]
      const old = kind === 'audio' ? this.audioTrack : this.videoTrack
      if (old) { old.stop(); this.stream.removeTrack(old) }
      fresh.enabled = kind === 'audio' ? this.mic : this.camera
      this.stream.addTrack(fresh)
      this.error = null
      this.changed({ replaced: kind, old, fresh })
    } catch (err) {
      this.error = errorKind(err)
      this.changed('tracks')
    }
  }

  setMic(on) {
    this.mic = on && Boolean(this.audioTrack)
    if (this.audioTrack) this.audioTrack.enabled = this.mic
    this.changed('state')
  }

  setCamera(on) {
    this.camera = on && Boolean(this.videoTrack)
    if (this.videoTrack) this.videoTrack.enabled = this.camera
    this.changed('state')
  }

  async startScreen() {
    if (!navigator.mediaDevices?.getDisplayMedia) throw Object.assign(new Error('unsupported'), { kind: 'unsupported' })
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
    this.screen = stream
    stream.getVideoTracks()[0].addEventListener('ended', () => this.stopScreen())
    this.changed('screen')
  }

  stopScreen() {
    if (!this.screen) return
    for (const track of this.screen.getTracks()) track.stop()
    this.screen = null
    this.changed('screen')
  }

  state() { return { mic: this.mic, camera: this.camera, screen: this.sharing } }

  stop() {
    for (const track of this.stream.getTracks()) track.stop()
    this.stopScreen()
  }
}

function errorKind(err) {
  switch (err?.name) {
    case 'NotAllowedError': case 'SecurityError': return 'denied'
    case 'NotFoundError': case 'OverconstrainedError': return 'missing'
    case 'NotReadableError': case 'AbortError': return 'busy'
    default: return 'failed'
  }
}
