// Helpers shared by the nakama-js client tests: error assertions, raw HTTP,
// random identifiers and a JWT forger for session/refresh tokens.

import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';

// Nakama's default keys (nakama-wire.md §6, §7). The server under test runs
// with default configuration, so tokens signed with these are genuine.
export const SERVER_KEY = 'defaultkey';
export const SESSION_KEY = 'defaultencryptionkey';
export const REFRESH_KEY = 'defaultrefreshencryptionkey';
export const TOKEN_EXPIRY_SEC = 60;
export const REFRESH_TOKEN_EXPIRY_SEC = 3600;

// gRPC status codes used by the foundation endpoints (nakama-wire.md §3.2).
export const Code = Object.freeze({
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAUTHENTICATED: 16,
});

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// REST timestamps: RFC 3339 UTC with Z, whole seconds (nakama-wire.md §2.2,
// nakama-semantics.md §0).
export const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
// Generated usernames: 10 letters from [a-zA-Z] (nakama-semantics.md §1.2).
export const GENERATED_USERNAME_RE = /^[a-zA-Z]{10}$/;

export const nowSec = () => Math.floor(Date.now() / 1000);

// Shared by the test files: the usual 400 and 401 answers, the nil UUID and base64url (random hex
// is `hex` below).
export const invalid = (message) => ({ status: 400, code: Code.INVALID_ARGUMENT, message });
export const AUTH_REQUIRED = { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' };
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const b64url = (s) => Buffer.from(s).toString('base64url');

// ---------------------------------------------------------------------------
// Error assertions
// ---------------------------------------------------------------------------

function describeExpected({ status, code, message }) {
  return `HTTP ${status} code ${code}${typeof message === 'string' ? ` "${message}"` : ''}`;
}

function checkMessage(actual, expected) {
  if (expected === undefined) return actual;
  if (expected instanceof RegExp) {
    assert.equal(typeof actual, 'string', `error message should be a string, got ${JSON.stringify(actual)}`);
    assert.match(actual, expected);
    return actual;
  }
  if (typeof expected === 'function') {
    expected(actual);
    return actual;
  }
  return expected;
}

// Awaits a nakama-js call that must fail. nakama-js rejects with the fetch
// `Response` itself for any non-2xx answer (api.gen.ts: `throw response`);
// its body is Nakama's REST error `{"code": <grpc code>, "message": "..."}`.
//
// `expected.message` may be a string (exact match), a RegExp, a function that
// asserts on its own, or undefined (not checked).
export async function expectError(promise, expected) {
  let value;
  let rejected = false;
  let err;
  try {
    value = await promise;
  } catch (e) {
    rejected = true;
    err = e;
  }
  if (!rejected) {
    assert.fail(`expected the call to fail with ${describeExpected(expected)}, ` +
      `but it succeeded with ${safeJson(value)}`);
  }
  if (!(err instanceof Response)) {
    // nakama-js rejects with the string "Request timed out." on its own timeout,
    // and a TypeError when the connection fails.
    assert.fail(`expected a rejected fetch Response (${describeExpected(expected)}), ` +
      `got ${err instanceof Error ? err.stack : safeJson(err)}`);
  }
  const text = await err.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`HTTP ${err.status}: error body is not JSON: ${JSON.stringify(text)}`);
  }
  return compareError(err.status, body, expected, err.headers);
}

// Same assertion for a raw response from `request()` below.
export function expectErrorResponse(res, expected) {
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`HTTP ${res.status}: error body is not JSON: ${JSON.stringify(res.text)}`);
  }
  return compareError(res.status, body, expected, res.headers);
}

function compareError(status, body, expected, headers) {
  assert.equal(typeof body, 'object', `error body should be a JSON object, got ${safeJson(body)}`);
  assert.notEqual(body, null, 'error body should be a JSON object, got null');
  // Nakama's gateway sends only `code` and `message` (a `details` array never
  // appears because it is never filled). An extra `error` copy of the message
  // is tolerated (nakama-wire.md §9), anything else is not.
  const extra = Object.keys(body).filter((k) => !['code', 'message', 'error'].includes(k));
  assert.deepEqual(extra, [], `unexpected keys in error body ${safeJson(body)}`);
  if (Object.hasOwn(body, 'error')) {
    assert.equal(body.error, body.message, `"error" must repeat "message": ${safeJson(body)}`);
  }
  const actual = { status, code: body.code, message: body.message };
  const want = {
    status: expected.status,
    code: expected.code,
    message: checkMessage(body.message, expected.message),
  };
  assert.deepEqual(actual, want, `error mismatch; full body: ${safeJson(body)}`);
  return { status, body, headers };
}

// Message predicate for calls where only "some non-empty explanation" is required.
export function nonEmptyMessage(message) {
  assert.equal(typeof message, 'string', `message should be a string, got ${safeJson(message)}`);
  assert.ok(message.length > 0, 'message should be non-empty');
}

function safeJson(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

// ---------------------------------------------------------------------------
// Raw HTTP for what nakama-js cannot express
// ---------------------------------------------------------------------------

export const basicAuth = (key = SERVER_KEY, password = '') =>
  'Basic ' + Buffer.from(`${key}:${password}`).toString('base64');
export const bearer = (token) => `Bearer ${token}`;

// Sends one HTTP/1.1 request with node:http (no connection reuse) and resolves
// with { status, headers, body (raw Buffer), text (decompressed UTF-8), json() }.
//
// opts.body: Buffer | string sent as is; any other value is JSON-encoded.
// opts.headers: plain object; an array value sends the header several times.
// A JSON Content-Type is added when a body is given and none was set.
export function request(baseUrl, method, path, opts = {}) {
  const url = new URL(path, baseUrl);
  const headers = { ...(opts.headers ?? {}) };
  let payload;
  if (opts.body !== undefined) {
    payload = Buffer.isBuffer(opts.body) || typeof opts.body === 'string'
      ? Buffer.from(opts.body)
      : Buffer.from(JSON.stringify(opts.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      responded = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let decoded = body;
        try {
          const enc = (res.headers['content-encoding'] ?? '').toLowerCase();
          if (enc === 'gzip') decoded = zlib.gunzipSync(body);
          else if (enc === 'deflate') decoded = inflateAny(body);
        } catch (e) {
          reject(new Error(`${method} ${path}: cannot decode ${res.headers['content-encoding']} body: ${e.message}`));
          return;
        }
        const text = decoded.toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body,
          text,
          json() {
            try {
              return JSON.parse(text);
            } catch {
              throw new Error(`${method} ${path}: HTTP ${res.statusCode} body is not JSON: ${JSON.stringify(text)}`);
            }
          },
        });
      });
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no response within 15 s`)));
    req.on('error', (e) => {
      // A server that answers early (e.g. an oversized body) may reset the
      // connection while we are still writing; the response already counts.
      if (!responded) reject(e);
    });
    req.end(payload);
  });
}

function inflateAny(buf) {
  try {
    return zlib.inflateSync(buf);
  } catch {
    return zlib.inflateRawSync(buf);
  }
}

// ---------------------------------------------------------------------------
// Random identifiers (unique per call, valid per nakama-wire.md §8.1 limits)
// ---------------------------------------------------------------------------

export const hex = (bytes) => randomBytes(bytes).toString('hex');

export const randomDeviceId = () => `dev-${hex(12)}`;                 // 28 bytes, 10-128
export const randomCustomId = () => `cus-${hex(8)}`;                  // 20 bytes, 6-128
export const randomEmail = () => `u${hex(6)}@example.com`;           // 25 bytes, 10-255
export const randomPassword = () => `pw-${hex(6)}`;                  // 15 bytes, >= 8
// Alphanumeric only: nakama-js decodes the token payload with a base64 routine
// that drops '-' and '_', so usernames/vars containing '?', '~', '>' or
// non-ASCII could corrupt `Session` decoding client-side.
export const randomUsername = () => `user${hex(6)}`;

// ---------------------------------------------------------------------------
// JWT (HS256) forging and decoding
// ---------------------------------------------------------------------------


export function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    signature: parts[2],
  };
}

export function verifyJwt(token, key) {
  const [h, p, s] = token.split('.');
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest('base64url');
  return s === expected;
}

// Signs `payload` (an object, or a raw JSON string) as a compact JWT.
// alg: 'HS256' (default), 'HS512', or 'none' (unsigned).
export function signJwt(payload, key, { alg = 'HS256' } = {}) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${header}.${body}`;
  if (alg === 'none') return `${input}.`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  assert.ok(hash, `unsupported alg ${alg}`);
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

// Claims in Nakama's order (tid, uid, usn, vrs, exp, iat), omitting empty ones
// like Go's `omitempty`. Pass `null` to drop a claim that has a default.
function claims({ tid, uid, usn, vrs, exp, iat }) {
  const c = {};
  if (tid) c.tid = tid;
  if (uid) c.uid = uid;
  if (usn) c.usn = usn;
  if (vrs && Object.keys(vrs).length > 0) c.vrs = vrs;
  if (exp) c.exp = exp;
  if (iat) c.iat = iat;
  return c;
}

// A session token as the server would issue it (defaults: fresh tid, issued
// now, expiring in token_expiry_sec). Override `key` to forge a bad signature,
// `exp` to make it expired, `alg` for algorithm tests.
export function forgeSessionToken({
  uid = randomUUID(), usn = randomUsername(), tid = randomUUID(), vrs,
  iat = nowSec(), exp = iat + TOKEN_EXPIRY_SEC, key = SESSION_KEY, alg = 'HS256',
} = {}) {
  return signJwt(claims({ tid, uid, usn, vrs, exp, iat }), key, { alg });
}

export function forgeRefreshToken({
  uid = randomUUID(), usn = randomUsername(), tid = randomUUID(), vrs,
  iat = nowSec(), exp = iat + REFRESH_TOKEN_EXPIRY_SEC, key = REFRESH_KEY, alg = 'HS256',
} = {}) {
  return signJwt(claims({ tid, uid, usn, vrs, exp, iat }), key, { alg });
}
