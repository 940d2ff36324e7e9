// WebSocket support for the realtime socket tests (test/socket.test.mjs).
//
// Import this module BEFORE lib/server.mjs (see "Timers" below).
//
//  * Node 20 has no global WebSocket, and nakama-js' adapters call
//    `new WebSocket(url)` and read `WebSocket.OPEN` from the global: the `ws`
//    package is installed as that global here.
//  * connectSocket(): a nakama-js socket (JSON or protobuf adapter) whose
//    callbacks (notifications, disconnects, heartbeat timeouts) and frames are
//    recorded in queues a test can wait on.
//  * openRaw() / refusedHandshake(): a bare `ws` connection to /ws, for what
//    nakama-js hides (exact frames, close codes, handshake status and body).
//  * withTimeout(): every wait in the socket tests is an event with a
//    deadline, never a sleep.
//
// Timers: nakama-js arms timers it never clears — 30 s per connect, 10 s per
// request, and the heartbeat's next ping after each pong. Each would keep the
// test process alive long after the last test. The global setTimeout is
// wrapped so that timers armed from the nakama-js bundle are unref'd: they
// still fire while anything else (an open socket, a pending request) keeps
// the process running, but no longer hold it open on their own.
// lib/server.mjs swaps the global setTimeout during client calls and restores
// the value it saw when it was loaded, so it must load after this module;
// connectSocket() checks that the wrapper is still in place.

import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { WebSocketAdapterText } from '@heroiclabs/nakama-js';
import { WebSocketAdapterPb } from '@heroiclabs/nakama-js-protobuf';

globalThis.WebSocket = WebSocket;

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

const NAKAMA_JS_BUNDLE = import.meta.resolve('@heroiclabs/nakama-js');
const nativeSetTimeout = globalThis.setTimeout;

function unrefNakamaTimers(...args) {
  const timer = nativeSetTimeout(...args);
  if (new Error().stack?.includes(NAKAMA_JS_BUNDLE)) timer?.unref?.();
  return timer;
}
globalThis.setTimeout = unrefNakamaTimers;

function assertTimersPatched() {
  if (globalThis.setTimeout !== unrefNakamaTimers) {
    throw new Error('lib/ws.mjs must be imported before lib/server.mjs: the nakama-js timer wrapper was replaced');
  }
}

// ---------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------

export const WAIT_MS = 5_000;

// Rejects with "timed out after <ms> ms waiting for <what>" unless `promise`
// settles first. The timer is cleared either way.
export function withTimeout(promise, ms = WAIT_MS, what = 'an event') {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = nativeSetTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// A FIFO of events; next() waits for one (with a deadline) when it is empty.
export class Queue {
  #items = [];
  #waiters = [];
  #endReason;

  push(item) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.#items.push(item);
  }

  // No more items will come: pending and future next() calls fail at once.
  end(reason) {
    this.#endReason = reason;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(reason));
  }

  get size() {
    return this.#items.length;
  }

  // Items received and not yet taken, without taking them.
  peek() {
    return [...this.#items];
  }

  next(ms = WAIT_MS, what = 'an event') {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#endReason !== undefined) return Promise.reject(new Error(`${this.#endReason} (waiting for ${what})`));
    let waiter;
    const pending = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.#waiters.push(waiter);
    });
    return withTimeout(pending, ms, what).catch((e) => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
      throw e;
    });
  }
}

// ---------------------------------------------------------------------------
// nakama-js sockets
// ---------------------------------------------------------------------------

export const FORMATS = Object.freeze(['json', 'protobuf']);

export function newAdapter(format) {
  if (format === 'json') return new WebSocketAdapterText();
  if (format === 'protobuf') return new WebSocketAdapterPb();
  throw new Error(`unknown socket format ${format}`);
}

const openSockets = new Set();
const rawSockets = new Set();

// Records what an adapter sends (plain request objects, cid included) and
// every envelope it hands to nakama-js (JSON-parsed or protobuf-decoded).
function recordFrames(adapter) {
  const sent = [];
  const received = new Queue();
  const send = adapter.send;
  adapter.send = (msg) => {
    sent.push(structuredClone(msg));
    return send.call(adapter, msg);
  };
  const onMessage = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(adapter), 'onMessage');
  Object.defineProperty(adapter, 'onMessage', {
    configurable: true,
    get: () => onMessage.get.call(adapter),
    set: (handler) => onMessage.set.call(adapter, handler && ((message) => {
      received.push(message);
      handler(message);
    })),
  });
  return { sent, received };
}

// A nakama-js socket created as a game would (client.createSocket(false,
// false, adapter)), with its callbacks recorded:
//   probe.socket         the nakama-js DefaultSocket
//   probe.adapter        its adapter
//   probe.notifications  Queue of onnotification items
//   probe.disconnects    Queue of ondisconnect events
//   probe.events         every callback in order: ['notification', n] | ['disconnect', evt]
//   probe.heartbeatTimeouts  count of onheartbeattimeout calls
//   probe.sent / probe.frames  request objects sent / Queue of envelopes received
// `connect()` resolves with the probe once the socket is open; it rejects as
// nakama-js' connect does.
export function createSocket(client, { format = 'json', heartbeatMs } = {}) {
  assertTimersPatched();
  const adapter = newAdapter(format);
  const socket = client.createSocket(false, false, adapter);
  if (heartbeatMs !== undefined) socket.setHeartbeatTimeoutMs(heartbeatMs);
  const { sent, received } = recordFrames(adapter);
  const probe = {
    format,
    socket,
    adapter,
    sent,
    frames: received,
    notifications: new Queue(),
    disconnects: new Queue(),
    events: [],
    heartbeatTimeouts: 0,
    connect(session, appearOnline = false, connectTimeoutMs = WAIT_MS) {
      assertTimersPatched();
      openSockets.add(probe);
      return socket.connect(session, appearOnline, connectTimeoutMs).then(() => probe);
    },
    // socket.disconnect(), then waits for the WebSocket itself to close.
    async close() {
      openSockets.delete(probe);
      const ws = adapter._socket;
      socket.disconnect(false);
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        await withTimeout(new Promise((resolve) => ws.once('close', resolve)), WAIT_MS, 'the socket to close');
      }
    },
  };
  socket.onnotification = (n) => {
    probe.events.push(['notification', n]);
    probe.notifications.push(n);
  };
  socket.ondisconnect = (evt) => {
    probe.events.push(['disconnect', evt]);
    probe.disconnects.push(evt);
  };
  socket.onheartbeattimeout = () => {
    probe.heartbeatTimeouts += 1;
  };
  return probe;
}

// createSocket + connect in one step.
export function connectSocket(client, session, { format = 'json', appearOnline = false, heartbeatMs } = {}) {
  return createSocket(client, { format, heartbeatMs }).connect(session, appearOnline);
}

// Closes every socket the tests opened and did not close (call before stopping the server).
export async function closeAllSockets() {
  const probes = [...openSockets];
  openSockets.clear();
  for (const probe of probes) {
    try {
      probe.socket.disconnect(false);
    } catch {
      // already closed
    }
  }
  for (const raw of rawSockets) raw.ws.terminate();
  rawSockets.clear();
}

// Awaits a socket call that must fail with a realtime `error` envelope.
// nakama-js rejects the pending promise with the envelope's `error` member:
// JSON-parsed ({code?, message}) or protobuf-decoded ({code, message, context}).
// In JSON, code 0 is omitted (it is the proto3 default) and must be absent.
export async function expectSocketError(promise, { code, message }, format = 'json') {
  let value;
  let err;
  let rejected = false;
  try {
    value = await promise;
  } catch (e) {
    rejected = true;
    err = e;
  }
  const want = `error code ${code} "${message}"`;
  if (!rejected) throw new Error(`expected the socket call to fail with ${want}, but it succeeded with ${safeJson(value)}`);
  if (typeof err === 'string' || err instanceof Error || err === null || typeof err !== 'object') {
    // nakama-js rejects with a string on its own send timeout or when the socket is closed.
    throw new Error(`expected an error envelope (${want}), got ${err instanceof Error ? err.stack : safeJson(err)}`);
  }
  const actual = { code: err.code ?? 0, message: err.message };
  if (actual.code !== code || actual.message !== message) {
    throw new Error(`expected ${want}, got ${safeJson(err)}`);
  }
  if (format === 'json') {
    const extra = Object.keys(err).filter((k) => !['code', 'message', 'context'].includes(k));
    if (extra.length > 0) throw new Error(`unexpected keys in the error envelope: ${safeJson(err)}`);
    if (code === 0 && Object.hasOwn(err, 'code')) {
      throw new Error(`code 0 must be omitted from JSON, got ${safeJson(err)}`);
    }
  }
  return err;
}

// ---------------------------------------------------------------------------
// Raw `ws` connections
// ---------------------------------------------------------------------------

// ws://host:port/ws?<params>; undefined params are left out.
export function wsUrl(server, params = {}) {
  const url = new URL('/ws', server.baseUrl.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined) url.searchParams.set(k, v);
  }
  return url.toString();
}

// One bare WebSocket. Text frames are JSON-parsed when possible; binary frames
// are Buffers.
//   raw.messages  Queue of received messages
//   raw.closed    promise of { code, reason } once the connection closed
//   raw.send(x)   object → JSON text frame; string → text frame; Buffer/Uint8Array → binary frame
export class RawSocket {
  constructor(ws) {
    this.ws = ws;
    this.messages = new Queue();
    this.closeInfo = undefined;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        rawSockets.delete(this);
        this.messages.end(`the socket closed (${this.closeInfo.code} "${this.closeInfo.reason}")`);
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.messages.push(Buffer.from(data));
        return;
      }
      const text = data.toString('utf8');
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { unparsable: text };
      }
      this.messages.push(parsed);
    });
    // Errors end in 'close'; without a listener they would be thrown.
    ws.on('error', () => {});
    rawSockets.add(this);
  }

  send(x) {
    if (Buffer.isBuffer(x) || x instanceof Uint8Array) this.ws.send(x, { binary: true });
    else if (typeof x === 'string') this.ws.send(x, { binary: false });
    else this.ws.send(JSON.stringify(x), { binary: false });
  }

  next(ms = WAIT_MS, what = 'a message') {
    return this.messages.next(ms, what);
  }

  // Resolves with { code, reason } once closed (by either side).
  waitClosed(ms = WAIT_MS) {
    return withTimeout(this.closed, ms, 'the server to close the socket');
  }

  async close() {
    if (this.closeInfo) return this.closeInfo;
    this.ws.close(1000);
    return this.waitClosed();
  }
}

// Opens a raw socket; rejects with "refused: HTTP <status> <body>" when the
// handshake is refused.
export function openRaw(server, params = {}, headers = {}) {
  const ws = new WebSocket(wsUrl(server, params), { headers });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new RawSocket(ws)));
    ws.once('unexpected-response', (req, res) => {
      readBody(res).then((text) => {
        ws.terminate();
        reject(new Error(`refused: HTTP ${res.statusCode} ${JSON.stringify(text)}`));
      }, reject);
    });
    ws.once('error', reject);
  }), WAIT_MS, 'the socket handshake');
}

// A handshake that must be refused before the upgrade: resolves with
// { status, contentType, text } of the HTTP answer.
export function refusedHandshake(server, params = {}, headers = {}) {
  const ws = new WebSocket(wsUrl(server, params), { headers });
  ws.on('error', () => {});
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`expected the handshake to be refused, but the socket opened (${wsUrl(server, params)})`));
    });
    ws.once('unexpected-response', (req, res) => {
      readBody(res).then((text) => {
        ws.terminate();
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], text });
      }, reject);
    });
  }), WAIT_MS, 'the refused handshake');
}

function readBody(res) {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// Hand-encoded protobuf envelopes (nakama.realtime.Envelope, nakama-wire.md §5.2)
// ---------------------------------------------------------------------------

function varint(n) {
  const out = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

// A length-delimited field.
export function pbBytesField(field, bytes) {
  const body = Buffer.from(bytes);
  return Buffer.concat([Buffer.from(varint((field << 3) | 2)), Buffer.from(varint(body.length)), body]);
}

export function pbVarintField(field, value) {
  return Buffer.from([...varint((field << 3) | 0), ...varint(value)]);
}

export const pbString = (field, s) => pbBytesField(field, Buffer.from(s, 'utf8'));

// Envelope members used by the raw protobuf tests (field numbers, §4.3).
export const PB = Object.freeze({ CID: 1, ERROR: 11, NOTIFICATIONS: 23, RPC: 24, PING: 32, PONG: 33 });

// Envelope { cid, <member>: <inner bytes> }; cid left out when empty.
export function pbEnvelope(cid, member, inner = Buffer.alloc(0)) {
  const parts = [];
  if (cid) parts.push(pbString(PB.CID, cid));
  if (member !== undefined) parts.push(pbBytesField(member, inner));
  return Buffer.concat(parts);
}

// nakama.realtime.Error { code = 1; message = 2 } (code 0 left out, as proto3 does).
export function pbError(code, message) {
  return Buffer.concat([code ? pbVarintField(1, code) : Buffer.alloc(0), pbString(2, message)]);
}

export const randomMatchId = () => `${randomUUID()}.`;

function safeJson(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
