// Is this browser's own microphone carrying speech? Measured here (an AnalyserNode on the
// local audio track, only while the microphone is on) and sent to the server as
// `speaking {on}` when it changes, with hysteresis: facilitators outside the group's
// mesh see who is talking without receiving anyone's audio.

const TICK_MS = 50 // with a 2048-sample window (~43 ms) the ticks cover the signal
const LOUD = 0.02 // RMS of the signal, 0–1
const START_TICKS = 2 // this many loud ticks within START_WITHIN_MS: talking (a click is not)
const START_WITHIN_MS = 500
const STOP_AFTER_MS = 1500 // no loud tick this long: stopped (pauses between words are not)
const MIN_GAP_MS = 500 // at most ~2 messages a second

export class SpeakingDetector {
  constructor({ local, send }) {
    this.local = local
    this.send = send
    this.ctx = null
    this.source = null
    this.analyser = null
    this.track = null
    this.timer = null
    this.on = false // what the server was last told
    this.want = false // what the measurement says
    this.loud = [] // times of the recent loud ticks
    this.lastSent = 0
    this.pending = null
    local.onChange(() => this.update())
  }

  /** Follow the microphone: measure while it is on, say "stopped" when it goes off. */
  update() {
    const track = this.local.mic ? this.local.audioTrack : null
    if (track === this.track) return
    this.detach()
    if (!track) { this.report(false); return }
    try {
      this.ctx ??= new AudioContext()
      if (this.ctx.state === 'suspended') {
        // After a reload without a click the browser may hold the context until one.
        const wake = () => this.ctx.resume().catch(() => {})
        wake()
        for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, wake, { once: true, capture: true })
      }
      this.source = this.ctx.createMediaStreamSource(new MediaStream([track]))
      this.analyser = this.ctx.createAnalyser()
      this.analyser.fftSize = 2048
      this.source.connect(this.analyser)
      this.samples = new Float32Array(this.analyser.fftSize)
      this.track = track
      this.timer = setInterval(() => this.measure(), TICK_MS)
    } catch { this.detach() /* no WebAudio: nobody sees us talking, nothing breaks */ }
  }

  detach() {
    clearInterval(this.timer)
    this.timer = null
    this.source?.disconnect()
    this.source = null
    this.analyser = null
    this.track = null
    this.loud = []
  }

  level() {
    this.analyser.getFloatTimeDomainData(this.samples)
    let sum = 0
    for (const x of this.samples) sum += x * x
    return Math.sqrt(sum / this.samples.length)
  }

  measure() {
    if (!this.analyser) return
    if (this.ctx.state === 'suspended') { this.ctx.resume().catch(() => {}); return }
    const now = performance.now()
    if (this.level() >= LOUD) this.loud.push(now)
    this.loud = this.loud.filter((at) => now - at < STOP_AFTER_MS)
    if (!this.want && this.loud.filter((at) => now - at < START_WITHIN_MS).length >= START_TICKS) this.report(true)
    else if (this.want && !this.loud.length) this.report(false)
  }

  /** Tell the server, no more often than MIN_GAP_MS; the last state wins. */
  report(on) {
    this.want = on
    if (this.pending) return
    const wait = this.lastSent + MIN_GAP_MS - performance.now()
    if (wait > 0) { this.pending = setTimeout(() => { this.pending = null; this.report(this.want) }, wait); return }
    if (on === this.on) return
    this.on = on
    this.lastSent = performance.now()
    Promise.resolve(this.send(on)).catch(() => { /* offline: a reconnect starts afresh */ })
  }

  /** After a reconnect the server knows nothing: say it again if talking. */
  reset() {
    const was = this.on
    this.on = false
    if (was) this.report(true)
  }
}
