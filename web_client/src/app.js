// The page's life: connect with the invitation, join (or resume), meet, and say clearly
// what happened when something ends it.
import { fill } from './dom.js'
import { onLang, t } from './i18n.js'
import { Connection } from './connection.js'
import { Store } from './store.js'
import { LocalMedia } from './media/local.js'
import { errorText, notice } from './views/common.js'
import { joinView } from './views/join.js'
import { MeetingView } from './views/meeting.js'

const REFUSALS = {
  invalid_auth: 'token_invalid', token_invalid: 'token_invalid', token_expired: 'token_expired',
  token_wrong_meeting: 'token_wrong_meeting', meeting_not_found: 'meeting_not_found',
  meeting_ended: 'meeting_ended', resume_invalid: 'token_invalid',
}
const RESUME_REFUSALS = new Set(['resume_invalid', 'token_invalid', 'token_expired'])

export class App {
  constructor(root, { meeting, token }) {
    this.root = root
    this.meeting = meeting
    this.token = token
    this.store = new Store()
    this.local = new LocalMedia()
    this.view = null
    this.screen = null
    this.joined = false
    this.ended = false
    this.replaced = false
    this.resumeNotice = null
    onLang(() => { if (this.screenArgs) this.show(this.screenArgs) })
  }

  start() {
    if (!this.token) { this.fatal('no_token'); return }
    this.conn = new Connection({ meeting: this.meeting, token: this.token, handlers: {
      connected: () => this.connected(),
      refused: (code, message) => this.refused(code, message),
      dropped: () => this.dropped(),
      closedByServer: () => this.closedByServer(),
      reconnecting: (n) => this.reconnecting(n),
      restarting: () => this.restarting(),
      store: (available) => this.storeStatus(available),
    } })
    this.conn.resume = readSession(this.meeting)?.resume_token ?? null
    const known = this.conn.resume ? null : readKnown(this.meeting)
    this.conn.on('welcome', (w) => this.welcome(w))
    this.conn.on('meeting', (m) => this.showMeetingInfo(m))
    this.conn.on('event', (e) => this.event(e))
    this.conn.on('presence', (p) => this.store.setOnline(p.participant, p.online))
    this.conn.on('speaking', (d) => this.store.setSpeaking(d.participant, d.on))
    this.conn.on('session.replaced', () => { this.replaced = true })
    for (const name of ['peers', 'signal', 'sfu.feeds', 'sfu.offer', 'board.state', 'ice']) this.conn.on(name, (data) => this.view?.receive(name, data))
    window.ledarstig = this
    if (known?.resume_token && known.name) this.askWho(known)
    else this.connect()
  }

  connect() {
    this.show({ title: 'connect.title', text: 'connect.text', busy: true })
    this.connectTimer = setTimeout(() => this.slow(), 8000)
    this.conn.open()
  }

  /** Another tab of this browser already joined with this link: the same person again
   *  (this tab takes over), or someone else sharing the computer and the link? */
  askWho(known) {
    this.show({ title: 'who.title', text: { key: 'who.text', vars: { name: known.name } },
      actions: [
        { label: 'who.continue', vars: { name: known.name }, primary: true, onClick: () => { this.conn.resume = known.resume_token; this.connect() } },
        { label: 'who.someone_else', onClick: () => this.connect() },
      ] })
  }

  connected() {
    clearTimeout(this.connectTimer)
    clearTimeout(this.resumeRetry) // one from before a drop: this connection resumes itself
    this.storeDown = false // a new connection, maybe to another process: resume() tells
    this.view?.setConnection('online')
    if (this.conn.resume) this.resume()
    else if (!this.screen || this.screenArgs) this.showJoin()
  }

  async resume() {
    try {
      await this.conn.request('join', {})
      if (this.storeDown) this.storeStatus(true)
    } catch (err) {
      if (err.code === 'meeting_ended') this.fatal('meeting_ended')
      else if (err.code === 'store_unavailable') {
        this.storeStatus(false) // the store is down: wait, and resume when it is back
        this.resumeRetry = setTimeout(() => { if (this.conn.connected) this.resume() }, 1000)
      }
      else if (err.code !== 'offline' && err.code !== 'timeout') this.fatal('failed', errorText(err))
    }
  }

  showJoin() {
    this.screenArgs = null
    this.screen = joinView({ local: this.local, notice: this.resumeNotice, meeting: this.linkMeeting, onJoin: (profile) => this.join(profile) })
    fill(this.root, this.screen)
    this.screen.querySelector('input')?.focus()
    const screen = this.screen
    this.conn.request('invite.info', {}).then((info) => screen.setInfo(info)).catch(() => { /* the form works without it */ })
    if (!this.local.stream.getTracks().length) this.local.start()
  }

  /** Sent right after connecting, before joining: which meeting the link is for. */
  showMeetingInfo(m) {
    this.linkMeeting = m
    this.screen?.setInfo?.({ title: m.title })
  }

  async join(profile) {
    try {
      await this.conn.request('join', profile)
    } catch (err) {
      throw Object.assign(err, { text: errorText(err) })
    }
  }

  welcome(w) {
    this.store.loadWelcome(w)
    this.conn.resume = w.resume_token
    this.conn.lastSeq = this.store.seq
    writeSession(this.meeting, { resume_token: w.resume_token, participant: w.participant, name: this.store.self?.name })
    if (this.store.meeting?.ended) { this.fatal('meeting_ended'); return }
    if (!this.view) this.enterMeeting()
    this.view.welcomed(w)
    if (w.peers) this.view.receive('peers', w.peers) // a join's welcome carries its first plan
  }

  enterMeeting() {
    this.joined = true
    this.screenArgs = null
    this.view = new MeetingView({ store: this.store, conn: this.conn, local: this.local, leave: () => this.leave() })
    fill(this.root, this.view.root)
    this.view.mounted()
    this.store.on('meeting', () => { if (this.store.meeting?.ended) this.fatal('meeting_ended') })
  }

  event(e) {
    this.store.apply(e)
    this.conn.lastSeq = this.store.seq
  }

  refused(code, message) {
    clearTimeout(this.connectTimer)
    if (this.conn.resume && RESUME_REFUSALS.has(code) && !this.retriedFresh) {
      // The saved session cannot be resumed: try the invitation alone before blaming the link.
      this.retriedFresh = true
      clearSession(this.meeting)
      this.conn.resume = null
      this.conn.lastSeq = null
      this.resumeNotice = this.joined ? null : 'join.resume_lost'
      if (this.joined) { this.fatal('resume_lost'); return }
      this.conn.open()
      return
    }
    this.fatal(REFUSALS[code] ?? 'failed', message)
  }

  dropped() {
    if (this.ended || this.replaced) return
    this.view?.setConnection(this.conn.restarting ? 'restarting' : 'reconnecting')
  }

  reconnecting(attempt) {
    if (this.view) this.view.setConnection(this.conn.restarting ? 'restarting' : 'reconnecting', attempt)
  }

  /** A restart is not an error: say so calmly; the connection comes back by itself. */
  restarting() {
    if (!this.ended && !this.replaced) this.view?.setConnection('restarting')
  }

  /** The server cannot reach its store (several processes, Redis): nothing can be saved, so
   *  the meeting waits; when the store is back, catch up on what was logged meanwhile. */
  storeStatus(available) {
    this.storeDown = !available
    if (this.ended || this.replaced) return
    this.view?.setConnection(available ? 'online' : 'store_down')
    if (available && this.joined) this.catchUp()
  }

  async catchUp() {
    try {
      const { welcome } = await this.conn.request('sync', { last_seq: this.store.seq ?? 0 })
      if (welcome.snapshot) this.welcome(welcome)
      else {
        this.store.catchUp(welcome)
        this.conn.lastSeq = this.store.seq
      }
    } catch { /* a later notice or reconnection catches up */ }
  }

  slow() {
    if (!this.conn.connected && !this.joined) {
      this.show({ title: 'connect.slow_title', text: 'connect.slow_text', busy: true,
        actions: [{ label: 'action.reload', onClick: () => location.reload() }] })
    }
  }

  closedByServer() {
    if (this.ended) return
    if (this.replaced) {
      this.stopMedia()
      this.show({ title: 'replaced.title', text: 'replaced.text',
        actions: [{ label: 'replaced.use_here', primary: true, onClick: () => location.reload() }] })
    } else if (this.store.meeting?.ended) this.fatal('meeting_ended')
    else {
      this.view?.setConnection('closed')
      this.show({ title: 'closed.title', text: 'closed.text', tone: 'error',
        actions: [{ label: 'action.reconnect', primary: true, onClick: () => location.reload() }] })
    }
  }

  async leave() {
    try { await this.conn.request('leave', {}) } catch { /* leaving anyway */ }
    clearSession(this.meeting)
    this.ended = true
    this.conn.close()
    this.stopMedia()
    this.show({ title: 'left.title', text: 'left.text',
      actions: [{ label: 'left.rejoin', primary: true, onClick: () => location.reload() }] })
  }

  fatal(kind, message) {
    this.ended = true
    clearTimeout(this.connectTimer)
    this.conn?.close()
    this.stopMedia()
    if (kind === 'meeting_ended' || kind === 'token_expired') clearSession(this.meeting)
    const actions = []
    if (kind === 'resume_lost' || kind === 'failed') actions.push({ label: 'action.reload', primary: true, onClick: () => location.reload() })
    this.show({ title: `fatal.${kind}.title`, text: `fatal.${kind}.text`, tone: kind === 'meeting_ended' ? 'info' : 'error', actions, detail: message })
  }

  stopMedia() {
    this.view?.stop()
    this.view = null
    this.local.stop()
  }

  show(args) {
    this.screenArgs = args
    this.screen = notice(args)
    fill(this.root, this.screen)
    document.title = `${t(args.title)} – Ledarstig`
  }
}

function sessionKey(meeting) { return `ledarstig:session:${meeting}` }

function readSession(meeting) {
  try { return JSON.parse(sessionStorage.getItem(sessionKey(meeting))) } catch { return null }
}

function writeSession(meeting, value) {
  try {
    sessionStorage.setItem(sessionKey(meeting), JSON.stringify(value))
    localStorage.setItem(sessionKey(meeting), JSON.stringify(value)) // offered to new tabs
  } catch { /* private mode */ }
}

/** The last session of this meeting in this browser (another tab's, or an earlier one). */
function readKnown(meeting) {
  try { return JSON.parse(localStorage.getItem(sessionKey(meeting))) } catch { return null }
}

function clearSession(meeting) {
  try {
    sessionStorage.removeItem(sessionKey(meeting))
    localStorage.removeItem(sessionKey(meeting))
  } catch { /* private mode */ }
}
