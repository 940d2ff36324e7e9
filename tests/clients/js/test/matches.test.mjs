// Relayed matches and match listing (nakama-semantics.md §11.1, §11.2, §11.4; nakama-wire.md §4.3
// rows 12–18, the ListMatches row, §8.4): creating matches (random or named), joining by id or by
// matchmaker token, the presence events every member hears, relaying data with and without a
// presence filter, leaving and disconnecting, the socket errors, and GET /v2/match with its filters
// and errors. Also the walk-through of the match section of the Sagi-shi JavaScript guide.
//
// The nakama-js cases run with both the JSON adapter and the protobuf adapter, and once with a JSON
// and a protobuf socket in the same match; raw `ws` connections check the exact JSON frames. The
// listing tests run on a server of their own, so their listings are exact.
//
// Every wait is an event with a deadline, never a sleep. "Heard nothing" is checked with a ping
// round trip on each socket concerned, the sender's first (a socket's requests are handled in
// order, so whatever the sender's data caused has been queued for the others before its pong).
//
// nakama-js facts this file relies on (socket.ts / web_socket_adapter.ts / api.gen.ts of
// @heroiclabs/nakama-js 2.8.0, web_socket_adapter_pb.ts and rtapi/realtime.ts of
// @heroiclabs/nakama-js-protobuf 1.4.0):
//  * sendMatchState(matchId, opCode, data, presences = [], reliable) is sent without a cid and
//    resolves at once; a cid-less `error` reply is ignored (it is seen here in the raw frames).
//  * JSON adapter: op_code is sent as a string, data as base64 (a string through btoa, so keep it
//    ASCII; a Uint8Array through its whole .buffer). Received match_data has `data` decoded to a
//    Uint8Array (undefined when empty) and op_code parseInt'ed (a missing op_code 0 would be NaN).
//    Defaults are omitted: size 0, authoritative false, reliable false, empty lists.
//  * Protobuf adapter: string data is UTF-8 encoded; every field is there (size 0, authoritative
//    false, persistence false, [] lists, an empty Uint8Array). Its MatchCreate has no fields, so
//    createMatch(name) sends no name and always makes a random match.
//  * joinMatch(id, token) sends the token if it is truthy, else the id (even ""); joinMatch() sends
//    neither. leaveMatch resolves with the bare ack envelope.
//  * client.listMatches(session, limit, authoritative, label, minSize, maxSize, query) resolves with
//    the response JSON as is (`{}` when empty); undefined arguments are left out, "" is sent.

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import {
  FORMATS, Queue, WAIT_MS, closeAllSockets, createSocket, expectSocketError, openRaw, randomMatchId,
} from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  AUTH_REQUIRED, SESSION_KEY, UUID_RE, expectError, hex, invalid, nowSec, randomDeviceId, signJwt,
} from '../lib/util.mjs';

const bad = (message) => ({ code: 3, message });
const INVALID_ID = bad('Invalid match ID');
const INVALID_TOKEN = bad('Invalid match token');
const NO_ID = bad('No match ID or token found');
const NOT_FOUND = { code: 4, message: 'Match not found' };
const MATCH_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.$/;

// UUIDv5 in the DNS namespace (RFC 4122 §4.3): the id of a named match.
function uuidV5(name) {
  const ns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
assert.equal(uuidV5('www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');

// A matchmaker token as Nakama signs it: HS256 with the session key, claims mid and exp.
const matchToken = (mid, { exp = nowSec() + 30, key = SESSION_KEY, alg = 'HS256' } = {}) =>
  signJwt({ mid, exp }, key, { alg });

const bySession = (a, b) => (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0);
const sorted = (list) => [...list].sort(bySession);

// ---------------------------------------------------------------------------
// What nakama-js hands over, reduced to comparable objects (see the header for the two adapters)
// ---------------------------------------------------------------------------

// A match presence: user, session and username; persistence false, no status.
function presenceOf(p, format, what) {
  const { user_id, session_id, username, persistence, ...rest } = p ?? {};
  assert.deepEqual(rest, {}, `${what}: unexpected fields in ${JSON.stringify(p)}`);
  assert.equal(persistence, format === 'json' ? undefined : false, `${what}: persistence is false`);
  assert.match(String(session_id), UUID_RE, `${what}: session id`);
  return { user_id, session_id, username };
}

function presencesOf(list, format, what) {
  if (format === 'json' && list !== undefined) assert.ok(list.length > 0, `${what}: an empty list is omitted in JSON`);
  return sorted((list ?? []).map((p) => presenceOf(p, format, what)));
}

function matchOf(m, format) {
  const { match_id, authoritative, label, size, presences, self, ...rest } = m;
  assert.deepEqual(rest, {}, `unexpected fields in the match ${JSON.stringify(m)}`);
  assert.equal(label, undefined, 'a relayed match has no label');
  assert.equal(authoritative, format === 'json' ? undefined : false, 'authoritative is false');
  if (format === 'json') assert.notEqual(size, 0, 'size 0 is omitted in JSON');
  return { match_id, size: size ?? 0, presences: presencesOf(presences, format, 'presences'), self: presenceOf(self, format, 'self') };
}

function eventOf(evt, format) {
  const { match_id, joins, leaves, ...rest } = evt;
  assert.deepEqual(rest, {}, `unexpected fields in the presence event ${JSON.stringify(evt)}`);
  return { match_id, joins: presencesOf(joins, format, 'joins'), leaves: presencesOf(leaves, format, 'leaves') };
}

function dataOf(d, format) {
  const { match_id, presence, op_code, data, reliable, ...rest } = d;
  assert.deepEqual(rest, {}, `unexpected fields in the match data ${JSON.stringify(d)}`);
  if (format === 'json') {
    assert.notEqual(reliable, false, 'reliable=false is omitted in JSON');
    if (data !== undefined) assert.ok(data.length > 0, 'empty data is omitted in JSON');
  }
  if (data !== undefined) assert.ok(data instanceof Uint8Array, 'data is a Uint8Array');
  return { match_id, presence: presenceOf(presence, format, 'sender'), op_code, data: Buffer.from(data ?? []), reliable: reliable ?? false };
}

const bytes = (x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x));

// ---------------------------------------------------------------------------
// Players: a session and a nakama-js socket whose match callbacks are recorded in queues
// ---------------------------------------------------------------------------

function matchProbe(client, format) {
  const probe = createSocket(client, { format });
  for (const [callback, queue] of [['onmatchdata', 'data'], ['onmatchpresence', 'presence'], ['onstatuspresence', 'statuses']]) {
    probe[queue] = new Queue();
    probe.socket[callback] = (x) => probe[queue].push(x);
  }
  return probe;
}

// `me` (the match presence of the socket) is known from its first match reply.
async function newPlayer(client, format) {
  const session = await client.authenticateDevice(randomDeviceId(), true);
  const probe = await matchProbe(client, format).connect(session);
  return { session, format, probe, socket: probe.socket, me: undefined };
}

function checkSelf(p, m) {
  assert.deepEqual(m.self, { user_id: p.session.user_id, session_id: m.self.session_id, username: p.session.username });
  if (p.me) assert.deepEqual(m.self, p.me, 'one socket is one session');
  p.me = m.self;
  return m;
}
const create = async (p, name) => checkSelf(p, matchOf(await p.socket.createMatch(name), p.format));
const join = async (p, id, token) => checkSelf(p, matchOf(await p.socket.joinMatch(id, token), p.format));
const M = (match_id, presences, self, size = presences.length) => ({ match_id, size, presences: sorted(presences), self });

async function expectEvent(p, match_id, { joins = [], leaves = [] }, what) {
  const evt = await p.probe.presence.next(WAIT_MS, what);
  assert.deepEqual(eventOf(evt, p.format), { match_id, joins: sorted(joins), leaves: sorted(leaves) }, what);
}

const D = (match_id, sender, op_code, data, reliable = false) => ({ match_id, presence: sender.me, op_code, data: bytes(data), reliable });
async function expectData(p, expected, what) {
  assert.deepEqual(dataOf(await p.probe.data.next(WAIT_MS, what), p.format), expected, what);
}

// Ping round trips in the order given (the sender first), then nothing may be queued.
async function expectQuiet(what, ...players) {
  for (const p of players) {
    assert.deepEqual((await p.socket.send({ ping: {} })).pong, {}, `${what}: the pong`);
  }
  for (const p of players) {
    assert.deepEqual([...p.probe.data.peek(), ...p.probe.presence.peek()], [], `${what}: nothing heard by ${p.session.username}`);
  }
}

// A void socket call answers with an envelope that has only its cid.
function assertAck(reply) {
  assert.deepEqual(Object.keys(reply ?? {}).filter((k) => reply[k] !== undefined), ['cid'], `an empty ack, got ${JSON.stringify(reply)}`);
}

describe('matches', () => {
  let server;
  let client;
  const players = (format, n) => Promise.all(Array.from({ length: n }, () => newPlayer(client, format)));

  // Alice creates a match, the others join one after the other; every event is taken.
  async function gather(format, n) {
    const all = await players(format, n);
    const { match_id: id } = await create(all[0]);
    await expectEvent(all[0], id, { joins: [all[0].me] }, 'the creator hears its own join');
    for (let i = 1; i < n; i += 1) {
      assert.deepEqual(await join(all[i], id), M(id, all.slice(0, i).map((p) => p.me), all[i].me));
      for (const p of all.slice(0, i + 1)) await expectEvent(p, id, { joins: [all[i].me] }, `the join of player ${i}`);
    }
    return { id, all };
  }

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await closeAllSockets();
    await server?.stop();
  });

  for (const format of FORMATS) {
    describe(`nakama-js socket, ${format} adapter`, () => {
      it('createMatch: "<uuid>.", size 1, self; joiners see the others (size counts them, not the joiner), everyone hears each join; joining again is idempotent', async () => {
        const [alice, bob, carol] = await players(format, 3);
        const m = await create(alice);
        assert.match(m.match_id, MATCH_ID_RE);
        assert.deepEqual(m, M(m.match_id, [], alice.me, 1));
        await expectEvent(alice, m.match_id, { joins: [alice.me] }, 'the creator hears its own join');
        const other = await create(alice);
        assert.notEqual(other.match_id, m.match_id, 'a match without a name gets a random id');
        await expectEvent(alice, other.match_id, { joins: [alice.me] }, 'the join to the second match');

        assert.deepEqual(await join(bob, m.match_id), M(m.match_id, [alice.me], bob.me));
        for (const p of [alice, bob]) await expectEvent(p, m.match_id, { joins: [bob.me] }, 'bob joins');
        assert.deepEqual(await join(carol, m.match_id), M(m.match_id, [alice.me, bob.me], carol.me));
        for (const p of [alice, bob, carol]) await expectEvent(p, m.match_id, { joins: [carol.me] }, 'carol joins');

        // Already a member: the list includes self, and nobody hears a join.
        assert.deepEqual(await join(bob, m.match_id), M(m.match_id, [alice.me, bob.me, carol.me], bob.me));
        assert.deepEqual(await join(alice, other.match_id), M(other.match_id, [alice.me], alice.me));
        await expectQuiet('a repeated join', bob, alice, carol);
      });

      it(format === 'json'
        ? 'createMatch(name): the id is UUIDv5(DNS, name), so everyone creating that name meets in one match'
        : 'createMatch(name): the protobuf adapter sends no name, so every call makes a random match', async () => {
        const name = `castle-${hex(6)}`;
        const [alice, bob] = await players(format, 2);
        const first = await create(alice, name);
        const second = await create(bob, name);
        if (format === 'protobuf') {
          for (const m of [first, second]) assert.notEqual(m.match_id, `${uuidV5(name)}.`);
          assert.notEqual(first.match_id, second.match_id);
          assert.deepEqual(second, M(second.match_id, [], bob.me, 1));
          return;
        }
        const id = `${uuidV5(name)}.`;
        assert.deepEqual(first, M(id, [], alice.me, 1));
        assert.deepEqual(second, M(id, [alice.me], bob.me, 2), 'the second creator meets the first: size counts everyone');
        await expectEvent(alice, id, { joins: [alice.me] }, 'alice hears her own join');
        for (const p of [alice, bob]) await expectEvent(p, id, { joins: [bob.me] }, 'bob creates the same name');
        assert.deepEqual(await create(alice, name), M(id, [alice.me, bob.me], alice.me, 2), 'creating it again: self listed');
        const [carol] = await players(format, 1);
        assert.deepEqual(await join(carol, id), M(id, [alice.me, bob.me], carol.me));
        for (const p of [alice, bob, carol]) await expectEvent(p, id, { joins: [carol.me] }, 'carol joins by id');
        await expectQuiet('nothing else', alice, bob, carol);
      });

      it('sendMatchState: to every other member, never echoed; string and binary data, int64 op codes, reliable', async () => {
        const { id, all: [alice, bob, carol] } = await gather(format, 3);
        assert.equal(await alice.socket.sendMatchState(id, 1, '{"x":1.5,"y":-2}'), undefined, 'resolves at once, no reply');
        for (const p of [bob, carol]) await expectData(p, D(id, alice, 1, '{"x":1.5,"y":-2}'), 'a string');
        const every = Uint8Array.from({ length: 256 }, (_, i) => i);
        await bob.socket.sendMatchState(id, 2 ** 40, every, undefined, true);
        for (const p of [alice, carol]) await expectData(p, D(id, bob, 2 ** 40, every, true), 'all 256 byte values, reliable');
        await carol.socket.sendMatchState(id, 3, '');
        for (const p of [alice, bob]) await expectData(p, D(id, carol, 3, ''), 'no data');
        await expectQuiet('no echo', alice, bob, carol);
      });

      it('sendMatchState with presences: only the listed members, the sender too if listed; non-members, malformed filters and non-member senders reach nobody', async () => {
        const { id, all: [alice, bob, carol] } = await gather(format, 3);
        const [dave] = await players(format, 1);
        const daves = await create(dave);
        await expectEvent(dave, daves.match_id, { joins: [dave.me] }, 'dave is in a match of his own');

        await alice.socket.sendMatchState(id, 1, 'to carol', [carol.me]);
        await expectData(carol, D(id, alice, 1, 'to carol'), 'carol is listed');
        await alice.socket.sendMatchState(id, 2, 'to us', [alice.me, bob.me]);
        for (const p of [alice, bob]) await expectData(p, D(id, alice, 2, 'to us'), 'the sender and bob are listed');
        // Only the session id selects; the user id must merely be a UUID.
        await alice.socket.sendMatchState(id, 3, 'by session', [{ ...carol.me, user_id: bob.session.user_id }]);
        await expectData(carol, D(id, alice, 3, 'by session'), "carol's session with bob's user id");
        await expectQuiet('the unlisted heard nothing', alice, bob, carol);

        await alice.socket.sendMatchState(id, 4, 'to dave', [dave.me]);
        await alice.socket.sendMatchState(id, 5, 'bad user id', [{ ...carol.me, user_id: 'x' }]);
        await alice.socket.sendMatchState(id, 6, 'one bad entry', [bob.me, { ...carol.me, session_id: 'nope' }]);
        await dave.socket.sendMatchState(id, 7, 'not a member');
        await dave.socket.sendMatchState(id, 8, 'not a member', [alice.me]);
        await expectQuiet('dropped', alice, dave, bob, carol);
        await alice.socket.sendMatchState(id, 9, 'control');
        for (const p of [bob, carol]) await expectData(p, D(id, alice, 9, 'control'), 'the match still relays');
      });

      it('leaveMatch and disconnect: the others hear the leave; leaving again is acked; an emptied match is gone', async () => {
        const { id, all: [alice, bob, carol] } = await gather(format, 3);
        assertAck(await bob.socket.leaveMatch(id));
        for (const p of [alice, carol]) await expectEvent(p, id, { leaves: [bob.me] }, 'bob leaves');
        assertAck(await bob.socket.leaveMatch(id));
        await bob.socket.sendMatchState(id, 1, 'left');
        await expectQuiet('bob is gone: no leave for himself, no second leave, his data dropped', bob, alice, carol);

        await carol.probe.close();
        await expectEvent(alice, id, { leaves: [carol.me] }, 'carol disconnects');
        assertAck(await alice.socket.leaveMatch(id));
        await expectSocketError(bob.socket.joinMatch(id), NOT_FOUND, format);
        await expectQuiet('alice left last: nobody heard', alice, bob);
      });

      it('match ids: malformed is code 3 on join and leave, unknown or authoritative is code 4 on join; another spelling of the uuid joins the same match', async () => {
        const [alice, bob] = await players(format, 2);
        for (const id of ['', 'nope', 'nope.', randomUUID(), `x${randomUUID()}.`]) {
          await expectSocketError(alice.socket.joinMatch(id), INVALID_ID, format);
          await expectSocketError(alice.socket.leaveMatch(id), INVALID_ID, format);
        }
        await expectSocketError(alice.socket.joinMatch(), NO_ID, format);
        for (const id of [randomMatchId(), `${randomUUID()}.somenode`, `${randomUUID()}.nakama`]) {
          await expectSocketError(alice.socket.joinMatch(id), NOT_FOUND, format);
          assertAck(await alice.socket.leaveMatch(id));
        }
        const { match_id: id } = await create(alice);
        await expectEvent(alice, id, { joins: [alice.me] }, 'alice hears her own join');
        const upper = id.toUpperCase();
        assert.deepEqual(await join(bob, upper), M(upper, [alice.me], bob.me), 'the reply echoes the id as sent');
        for (const p of [alice, bob]) await expectEvent(p, id, { joins: [bob.me] }, 'events carry the canonical id');
        await expectQuiet('nothing else', alice, bob);
      });

      it('match tokens: a valid token creates the match (size 0) and lets others in; bad tokens are code 3', async () => {
        const [alice, bob, carol] = await players(format, 3);
        const id = randomMatchId();
        const token = matchToken(id);
        assert.deepEqual(await join(alice, undefined, token), M(id, [], alice.me), 'the first holder creates it');
        await expectEvent(alice, id, { joins: [alice.me] }, 'alice hears her own join');
        assert.deepEqual(await join(bob, undefined, token), M(id, [alice.me], bob.me));
        for (const p of [alice, bob]) await expectEvent(p, id, { joins: [bob.me] }, 'bob joins by token');
        assert.deepEqual(await join(carol, id), M(id, [alice.me, bob.me], carol.me), 'and by id, now that it exists');
        for (const p of [alice, bob, carol]) await expectEvent(p, id, { joins: [carol.me] }, 'carol joins by id');

        const fresh = randomMatchId();
        for (const [what, bad] of [
          ['another key', matchToken(fresh, { key: 'otherkey' })],
          ['expired', matchToken(fresh, { exp: nowSec() - 10 })],
          ['HS512', matchToken(fresh, { alg: 'HS512' })],
          ['unsigned', matchToken(fresh, { alg: 'none' })],
          ['not a JWT', 'garbage'],
          ['mid without a dot', matchToken(randomUUID())],
          ['mid not a uuid', matchToken('nope.')],
        ]) {
          await expectSocketError(carol.socket.joinMatch(undefined, bad), INVALID_TOKEN, format).catch((e) => {
            throw new Error(`${what}: ${e.message}`);
          });
        }
        await expectSocketError(carol.socket.joinMatch(undefined, matchToken(`${randomUUID()}.nakama`)), NOT_FOUND, format);
        await expectSocketError(carol.socket.joinMatch(fresh), NOT_FOUND, format); // no rejected token created it
        await expectQuiet('nothing else', alice, bob, carol);
      });

      it('sendMatchState to a malformed match id: an error envelope without cid, which nakama-js ignores', async () => {
        const [alice] = await players(format, 1);
        await alice.socket.sendMatchState('nope', 1, 'x');
        await alice.socket.sendMatchState(`${randomUUID()}.nakama`, 1, 'x'); // authoritative: dropped without a word
        await expectQuiet('the error is no event', alice);
        const errors = alice.probe.frames.peek().filter((f) => f.error);
        assert.equal(errors.length, 1, `one error frame, got ${JSON.stringify(errors)}`);
        assert.equal(errors[0].cid || undefined, undefined, 'no cid');
        assert.deepEqual({ code: errors[0].error.code, message: errors[0].error.message }, INVALID_ID);
      });
    });
  }

  it('a JSON and a protobuf socket in one match: presences and binary data both ways, byte-exact', async () => {
    const [j] = await players('json', 1);
    const [p] = await players('protobuf', 1);
    const { match_id: id } = await create(j, `mixed-${hex(6)}`);
    await expectEvent(j, id, { joins: [j.me] }, 'the JSON creator');
    assert.deepEqual(await join(p, id), M(id, [j.me], p.me));
    for (const x of [j, p]) await expectEvent(x, id, { joins: [p.me] }, 'the protobuf socket joins');
    // 2 KiB: base64 in a JSON frame stays under the 4096-byte frame limit (nakama-wire.md §4.1).
    const payload = Uint8Array.from(randomBytes(2048));
    for (const [from, to] of [[j, p], [p, j]]) {
      await from.socket.sendMatchState(id, 2 ** 33 + 7, payload, undefined, true);
      await expectData(to, D(id, from, 2 ** 33 + 7, payload, true), `${from.format} → ${to.format}`);
      // The protobuf adapter sends strings as UTF-8; the JSON one through btoa (ASCII only).
      const text = from.format === 'protobuf' ? 'état ✓' : 'plain';
      await from.socket.sendMatchState(id, 42, text);
      await expectData(to, D(id, from, 42, text), `${from.format} → ${to.format}, a string`);
    }
    assertAck(await p.socket.leaveMatch(id));
    await expectEvent(j, id, { leaves: [p.me] }, 'the JSON socket hears the protobuf one leave');
    await expectQuiet('nothing else', p, j);
  });

  it('raw JSON socket: exact frames of match_create, match_join, match_data_send, match_leave and their errors', async () => {
    const [alice, bob] = await Promise.all([1, 2].map(() => client.authenticateDevice(randomDeviceId(), true)));
    const a = await openRaw(server, { token: alice.token });
    const b = await openRaw(server, { token: bob.token });
    const two = async (raw) => {
      const frames = [await raw.next(), await raw.next()];
      return [frames.find((f) => f.cid), frames.find((f) => !f.cid)];
    };
    a.send({ cid: '1', match_create: {} });
    const [created, ownJoin] = await two(a);
    const id = created.match?.match_id;
    const aSelf = { user_id: alice.user_id, session_id: created.match?.self?.session_id, username: alice.username };
    assert.deepEqual(created, { cid: '1', match: { match_id: id, size: 1, self: aSelf } });
    assert.deepEqual(ownJoin, { match_presence_event: { match_id: id, joins: [aSelf] } });

    b.send({ cid: '1', match_join: { match_id: id } });
    const [joined, bJoin] = await two(b);
    const bSelf = { user_id: bob.user_id, session_id: joined.match?.self?.session_id, username: bob.username };
    assert.deepEqual(joined, { cid: '1', match: { match_id: id, size: 1, presences: [aSelf], self: bSelf } });
    assert.deepEqual(bJoin, { match_presence_event: { match_id: id, joins: [bSelf] } });
    assert.deepEqual(await a.next(), bJoin);

    a.send({ match_data_send: { match_id: id, op_code: '7', data: 'aGk=', reliable: true } });
    assert.deepEqual(await b.next(), { match_data: { match_id: id, presence: aSelf, op_code: '7', data: 'aGk=', reliable: true } });
    // Op code 0, no data, not reliable: all omitted. A number is accepted for the int64 op code,
    // URL-safe base64 without padding for the bytes.
    a.send({ cid: '2', match_data_send: { match_id: id } });
    assert.deepEqual(await b.next(), { match_data: { match_id: id, presence: aSelf } });
    a.send({ match_data_send: { match_id: id, op_code: 5, data: '-_8' } });
    assert.deepEqual(await b.next(), { match_data: { match_id: id, presence: aSelf, op_code: '5', data: '+/8=' } });

    a.send({ cid: '3', match_data_send: { match_id: 'nope', op_code: '1' } });
    assert.deepEqual(await a.next(), { error: INVALID_ID }, 'a malformed id: an error without cid, even when one was sent');
    a.send({ cid: '4', match_join: {} });
    assert.deepEqual(await a.next(), { cid: '4', error: NO_ID });
    a.send({ cid: '5', match_join: { match_id: '' } });
    assert.deepEqual(await a.next(), { cid: '5', error: INVALID_ID });
    a.send({ cid: '6', match_join: { match_id: randomMatchId() } });
    assert.deepEqual(await a.next(), { cid: '6', error: NOT_FOUND });
    a.send({ cid: '7', match_leave: { match_id: 'nope' } });
    assert.deepEqual(await a.next(), { cid: '7', error: INVALID_ID });
    b.send({ cid: '2', match_leave: { match_id: id } });
    assert.deepEqual(await b.next(), { cid: '2' });
    assert.deepEqual(await a.next(), { match_presence_event: { match_id: id, leaves: [bSelf] } });
    for (const raw of [a, b]) {
      raw.send({ cid: '9', ping: {} });
      assert.deepEqual(await raw.next(), { cid: '9', pong: {} }, 'nothing else');
      await raw.close();
    }
  });

  it('Sagi-shi: create a match, share it in the status, friends join from it, spawn players from presences and events, relay positions and votes, list the lobby', async () => {
    const [host, red, blue] = await players('json', 3);
    const OpCodes = { position: 1, vote: 2 };
    // "Creating matches" (the direct-message invitation is in chat.test.mjs), then "Joining
    // matches from player status".
    const match = await host.socket.createMatch();
    await host.probe.presence.next(WAIT_MS, "the host's own join");
    for (const p of [red, blue]) await p.socket.followUsers([host.session.user_id]);
    assertAck(await host.socket.updateStatus(JSON.stringify({ Status: 'Playing a match', MatchId: match.match_id })));

    // Each player spawns everyone in the match, then follows the presence events.
    const spawned = new Map();
    const selves = new Map();
    for (const p of [red, blue]) {
      const [presence] = (await p.probe.statuses.next(WAIT_MS, "the host's status")).joins;
      const status = JSON.parse(presence.status);
      assert.ok(Object.hasOwn(status, 'MatchId'));
      const joined = await p.socket.joinMatch(status.MatchId);
      selves.set(p, joined.self.session_id);
      spawned.set(p, new Set([joined.self, ...(joined.presences ?? [])].map((x) => x.session_id)));
    }
    const follow = async (p, n) => {
      for (let i = 0; i < n; i += 1) {
        const e = await p.probe.presence.next(WAIT_MS, 'a match presence event');
        for (const x of e.joins ?? []) spawned.get(p).add(x.session_id);
        for (const x of e.leaves ?? []) spawned.get(p).delete(x.session_id);
      }
    };
    await follow(red, 2); // its own join, then blue's
    await follow(blue, 1);
    assert.equal(spawned.get(red).size, 3);
    assert.deepEqual([...spawned.get(blue)].sort(), [...spawned.get(red)].sort(), 'both see the same three players');

    // "Sending match state" / "Receiving match state".
    const state = { x: 1.5, y: 2, z: -0.25 };
    await host.socket.sendMatchState(match.match_id, OpCodes.position, JSON.stringify(state));
    await host.socket.sendMatchState(match.match_id, OpCodes.vote, JSON.stringify({ target: red.session.user_id }));
    for (const p of [red, blue]) {
      const position = await p.probe.data.next(WAIT_MS, 'the position');
      assert.equal(position.op_code, OpCodes.position);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(position.data)), state);
      assert.equal(position.presence.session_id, match.self.session_id);
      const vote = await p.probe.data.next(WAIT_MS, 'the vote');
      assert.deepEqual([vote.op_code, JSON.parse(new TextDecoder().decode(vote.data))], [OpCodes.vote, { target: red.session.user_id }]);
    }

    // "Listing matches": a lobby with 2 to 10 players. (The guide passes minPlayers and maxPlayers
    // first; nakama-js takes limit, authoritative, label, minSize, maxSize, query. A relayed lobby
    // is listed with authoritative false or unset.)
    const { matches } = await client.listMatches(host.session, 100, false, undefined, 2, 10);
    assert.deepEqual(matches?.find((m) => m.match_id === match.match_id), { match_id: match.match_id, size: 3 });

    // Blue leaves: red removes the player.
    await blue.socket.leaveMatch(match.match_id);
    await follow(red, 1);
    assert.deepEqual([...spawned.get(red)].sort(), [match.self.session_id, selves.get(red)].sort(), 'red despawns blue');
  });
});

describe('GET /v2/match (a server of its own, so the listings are exact)', () => {
  let server;
  let client;
  let session;
  const list = (...args) => client.listMatches(session, ...args);
  const ids = (result) => (result.matches ?? []).map((m) => m.match_id).sort();

  before(async () => {
    server = await startServer();
    client = server.client();
    session = await client.authenticateDevice(randomDeviceId(), true);
  });
  after(async () => {
    await closeAllSockets();
    await server?.stop();
  });

  it('no match: {} (nakama-js resolves with matches undefined)', async () => {
    assert.deepEqual(await list(), {});
    assert.deepEqual(await list(100, false), {});
  });

  it('relayed matches as {match_id, size}; min_size and max_size are inclusive; limit defaults to 10; left matches disappear', async () => {
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => newPlayer(client, 'json')));
    const m = [];
    for (let i = 0; i < 3; i += 1) m.push((await create(alice)).match_id);
    for (const id of m.slice(1)) await join(bob, id);
    await join(carol, m[2]);
    const all = [{ match_id: m[0], size: 1 }, { match_id: m[1], size: 2 }, { match_id: m[2], size: 3 }];
    const byId = (a, b) => (a.match_id < b.match_id ? -1 : 1);
    assert.deepEqual({ matches: (await list()).matches?.sort(byId) }, { matches: [...all].sort(byId) });
    assert.deepEqual(ids(await list(undefined, false, undefined, 2)), [m[1], m[2]].sort(), 'min_size 2');
    assert.deepEqual(ids(await list(undefined, undefined, undefined, undefined, 2)), [m[0], m[1]].sort(), 'max_size 2');
    assert.deepEqual(await list(10, false, undefined, 2, 2), { matches: [all[1]] }, 'min_size = max_size = 2');
    assert.deepEqual(await list(10, false, undefined, 0, 0), {}, 'size 0: none');
    assert.deepEqual(await list(10, false, undefined, 4), {}, 'min_size 4: none');
    const one = (await list(1)).matches;
    assert.equal(one?.length, 1, 'limit 1');
    assert.ok(all.some((x) => x.match_id === one[0].match_id));

    for (let i = 0; i < 8; i += 1) m.push((await create(alice)).match_id);
    assert.equal((await list()).matches?.length, 10, 'eleven matches, the default limit 10');
    assert.deepEqual(ids(await list(100)), [...m].sort(), 'limit 100: all eleven');
    assert.equal((await list(11, false, undefined, 1, 1)).matches?.length, 9, 'nine of size 1');

    for (const id of m) assertAck(await alice.socket.leaveMatch(id));
    // Bob and carol are still in two of them.
    assert.deepEqual((await list(100)).matches?.sort(byId), [{ match_id: m[1], size: 1 }, { match_id: m[2], size: 2 }].sort(byId));
    for (const id of [m[1], m[2]]) assertAck(await bob.socket.leaveMatch(id));
    assertAck(await carol.socket.leaveMatch(m[2]));
    assert.deepEqual(await list(100), {}, 'every match emptied');
  });

  it('authoritative=true, a label or a query: no relayed match is listed', async () => {
    const alice = await newPlayer(client, 'json');
    const { match_id: id } = await create(alice);
    assert.deepEqual(ids(await list(100)), [id]);
    assert.deepEqual(await list(100, true), {});
    assert.deepEqual(await list(100, undefined, 'x'), {});
    assert.deepEqual(await list(100, true, ''), {});
    assert.deepEqual(await list(100, undefined, undefined, undefined, undefined, '*'), {});
    assert.deepEqual(await list(100, undefined, undefined, undefined, undefined, ''), {});
    assertAck(await alice.socket.leaveMatch(id));
    assert.deepEqual(await list(100), {});
  });

  it('errors: limit outside 1..100, label or query with authoritative=false, negative or crossed sizes; no token', async () => {
    for (const limit of [0, 101, -1]) await expectError(list(limit), invalid('Invalid limit - limit must be between 1 and 100.'));
    const noLabel = invalid('Label filtering is not supported for non-authoritative matches.');
    await expectError(list(10, false, 'x'), noLabel);
    await expectError(list(10, false, ''), noLabel);
    await expectError(list(10, false, undefined, undefined, undefined, '*'), invalid('Query filtering is not supported for non-authoritative matches.'));
    await expectError(list(10, undefined, undefined, -1), invalid('Minimum size must be 0 or above.'));
    await expectError(list(10, undefined, undefined, undefined, -1), invalid('Maximum size must be 0 or above.'));
    await expectError(list(10, undefined, undefined, 3, 2),
      invalid('Maximum size must be greater than or equal to minimum size when both are specified.'));
    await expectError(client.listMatches({ token: '' }), AUTH_REQUIRED);
  });
});
