// The realtime socket, GET /ws (nakama-wire.md §3.3, §4; docs/compat.md
// "Realtime socket messages"): the handshake, ping/pong and the nakama-js
// heartbeat, rpc errors, the answer to members of features not built yet
// (parties), cid-less errors, protocol errors, session.single_socket and
// disconnects. The nakama-js cases run with both the JSON adapter (the
// default) and the protobuf adapter; raw `ws` connections check what
// nakama-js hides (exact frames, close codes, handshake status and body).
//
// Every wait is an event with a deadline (withTimeout), never a sleep.

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import {
  FORMATS, PB, closeAllSockets, connectSocket, createSocket, expectSocketError, openRaw,
  pbEnvelope, pbError, pbString, pbVarintField, randomMatchId, refusedHandshake, withTimeout,
} from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Session } from '@heroiclabs/nakama-js';
import { startServer } from '../lib/server.mjs';
import {
  REFRESH_KEY, UUID_RE, basicAuth, bearer, forgeRefreshToken, forgeSessionToken, nowSec, randomDeviceId,
} from '../lib/util.mjs';

const MISSING_TOKEN = { status: 401, text: 'Missing or invalid token' };
const INVALID_FORMAT = { status: 400, text: 'Invalid format parameter' };
const RPC_NOT_FOUND = { code: 6, message: 'RPC function not found' };
const RPC_ID_MISSING = { code: 3, message: 'RPC ID must be set' };
const notBuilt = (member) => ({ code: 0, message: `${member} is not implemented by this server yet` });
const SERVER_DISCONNECT = { code: 1000, reason: 'server-side session disconnect' };
const MALFORMED = { code: 1000, reason: 'received malformed payload' };
const MAX_MESSAGE_SIZE_BYTES = 4096;

// Client requests of features not built yet (parties), as nakama-js sends them. party_data_send
// is sent without a cid (sendPartyData resolves at once), so it is checked in the raw frames.
const somePresence = () => ({ user_id: randomUUID(), session_id: randomUUID(), username: 'someone' });
const NOT_BUILT_CALLS = [
  ['party_create', (s) => s.createParty(true, 4)],
  ['party_join', (s) => s.joinParty(randomMatchId())],
  ['party_leave', (s) => s.leaveParty(randomMatchId())],
  ['party_promote', (s) => s.promotePartyMember(randomMatchId(), somePresence())],
  ['party_accept', (s) => s.acceptPartyMember(randomMatchId(), somePresence())],
  ['party_remove', (s) => s.removePartyMember(randomMatchId(), somePresence())],
  ['party_close', (s) => s.closeParty(randomMatchId())],
  ['party_join_request_list', (s) => s.listPartyJoinRequests(randomMatchId())],
  ['party_matchmaker_add', (s) => s.addMatchmakerParty(randomMatchId(), '*', 2, 4)],
  ['party_matchmaker_remove', (s) => s.removeMatchmakerParty(randomMatchId(), 'ticket')],
];

// A refused handshake: plain-text HTTP error, Go's http.Error adds a newline.
function assertRefused(res, { status, text }) {
  assert.deepEqual({ status: res.status, text: res.text.trimEnd() }, { status, text }, `full answer ${JSON.stringify(res)}`);
  assert.match(res.contentType ?? '', /^text\/plain/);
}

describe('socket', () => {
  let server;
  let client;
  const newSession = () => client.authenticateDevice(randomDeviceId(), true);

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await closeAllSockets();
    await server?.stop();
  });

  describe('handshake', () => {
    it('no token, or an empty one: 401 plain text "Missing or invalid token" before the upgrade', async () => {
      assertRefused(await refusedHandshake(server), MISSING_TOKEN);
      assertRefused(await refusedHandshake(server, { token: '' }), MISSING_TOKEN);
      assertRefused(await refusedHandshake(server, { token: '', format: 'json' }), MISSING_TOKEN);
    });

    it('a token that is not a valid session token: 401 "Missing or invalid token"', async () => {
      const session = await newSession();
      const claims = { uid: session.user_id, usn: session.username };
      const tokens = {
        garbage: 'not-a-jwt',
        'foreign key': forgeSessionToken({ ...claims, key: 'some-other-key' }),
        expired: forgeSessionToken({ ...claims, iat: nowSec() - 120, exp: nowSec() - 60 }),
        'refresh token': forgeRefreshToken({ ...claims, key: REFRESH_KEY }),
        'alg none': forgeSessionToken({ ...claims, alg: 'none' }),
      };
      for (const [what, token] of Object.entries(tokens)) {
        const res = await refusedHandshake(server, { token });
        assert.deepEqual({ status: res.status, text: res.text.trimEnd() },
          { status: MISSING_TOKEN.status, text: MISSING_TOKEN.text }, what);
      }
    });

    it('a format other than json or protobuf: 400 plain text "Invalid format parameter", checked before the token', async () => {
      const { token } = await newSession();
      assertRefused(await refusedHandshake(server, { token, format: 'xml' }), INVALID_FORMAT);
      // The check is an exact, case-sensitive match.
      assertRefused(await refusedHandshake(server, { token, format: 'JSON' }), INVALID_FORMAT);
      assertRefused(await refusedHandshake(server, { token, format: 'proto' }), INVALID_FORMAT);
      assertRefused(await refusedHandshake(server, { format: 'xml' }), INVALID_FORMAT);
    });

    it('no format, an empty one and "json" all give a JSON socket', async () => {
      const { token } = await newSession();
      for (const format of [undefined, '', 'json']) {
        const raw = await openRaw(server, { token, format });
        raw.send({ cid: '1', ping: {} });
        assert.deepEqual(await raw.next(), { cid: '1', pong: {} }, `format=${format}`);
        await raw.close();
      }
    });

    it('the token may come in an "Authorization: Bearer" header instead', async () => {
      const { token } = await newSession();
      const raw = await openRaw(server, {}, { Authorization: bearer(token) });
      raw.send({ cid: '1', ping: {} });
      assert.deepEqual(await raw.next(), { cid: '1', pong: {} });
      await raw.close();
    });

    it('the Authorization header wins over the token parameter', async () => {
      const { token } = await newSession();
      const raw = await openRaw(server, { token: 'not-a-jwt' }, { Authorization: bearer(token) });
      raw.send({ cid: '1', ping: {} });
      assert.deepEqual(await raw.next(), { cid: '1', pong: {} });
      await raw.close();
      // A header that is not "Bearer <token>" refuses the socket, even with a good token parameter.
      assertRefused(await refusedHandshake(server, { token }, { Authorization: basicAuth() }), MISSING_TOKEN);
      assertRefused(await refusedHandshake(server, { token }, { Authorization: bearer('not-a-jwt') }), MISSING_TOKEN);
      assertRefused(await refusedHandshake(server, { token }, { Authorization: 'Bearer ' }), MISSING_TOKEN);
    });

    it('the "Bearer " prefix is case-sensitive on the socket (Nakama: strings.HasPrefix)', async () => {
      const { token } = await newSession();
      assertRefused(await refusedHandshake(server, {}, { Authorization: `bearer ${token}` }), MISSING_TOKEN);
    });

    it('status and lang accept any value', async () => {
      const { token } = await newSession();
      for (const params of [{ status: 'true', lang: 'fr' }, { status: 'maybe', lang: '' }, { status: '1' }, { lang: 'zz-ZZ' }]) {
        const raw = await openRaw(server, { token, ...params });
        raw.send({ cid: '1', ping: {} });
        // With status=true the socket first hears its own status join (it follows its own user).
        let reply = await raw.next();
        while (reply.status_presence_event) reply = await raw.next();
        assert.deepEqual(reply, { cid: '1', pong: {} }, JSON.stringify(params));
        await raw.close();
      }
    });

    it('a token whose session was logged out is refused (docs/compat.md difference p)', async () => {
      const session = await newSession();
      await client.sessionLogout(session, session.token, session.refresh_token);
      assertRefused(await refusedHandshake(server, { token: session.token }), MISSING_TOKEN);
    });
  });

  for (const format of FORMATS) {
    describe(`nakama-js socket, ${format} adapter`, () => {
      const connect = async (options = {}) => connectSocket(client, options.session ?? await newSession(), { format, ...options });

      it('connects and resolves with the session, appearing online or not', async () => {
        for (const appearOnline of [false, true]) {
          const session = await newSession();
          const probe = createSocket(client, { format });
          assert.equal(await probe.socket.connect(session, appearOnline, 5_000), session);
          assert.equal(probe.adapter.isOpen(), true);
          await probe.close();
        }
      });

      it('connect rejects when the server refuses the token (HTTP 401 before the upgrade)', async () => {
        const badToken = forgeSessionToken({ key: 'some-other-key' });
        const probe = createSocket(client, { format });
        let err;
        await probe.connect(Session.restore(badToken, ''), false).then(
          () => assert.fail('connect should have been rejected'),
          (e) => {
            err = e;
          },
        );
        // nakama-js rejects with the WebSocket error event; a string would be its own timeout.
        assert.notEqual(typeof err, 'string', `connect timed out instead: ${err}`);
        assert.match(String(err?.message), /Unexpected server response: 401/);
        assert.equal(probe.adapter.isOpen(), false);
      });

      it('ping: pong with the same cid', async () => {
        const probe = await connect();
        for (let i = 0; i < 3; i += 1) {
          const ping = { ping: {} };
          const reply = await probe.socket.send(ping);
          assert.equal(typeof ping.cid, 'string');
          assert.equal(reply.cid, ping.cid);
          assert.deepEqual(reply.pong, {});
          assert.equal(reply.error, undefined);
        }
        await probe.close();
      });

      it('heartbeat: nakama-js pings on open and every period; each ping gets its pong', async () => {
        const probe = await connect({ heartbeatMs: 500 });
        const pongs = [];
        while (pongs.length < 3) {
          const frame = await probe.frames.next(5_000, `heartbeat pong #${pongs.length + 1}`);
          if (frame.pong !== undefined && frame.pong !== null) pongs.push(frame);
        }
        const pings = probe.sent.filter((m) => m.ping);
        assert.deepEqual(pings.slice(0, 3).map((m) => m.cid), ['1', '2', '3'], 'the heartbeat starts at connect');
        assert.deepEqual(pongs.map((p) => p.cid), ['1', '2', '3']);
        for (const p of pongs) assert.deepEqual(p.pong, {});
        assert.equal(probe.heartbeatTimeouts, 0);
        assert.equal(probe.adapter.isOpen(), true);
        await probe.close();
      });

      it('rpc with an unknown id rejects with error code 6 "RPC function not found"', async () => {
        const probe = await connect();
        await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        await expectSocketError(probe.socket.rpc('Some.Module_fn', ''), RPC_NOT_FOUND, format);
        // The socket stays usable.
        await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        assert.deepEqual((await probe.socket.send({ ping: {} })).pong, {});
        await probe.close();
      });

      it('rpc with an empty id rejects with error code 3 "RPC ID must be set"', async () => {
        const probe = await connect();
        await expectSocketError(probe.socket.rpc('', '{}'), RPC_ID_MISSING, format);
        await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        await probe.close();
      });

      it('members of features not built yet: error code 0 "<member> is not implemented by this server yet"; the socket stays usable', async () => {
        const probe = await connect();
        for (const [member, call] of NOT_BUILT_CALLS) {
          await expectSocketError(call(probe.socket), notBuilt(member), format);
          await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        }
        assert.equal(probe.adapter.isOpen(), true);
        assert.equal(probe.disconnects.size, 0);
        await probe.close();
      });

      it('sendMatchState and sendPartyData (sent without cid): their cid-less errors are ignored by nakama-js, the socket stays usable', async () => {
        const probe = await connect();
        assert.equal(await probe.socket.sendMatchState('nope', 1, 'hi'), undefined);
        assert.equal(await probe.socket.sendPartyData(randomMatchId(), 1, 'hi'), undefined);
        await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        // The errors arrived without a cid (they were sent before the rpc reply, replies are in order).
        const errors = [];
        for (let frame = await probe.frames.next(); ; frame = await probe.frames.next()) {
          if (frame.error) errors.push(frame);
          if (frame.error && frame.cid) break;
        }
        assert.equal(errors.length, 3, JSON.stringify(errors));
        const cidless = errors.slice(0, 2).map((e) => ({ cid: e.cid || '', code: e.error.code ?? 0, message: e.error.message }));
        assert.deepEqual(cidless, [
          { cid: '', code: 3, message: 'Invalid match ID' },
          { cid: '', ...notBuilt('party_data_send') },
        ]);
        assert.equal(probe.adapter.isOpen(), true);
        assert.equal(probe.disconnects.size, 0);
        await probe.close();
      });

      it('concurrent requests each get their own reply', async () => {
        const probe = await connect();
        const s = probe.socket;
        const [a, ping, b, made, c] = await Promise.allSettled([
          s.rpc('a', '{}'), s.send({ ping: {} }), s.rpc('', ''), s.createParty(true, 4), s.rpc('c', ''),
        ]);
        assert.equal(ping.status, 'fulfilled');
        assert.deepEqual(ping.value.pong, {});
        await expectSocketError(Promise.reject(a.reason), RPC_NOT_FOUND, format);
        await expectSocketError(Promise.reject(b.reason), RPC_ID_MISSING, format);
        await expectSocketError(Promise.reject(made.reason), notBuilt('party_create'), format);
        await expectSocketError(Promise.reject(c.reason), RPC_NOT_FOUND, format);
        await probe.close();
      });

      it('disconnect() fires ondisconnect; the user\'s other sockets keep working', async () => {
        const session = await newSession();
        const first = await connect({ session });
        const second = await connect({ session });
        first.socket.disconnect();
        await withTimeout(first.disconnects.next(), 5_000, 'ondisconnect');
        assert.equal(first.adapter.isOpen(), false);
        // nakama-js refuses to send on a closed socket.
        await assert.rejects(first.socket.rpc('echo', '{}'), (e) => e === 'Socket connection has not been established yet.');
        await expectSocketError(second.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        // The same user can connect again.
        const third = await connect({ session });
        await expectSocketError(third.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        await expectSocketError(second.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        assert.equal(second.notifications.size, 0);
        assert.equal(second.disconnects.size, 0);
        await second.close();
        await third.close();
      });

      it('without session.single_socket a user keeps several sockets open', async () => {
        const session = await newSession();
        const sockets = [];
        for (let i = 0; i < 3; i += 1) sockets.push(await connect({ session }));
        for (const probe of sockets) {
          await expectSocketError(probe.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
          assert.equal(probe.notifications.size, 0);
          assert.equal(probe.disconnects.size, 0);
        }
        for (const probe of sockets) await probe.close();
      });
    });
  }

  describe('session.single_socket', () => {
    let single;
    let singleClient;

    before(async () => {
      single = await startServer({ args: ['--session.single_socket', 'true'] });
      singleClient = single.client();
    });
    after(async () => {
      await closeAllSockets();
      await single?.stop();
    });

    for (const format of FORMATS) {
      it(`${format}: a new socket replaces the user's older one (notification "single_socket" code -7, then disconnect)`, async () => {
        const session = await singleClient.authenticateDevice(randomDeviceId(), true);
        const bystander = await connectSocket(singleClient, await singleClient.authenticateDevice(randomDeviceId(), true), { format });
        const first = await connectSocket(singleClient, session, { format });
        await expectSocketError(first.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);

        const second = await connectSocket(singleClient, session, { format });

        const n = await first.notifications.next(5_000, 'the single_socket notification');
        assert.equal(n.subject, 'single_socket');
        assert.equal(n.code, -7);
        assert.deepEqual(n.content, {}, 'nakama-js parses the content "{}"');
        assert.equal(n.persistent ?? false, false);
        assert.match(n.id, UUID_RE);
        assert.equal(n.sender_id || '', '', 'no sender');
        assert.ok(n.create_time, 'create_time is set');
        if (format === 'json') {
          assert.equal(Object.hasOwn(n, 'persistent'), false, 'persistent=false is omitted in JSON');
          assert.ok(Math.abs(Date.parse(n.create_time) / 1000 - nowSec()) < 120, `create_time ${n.create_time}`);
        }

        const evt = await first.disconnects.next(5_000, 'the older socket to be disconnected');
        assert.deepEqual({ code: evt.code, reason: evt.reason }, SERVER_DISCONNECT);
        assert.deepEqual(first.events.map(([kind]) => kind), ['notification', 'disconnect']);
        assert.equal(first.adapter.isOpen(), false);

        // The new socket and other users' sockets are untouched.
        await expectSocketError(second.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        await expectSocketError(bystander.socket.rpc('echo', '{}'), RPC_NOT_FOUND, format);
        for (const probe of [second, bystander]) {
          assert.equal(probe.notifications.size, 0);
          assert.equal(probe.disconnects.size, 0);
        }
        await second.close();
        await bystander.close();
      });
    }

    it('raw JSON: the replaced socket gets the notifications push without cid, then close 1000', async () => {
      const session = await singleClient.authenticateDevice(randomDeviceId(), true);
      const first = await openRaw(single, { token: session.token });
      const second = await openRaw(single, { token: session.token });
      const push = await first.next(5_000, 'the notifications push');
      assert.equal(Object.hasOwn(push, 'cid'), false, `a push has no cid: ${JSON.stringify(push)}`);
      assert.deepEqual(Object.keys(push), ['notifications']);
      const { notifications } = push.notifications;
      assert.equal(notifications.length, 1);
      const [n] = notifications;
      assert.deepEqual({ subject: n.subject, content: n.content, code: n.code },
        { subject: 'single_socket', content: '{}', code: -7 });
      assert.equal(Object.hasOwn(n, 'persistent'), false);
      assert.equal(Object.hasOwn(n, 'sender_id'), false);
      assert.deepEqual(await first.waitClosed(), SERVER_DISCONNECT);
      second.send({ cid: '1', ping: {} });
      assert.deepEqual(await second.next(), { cid: '1', pong: {} });
      await second.close();
    });
  });

  describe('raw JSON socket', () => {
    const open = async () => openRaw(server, { token: (await newSession()).token });

    it('ping → pong with the same cid; an empty cid gets a reply without cid', async () => {
      const raw = await open();
      raw.send({ cid: '1', ping: {} });
      assert.deepEqual(await raw.next(), { cid: '1', pong: {} });
      raw.send('{"cid":"abc-42","ping":{}}');
      assert.deepEqual(await raw.next(), { cid: 'abc-42', pong: {} });
      raw.send({ ping: {} });
      assert.deepEqual(await raw.next(), { pong: {} });
      raw.send({ cid: '', ping: {} });
      assert.deepEqual(await raw.next(), { pong: {} });
      await raw.close();
    });

    it('a client pong is accepted and not answered', async () => {
      const raw = await open();
      raw.send({ cid: '1', pong: {} });
      raw.send({ cid: '2', ping: {} });
      // Requests are handled in order: had the pong been answered, that answer would come first.
      assert.deepEqual(await raw.next(), { cid: '2', pong: {} });
      assert.equal(raw.messages.size, 0);
      await raw.close();
    });

    it('rpc errors: exact envelopes', async () => {
      const raw = await open();
      raw.send({ cid: '1', rpc: { id: 'echo', payload: '{}' } });
      assert.deepEqual(await raw.next(), { cid: '1', error: { code: 6, message: 'RPC function not found' } });
      raw.send({ cid: '2', rpc: { id: '', payload: '{}' } });
      assert.deepEqual(await raw.next(), { cid: '2', error: { code: 3, message: 'RPC ID must be set' } });
      raw.send({ cid: '3', rpc: {} });
      assert.deepEqual(await raw.next(), { cid: '3', error: { code: 3, message: 'RPC ID must be set' } });
      await raw.close();
    });

    it('a member of a feature not built yet: error without code (0 is omitted), the socket stays open', async () => {
      const raw = await open();
      const requests = [
        ['party_close', {}],
        ['party_leave', { party_id: randomMatchId() }],
        ['party_create', { open: true, max_size: 4 }],
        ['party_matchmaker_add', { party_id: randomMatchId(), min_count: 2, max_count: 4, query: '*' }],
        ['party_data_send', { party_id: randomMatchId(), op_code: '1', data: 'aGk=' }],
        ['party_update', { party_id: randomMatchId(), label: '{}', open: true }],
      ];
      let cid = 0;
      for (const [member, body] of requests) {
        cid += 1;
        raw.send({ cid: String(cid), [member]: body });
        assert.deepEqual(await raw.next(), { cid: String(cid), error: { message: `${member} is not implemented by this server yet` } });
      }
      raw.send({ cid: 'last', ping: {} });
      assert.deepEqual(await raw.next(), { cid: 'last', pong: {} });
      await raw.close();
    });

    it('an envelope with only a cid: error code 2 "Missing message.", then close 1000', async () => {
      const raw = await open();
      raw.send({ cid: '1' });
      assert.deepEqual(await raw.next(), { cid: '1', error: { code: 2, message: 'Missing message.' } });
      assert.deepEqual(await raw.waitClosed(), SERVER_DISCONNECT);
    });

    it('an empty envelope {}: error code 2 without cid, then close 1000', async () => {
      const raw = await open();
      raw.send({});
      assert.deepEqual(await raw.next(), { error: { code: 2, message: 'Missing message.' } });
      assert.deepEqual(await raw.waitClosed(), SERVER_DISCONNECT);
    });

    for (const [member, body] of [
      ['notifications', {}],
      ['channel', { id: '2...lobby' }],
      ['error', { code: 1, message: 'x' }],
      ['match_data', {}],
      ['status', {}],
      ['party', {}],
    ]) {
      it(`a server-only member (${member}): error code 1 "Unrecognized message.", then close 1000`, async () => {
        const raw = await open();
        raw.send({ cid: '2', [member]: body });
        assert.deepEqual(await raw.next(), { cid: '2', error: { code: 1, message: 'Unrecognized message.' } });
        assert.deepEqual(await raw.waitClosed(), SERVER_DISCONNECT);
      });
    }

    for (const [what, frame] of [
      ['undecodable JSON', '{"cid":"1","ping":'],
      ['not JSON at all', 'hello'],
      ['a JSON array', '[]'],
      ['an unknown member', '{"cid":"1","bogus":{}}'],
      ['an unknown field inside a member', '{"cid":"1","ping":{"extra":1}}'],
      ['two members', '{"cid":"1","ping":{},"rpc":{"id":"echo"}}'],
    ]) {
      it(`${what}: close 1000 "received malformed payload" without an error`, async () => {
        const raw = await open();
        raw.send(frame);
        const closed = await raw.waitClosed();
        assert.deepEqual(raw.messages.peek(), [], 'no error envelope');
        assert.deepEqual(closed, MALFORMED);
      });
    }

    it('a binary frame on a JSON socket closes it', async () => {
      const raw = await open();
      raw.send(Buffer.from('{"cid":"1","ping":{}}'));
      await raw.waitClosed();
      assert.deepEqual(raw.messages.peek(), [], 'no reply');
    });

    it(`a message of exactly ${MAX_MESSAGE_SIZE_BYTES} bytes is accepted; one byte more closes the socket with 1009 (§4.5)`, async () => {
      const raw = await open();
      const frameOf = (size, cid) => {
        const head = `{"cid":"${cid}","rpc":{"id":"echo","payload":"`;
        const tail = '"}}';
        return head + 'x'.repeat(size - head.length - tail.length) + tail;
      };
      const fits = frameOf(MAX_MESSAGE_SIZE_BYTES, '1');
      assert.equal(Buffer.byteLength(fits), MAX_MESSAGE_SIZE_BYTES);
      raw.send(fits);
      assert.deepEqual(await raw.next(), { cid: '1', error: RPC_NOT_FOUND });
      const tooBig = frameOf(MAX_MESSAGE_SIZE_BYTES + 1, '2');
      assert.equal(Buffer.byteLength(tooBig), MAX_MESSAGE_SIZE_BYTES + 1);
      raw.send(tooBig);
      const closed = await raw.waitClosed();
      assert.deepEqual(raw.messages.peek(), [], `no reply (closed with ${JSON.stringify(closed)})`);
      // Nakama's gorilla read limit answers with close 1009 (message too big) before the session ends.
      assert.equal(closed.code, 1009, `close frame ${JSON.stringify(closed)}`);
    });

    it('a protocol error on one socket leaves the user\'s other sockets open', async () => {
      const { token } = await newSession();
      const bad = await openRaw(server, { token });
      const good = await openRaw(server, { token });
      bad.send('nonsense');
      await bad.waitClosed();
      good.send({ cid: '1', rpc: { id: 'echo' } });
      assert.deepEqual(await good.next(), { cid: '1', error: RPC_NOT_FOUND });
      await good.close();
    });
  });

  describe('raw protobuf socket', () => {
    const open = async () => openRaw(server, { token: (await newSession()).token, format: 'protobuf' });

    it('ping → pong with the same cid, in binary frames', async () => {
      const raw = await open();
      raw.send(pbEnvelope('1', PB.PING));
      assert.deepEqual(await raw.next(), pbEnvelope('1', PB.PONG));
      raw.send(pbEnvelope('', PB.PING));
      assert.deepEqual(await raw.next(), pbEnvelope('', PB.PONG));
      await raw.close();
    });

    it('rpc with an unknown id: error code 6 with the same cid', async () => {
      const raw = await open();
      raw.send(pbEnvelope('7', PB.RPC, pbString(1, 'echo')));
      assert.deepEqual(await raw.next(), pbEnvelope('7', PB.ERROR, pbError(6, 'RPC function not found')));
      await raw.close();
    });

    it('unknown fields are skipped', async () => {
      const raw = await open();
      raw.send(Buffer.concat([pbVarintField(99, 1), pbEnvelope('1', PB.PING)]));
      assert.deepEqual(await raw.next(), pbEnvelope('1', PB.PONG));
      await raw.close();
    });

    it('an envelope with only a cid: error code 2 "Missing message.", then close 1000', async () => {
      const raw = await open();
      raw.send(pbEnvelope('1'));
      assert.deepEqual(await raw.next(), pbEnvelope('1', PB.ERROR, pbError(2, 'Missing message.')));
      assert.deepEqual(await raw.waitClosed(), SERVER_DISCONNECT);
    });

    it('a server-only member: error code 1 "Unrecognized message.", then close 1000', async () => {
      const raw = await open();
      raw.send(pbEnvelope('2', PB.NOTIFICATIONS));
      assert.deepEqual(await raw.next(), pbEnvelope('2', PB.ERROR, pbError(1, 'Unrecognized message.')));
      assert.deepEqual(await raw.waitClosed(), SERVER_DISCONNECT);
    });

    it('undecodable bytes: close 1000 "received malformed payload" without an error', async () => {
      const raw = await open();
      // cid declared 5 bytes long, 1 present.
      raw.send(Buffer.from([0x0a, 0x05, 0x31]));
      const closed = await raw.waitClosed();
      assert.deepEqual(raw.messages.peek(), [], 'no error envelope');
      assert.deepEqual(closed, MALFORMED);
    });

    it('a text frame on a protobuf socket closes it', async () => {
      const raw = await open();
      raw.send('{"cid":"1","ping":{}}');
      await raw.waitClosed();
      assert.deepEqual(raw.messages.peek(), [], 'no reply');
    });
  });
});
