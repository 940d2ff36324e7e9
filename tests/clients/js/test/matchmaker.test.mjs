// Matchmaker (nakama-semantics.md §12, §11.5; nakama-wire.md §4.3 rows 19–22, the matchmaker rows
// of §8.4, GetMatchmakerStats): adding and removing tickets, the validation errors and the ticket
// limit, passes that match players (at once when max_count is reached, else on the last interval),
// queries on string and numeric properties (only the searcher's query counts), count_multiple,
// tickets dropped on disconnect, the matched event and its token joining everyone into one relayed
// match, and GET /v2/matchmaker/stats. Also the matchmaking walk-through of the Sagi-shi guide.
//
// The flow runs with both adapters and with a JSON and a protobuf socket matched together; a raw
// `ws` test checks the exact JSON frames. The server runs `--matchmaker.interval_sec 1`. Passes run
// on a timer over one shared pool, so every test's tickets carry a unique `run` property that its
// queries require, every test closes its sockets (dropping its tickets) before the next begins, and
// the queries without it use run-specific terms or, for the empty query (`*`), counts 3..3, which
// no other test uses.
//
// Every wait is an event with a deadline, never a sleep. "Heard nothing" is a ping round trip on
// each socket concerned after the right players were matched in a pass the silent ticket had
// already been part of, followed by removing its ticket (a matched ticket would be "not found").
//
// nakama-js facts this file relies on (socket.ts of @heroiclabs/nakama-js 2.8.0,
// web_socket_adapter_pb.ts and rtapi/realtime.ts of @heroiclabs/nakama-js-protobuf 1.4.0):
//  * addMatchmaker(query, min, max, stringProps, numericProps) resolves with {ticket}; it has no
//    count_multiple argument, so it is sent with socket.send({matchmaker_add}) on a JSON socket
//    (the protobuf adapter's MatchmakerAdd has no count_multiple field and would drop it).
//  * removeMatchmaker(ticket) resolves with the bare ack envelope; a failed call rejects with the
//    error envelope's `error`.
//  * onmatchmakermatched gets the event as decoded. JSON: empty maps, party_id "" and persistence
//    false are omitted. Protobuf: party_id "", {} maps, persistence false are there; match_id is
//    left out when the server sent the token.
//  * joinMatch(undefined, token) sends the token. client has no getMatchmakerStats in 2.8.0: the
//    stats are read with request().

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import { FORMATS, Queue, closeAllSockets, createSocket, expectSocketError, openRaw } from '../lib/ws.mjs';
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  AUTH_REQUIRED, SESSION_KEY, UUID_RE, bearer, decodeJwt, expectErrorResponse, hex, nowSec, randomDeviceId, request, verifyJwt,
} from '../lib/util.mjs';

const MATCHED_MS = 10_000; // passes run every second; a match needs at most two
const bad = (message) => ({ code: 3, message });
const MIN = bad('Invalid minimum count, must be >= 2');
const MAX = bad('Invalid maximum count, must be >= minimum count');
const CM = bad('Invalid count multiple, must be >= 1');
const CM_MIN = bad('Invalid count multiple for minimum count, must divide');
const CM_MAX = bad('Invalid count multiple for maximum count, must divide');
const ADD_FAILED = { code: 0, message: 'Error adding to matchmaker' };
const INVALID_TICKET = bad('Invalid matchmaker ticket');
const NOT_FOUND = bad('Matchmaker ticket not found');
const MATCH_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?:\d{3}|\d{6}|\d{9}))?Z$/;

// A unique run id (a letter first, so it is never read as a number) and queries restricted to it.
const newRun = () => `r${hex(6)}`;
const only = (run, extra = '') => `+properties.run:${run} ${extra}`.trim();
const NEVER = '+properties.nobody:here'; // no ticket has this property

const byUser = (a, b) => (a.user_id < b.user_id ? -1 : 1);
const assertAck = (reply) => assert.deepEqual(Object.keys(reply ?? {}).filter((k) => reply[k] !== undefined), ['cid'], `an empty ack, got ${JSON.stringify(reply)}`);

// A matched user reduced to {user_id, session_id, username, string_properties, numeric_properties}.
function userOf(u, format) {
  const { presence, party_id, string_properties, numeric_properties, ...rest } = u ?? {};
  assert.deepEqual(rest, {}, `unexpected fields in the matched user ${JSON.stringify(u)}`);
  const { user_id, session_id, username, persistence, ...prest } = presence ?? {};
  assert.deepEqual(prest, {}, `unexpected fields in the presence ${JSON.stringify(presence)}`);
  assert.match(String(session_id), UUID_RE);
  if (format === 'json') {
    assert.deepEqual([party_id, persistence], [undefined, undefined], 'party_id "" and persistence false are omitted in JSON');
    for (const map of [string_properties, numeric_properties]) {
      if (map !== undefined) assert.notDeepEqual(map, {}, 'an empty map is omitted in JSON');
    }
  } else {
    assert.deepEqual([party_id, persistence], ['', false]);
  }
  return { user_id, session_id, username, string_properties: string_properties ?? {}, numeric_properties: numeric_properties ?? {} };
}

// A matched event reduced to {ticket, mid, users (by user id), self}, after checking the token.
function matchedOf(evt, format) {
  const { ticket, match_id, token, users, self, ...rest } = evt;
  assert.deepEqual(rest, {}, `unexpected fields in the matched event ${JSON.stringify(evt)}`);
  assert.equal(match_id, undefined, 'a token, no match id');
  assert.ok(verifyJwt(token, SESSION_KEY), 'the token is signed with the session key');
  const { payload } = decodeJwt(token);
  assert.deepEqual(Object.keys(payload).sort(), ['exp', 'mid']);
  assert.match(payload.mid, MATCH_ID_RE, 'a relayed match id');
  assert.ok(Math.abs(payload.exp - (nowSec() + 30)) <= 5, `exp is about 30 s away: ${payload.exp}`);
  return { ticket, mid: payload.mid, token, users: users.map((u) => userOf(u, format)).sort(byUser), self: userOf(self, format) };
}

describe('matchmaker', () => {
  let server;
  let client;
  const live = []; // every player of the running test, closed after it

  // A session and a nakama-js socket whose matched events go to its own queue and, with the
  // player, to `shared` (for "some two of these three").
  async function newPlayer(format, shared) {
    const session = await client.authenticateDevice(randomDeviceId(), true);
    const probe = await createSocket(client, { format }).connect(session);
    const p = { session, format, probe, socket: probe.socket, matched: new Queue(), props: undefined, ticket: undefined, sid: undefined };
    probe.socket.onmatchmakermatched = (evt) => {
      p.matched.push(evt);
      shared?.push([p, evt]);
    };
    live.push(p);
    return p;
  }
  async function players(formats) {
    const shared = new Queue();
    const all = await Promise.all(formats.map((f) => newPlayer(f, shared)));
    return Object.assign(all, { matched: shared });
  }

  // Adds a ticket and remembers it with the properties the others must see.
  async function add(p, query, min, max, str, num, countMultiple) {
    const reply = countMultiple === undefined
      ? await p.socket.addMatchmaker(query, min, max, str, num)
      : (await p.socket.send({ matchmaker_add: { min_count: min, max_count: max, query, string_properties: str, numeric_properties: num, count_multiple: countMultiple } })).matchmaker_ticket;
    assert.deepEqual(Object.keys(reply ?? {}), ['ticket'], `a matchmaker_ticket, got ${JSON.stringify(reply)}`);
    assert.match(reply.ticket, UUID_RE);
    Object.assign(p, { ticket: reply.ticket, props: { string_properties: str ?? {}, numeric_properties: num ?? {} } });
    return reply.ticket;
  }

  // Each of `group` hears it was matched with exactly `group`: its own ticket, one match id,
  // everyone's presence and properties, itself as self. Resolves with {mid, token}.
  async function expectMatched(group, what) {
    const got = [];
    for (const p of group) {
      const m = matchedOf(await p.matched.next(MATCHED_MS, `${what}: the matched event of ${p.session.username}`), p.format);
      p.sid = m.self.session_id;
      got.push(m);
    }
    const users = group.map((p) => ({ user_id: p.session.user_id, session_id: p.sid, username: p.session.username, ...p.props })).sort(byUser);
    group.forEach((p, i) => {
      assert.deepEqual(got[i], { ticket: p.ticket, mid: got[0].mid, token: got[i].token, users, self: users.find((u) => u.user_id === p.session.user_id) }, what);
    });
    return { mid: got[0].mid, token: got[0].token };
  }

  // Ping round trips, then no matched event may be queued.
  async function expectQuiet(what, ...ps) {
    for (const p of ps) assert.deepEqual((await p.socket.send({ ping: {} })).pong, {}, `${what}: the pong`);
    for (const p of ps) assert.deepEqual(p.matched.peek(), [], `${what}: ${p.session.username} heard nothing`);
  }

  // Everyone joins with the token, one after the other: one relayed match, the matchmaker's
  // session ids.
  async function joinAll(group, { mid, token }) {
    for (const [i, p] of group.entries()) {
      const m = await p.socket.joinMatch(undefined, token);
      assert.equal(m.match_id, mid);
      assert.equal(m.self.session_id, p.sid, 'the matched session joins');
      assert.deepEqual((m.presences ?? []).map((x) => x.session_id).sort(), group.slice(0, i).map((x) => x.sid).sort());
    }
  }

  const stats = (session) => request(server.baseUrl, 'GET', '/v2/matchmaker/stats', { headers: { Authorization: bearer(session.token) } });

  before(async () => {
    server = await startServer({ args: ['--matchmaker.interval_sec', '1'] });
    client = server.client();
  });
  afterEach(async () => {
    for (const p of live.splice(0)) await p.probe.close();
  });
  after(async () => {
    await closeAllSockets();
    await server?.stop();
  });

  for (const format of FORMATS) {
    describe(`nakama-js socket, ${format} adapter`, () => {
      it('two 2..2 players are matched in the next pass: own ticket, everyone, self, a token that joins them into one relayed match; matched tickets are gone', async () => {
        const run = newRun();
        const [a, b] = await players([format, format]);
        await add(a, only(run), 2, 2, { run, side: 'a' }, { level: 3 });
        await add(b, only(run, 'properties.side:a'), 2, 2, { run });
        assert.notEqual(a.ticket, b.ticket);
        await joinAll([a, b], await expectMatched([a, b], 'a 2..2 pair'));
        for (const p of [a, b]) await expectSocketError(p.socket.removeMatchmaker(p.ticket), NOT_FOUND, format);
        await expectQuiet('one event each', a, b);
      });

      it('validation (code 3, first failed rule wins); a bad query and a 4th ticket are code 0; removal errors', async () => {
        const run = newRun();
        const [a, b] = await players([format, format]);
        for (const [min, max, want] of [[1, 0, MIN], [0, 5, MIN], [-2, 2, MIN], [3, 2, MAX], [2, 1, MAX]]) {
          await expectSocketError(a.socket.addMatchmaker('properties.x:', min, max), want, format);
        }
        await expectSocketError(a.socket.addMatchmaker('properties.x:', 2, 2), ADD_FAILED, format);
        const tickets = [];
        for (let i = 0; i < 3; i += 1) tickets.push(await add(a, only(run, NEVER), 2, 2, { run }));
        assert.equal(new Set(tickets).size, 3);
        await expectSocketError(a.socket.addMatchmaker(only(run, NEVER), 2, 2, { run }), ADD_FAILED, format);

        await expectSocketError(a.socket.removeMatchmaker(''), INVALID_TICKET, format);
        for (const t of [randomUUID(), 'nope']) await expectSocketError(a.socket.removeMatchmaker(t), NOT_FOUND, format);
        await expectSocketError(b.socket.removeMatchmaker(tickets[0]), NOT_FOUND, format);
        assertAck(await a.socket.removeMatchmaker(tickets[0]));
        await expectSocketError(a.socket.removeMatchmaker(tickets[0]), NOT_FOUND, format);
        await add(a, only(run, NEVER), 2, 2, { run }); // room for a third ticket again
        await expectSocketError(a.socket.addMatchmaker(only(run, NEVER), 2, 2), ADD_FAILED, format);
        for (const t of tickets.slice(1)) assertAck(await a.socket.removeMatchmaker(t));
      });
    });
  }

  it('a JSON and a protobuf socket matched together: string and numeric properties round-trip in users', async () => {
    const run = newRun();
    const [j, p] = await players(['json', 'protobuf']);
    await add(j, only(run), 2, 2, { run, name: 'Zoë 東京', empty: '', region: 'eu' }, { skill: 12.5, rank: -3, zero: 0, big: 2 ** 53 });
    await add(p, only(run, '+properties.region:eu +properties.skill:>=12.5'), 2, 2, { run, mode: 'sabotage' }, { skill: 1e-7, huge: 1.5e300 });
    await joinAll([p, j], await expectMatched([j, p], 'JSON with protobuf'));
    await expectQuiet('one event each', j, p);
  });

  it('an empty query means "*": three 3..3 tickets without queries or properties are matched', async () => {
    const group = await players(['json', 'protobuf', 'json']);
    for (const p of group) await add(p, '', 3, 3);
    await joinAll(group, await expectMatched(group, 'three 3..3 tickets'));
  });

  it('three 2..4 players: no full match, so it forms on a last interval (two passes, ≥ 1 s) with all three', async () => {
    const run = newRun();
    const group = await players(['json', 'protobuf', 'json']);
    const started = Date.now();
    await Promise.all(group.map((p, i) => add(p, only(run), 2, 4, { run }, { seat: i })));
    await expectMatched(group, 'a 3-player match');
    // Each ticket searches twice before settling for less than max_count; passes are 1 s apart.
    assert.ok(Date.now() - started >= 900, `matched after ${Date.now() - started} ms, before a second pass`);
    await expectQuiet('one event each', ...group);
  });

  it('regions: the two eu players are matched, the us player queued before them hears nothing and still holds its ticket', async () => {
    const run = newRun();
    const [us, eu1, eu2] = await players(['json', 'json', 'protobuf']);
    await add(us, only(run, '+properties.region:us'), 2, 2, { run, region: 'us' });
    await add(eu1, only(run, '+properties.region:eu'), 2, 2, { run, region: 'eu' });
    await add(eu2, only(run, '+properties.region:eu'), 2, 2, { run, region: 'eu' });
    await expectMatched([eu1, eu2], 'the eu pair');
    await expectQuiet('the us player', us, eu1, eu2);
    assertAck(await us.socket.removeMatchmaker(us.ticket));
  });

  it("queries: numeric ranges, must-not, exact case-sensitive keywords, optional terms, counts that must fit; only the searcher's query counts", async () => {
    const run = newRun();
    const group = await players(['json', 'json', 'json', 'json', 'protobuf', 'json', 'json', 'protobuf', 'json']);
    const [low, upper, banned, wide, good, searcher, tierC, tierB, anyTier] = group;
    // The candidates' own queries match nobody: they can only be found.
    await add(low, only(run, NEVER), 2, 2, { run, mode: 'casual' }, { skill: 9.99 });
    await add(upper, only(run, NEVER), 2, 2, { run, mode: 'Casual' }, { skill: 50 });
    await add(banned, only(run, NEVER), 2, 2, { run, mode: 'casual', banned: 'yes' }, { skill: 50 });
    await add(wide, only(run, NEVER), 2, 3, { run, mode: 'casual' }, { skill: 50 });
    await add(good, only(run, NEVER), 2, 2, { run, mode: 'casual' }, { skill: 10 });
    await add(tierC, only(run, NEVER), 2, 2, { run, tier: `${run}c` });
    await add(tierB, only(run, NEVER), 2, 2, { run, tier: `${run}b` });
    // With a + clause a plain one is optional (good has no region); without one, one must match.
    await add(searcher, only(run, '+properties.skill:>=10 +properties.mode:casual -properties.banned:yes properties.region:eu'), 2, 2, { run });
    await add(anyTier, `properties.tier:${run}a properties.tier:${run}b`, 2, 2);
    await expectMatched([searcher, good], 'the one fitting candidate');
    await expectMatched([anyTier, tierB], 'one of the plain terms');
    const rest = [low, upper, banned, wide, tierC];
    await expectQuiet('the candidates that do not fit', ...rest, searcher, good, anyTier, tierB);
    for (const p of rest) assertAck(await p.socket.removeMatchmaker(p.ticket));
  });

  it('count_multiple 2: three 2..4 players give a match of two, the third waits', async () => {
    const run = newRun();
    const group = await players(['json', 'json', 'json']);
    await Promise.all(group.map((p) => add(p, only(run), 2, 4, { run }, undefined, 2)));
    const [[x], [y]] = [await group.matched.next(MATCHED_MS, 'a first matched event'), await group.matched.next(MATCHED_MS, 'a second matched event')];
    const left = group.find((p) => p !== x && p !== y);
    assert.ok(left && x !== y, 'two different players were matched');
    await expectMatched([x, y], 'trimmed to a multiple of 2');
    await expectQuiet('the trimmed ticket', left, x, y);
    assertAck(await left.socket.removeMatchmaker(left.ticket));
  });

  it('count_multiple (JSON socket): < 1 and not dividing min or max are code 3, checked after the counts; 1 is the default', async () => {
    const [p] = await players(['json']);
    for (const [min, max, cm, want] of [[1, 2, 0, MIN], [3, 2, 0, MAX], [2, 4, 0, CM], [2, 4, -1, CM], [3, 6, 2, CM_MIN], [3, 5, 2, CM_MIN], [2, 5, 2, CM_MAX]]) {
      await expectSocketError(add(p, 'properties.x:', min, max, undefined, undefined, cm), want);
    }
    const run = newRun();
    for (const cm of [1, 3]) assertAck(await p.socket.removeMatchmaker(await add(p, only(run, NEVER), 3, 6, { run }, undefined, cm)));
  });

  it("a disconnected player's tickets are removed: the two who add afterwards are matched with each other, not with it", async () => {
    const run = newRun();
    const [gone, b, c] = await players(['json', 'json', 'protobuf']);
    await add(gone, only(run), 2, 2, { run });
    await gone.probe.close();
    await add(b, only(run), 2, 2, { run });
    await add(c, only(run), 2, 2, { run });
    await expectMatched([b, c], 'the two still connected');
    await expectQuiet('one event each', b, c);
  });

  it('GET /v2/matchmaker/stats: 401 without a token; the waiting ticket counted; completions after a match', async () => {
    expectErrorResponse(await request(server.baseUrl, 'GET', '/v2/matchmaker/stats'), AUTH_REQUIRED);
    const run = newRun();
    const [lone, a, b] = await players(['json', 'json', 'json']);
    await add(lone, only(run, NEVER), 2, 2, { run });
    const loneAdded = Date.now();
    const pairAdded = Date.now();
    await add(a, only(run, '+properties.pair:y'), 2, 2, { run, pair: 'y' });
    await add(b, only(run, '+properties.pair:y'), 2, 2, { run, pair: 'y' });
    await expectMatched([a, b], 'the pair');
    const matchedAt = Date.now();

    const res = await stats(a.session);
    assert.equal(res.status, 200, res.text);
    const { ticket_count, oldest_ticket_create_time, completions, ...rest } = res.json();
    assert.deepEqual(rest, {}, `unexpected fields in ${res.text}`);
    // The latest pass began with at least the lone ticket, which was there before the pair matched.
    assert.ok(Number.isInteger(ticket_count) && ticket_count >= 1, `ticket_count ${ticket_count}`);
    assert.match(oldest_ticket_create_time, TIME_RE);
    assert.ok(Date.parse(oldest_ticket_create_time) <= loneAdded + 1000, `the oldest ticket is no younger than the lone one: ${oldest_ticket_create_time}`);
    assert.ok(Array.isArray(completions) && completions.length >= 1 && completions.length <= 10, `1 to 10 completions: ${res.text}`);
    for (const c of completions) {
      assert.deepEqual(Object.keys(c).sort(), ['complete_time', 'create_time']);
      for (const t of Object.values(c)) assert.match(t, TIME_RE);
      assert.ok(Date.parse(c.complete_time) >= Date.parse(c.create_time), `completed after created: ${JSON.stringify(c)}`);
    }
    const ours = completions.filter((c) => Date.parse(c.create_time) >= pairAdded - 1000 && Date.parse(c.complete_time) <= matchedAt + 1000);
    assert.ok(ours.length >= 1, `the pair's completion is listed: ${res.text}`);
    assertAck(await lone.socket.removeMatchmaker(lone.ticket));
  });

  it('raw JSON socket: exact frames of matchmaker_add / matchmaker_ticket, matchmaker_remove, errors and matchmaker_matched', async () => {
    const run = newRun();
    const [alice, bob] = await Promise.all([1, 2].map(() => client.authenticateDevice(randomDeviceId(), true)));
    const a = await openRaw(server, { token: alice.token });
    const b = await openRaw(server, { token: bob.token });
    const ticketOf = (frame, cid) => {
      assert.deepEqual(frame, { cid, matchmaker_ticket: { ticket: frame.matchmaker_ticket?.ticket } });
      assert.match(frame.matchmaker_ticket.ticket, UUID_RE);
      return frame.matchmaker_ticket.ticket;
    };
    a.send({ cid: '1', matchmaker_add: { min_count: 2, max_count: 2, query: only(run, NEVER) } });
    const first = ticketOf(await a.next(), '1');
    a.send({ cid: '2', matchmaker_remove: { ticket: first } });
    assert.deepEqual(await a.next(), { cid: '2' });
    a.send({ cid: '3', matchmaker_add: { min_count: 2, max_count: 2, query: 'properties.x:' } });
    assert.deepEqual(await a.next(), { cid: '3', error: { message: ADD_FAILED.message } }, 'code 0 omitted');
    a.send({ cid: '4', matchmaker_add: { min_count: 2, max_count: 4, count_multiple: 3 } });
    assert.deepEqual(await a.next(), { cid: '4', error: CM_MIN });
    a.send({ cid: '5', matchmaker_remove: { ticket: '' } });
    assert.deepEqual(await a.next(), { cid: '5', error: INVALID_TICKET });
    a.send({ cid: '6', matchmaker_remove: { ticket: first } });
    assert.deepEqual(await a.next(), { cid: '6', error: NOT_FOUND });

    a.send({ cid: '7', matchmaker_add: { min_count: 2, max_count: 2, query: only(run), string_properties: { run }, numeric_properties: { n: 1.5, z: 0 } } });
    const ta = ticketOf(await a.next(), '7');
    b.send({ cid: '1', matchmaker_add: { min_count: 2, max_count: 2, query: only(run), string_properties: { run }, count_multiple: 1 } });
    const tb = ticketOf(await b.next(), '1');
    const [ma, mb] = [(await a.next(MATCHED_MS)).matchmaker_matched, (await b.next(MATCHED_MS)).matchmaker_matched];
    const ua = { presence: { user_id: alice.user_id, session_id: ma?.self?.presence?.session_id, username: alice.username }, string_properties: { run }, numeric_properties: { n: 1.5, z: 0 } };
    const ub = { presence: { user_id: bob.user_id, session_id: mb?.self?.presence?.session_id, username: bob.username }, string_properties: { run } };
    const users = (m) => [...(m?.users ?? [])].sort((x, y) => byUser(x.presence, y.presence));
    const both = [ua, ub].sort((x, y) => byUser(x.presence, y.presence));
    assert.deepEqual({ ...ma, users: users(ma) }, { ticket: ta, token: ma?.token, users: both, self: ua });
    assert.deepEqual({ ...mb, users: users(mb) }, { ticket: tb, token: mb?.token, users: both, self: ub });
    assert.equal(decodeJwt(ma.token).payload.mid, decodeJwt(mb.token).payload.mid);
    for (const raw of [a, b]) {
      raw.send({ cid: '9', ping: {} });
      assert.deepEqual(await raw.next(), { cid: '9', pong: {} }, 'nothing else');
      await raw.close();
    }
  });

  it('Sagi-shi: add to the pool with mode and skill (2 to 10 players), join the match from the matched event; the guide\'s query without "properties." finds nobody', async () => {
    const run = newRun();
    const [verbatim, red, blue] = await players(['json', 'json', 'json']);
    // The guide's query as written: its fields lack the `properties.` prefix, so it matches nothing,
    // although red and blue have skill > 100 and mode sabotage. Its own skill keeps it out of theirs.
    await add(verbatim, '+skill:>100 mode:sabotage', 2, 10, { mode: 'sabotage', run }, { skill: 50 });
    const joined = new Queue();
    for (const p of [red, blue]) {
      p.socket.onmatchmakermatched = async (matched) => {
        p.matched.push(matched);
        const matchId = null;
        joined.push(await p.socket.joinMatch(matchId, matched.token));
      };
    }
    const query = only(run, '+properties.skill:>100 properties.mode:sabotage');
    await add(red, query, 2, 10, { mode: 'sabotage', run }, { skill: 125 });
    await add(blue, query, 2, 10, { mode: 'sabotage', run }, { skill: 101 });
    const [m1, m2] = [await joined.next(MATCHED_MS, 'a first join'), await joined.next(MATCHED_MS, 'a second join')];
    const { mid } = await expectMatched([red, blue], 'red and blue, not the verbatim query');
    assert.deepEqual([m1.match_id, m2.match_id], [mid, mid], 'both joined the one match');
    await expectQuiet('the verbatim query', verbatim);
    assertAck(await verbatim.socket.removeMatchmaker(verbatim.ticket));
  });
});
