// HTTP transport behaviour of the REST gateway: routing, limits, encodings,
// CORS, the two auth kinds and JSON conventions (nakama-wire.md §0-§3, §6).
// Mostly raw HTTP, because nakama-js hides these details.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { Session } from '@heroiclabs/nakama-js';
import { startServer } from '../lib/server.mjs';
import {
  Code, REFRESH_KEY, SESSION_KEY, TIMESTAMP_RE, UUID_RE,
  basicAuth, bearer, expectError, expectErrorResponse, forgeSessionToken, nonEmptyMessage,
  nowSec, randomDeviceId, request, signJwt,
} from '../lib/util.mjs';

const DEVICE_PATH = '/v2/account/authenticate/device';
const MAX_REQUEST_SIZE_BYTES = 262_144;

describe('transport', () => {
  let server;
  let client;
  const raw = (method, path, opts) => request(server.baseUrl, method, path, opts);
  const newUser = async () => {
    const deviceId = randomDeviceId();
    const session = await client.authenticateDevice(deviceId);
    return { deviceId, session };
  };

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('routing', () => {
    it('GET /healthcheck answers 200 {} without any auth', async () => {
      const res = await raw('GET', '/healthcheck');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      assert.deepEqual(res.json(), {});
    });

    it('GET /healthcheck ignores a garbage Authorization header', async () => {
      const res = await raw('GET', '/healthcheck', { headers: { Authorization: 'Bearer not-a-jwt' } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), {});
    });

    it('GET / answers 200 with an empty body', async () => {
      const res = await raw('GET', '/');
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0);
    });

    it('an unknown path answers 404 {"code":5,"message":"Not Found"}', async () => {
      const res = await raw('GET', '/v2/does-not-exist');
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      expectErrorResponse(res, { status: 404, code: Code.NOT_FOUND, message: 'Not Found' });
    });

    it('an unknown authenticate provider path answers 404 Not Found', async () => {
      const res = await raw('POST', '/v2/account/authenticate/myspace', {
        headers: { Authorization: basicAuth() },
        body: { token: 'x' },
      });
      expectErrorResponse(res, { status: 404, code: Code.NOT_FOUND, message: 'Not Found' });
    });

    it('a wrong method on a known path answers 501 code 12 "Method Not Allowed"', async () => {
      const res = await raw('POST', '/v2/account', { body: {} });
      expectErrorResponse(res, { status: 501, code: Code.UNIMPLEMENTED, message: 'Method Not Allowed' });
    });

    it('DELETE /healthcheck answers 501 "Method Not Allowed"', async () => {
      const res = await raw('DELETE', '/healthcheck');
      expectErrorResponse(res, { status: 501, code: Code.UNIMPLEMENTED, message: 'Method Not Allowed' });
    });
  });

  describe('request bodies and query strings', () => {
    it('malformed JSON on authenticate answers 400 code 3', async () => {
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth() },
        body: '{"id": "abcdefghijkl", ',
      });
      expectErrorResponse(res, { status: 400, code: Code.INVALID_ARGUMENT, message: nonEmptyMessage });
    });

    it('a JSON value of the wrong type answers 400 code 3', async () => {
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth() },
        body: '{"id": 12345678901}',
      });
      expectErrorResponse(res, { status: 400, code: Code.INVALID_ARGUMENT, message: nonEmptyMessage });
    });

    it('malformed JSON on a bearer endpoint answers 400 code 3', async () => {
      const { session } = await newUser();
      const res = await raw('PUT', '/v2/account', {
        headers: { Authorization: bearer(session.token) },
        body: '{"display_name": ',
      });
      expectErrorResponse(res, { status: 400, code: Code.INVALID_ARGUMENT, message: nonEmptyMessage });
    });

    it('an empty body is an empty message ("Device ID is required.")', async () => {
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth(), 'Content-Type': 'application/json' },
        body: '',
      });
      expectErrorResponse(res, { status: 400, code: Code.INVALID_ARGUMENT, message: 'Device ID is required.' });
    });

    it('unknown JSON fields in a request are ignored', async () => {
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth() },
        body: { id: randomDeviceId(), not_a_field: 1, another: { nested: true } },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().created, true);
    });

    it('boolean query parameters use Go ParseBool ("create=0" means false)', async () => {
      const res = await raw('POST', `${DEVICE_PATH}?create=0`, {
        headers: { Authorization: basicAuth() },
        body: { id: randomDeviceId() },
      });
      expectErrorResponse(res, { status: 404, code: Code.NOT_FOUND, message: 'User account not found.' });
    });

    it('an unparsable boolean query parameter answers 400 code 3', async () => {
      const res = await raw('POST', `${DEVICE_PATH}?create=maybe`, {
        headers: { Authorization: basicAuth() },
        body: { id: randomDeviceId() },
      });
      expectErrorResponse(res, { status: 400, code: Code.INVALID_ARGUMENT, message: nonEmptyMessage });
    });

    it('unknown query parameters are ignored', async () => {
      const res = await raw('POST', `${DEVICE_PATH}?unknown_param=1&`, {
        headers: { Authorization: basicAuth() },
        body: { id: randomDeviceId() },
      });
      assert.equal(res.status, 200, res.text);
    });

    it('a lowerCamel JSON name is accepted in place of the proto name', async () => {
      const { session } = await newUser();
      const res = await raw('PUT', '/v2/account', {
        headers: { Authorization: bearer(session.token) },
        body: { displayName: 'Camel Case' },
      });
      assert.equal(res.status, 200, res.text);
      const account = await client.getAccount(session);
      assert.equal(account.user.display_name, 'Camel Case');
    });
  });

  describe('size limit and compression', () => {
    it(`a body over ${MAX_REQUEST_SIZE_BYTES} bytes answers 400 code 3 "http: request body too large"`, async () => {
      // Valid JSON that would create an account if it were read in full.
      const body = JSON.stringify({ id: randomDeviceId(), vars: { pad: 'x'.repeat(MAX_REQUEST_SIZE_BYTES + 1024) } });
      const res = await raw('POST', DEVICE_PATH, { headers: { Authorization: basicAuth() }, body });
      expectErrorResponse(res, {
        status: 400, code: Code.INVALID_ARGUMENT, message: 'http: request body too large',
      });
    });

    it('a 200 kB body (under the limit) is accepted', async () => {
      const body = JSON.stringify({ id: randomDeviceId(), vars: { pad: 'y'.repeat(200_000) } });
      const res = await raw('POST', DEVICE_PATH, { headers: { Authorization: basicAuth() }, body });
      assert.equal(res.status, 200, res.text.slice(0, 500));
      assert.equal(res.json().created, true);
    });

    it('a gzip-encoded request body is decompressed', async () => {
      const deviceId = randomDeviceId();
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth(), 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' },
        body: zlib.gzipSync(JSON.stringify({ id: deviceId })),
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().created, true);
      const again = await client.authenticateDevice(deviceId, false);
      assert.equal(again.created, false);
    });

    it('responses of 1 KiB or more are gzip-compressed for "Accept-Encoding: gzip"', async () => {
      const { session } = await newUser();
      await client.writeStorageObjects(session, [{ collection: 'gz', key: 'big', value: { pad: 'x'.repeat(4000) } }]);
      const res = await raw('GET', `/v2/storage/gz?user_id=${session.user_id}`, {
        headers: { Authorization: bearer(session.token), 'Accept-Encoding': 'gzip' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.match(res.headers.vary ?? '', /accept-encoding/i);
      // request() gunzipped it; the raw bytes start with the gzip magic number.
      assert.equal(res.body[0], 0x1f);
      assert.equal(res.body[1], 0x8b);
      assert.equal(res.json().objects[0].key, 'big');
    });

    it('smaller responses go out uncompressed even when the client accepts gzip', async () => {
      const { session } = await newUser();
      const res = await raw('GET', '/v2/account', {
        headers: { Authorization: bearer(session.token), 'Accept-Encoding': 'gzip' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.json().user.id, session.user_id);
    });

    it('a corrupt gzip body answers 400 code 3, not the size-limit error', async () => {
      const good = zlib.gzipSync(JSON.stringify({ id: randomDeviceId() }));
      const corrupt = Buffer.concat([good.subarray(0, 12), Buffer.from('garbage in the middle'), good.subarray(12)]);
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth(), 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' },
        body: corrupt,
      });
      expectErrorResponse(res, {
        status: 400, code: Code.INVALID_ARGUMENT, message: 'Request body could not be read or decompressed.',
      });
    });

    it('responses are not compressed when the client does not ask', async () => {
      const { session } = await newUser();
      const res = await raw('GET', '/v2/account', { headers: { Authorization: bearer(session.token) } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.json().user.id, session.user_id);
    });
  });

  describe('operations', () => {
    it('GET /readyz answers 200 {} while the database answers', async () => {
      const res = await raw('GET', '/readyz');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), {});
    });

    it('an internal error is logged once, as one JSON line with one "message" key', async () => {
      const { session } = await newUser();
      // An empty lang_tag cannot be stored (Nakama's schema): a 500 with a fixed message.
      const res = await raw('PUT', '/v2/account', {
        headers: { Authorization: bearer(session.token) }, body: JSON.stringify({ lang_tag: '' }),
      });
      assert.equal(res.status, 500);
      const deadline = Date.now() + 5_000;
      let line;
      while (!line && Date.now() < deadline) {
        line = server.logs().stdout.split('\n').find((l) => l.includes('"internal error"'));
        if (!line) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(line, 'the internal error was logged');
      assert.equal(line.match(/"message":/g).length, 1, line);
      const entry = JSON.parse(line);
      assert.equal(entry.client_message ?? entry.fields?.client_message, 'Error while trying to update account.');
    });
  });

  describe('headers', () => {
    const NO_STORE = 'no-store, no-cache, must-revalidate';

    it('Cache-Control is set on success and error responses', async () => {
      const { session } = await newUser();
      const responses = {
        healthcheck: await raw('GET', '/healthcheck'),
        authenticate: await raw('POST', DEVICE_PATH, {
          headers: { Authorization: basicAuth() }, body: { id: randomDeviceId() },
        }),
        account: await raw('GET', '/v2/account', { headers: { Authorization: bearer(session.token) } }),
        notFound: await raw('GET', '/v2/does-not-exist'),
        unauthenticated: await raw('GET', '/v2/account'),
        badRequest: await raw('POST', DEVICE_PATH, { headers: { Authorization: basicAuth() }, body: {} }),
      };
      for (const [name, res] of Object.entries(responses)) {
        assert.equal(res.headers['cache-control'], NO_STORE, `${name} (HTTP ${res.status})`);
      }
    });

    const preflight = (path, method) => raw('OPTIONS', path, {
      headers: {
        Origin: 'https://game.example.org',
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    const listed = (value) => (value ?? '').toLowerCase().split(/\s*,\s*/);

    it('answers a CORS preflight for any origin (POST with Authorization, Content-Type)', async () => {
      const res = await preflight(DEVICE_PATH, 'POST');
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      const allowed = listed(res.headers['access-control-allow-headers']);
      assert.ok(allowed.includes('authorization'), `allow-headers: ${res.headers['access-control-allow-headers']}`);
      assert.ok(allowed.includes('content-type'), `allow-headers: ${res.headers['access-control-allow-headers']}`);
      // POST is a CORS-safelisted method: Access-Control-Allow-Methods may be
      // absent (gorilla/handlers only lists non-simple methods), but if sent it
      // must allow POST.
      const methods = res.headers['access-control-allow-methods'];
      if (methods !== undefined) assert.ok(listed(methods).includes('post'), `allow-methods: ${methods}`);
    });

    it('allows PUT and DELETE in a CORS preflight', async () => {
      for (const method of ['PUT', 'DELETE']) {
        const res = await preflight('/v2/account', method);
        assert.equal(res.status, 200, method);
        assert.equal(res.headers['access-control-allow-origin'], '*');
        assert.ok(listed(res.headers['access-control-allow-methods']).includes(method.toLowerCase()),
          `${method}: allow-methods ${res.headers['access-control-allow-methods']}`);
      }
    });

    it('adds Access-Control-Allow-Origin to cross-origin requests', async () => {
      const res = await raw('GET', '/healthcheck', { headers: { Origin: 'https://game.example.org' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], '*');
    });
  });

  describe('server key (Basic) on authenticate and refresh', () => {
    const body = () => ({ id: randomDeviceId() });

    it('no Authorization header: 401 "Server key required" with WWW-Authenticate', async () => {
      const res = await raw('POST', DEVICE_PATH, { body: body() });
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Server key required' });
      assert.equal(res.headers['www-authenticate'], 'Server key required');
    });

    it('nakama-js with an empty server key sends no header: "Server key required"', async () => {
      await expectError(server.client('').authenticateDevice(randomDeviceId()), {
        status: 401, code: Code.UNAUTHENTICATED, message: 'Server key required',
      });
    });

    it('a wrong server key: 401 "Server key invalid"', async () => {
      await expectError(server.client('notthekey').authenticateDevice(randomDeviceId()), {
        status: 401, code: Code.UNAUTHENTICATED, message: 'Server key invalid',
      });
    });

    it('a wrong server key on sessionRefresh: 401 "Server key invalid"', async () => {
      const { session } = await newUser();
      await expectError(server.client('notthekey').sessionRefresh(session), {
        status: 401, code: Code.UNAUTHENTICATED, message: 'Server key invalid',
      });
    });

    for (const [name, header] of [
      ['not base64', 'Basic %%%not-base64%%%'],
      ['no colon after the key', `Basic ${Buffer.from('defaultkey').toString('base64')}`],
      ['a Bearer scheme', 'Bearer defaultkey'],
    ]) {
      it(`a malformed Basic header (${name}): 401 "Server key invalid"`, async () => {
        const res = await raw('POST', DEVICE_PATH, { headers: { Authorization: header }, body: body() });
        expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Server key invalid' });
      });
    }

    it('only the username part is compared; the password is ignored', async () => {
      const res = await raw('POST', DEVICE_PATH, {
        headers: { Authorization: basicAuth('defaultkey', 'anything at all') }, body: body(),
      });
      assert.equal(res.status, 200, res.text);
    });

    it('no server key on sessionRefresh: 401 "Server key required"', async () => {
      const { session } = await newUser();
      const res = await raw('POST', '/v2/account/session/refresh', { body: { token: session.refresh_token } });
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Server key required' });
    });
  });

  describe('session token (Bearer) on user endpoints', () => {
    const INVALID = { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token invalid' };
    const getAccount = (authorization) =>
      raw('GET', '/v2/account', { headers: authorization === undefined ? {} : { Authorization: authorization } });

    it('no Authorization header: 401 "Auth token required" with WWW-Authenticate', async () => {
      const res = await getAccount();
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
      assert.equal(res.headers['www-authenticate'], 'Auth token required');
    });

    it('a genuine token is accepted (nakama-js and raw)', async () => {
      const { session } = await newUser();
      const account = await client.getAccount(session);
      assert.equal(account.user.id, session.user_id);
      const res = await getAccount(bearer(session.token));
      assert.equal(res.status, 200);
      assert.equal(res.json().user.id, session.user_id);
    });

    it('a token forged with the default encryption key is accepted (HS256, stateless)', async () => {
      const { session } = await newUser();
      const token = forgeSessionToken({ uid: session.user_id, usn: session.username });
      const account = await client.getAccount(Session.restore(token, ''));
      assert.equal(account.user.id, session.user_id);
    });

    it('garbage after "Bearer ": "Auth token invalid"', async () => {
      expectErrorResponse(await getAccount('Bearer not.a.jwt'), INVALID);
      expectErrorResponse(await getAccount('Bearer '), INVALID);
    });

    it('a token signed with another key: "Auth token invalid"', async () => {
      const { session } = await newUser();
      const token = forgeSessionToken({ uid: session.user_id, usn: session.username, key: 'not-the-server-key' });
      await expectError(client.getAccount(Session.restore(token, '')), INVALID);
    });

    it('an expired token: "Auth token invalid"', async () => {
      const { session } = await newUser();
      const iat = nowSec() - 120;
      const token = forgeSessionToken({ uid: session.user_id, usn: session.username, iat, exp: iat + 60 });
      await expectError(client.getAccount(Session.restore(token, '')), INVALID);
    });

    it('a token without exp: "Auth token invalid"', async () => {
      const { session } = await newUser();
      const token = signJwt({ tid: randomUUID(), uid: session.user_id, usn: session.username, iat: nowSec() }, SESSION_KEY);
      expectErrorResponse(await getAccount(bearer(token)), INVALID);
    });

    it('alg "none" and HS512 tokens: "Auth token invalid"', async () => {
      const { session } = await newUser();
      for (const alg of ['none', 'HS512']) {
        const token = forgeSessionToken({ uid: session.user_id, usn: session.username, alg });
        expectErrorResponse(await getAccount(bearer(token)), INVALID);
      }
    });

    it('a uid that is not a UUID: "Auth token invalid"', async () => {
      const token = forgeSessionToken({ uid: 'not-a-uuid' });
      expectErrorResponse(await getAccount(bearer(token)), INVALID);
    });

    it('a refresh token used as a session token: "Auth token invalid"', async () => {
      const { session } = await newUser();
      expectErrorResponse(await getAccount(bearer(session.refresh_token)), INVALID);
      const forged = forgeSessionToken({ uid: session.user_id, usn: session.username, key: REFRESH_KEY });
      expectErrorResponse(await getAccount(bearer(forged)), INVALID);
    });

    it('a Basic server key on a bearer endpoint: "Auth token invalid"', async () => {
      expectErrorResponse(await getAccount(basicAuth()), INVALID);
    });

    it('two Authorization headers: "Auth token invalid"', async () => {
      const { session } = await newUser();
      const res = await raw('GET', '/v2/account', {
        headers: { Authorization: [bearer(session.token), bearer(session.token)] },
      });
      expectErrorResponse(res, INVALID);
    });
  });

  describe('JSON conventions', () => {
    const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;
    const assertSnakeKeys = (value, path = '$') => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => assertSnakeKeys(v, `${path}[${i}]`));
      } else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          assert.match(k, SNAKE, `key ${path}.${k} is not snake_case`);
          assertSnakeKeys(v, `${path}.${k}`);
        }
      }
    };

    it('Session: snake_case, "created" true only for a new account and omitted otherwise', async () => {
      const deviceId = randomDeviceId();
      const created = await raw('POST', DEVICE_PATH, { headers: { Authorization: basicAuth() }, body: { id: deviceId } });
      assert.equal(created.status, 200, created.text);
      assert.match(created.headers['content-type'] ?? '', /^application\/json/);
      const first = created.json();
      assert.deepEqual(Object.keys(first).sort(), ['created', 'refresh_token', 'token']);
      assert.equal(first.created, true);

      const existing = await raw('POST', DEVICE_PATH, { headers: { Authorization: basicAuth() }, body: { id: deviceId } });
      assert.equal(existing.status, 200, existing.text);
      assert.deepEqual(Object.keys(existing.json()).sort(), ['refresh_token', 'token']);
    });

    it('Account: snake_case, defaults omitted, JSON-in-string fields, RFC 3339 times', async () => {
      const { deviceId, session } = await newUser();
      const res = await raw('GET', '/v2/account', { headers: { Authorization: bearer(session.token) } });
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      const account = res.json();
      assertSnakeKeys(account);

      assert.deepEqual(Object.keys(account).sort(), ['devices', 'user', 'wallet']);
      assert.equal(account.wallet, '{}');
      assert.deepEqual(account.devices, [{ id: deviceId }]);

      const { user } = account;
      assert.match(user.id, UUID_RE);
      assert.equal(user.id, session.user_id);
      assert.equal(user.username, session.username);
      assert.equal(user.lang_tag, 'en');
      assert.equal(user.metadata, '{}');
      assert.match(user.create_time, TIMESTAMP_RE);
      assert.match(user.update_time, TIMESTAMP_RE);
      // false / 0 / "" are omitted, not sent as defaults.
      for (const absent of ['online', 'edge_count', 'display_name', 'avatar_url', 'location', 'timezone',
        'facebook_id', 'google_id', 'gamecenter_id', 'steam_id', 'apple_id', 'facebook_instant_game_id']) {
        assert.equal(Object.hasOwn(user, absent), false, `user.${absent} should be omitted: ${res.text}`);
      }
    });

    it('an empty GetUsers request answers exactly {}', async () => {
      const { session } = await newUser();
      const res = await raw('GET', '/v2/user', { headers: { Authorization: bearer(session.token) } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), {});
    });

    it('empty responses (google.protobuf.Empty) are {}', async () => {
      const { session } = await newUser();
      const res = await raw('PUT', '/v2/account', {
        headers: { Authorization: bearer(session.token) }, body: { display_name: 'Empty' },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), {});
    });

    it('error bodies are JSON {code, message}', async () => {
      const res = await raw('GET', '/v2/account');
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      const body = res.json();
      assert.equal(typeof body.code, 'number');
      assert.equal(typeof body.message, 'string');
    });
  });
});
