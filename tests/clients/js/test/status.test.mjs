// Status & presence over the realtime socket (nakama-semantics.md §9 "Status & presence", §1.9
// "Online flag"; nakama-wire.md §4.1, §4.3 rows 25–29, §8.4): following users, status updates,
// the `status_presence_event`s followers hear, and the `online` flag of GetUsers / GetAccount.
// The nakama-js cases run with both the JSON adapter and the protobuf adapter; raw `ws`
// connections check the exact JSON frames.
//
// Every wait is an event with a deadline, never a sleep. "Heard nothing" is checked with a ping
// round trip on the listening socket, after a positive control (another follower, or the user's
// own socket, has heard the change): whatever the server sent that socket before its pong has
// been delivered by the time the pong arrives.

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import {
  FORMATS, Queue, WAIT_MS, closeAllSockets, createSocket, expectSocketError, openRaw, withTimeout,
} from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import { UUID_RE, randomDeviceId, randomUsername, NIL_UUID } from '../lib/util.mjs';

const INVALID_USER = { code: 3, message: 'Invalid user identifier' };
const INVALID_USERNAME = { code: 3, message: 'Invalid username' };
const STATUS_TOO_LONG = { code: 3, message: 'Status must be 2048 characters or less' };
const MAX_STATUS_BYTES = 2048;

// The status presence of one socket, as followers see it.
const P = (session, sessionId, status) => ({
  user_id: session.user_id, session_id: sessionId, username: session.username, status,
});

const bySession = (a, b) => (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0);

// A UserPresence as nakama-js hands it over, reduced to its four fields. `persistence` is false
// on status presences: omitted in JSON, decoded as false by the protobuf adapter. `status` is a
// set StringValue on status presences, so it is there even when empty ("").
function presenceOf(p, format) {
  const { user_id, session_id, username, status, persistence, ...rest } = p;
  assert.deepEqual(rest, {}, `unexpected fields in the presence ${JSON.stringify(p)}`);
  if (format === 'json') assert.equal(persistence, undefined, `persistence=false is omitted in JSON: ${JSON.stringify(p)}`);
  else assert.equal(persistence, false);
  assert.equal(typeof status, 'string', `status is set on a status presence, even when empty: ${JSON.stringify(p)}`);
  return { user_id, session_id, username, status };
}

function presencesOf(list, format, what) {
  if (format === 'json' && list !== undefined) {
    assert.ok(list.length > 0, `an empty ${what} list is omitted in JSON`);
  }
  return (list ?? []).map((p) => presenceOf(p, format)).sort(bySession);
}

// A StatusPresenceEvent as { joins, leaves }, each sorted by session id.
function eventOf(evt, format) {
  const { joins, leaves, ...rest } = evt;
  assert.deepEqual(rest, {}, `unexpected fields in the status event ${JSON.stringify(evt)}`);
  return { joins: presencesOf(joins, format, 'joins'), leaves: presencesOf(leaves, format, 'leaves') };
}

// The `status` reply to a status_follow: its presences, sorted by session id.
function followReply(status, format) {
  assert.ok(status !== null && typeof status === 'object', `a status reply, got ${JSON.stringify(status)}`);
  const { presences, ...rest } = status;
  assert.deepEqual(rest, {}, `unexpected fields in the status reply ${JSON.stringify(status)}`);
  return presencesOf(presences, format, 'presences');
}

// A void socket call answers with an envelope that has only its cid.
function assertAck(reply) {
  const members = Object.keys(reply ?? {}).filter((k) => reply[k] !== undefined);
  assert.deepEqual(members, ['cid'], `an empty ack, got ${JSON.stringify(reply)}`);
}

// A nakama-js socket (lib/ws.mjs createSocket) whose onstatuspresence events are recorded too:
// probe.statuses is a Queue of them, and probe.events gets ['status', event].
function statusProbe(client, format) {
  const probe = createSocket(client, { format });
  probe.statuses = new Queue();
  probe.socket.onstatuspresence = (evt) => {
    probe.events.push(['status', evt]);
    probe.statuses.push(evt);
  };
  return probe;
}

async function expectStatusEvent(probe, { joins = [], leaves = [] }, what) {
  const evt = await probe.statuses.next(WAIT_MS, what);
  assert.deepEqual(eventOf(evt, probe.format), { joins: [...joins].sort(bySession), leaves: [...leaves].sort(bySession) }, what);
}

// The socket heard no status event: a ping round trip first, then nothing may be queued.
async function expectNothingHeard(probe, what) {
  const reply = await withTimeout(probe.socket.send({ ping: {} }), WAIT_MS, `the pong (${what})`);
  assert.deepEqual(reply.pong, {}, 'the ping is answered');
  assert.deepEqual(probe.statuses.peek(), [], `${what}: no status event may arrive before the pong`);
}

describe('status', () => {
  let server;
  let client;
  const newSession = () => client.authenticateDevice(randomDeviceId(), true);
  const newSessions = (n) => Promise.all(Array.from({ length: n }, newSession));

  // `online` of `user` as another user sees it (GetUsers) and as the user sees it (GetAccount).
  // online=false is omitted from the JSON, so nakama-js shows undefined.
  async function expectOnline(viewer, user, online, what) {
    const { users } = await client.getUsers(viewer, [user.user_id]);
    assert.equal(users.length, 1);
    assert.equal(users[0].online, online ? true : undefined, `${what}: GetUsers online`);
    const account = await client.getAccount(user);
    assert.equal(account.user.online, online ? true : undefined, `${what}: GetAccount user.online`);
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
      const connect = (session, appearOnline = false) => statusProbe(client, format).connect(session, appearOnline);

      // Connects with appearOnline and waits for the socket's own join (it follows its own user);
      // probe.sessionId is the session id the server gave the socket.
      async function connectOnline(session) {
        const probe = await connect(session, true);
        const evt = eventOf(await probe.statuses.next(WAIT_MS, "the socket's own status join"), format);
        assert.equal(evt.joins.length, 1, JSON.stringify(evt));
        assert.deepEqual(evt.leaves, []);
        const [join] = evt.joins;
        assert.match(join.session_id, UUID_RE);
        assert.deepEqual(join, P(session, join.session_id, ''), 'appearing online tracks status ""');
        probe.sessionId = join.session_id;
        return probe;
      }

      // status_follow with usernames (nakama-js' followUsers only takes ids).
      const followByUsername = async (probe, usernames, userIds = []) =>
        (await probe.socket.send({ status_follow: { user_ids: userIds, usernames } })).status;

      it('connect with appearOnline: the socket hears its own join (status ""), and so do the user\'s other sockets; its disconnect is a leave', async () => {
        const bob = await newSession();
        const first = await connect(bob);
        const second = await connect(bob);
        await expectNothingHeard(first, 'a socket connecting without status is not announced');

        const online = await connectOnline(bob);
        const presence = P(bob, online.sessionId, '');
        await expectStatusEvent(first, { joins: [presence] }, 'another socket of the user hears the join');
        await expectStatusEvent(second, { joins: [presence] }, 'every other socket of the user hears the join');

        await online.close();
        await expectStatusEvent(first, { leaves: [presence] }, 'the leave when the socket disconnects');
        await expectStatusEvent(second, { leaves: [presence] }, 'the leave, on every other socket');
        await expectNothingHeard(first, 'one event per change');
        assert.deepEqual(online.statuses.peek(), [], 'the disconnected socket heard nothing after its own join');
        await first.close();
        await second.close();
      });

      it('followUsers lists the current status presences of the followed users, one per socket that appears online', async () => {
        const [alice, bob, carol] = await newSessions(3);
        const b1 = await connectOnline(bob);
        const b2 = await connectOnline(bob);
        await expectStatusEvent(b1, { joins: [P(bob, b2.sessionId, '')] }, "bob's first socket hears his second");
        const bobQuiet = await connect(bob); // no status: not listed
        const c1 = await connectOnline(carol);
        assertAck(await c1.socket.updateStatus('busy'));
        await expectStatusEvent(c1, { leaves: [P(carol, c1.sessionId, '')], joins: [P(carol, c1.sessionId, 'busy')] },
          "carol's own socket hears her update");

        const a = await connect(alice);
        const listed = followReply(await a.socket.followUsers([bob.user_id, carol.user_id]), format);
        assert.deepEqual(listed, [P(bob, b1.sessionId, ''), P(bob, b2.sessionId, ''), P(carol, c1.sessionId, 'busy')].sort(bySession));
        assert.notEqual(b1.sessionId, b2.sessionId, 'each socket is its own session');
        await expectNothingHeard(a, 'following announces nothing by itself');
        for (const probe of [a, b1, b2, bobQuiet, c1]) await probe.close();
      });

      it('followUsers with both lists empty answers an empty Status', async () => {
        const alice = await newSession();
        const a = await connect(alice);
        // Nakama answers Status{presences: []}: the empty list is omitted in JSON, the protobuf
        // adapter decodes it as [].
        const expected = format === 'json' ? {} : { presences: [] };
        assert.deepEqual(await a.socket.followUsers([]), expected);
        assert.deepEqual((await a.socket.send({ status_follow: {} })).status, expected);
        assert.deepEqual(await followByUsername(a, []), expected);
        await a.close();
      });

      it('unknown ids and usernames, the caller itself and the nil user are skipped silently', async () => {
        const [alice, bob] = await newSessions(2);
        // Alice appears online on another socket: following herself must still list nothing.
        const aliceOnline = await connectOnline(alice);
        const b = await connectOnline(bob);
        const a = await connect(alice);
        assert.deepEqual(followReply(await a.socket.followUsers([randomUUID()]), format), []);
        assert.deepEqual(followReply(await a.socket.followUsers([alice.user_id, NIL_UUID]), format), []);
        assert.deepEqual(followReply(await followByUsername(a, [randomUsername()]), format), []);
        assert.deepEqual(followReply(await followByUsername(a, [alice.username]), format), []);
        // Mixed with a real user: only that one is followed and listed.
        const listed = followReply(await followByUsername(a, [randomUsername(), alice.username],
          [randomUUID(), NIL_UUID, alice.user_id, bob.user_id]), format);
        assert.deepEqual(listed, [P(bob, b.sessionId, '')]);
        for (const probe of [a, aliceOnline, b]) await probe.close();
      });

      it('followUsers by username works like by id; an id and a username of the same user count once', async () => {
        const [alice, bob] = await newSessions(2);
        const b = await connectOnline(bob);
        const byName = await connect(alice);
        const both = await connect(alice);
        assert.deepEqual(followReply(await followByUsername(byName, [bob.username]), format), [P(bob, b.sessionId, '')]);
        assert.deepEqual(followReply(await followByUsername(both, [bob.username], [bob.user_id, bob.user_id]), format),
          [P(bob, b.sessionId, '')], 'listed once');

        assertAck(await b.socket.updateStatus('hello'));
        const update = { leaves: [P(bob, b.sessionId, '')], joins: [P(bob, b.sessionId, 'hello')] };
        await expectStatusEvent(byName, update, 'a follower by username hears the update');
        await expectStatusEvent(both, update, 'a follower by id and username hears the update');
        await expectNothingHeard(both, 'the update is heard once');
        for (const probe of [byName, both, b]) await probe.close();
      });

      it('invalid ids and empty usernames reject the whole request with error code 3; the socket stays usable', async () => {
        const [alice, bob] = await newSessions(2);
        const b = await connectOnline(bob);
        const a = await connect(alice);
        await expectSocketError(a.socket.followUsers(['not-a-uuid']), INVALID_USER, format);
        await expectSocketError(a.socket.followUsers(['']), INVALID_USER, format);
        await expectSocketError(a.socket.followUsers([bob.user_id, 'not-a-uuid']), INVALID_USER, format);
        await expectSocketError(a.socket.send({ status_follow: { user_ids: [], usernames: [''] } }), INVALID_USERNAME, format);
        await expectSocketError(a.socket.send({ status_follow: { user_ids: [bob.user_id], usernames: [bob.username, ''] } }),
          INVALID_USERNAME, format);
        // Ids are checked before usernames.
        await expectSocketError(a.socket.send({ status_follow: { user_ids: ['nope'], usernames: [''] } }), INVALID_USER, format);
        await expectSocketError(a.socket.unfollowUsers(['not-a-uuid']), INVALID_USER, format);
        await expectSocketError(a.socket.unfollowUsers([bob.user_id, '']), INVALID_USER, format);

        // The rejected requests followed nobody.
        assertAck(await b.socket.updateStatus('x'));
        await expectStatusEvent(b, { leaves: [P(bob, b.sessionId, '')], joins: [P(bob, b.sessionId, 'x')] }, "bob's own socket hears the update");
        await expectNothingHeard(a, 'a rejected follow follows nobody');
        assert.equal(a.adapter.isOpen(), true);
        assert.equal(a.disconnects.size, 0);
        await a.close();
        await b.close();
      });

      it('unfollowUsers: an empty list, unknown, never-followed and the nil ids are accepted', async () => {
        const alice = await newSession();
        const a = await connect(alice);
        assertAck(await a.socket.unfollowUsers([]));
        assertAck(await a.socket.unfollowUsers([randomUUID(), NIL_UUID, randomUUID()]));
        await a.close();
      });

      it('Alice follows Bob: his connect, two updates, going offline, coming back, disconnect and reconnect', async () => {
        const [alice, bob] = await newSessions(2);
        const a = await connect(alice);
        assert.deepEqual(followReply(await a.socket.followUsers([bob.user_id]), format), [], 'bob is offline');
        await expectOnline(alice, bob, false, 'bob has no socket');

        // Bob connects appearing online.
        const b = await connectOnline(bob);
        const s = b.sessionId;
        await expectStatusEvent(a, { joins: [P(bob, s, '')] }, 'alice hears bob come online');
        await expectOnline(alice, bob, true, 'bob connected with appearOnline');

        // Two updates: each is a leave of the old status and a join of the new one.
        assertAck(await b.socket.updateStatus('playing'));
        await expectStatusEvent(a, { leaves: [P(bob, s, '')], joins: [P(bob, s, 'playing')] }, 'first update');
        await expectStatusEvent(b, { leaves: [P(bob, s, '')], joins: [P(bob, s, 'playing')] }, "bob's socket hears its own update");
        assertAck(await b.socket.updateStatus('in a match 🎮'));
        await expectStatusEvent(a, { leaves: [P(bob, s, 'playing')], joins: [P(bob, s, 'in a match 🎮')] }, 'second update');
        await expectStatusEvent(b, { leaves: [P(bob, s, 'playing')], joins: [P(bob, s, 'in a match 🎮')] }, 'own second update');
        // The same status again is still an update (leave + join).
        assertAck(await b.socket.updateStatus('in a match 🎮'));
        await expectStatusEvent(a, { leaves: [P(bob, s, 'in a match 🎮')], joins: [P(bob, s, 'in a match 🎮')] }, 'an unchanged status');
        await expectStatusEvent(b, { leaves: [P(bob, s, 'in a match 🎮')], joins: [P(bob, s, 'in a match 🎮')] }, 'own unchanged status');
        assert.deepEqual(followReply(await a.socket.followUsers([bob.user_id]), format), [P(bob, s, 'in a match 🎮')],
          'following again lists the current status');
        await expectOnline(alice, bob, true, 'bob has a status');

        // updateStatus() without a status: bob appears offline.
        assertAck(await b.socket.updateStatus());
        await expectStatusEvent(a, { leaves: [P(bob, s, 'in a match 🎮')] }, 'alice hears bob go offline');
        await expectStatusEvent(b, { leaves: [P(bob, s, 'in a match 🎮')] }, "bob's socket hears its own leave");
        await expectOnline(alice, bob, false, 'bob went offline with updateStatus()');
        assert.deepEqual(followReply(await a.socket.followUsers([bob.user_id]), format), [], 'bob is listed no more');
        // Going offline again changes nothing.
        assertAck(await b.socket.updateStatus());
        await expectNothingHeard(b, 'no presence, no leave (own socket)');
        await expectNothingHeard(a, 'no presence, no leave');

        // A status from offline: only a join.
        assertAck(await b.socket.updateStatus('back'));
        await expectStatusEvent(a, { joins: [P(bob, s, 'back')] }, 'alice hears bob come back');
        await expectStatusEvent(b, { joins: [P(bob, s, 'back')] }, "bob's own join");
        await expectOnline(alice, bob, true, 'bob set a status');

        // Disconnect: a leave for that session.
        await b.close();
        await expectStatusEvent(a, { leaves: [P(bob, s, 'back')] }, 'alice hears bob disconnect');
        await expectOnline(alice, bob, false, 'bob disconnected');

        // Reconnect: a new session, announced again; then its disconnect.
        const b2 = await connectOnline(bob);
        assert.notEqual(b2.sessionId, s, 'a new socket is a new session');
        await expectStatusEvent(a, { joins: [P(bob, b2.sessionId, '')] }, 'alice hears bob reconnect');
        await expectOnline(alice, bob, true, 'bob reconnected');
        await b2.close();
        await expectStatusEvent(a, { leaves: [P(bob, b2.sessionId, '')] }, 'alice hears bob disconnect again');
        await expectOnline(alice, bob, false, 'bob disconnected again');
        await expectNothingHeard(a, 'nothing else');
        assert.deepEqual(a.events.map(([kind]) => kind), Array(9).fill('status'), 'nine status events, nothing else');
        await a.close();
      });

      it('Carol unfollows Bob and hears nothing more; following again brings his events back', async () => {
        const [alice, bob, carol] = await newSessions(3);
        const a = await connect(alice);
        const c = await connect(carol);
        assert.deepEqual(followReply(await a.socket.followUsers([bob.user_id]), format), []);
        assert.deepEqual(followReply(await c.socket.followUsers([bob.user_id]), format), []);

        const b = await connectOnline(bob);
        const s = b.sessionId;
        await expectStatusEvent(a, { joins: [P(bob, s, '')] }, 'alice hears bob connect');
        await expectStatusEvent(c, { joins: [P(bob, s, '')] }, 'carol hears bob connect');

        assertAck(await c.socket.unfollowUsers([bob.user_id]));
        assertAck(await b.socket.updateStatus('away'));
        await expectStatusEvent(a, { leaves: [P(bob, s, '')], joins: [P(bob, s, 'away')] }, 'alice still follows bob');
        await expectNothingHeard(c, 'carol unfollowed bob: no update');
        assertAck(await b.socket.updateStatus());
        await expectStatusEvent(a, { leaves: [P(bob, s, 'away')] }, 'alice hears bob go offline');
        await expectNothingHeard(c, 'carol unfollowed bob: no leave');
        // Unfollowing twice is fine.
        assertAck(await c.socket.unfollowUsers([bob.user_id]));

        assertAck(await b.socket.updateStatus('here'));
        await expectStatusEvent(a, { joins: [P(bob, s, 'here')] }, 'alice hears bob come back');
        await expectNothingHeard(c, 'carol unfollowed bob: no join');

        // Following again lists bob and brings the events back.
        assert.deepEqual(followReply(await c.socket.followUsers([bob.user_id]), format), [P(bob, s, 'here')]);
        await b.close();
        await expectStatusEvent(a, { leaves: [P(bob, s, 'here')] }, 'alice hears bob disconnect');
        await expectStatusEvent(c, { leaves: [P(bob, s, 'here')] }, 'carol follows again: she hears bob disconnect');
        await a.close();
        await c.close();
      });

      it('following is per socket and idempotent', async () => {
        const [alice, bob] = await newSessions(2);
        const follower = await connect(alice);
        const otherSocket = await connect(alice);
        const b = await connectOnline(bob);
        for (let i = 0; i < 3; i += 1) {
          assert.deepEqual(followReply(await follower.socket.followUsers([bob.user_id]), format), [P(bob, b.sessionId, '')]);
        }
        assertAck(await b.socket.updateStatus('one'));
        await expectStatusEvent(follower, { leaves: [P(bob, b.sessionId, '')], joins: [P(bob, b.sessionId, 'one')] },
          'the following socket hears the update');
        await expectNothingHeard(follower, 'followed three times, heard once');
        await expectNothingHeard(otherSocket, "alice's other socket does not follow bob");
        for (const probe of [follower, otherSocket, b]) await probe.close();
      });

      it("a user's sockets hear each other's status, including their own change; a user cannot unfollow themselves", async () => {
        const bob = await newSession();
        const first = await connect(bob);
        const second = await connect(bob);
        assertAck(await first.socket.unfollowUsers([bob.user_id]));

        assertAck(await second.socket.updateStatus('hi'));
        const join = await second.statuses.next(WAIT_MS, 'the own join of the updating socket');
        const [presence] = eventOf(join, format).joins;
        assert.match(presence.session_id, UUID_RE);
        assert.deepEqual(eventOf(join, format), { joins: [P(bob, presence.session_id, 'hi')], leaves: [] });
        await expectStatusEvent(first, { joins: [presence] }, 'the other socket (which tried to unfollow its own user) hears it');

        await second.close();
        await expectStatusEvent(first, { leaves: [presence] }, 'and its disconnect');
        await expectNothingHeard(first, 'nothing else');
        await first.close();
      });

      it(`updateStatus: up to ${MAX_STATUS_BYTES} bytes; longer is error code 3 and changes nothing`, async () => {
        const bob = await newSession();
        const b = await connectOnline(bob);
        const s = b.sessionId;
        const longest = 'a'.repeat(MAX_STATUS_BYTES);
        assertAck(await b.socket.updateStatus(longest));
        await expectStatusEvent(b, { leaves: [P(bob, s, '')], joins: [P(bob, s, longest)] }, `a ${MAX_STATUS_BYTES}-byte status`);

        await expectSocketError(b.socket.updateStatus('a'.repeat(MAX_STATUS_BYTES + 1)), STATUS_TOO_LONG, format);
        // The limit is in bytes: 683 three-byte characters are 2049 bytes, 1025 two-byte ones 2050.
        await expectSocketError(b.socket.updateStatus('汉'.repeat(683)), STATUS_TOO_LONG, format);
        await expectSocketError(b.socket.updateStatus('é'.repeat(1025)), STATUS_TOO_LONG, format);
        await expectNothingHeard(b, 'a rejected status is not announced');

        const multiByte = '汉'.repeat(682); // 2046 bytes
        assertAck(await b.socket.updateStatus(multiByte));
        await expectStatusEvent(b, { leaves: [P(bob, s, longest)], joins: [P(bob, s, multiByte)] }, 'the status was unchanged by the rejections');
        assert.equal(b.adapter.isOpen(), true);
        await b.close();
      });

      it('online: true while the user has at least one status presence; a socket without status does not count', async () => {
        const [viewer, bob] = await newSessions(2);
        const v = await connect(viewer);
        assert.deepEqual(followReply(await v.socket.followUsers([bob.user_id]), format), []);
        await expectOnline(viewer, bob, false, 'no socket');
        await expectOnline(bob, viewer, false, 'a socket without status (the viewer)');

        const plain = await connect(bob);
        await expectOnline(viewer, bob, false, 'a socket without status');

        const s1 = await connectOnline(bob);
        await expectStatusEvent(v, { joins: [P(bob, s1.sessionId, '')] }, 'first status socket');
        await expectOnline(viewer, bob, true, 'one socket with appearOnline');
        const s2 = await connectOnline(bob);
        await expectStatusEvent(v, { joins: [P(bob, s2.sessionId, '')] }, 'second status socket');

        assertAck(await s1.socket.updateStatus());
        await expectStatusEvent(v, { leaves: [P(bob, s1.sessionId, '')] }, 'the first goes offline');
        await expectOnline(viewer, bob, true, 'one of two status presences left');
        await s2.close();
        await expectStatusEvent(v, { leaves: [P(bob, s2.sessionId, '')] }, 'the second disconnects');
        await expectOnline(viewer, bob, false, 'the last status presence is gone; two sockets without status remain');

        // An empty status is a status.
        assertAck(await plain.socket.updateStatus(''));
        const [joined] = eventOf(await v.statuses.next(WAIT_MS, 'the join of an empty status'), format).joins;
        assert.deepEqual(joined, P(bob, joined.session_id, ''));
        await expectOnline(viewer, bob, true, 'updateStatus("")');

        // null, like no argument, means "no status" (JSON null = unset wrapper).
        assertAck(await plain.socket.updateStatus(null));
        await expectStatusEvent(v, { leaves: [joined] }, 'updateStatus(null) goes offline');
        await expectOnline(viewer, bob, false, 'updateStatus(null)');
        for (const probe of [v, plain, s1]) await probe.close();
      });
    });
  }

  describe('raw JSON socket', () => {
    it('status=true: the socket first hears its own status_presence_event, without cid', async () => {
      const bob = await newSession();
      const raw = await openRaw(server, { token: bob.token, status: 'true' });
      const push = await raw.next(WAIT_MS, 'the own status join');
      const sessionId = push.status_presence_event?.joins?.[0]?.session_id;
      assert.match(String(sessionId), UUID_RE);
      assert.deepEqual(push, { status_presence_event: { joins: [P(bob, sessionId, '')] } });
      await raw.close();
    });

    it('status_follow, status_update and status_unfollow: exact replies and pushes', async () => {
      const [alice, bob] = await newSessions(2);
      const b = await openRaw(server, { token: bob.token, status: 'true' });
      const bobJoin = await b.next(WAIT_MS, "bob's own join");
      const bobSession = bobJoin.status_presence_event.joins[0].session_id;
      const a = await openRaw(server, { token: alice.token });

      a.send({ cid: '1', status_follow: {} });
      assert.deepEqual(await a.next(), { cid: '1', status: {} }, 'Status{presences: []}, the empty list omitted');
      a.send({ cid: '2', status_follow: { user_ids: [bob.user_id] } });
      assert.deepEqual(await a.next(), { cid: '2', status: { presences: [P(bob, bobSession, '')] } });

      // An update: an empty ack to bob; followers (bob's own socket too) get leave + join.
      b.send({ cid: '1', status_update: { status: 'hi' } });
      const update = { status_presence_event: { joins: [P(bob, bobSession, 'hi')], leaves: [P(bob, bobSession, '')] } };
      const bobFrames = [await b.next(), await b.next()];
      assert.deepEqual(bobFrames.find((m) => m.cid), { cid: '1' });
      assert.deepEqual(bobFrames.find((m) => !m.cid), update);
      assert.deepEqual(await a.next(WAIT_MS, 'the update push'), update);

      a.send({ cid: '3', status_unfollow: { user_ids: [bob.user_id] } });
      assert.deepEqual(await a.next(), { cid: '3' });

      // No status (an empty StatusUpdate, or status null): a leave.
      b.send({ cid: '2', status_update: {} });
      const leaveFrames = [await b.next(), await b.next()];
      assert.deepEqual(leaveFrames.find((m) => m.cid), { cid: '2' });
      assert.deepEqual(leaveFrames.find((m) => !m.cid), { status_presence_event: { leaves: [P(bob, bobSession, 'hi')] } });
      b.send({ cid: '3', status_update: { status: null } });
      assert.deepEqual(await b.next(), { cid: '3' }, 'already offline: only the ack');
      b.send({ cid: '4', ping: {} });
      assert.deepEqual(await b.next(), { cid: '4', pong: {} });

      a.send({ cid: '4', ping: {} });
      assert.deepEqual(await a.next(), { cid: '4', pong: {} }, 'alice unfollowed: no leave push');
      await a.close();
      await b.close();
    });

    it('errors: exact envelopes, the socket stays open', async () => {
      const alice = await newSession();
      const a = await openRaw(server, { token: alice.token });
      a.send({ cid: '1', status_follow: { user_ids: ['x'] } });
      assert.deepEqual(await a.next(), { cid: '1', error: INVALID_USER });
      a.send({ cid: '2', status_follow: { usernames: [''] } });
      assert.deepEqual(await a.next(), { cid: '2', error: INVALID_USERNAME });
      a.send({ cid: '3', status_unfollow: { user_ids: ['x'] } });
      assert.deepEqual(await a.next(), { cid: '3', error: INVALID_USER });
      a.send({ cid: '4', status_update: { status: 'x'.repeat(MAX_STATUS_BYTES + 1) } });
      assert.deepEqual(await a.next(), { cid: '4', error: STATUS_TOO_LONG });
      a.send({ cid: '5', ping: {} });
      assert.deepEqual(await a.next(), { cid: '5', pong: {} });
      await a.close();
    });
  });
});
