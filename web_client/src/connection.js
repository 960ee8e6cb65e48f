// The Socket.IO connection: auth and resume, acknowledged requests, a send budget under the
// server's rate limit, and the reasons a connection ends.
import { io } from 'socket.io-client'
import msgpackParser from 'socket.io-msgpack-parser'

/** The server says in the page which packet format it speaks (json or msgpack). */
function parserOption() {
  const kind = document.querySelector('meta[name="ledarstig-serializer"]')?.content
  return kind === 'msgpack' ? { parser: msgpackParser } : {}
}

export class ApiError extends Error {
  constructor(code, message) {
    super(message || code)
    this.code = code
  }
}

const REQUEST_TIMEOUT_MS = 10000

/** Spends at most `rate` sends a second on average, `burst` at once; waits instead of failing. */
class SendBudget {
  constructor(rate = 20, burst = 40) {
    this.rate = rate
    this.burst = burst
    this.tokens = burst
    this.at = performance.now()
    this.queue = Promise.resolve()
  }

  take() {
    const turn = this.queue.then(() => this.wait())
    this.queue = turn
    return turn
  }

  async wait() {
    for (;;) {
      const now = performance.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate)
      this.at = now
      if (this.tokens >= 1) { this.tokens -= 1; return }
      await new Promise((resolve) => setTimeout(resolve, ((1 - this.tokens) / this.rate) * 1000))
    }
  }
}

export class Connection {
  /** handlers: {connected(), refused(code, message), dropped(reason), closedByServer(), reconnecting(attempt),
   *  restarting(), store(available)} */
  constructor({ meeting, token, handlers }) {
    this.meeting = meeting
    this.token = token
    this.handlers = handlers
    this.resume = null
    this.lastSeq = null
    this.restarting = false
    this.budget = new SendBudget()
    this.socket = io({
      path: '/socket.io/',
      // WebSocket first; where a proxy or firewall blocks it, HTTP long-polling.
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      timeout: 10000,
      auth: (cb) => cb(this.auth()),
      // Behind nginx every request of a meeting goes to one process (docs/deploy.md:
      // hash $arg_meeting). Only routing: the server decides on `auth`, and the id is
      // no secret (the access log drops query strings anyway).
      ...(meeting ? { query: { meeting } } : {}),
      ...parserOption(),
    })
    this.socket.on('connect', () => { this.restarted(); handlers.connected() })
    this.socket.on('server.restarting', () => this.onRestarting())
    this.socket.on('server.store', (s) => handlers.store?.(Boolean(s?.available)))
    this.socket.on('connect_error', (err) => this.onConnectError(err))
    // The server closes a connection that has not joined in time (join_timeout); that
    // is no error for someone still on the join form: connect again when they send it.
    this.idleClosed = false
    this.socket.on('closing', (notice) => { this.idleClosed = notice?.code === 'join_timeout' })
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason))
    this.socket.io.on('reconnect_attempt', (n) => handlers.reconnecting?.(n))
  }

  auth() {
    const auth = { token: this.token, meeting: this.meeting }
    if (this.resume) auth.resume = this.resume
    if (this.resume && this.lastSeq !== null) auth.last_seq = this.lastSeq
    return auth
  }

  open() { this.socket.connect() }

  close() {
    this.socket.io.reconnection(false)
    this.socket.disconnect()
  }

  on(event, fn) { this.socket.on(event, fn) }

  onConnectError(err) {
    // A refusal by the server carries data.code and is final; anything else is retried,
    // then by long-polling first (upgrading to WebSocket where that works): a proxy that
    // accepts the WebSocket upgrade and then drops it is not an error tryAllTransports sees.
    if (err?.data?.code) { this.handlers.refused(err.data.code, err.message); return }
    this.socket.io.opts.transports = ['polling', 'websocket']
    this.handlers.reconnecting?.(0)
  }

  onDisconnect(reason) {
    if (reason === 'io client disconnect') return
    if (this.idleClosed) return
    if (reason === 'io server disconnect' && !this.restarting) this.handlers.closedByServer()
    else this.handlers.dropped(reason)
    if (reason === 'io server disconnect' && this.restarting) this.socket.connect()
  }

  /** The server said it is restarting: come back by ourselves, soon and often. */
  onRestarting() {
    this.restarting = true
    this.socket.io.reconnectionDelay(250)
    this.socket.io.reconnectionDelayMax(1000)
    this.handlers.restarting?.()
  }

  restarted() {
    if (!this.restarting) return
    this.restarting = false
    this.socket.io.reconnectionDelay(500)
    this.socket.io.reconnectionDelayMax(5000)
  }

  get connected() { return this.socket.connected }

  /** Connect again after an idle close; resolves when connected (or gives up at `timeout`). */
  reopen(timeout) {
    this.idleClosed = false
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.socket.off('connect', done); resolve() }
      const timer = setTimeout(done, timeout)
      this.socket.on('connect', done)
      this.socket.connect()
    })
  }

  /** Emit with acknowledgement; resolves ack.data or throws ApiError(code). */
  async request(event, data = {}, { timeout = REQUEST_TIMEOUT_MS } = {}) {
    await this.budget.take()
    if (this.idleClosed && !this.socket.connected) await this.reopen(timeout)
    if (!this.socket.connected) throw new ApiError('offline')
    let answer
    try {
      answer = await this.socket.timeout(timeout).emitWithAck(event, data)
    } catch {
      throw new ApiError('timeout')
    }
    if (!answer?.ok) throw new ApiError(answer?.error?.code ?? 'internal_error', answer?.error?.message)
    return answer.data
  }
}
