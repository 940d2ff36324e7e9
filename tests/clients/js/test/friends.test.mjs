// Friends (nakama-semantics.md §3, §1.7, §1.10, §6; nakama-wire.md §1.2, §8.2, §8.3):
// AddFriends, DeleteFriends, BlockFriends, ListFriends and ListFriendsOfFriends, between several
// users, with the notifications they cause (-2 request, -3 accepted, -9 removed) and the users'
// edge_count. Also the friends walk-through of the Sagi-shi JavaScript guide and of the Friends
// document (add, accept by adding back, list by state, remove, cancel, reject, block, unblock).
//
// Every test makes its own users, so the tests are independent and may run in any order on the
// shared server. Every wait is an event with a deadline, never a sleep.
//
// nakama-js facts this file relies on (client.ts of @heroiclabs/nakama-js 2.8.0):
//  * listFriends keeps only `user` and `state` of each Friend (update_time and metadata are
//    dropped), and parses user.metadata; the raw answer is checked with request().
//  * listFriends / listFriendsOfFriends answer `friends: []` / `friends_of_friends: []` when the
//    server omits the empty list; `cursor` is undefined when the server sends none.
//  * listNotifications parses `content` into an object and turns a missing `code` into 0.

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import { Queue, WAIT_MS, closeAllSockets, connectSocket, createSocket, withTimeout } from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, TIMESTAMP_RE, UUID_RE, bearer, expectError, expectErrorResponse, randomDeviceId,
  randomUsername, request, invalid, AUTH_REQUIRED, NIL_UUID, b64url,
} from '../lib/util.mjs';

const BAD_CURSOR = invalid('Cursor is invalid.');
const BAD_LIST_LIMIT = invalid('Invalid limit - limit must be between 1 and 1000.');
const BAD_FOF_LIMIT = invalid('Invalid limit - limit must be between 1 and 100.');
const BAD_STATE = invalid('Invalid state - state must be between 0 and 3.');
const NOTHING_VALID = invalid('No valid ID or username was provided.');
const EMPTY_USERNAME = invalid('Username must not be empty.');

// Friend.state (nakama-semantics.md §3.1).
const FRIEND = 0;
const INVITE_SENT = 1;
const INVITE_RECEIVED = 2;
const BLOCKED = 3;

// Cursors no server can have issued: not base64url, or base64url of something that is not a cursor.
const GARBAGE_CURSORS = ['not a cursor', '!!!', '%%%', b64url('hello'), b64url('{}'), b64url('"x"'), b64url(randomUUID())];

// The notifications a friend operation sends (§3.2, §3.3): persistent, content {"username"}, the
// sender is the user who acted.
const note = (code, subject, from) => ({ code, subject, content: { username: from.username }, sender_id: from.user_id });
const requestFrom = (from) => note(-2, `${from.username} wants to add you as a friend`, from);
const acceptFrom = (from) => note(-3, `${from.username} accepted your friend request`, from);
const removalFrom = (from) => note(-9, `${from.username} removed you as a friend`, from);

// A ping round trip: once it is answered the server runs the socket's read loop (so the socket
// is registered for notifications), and whatever it sent the socket before the pong has arrived.
async function settle(probe) {
  const reply = await withTimeout(probe.socket.send({ ping: {} }), WAIT_MS, 'the pong');
  assert.deepEqual(reply.pong, {});
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byNote = (a, b) => a.code - b.code || cmp(a.subject, b.subject) || cmp(a.sender_id, b.sender_id);

describe('friends', () => {
  let server;
  let client;

  // A device account with a known username.
  const newUser = () => client.authenticateDevice(randomDeviceId(), true, randomUsername());
  const newUsers = (n) => Promise.all(Array.from({ length: n }, newUser));
  const auth = (session) => ({ headers: { Authorization: bearer(session.token) } });

  // users.edge_count as the user sees it (0 is omitted from the JSON).
  async function edgeCount(session) {
    const { user } = await client.getAccount(session);
    return user.edge_count ?? 0;
  }
  const edgeCounts = (...sessions) => Promise.all(sessions.map(edgeCount));

  // The caller's whole relationship list as [user id, state] pairs in the server's order; it must
  // fit in one page (no cursor).
  async function friendsOf(session, state) {
    const page = await client.listFriends(session, state);
    assert.equal(page.cursor, undefined, `one page, no cursor: ${JSON.stringify(page.cursor)}`);
    return page.friends.map((f) => [f.user.id, f.state]);
  }

  // The caller's stored notifications, reduced to what the friend operations decide, sorted.
  async function notesOf(session) {
    const { notifications } = await client.listNotifications(session, 100);
    for (const n of notifications) {
      assert.match(n.id, UUID_RE);
      assert.equal(n.persistent, true, `friend notifications are persistent: ${JSON.stringify(n)}`);
      assert.match(n.create_time, TIMESTAMP_RE);
    }
    return notifications.map(({ code, subject, content, sender_id }) => ({ code, subject, content, sender_id })).sort(byNote);
  }
  const sortedNotes = (...notes) => [...notes].sort(byNote);

  // A invites B, B adds A back.
  async function befriend(a, b) {
    assert.equal(await client.addFriends(a, [b.user_id]), true);
    assert.equal(await client.addFriends(b, [a.user_id]), true);
  }

  const rawFriends = async (session, query = '') => {
    const res = await request(server.baseUrl, 'GET', `/v2/friend${query}`, auth(session));
    assert.equal(res.status, 200, res.text);
    return res.json();
  };

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await closeAllSockets();
    await server?.stop();
  });

  describe('addFriends', () => {
    it('A invites B by id: A sees B in state 1, B sees A in state 2, both edge_counts +1, B is notified (-2)', async () => {
      const [alice, bob] = await newUsers(2);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);

      assert.equal(await client.addFriends(alice, [bob.user_id]), true);

      assert.deepEqual(await friendsOf(alice), [[bob.user_id, INVITE_SENT]]);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, INVITE_RECEIVED]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)]);
      assert.deepEqual(await notesOf(alice), [], 'the inviter is not notified');

      // The listed user is the full public user.
      const [item] = (await client.listFriends(alice)).friends;
      assert.equal(item.user.username, bob.username);
      assert.equal(item.user.edge_count, 1);
      assert.match(item.user.create_time, TIMESTAMP_RE);
      assert.deepEqual(item.user.metadata, {});
    });

    it('B adds A back: both are friends (state 0), A is notified (-3), edge_counts stay 1', async () => {
      const [alice, bob] = await newUsers(2);
      await client.addFriends(alice, [bob.user_id]);
      assert.equal(await client.addFriends(bob, [alice.user_id]), true);

      assert.deepEqual(await friendsOf(alice), [[bob.user_id, FRIEND]]);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, FRIEND]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);
      assert.deepEqual(await notesOf(alice), [acceptFrom(bob)]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)], 'the accepting user gets nothing new');
    });

    it('by username, and by ids and usernames together; a user named twice is invited once', async () => {
      const [alice, bob, carol, dave] = await newUsers(4);
      assert.equal(await client.addFriends(alice, undefined, [bob.username]), true);
      assert.equal(await client.addFriends(alice, [carol.user_id, carol.user_id], [dave.username, carol.username]), true);

      assert.deepEqual(await friendsOf(alice), [[bob.user_id, INVITE_SENT], [carol.user_id, INVITE_SENT], [dave.user_id, INVITE_SENT]]);
      assert.deepEqual(await edgeCounts(alice, bob, carol, dave), [3, 1, 1, 1]);
      assert.deepEqual(await notesOf(carol), [requestFrom(alice)], 'one invitation, one notification');
      assert.deepEqual(await notesOf(dave), [requestFrom(alice)]);

      // Accepting by username works the same way.
      assert.equal(await client.addFriends(bob, undefined, [alice.username]), true);
      assert.deepEqual(await friendsOf(alice, FRIEND), [[bob.user_id, FRIEND]]);
      assert.deepEqual(await notesOf(alice), [acceptFrom(bob)]);
    });

    it('inviting again, accepting again or adding a friend again: success, nothing changes, nobody is notified', async () => {
      const [alice, bob, carol] = await newUsers(3);
      await client.addFriends(alice, [bob.user_id]);
      assert.equal(await client.addFriends(alice, [bob.user_id]), true);
      assert.equal(await client.addFriends(alice, undefined, [bob.username]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, INVITE_SENT]]);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, INVITE_RECEIVED]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)], 'only the first invitation notified bob');

      await befriend(alice, carol);
      assert.equal(await client.addFriends(carol, [alice.user_id]), true);
      assert.equal(await client.addFriends(alice, [carol.user_id]), true);
      assert.deepEqual(await friendsOf(alice), [[carol.user_id, FRIEND], [bob.user_id, INVITE_SENT]]);
      assert.deepEqual(await friendsOf(carol), [[alice.user_id, FRIEND]]);
      assert.deepEqual(await edgeCounts(alice, bob, carol), [2, 1, 1]);
      assert.deepEqual(await notesOf(alice), [acceptFrom(carol)]);
      assert.deepEqual(await notesOf(carol), [requestFrom(alice)]);
    });

    it('both lists empty: success, nothing happens', async () => {
      const alice = await newUser();
      assert.equal(await client.addFriends(alice), true);
      assert.equal(await client.addFriends(alice, [], []), true);
      const res = await request(server.baseUrl, 'POST', '/v2/friend', auth(alice));
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 200, body: {} }, res.text);
      assert.deepEqual(await friendsOf(alice), []);
      assert.equal(await edgeCount(alice), 0);
    });

    it('unknown usernames are dropped and unknown ids ignored, the rest is invited', async () => {
      const [alice, bob] = await newUsers(2);
      assert.equal(await client.addFriends(alice, [randomUUID()], [randomUsername(), bob.username]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, INVITE_SENT]]);
      // Only unknown (valid) ids: success, nothing written.
      assert.equal(await client.addFriends(alice, [randomUUID(), randomUUID()]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, INVITE_SENT]]);
      assert.equal(await edgeCount(alice), 1);
    });

    it('own id or own username: 400 "Cannot add self as friend.", and nothing of the call is done', async () => {
      const [alice, bob] = await newUsers(2);
      const SELF = invalid('Cannot add self as friend.');
      await expectError(client.addFriends(alice, [alice.user_id]), SELF);
      await expectError(client.addFriends(alice, undefined, [alice.username]), SELF);
      await expectError(client.addFriends(alice, [bob.user_id, alice.user_id]), SELF);
      await expectError(client.addFriends(alice, [bob.user_id], [alice.username]), SELF);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await notesOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);
    });

    it('an id that is not a UUID (or the nil UUID), an empty username, only unknown usernames: 400 code 3', async () => {
      const [alice, bob] = await newUsers(2);
      await expectError(client.addFriends(alice, ['not-a-uuid']), invalid("Invalid user ID 'not-a-uuid'."));
      await expectError(client.addFriends(alice, [bob.user_id, '1234']), invalid("Invalid user ID '1234'."));
      await expectError(client.addFriends(alice, [NIL_UUID]), invalid(`Invalid user ID '${NIL_UUID}'.`));
      await expectError(client.addFriends(alice, undefined, ['']), EMPTY_USERNAME);
      await expectError(client.addFriends(alice, [bob.user_id], [bob.username, '']), EMPTY_USERNAME);
      await expectError(client.addFriends(alice, undefined, [randomUsername()]), NOTHING_VALID);
      await expectError(client.addFriends(alice, undefined, [randomUsername(), randomUsername()]), NOTHING_VALID);
      assert.deepEqual(await friendsOf(alice), [], 'a rejected call adds nobody');
      assert.deepEqual(await notesOf(bob), []);
    });

    it('metadata (query parameter, not sent by nakama-js) is kept on the caller\'s edge; the other edge gets {}', async () => {
      const [alice, bob] = await newUsers(2);
      const add = (session, target, metadata) => request(server.baseUrl, 'POST',
        `/v2/friend?ids=${target.user_id}&metadata=${encodeURIComponent(JSON.stringify(metadata))}`, auth(session));
      let res = await add(alice, bob, { note: 'from alice', n: 1 });
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 200, body: {} }, res.text);
      const metadataOf = async (session) => (await rawFriends(session)).friends.map((f) => JSON.parse(f.metadata));
      assert.deepEqual(await metadataOf(alice), [{ note: 'from alice', n: 1 }]);
      assert.deepEqual(await metadataOf(bob), [{}]);

      // Accepting merges the accepting user's metadata into their own edge.
      res = await add(bob, alice, { seen: true });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await metadataOf(bob), [{ seen: true }]);
      assert.deepEqual(await metadataOf(alice), [{ note: 'from alice', n: 1 }]);

      // Metadata that is not JSON fails like Nakama's database cast.
      const carol = await newUser();
      res = await request(server.baseUrl, 'POST', `/v2/friend?ids=${carol.user_id}&metadata=${encodeURIComponent('not json')}`, auth(alice));
      expectErrorResponse(res, { status: 500, code: Code.INTERNAL, message: 'Error while trying to add friends.' });
      assert.deepEqual(await friendsOf(carol), []);
    });

    it('the invitee hears the request live on a connected socket, and so does the inviter on acceptance', async () => {
      const [alice, bob] = await newUsers(2);
      const a = await connectSocket(client, alice);
      const b = await connectSocket(client, bob);
      await settle(a);
      await settle(b);

      await client.addFriends(alice, [bob.user_id]);
      const live = await b.notifications.next(WAIT_MS, 'the live friend request');
      assert.match(live.id, UUID_RE);
      assert.deepEqual({ code: live.code, subject: live.subject, content: live.content, sender_id: live.sender_id }, requestFrom(alice));
      assert.equal(live.persistent, true);
      const [stored] = (await client.listNotifications(bob, 100)).notifications;
      assert.equal(stored.id, live.id, 'the live notification is the stored one');

      await client.addFriends(bob, [alice.user_id]);
      const accepted = await a.notifications.next(WAIT_MS, 'the live acceptance');
      assert.deepEqual({ code: accepted.code, subject: accepted.subject, content: accepted.content, sender_id: accepted.sender_id },
        acceptFrom(bob));
      await settle(b);
      assert.equal(b.notifications.size, 0, 'bob heard nothing about his own acceptance');
      await a.close();
      await b.close();
    });
  });

  describe('deleteFriends', () => {
    it('removing a friend removes both edges, both edge_counts -1, the other user is notified (-9)', async () => {
      const [alice, bob] = await newUsers(2);
      await befriend(alice, bob);
      assert.equal(await client.deleteFriends(alice, [bob.user_id]), true);

      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);
      assert.deepEqual(await notesOf(bob), sortedNotes(requestFrom(alice), removalFrom(alice)));
      assert.deepEqual(await notesOf(alice), [acceptFrom(bob)], 'the remover is not notified');

      // Removing again: nothing left, nothing sent.
      assert.equal(await client.deleteFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await notesOf(bob), sortedNotes(requestFrom(alice), removalFrom(alice)));

      // They can become friends again from scratch.
      await befriend(bob, alice);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, FRIEND]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);
    });

    it('cancelling a sent invitation removes both edges and notifies the invitee (-9, Nakama quirk kept)', async () => {
      const [alice, bob] = await newUsers(2);
      await client.addFriends(alice, [bob.user_id]);
      assert.equal(await client.deleteFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);
      assert.deepEqual(await notesOf(bob), sortedNotes(requestFrom(alice), removalFrom(alice)));
    });

    it('rejecting a received invitation removes both edges and notifies the inviter (-9, Nakama quirk kept)', async () => {
      const [alice, bob] = await newUsers(2);
      await client.addFriends(alice, [bob.user_id]);
      assert.equal(await client.deleteFriends(bob, undefined, [alice.username]), true);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);
      assert.deepEqual(await notesOf(alice), [removalFrom(bob)]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)]);
    });

    it('by ids and usernames at once; unknown users, strangers and empty lists: success, nothing changes', async () => {
      const [alice, bob, carol, stranger] = await newUsers(4);
      await befriend(alice, bob);
      await befriend(alice, carol);
      assert.equal(await client.deleteFriends(alice, [bob.user_id, randomUUID()], [carol.username, randomUsername()]), true);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await edgeCounts(alice, bob, carol), [0, 0, 0]);

      // Only unknown usernames is not an error for delete (unlike add and block).
      assert.equal(await client.deleteFriends(alice, undefined, [randomUsername()]), true);
      assert.equal(await client.deleteFriends(alice, [randomUUID()]), true);
      assert.equal(await client.deleteFriends(alice, [stranger.user_id]), true);
      assert.equal(await client.deleteFriends(alice), true);
      assert.equal(await client.deleteFriends(alice, [], []), true);
      assert.deepEqual(await notesOf(stranger), [], 'a stranger is not told anything');
      assert.equal(await edgeCount(stranger), 0);
    });

    it('validation: own id or username "Cannot delete self.", bad id, empty username', async () => {
      const [alice, bob] = await newUsers(2);
      await befriend(alice, bob);
      const SELF = invalid('Cannot delete self.');
      await expectError(client.deleteFriends(alice, [alice.user_id]), SELF);
      await expectError(client.deleteFriends(alice, [bob.user_id], [alice.username]), SELF);
      await expectError(client.deleteFriends(alice, ['nope']), invalid("Invalid user ID 'nope'."));
      await expectError(client.deleteFriends(alice, [NIL_UUID]), invalid(`Invalid user ID '${NIL_UUID}'.`));
      await expectError(client.deleteFriends(alice, [bob.user_id], ['']), EMPTY_USERNAME);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, FRIEND]], 'a rejected call removes nobody');
    });
  });

  describe('blockFriends', () => {
    it('blocking a friend: A sees B blocked (3), B loses A, only B\'s edge_count drops, no notification', async () => {
      const [alice, bob] = await newUsers(2);
      await befriend(alice, bob);
      assert.equal(await client.blockFriends(alice, [bob.user_id]), true);

      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await friendsOf(alice, BLOCKED), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await friendsOf(alice, FRIEND), []);
      assert.deepEqual(await friendsOf(bob), [], 'the blocked user does not see the blocker any more');
      assert.deepEqual(await edgeCounts(alice, bob), [1, 0]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)], 'no notification for a block');

      // Blocking again changes nothing.
      assert.equal(await client.blockFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 0]);
    });

    it('a blocked user adding the blocker is silently ignored; the blocker adding them is skipped too', async () => {
      const [alice, bob] = await newUsers(2);
      assert.equal(await client.blockFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 0], 'blocking a stranger creates the blocker\'s edge only');

      assert.equal(await client.addFriends(bob, [alice.user_id]), true);
      assert.equal(await client.addFriends(bob, undefined, [alice.username]), true);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await notesOf(alice), [], 'the blocker hears nothing');

      assert.equal(await client.addFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]], 'still blocked, not an invitation');
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await notesOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 0]);
    });

    it('unblocking is deleteFriends: the blocker\'s edge goes, only their edge_count drops, nobody is notified', async () => {
      const [alice, bob] = await newUsers(2);
      await befriend(alice, bob);
      await client.blockFriends(alice, [bob.user_id]);
      assert.equal(await client.deleteFriends(alice, [bob.user_id]), true);

      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 0]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)], 'no -9 for an unblock');

      // After the unblock each must add the other again.
      await befriend(bob, alice);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, FRIEND]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);
    });

    it('the blocked user removing the blocker leaves the block in place', async () => {
      const [alice, bob] = await newUsers(2);
      await client.blockFriends(alice, [bob.user_id]);
      assert.equal(await client.deleteFriends(bob, [alice.user_id]), true);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 0]);
      assert.deepEqual(await notesOf(alice), []);
    });

    it('blocking an inviter turns the received invitation into a block and removes the inviter\'s edge', async () => {
      const [alice, bob] = await newUsers(2);
      await client.addFriends(alice, [bob.user_id]);
      assert.equal(await client.blockFriends(bob, undefined, [alice.username]), true);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, BLOCKED]]);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await edgeCounts(alice, bob), [0, 1]);
      assert.deepEqual(await notesOf(alice), [], 'no notification to the inviter');

      // The inviter trying again is ignored.
      assert.equal(await client.addFriends(alice, [bob.user_id]), true);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, BLOCKED]]);
      assert.deepEqual(await notesOf(bob), [requestFrom(alice)], 'only the first request');
    });

    it('two users may block each other; each block is kept', async () => {
      const [alice, bob] = await newUsers(2);
      await client.blockFriends(alice, [bob.user_id]);
      await client.blockFriends(bob, [alice.user_id]);
      assert.deepEqual(await friendsOf(alice), [[bob.user_id, BLOCKED]]);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, BLOCKED]]);
      assert.deepEqual(await edgeCounts(alice, bob), [1, 1]);

      await client.deleteFriends(alice, [bob.user_id]);
      assert.deepEqual(await friendsOf(alice), []);
      assert.deepEqual(await friendsOf(bob), [[alice.user_id, BLOCKED]], 'alice\'s unblock does not lift bob\'s block');
      assert.deepEqual(await edgeCounts(alice, bob), [0, 1]);
    });

    it('by ids and usernames; unknown ids are ignored; validation errors as for add', async () => {
      const [alice, bob, carol] = await newUsers(3);
      assert.equal(await client.blockFriends(alice, [bob.user_id, randomUUID()], [carol.username, randomUsername()]), true);
      assert.deepEqual((await friendsOf(alice, BLOCKED)).map(([id]) => id).sort(), [bob.user_id, carol.user_id].sort());
      assert.equal(await edgeCount(alice), 2);
      assert.equal(await client.blockFriends(alice, [randomUUID()]), true);
      assert.equal(await client.blockFriends(alice), true);
      assert.equal(await edgeCount(alice), 2);

      const SELF = invalid('Cannot block self.');
      await expectError(client.blockFriends(alice, [alice.user_id]), SELF);
      await expectError(client.blockFriends(alice, undefined, [alice.username]), SELF);
      await expectError(client.blockFriends(alice, ['xyz']), invalid("Invalid user ID 'xyz'."));
      await expectError(client.blockFriends(alice, undefined, ['']), EMPTY_USERNAME);
      await expectError(client.blockFriends(alice, undefined, [randomUsername()]), NOTHING_VALID);
      assert.equal(await edgeCount(alice), 2);
    });
  });

  describe('listFriends', () => {
    // alice: friends f1, f2 (f1 first); invitations sent to s1, s2, s3; invitations received
    // from r1, r2; blocked b1. Created in that order within each state.
    async function crowd() {
      const [alice, f1, f2, s1, s2, s3, r1, r2, b1] = await newUsers(9);
      await befriend(f1, alice);
      await befriend(alice, f2);
      for (const s of [s1, s2, s3]) await client.addFriends(alice, [s.user_id]);
      for (const r of [r1, r2]) await client.addFriends(r, [alice.user_id]);
      await client.blockFriends(alice, [b1.user_id]);
      return {
        alice,
        expected: [
          [f1.user_id, FRIEND], [f2.user_id, FRIEND],
          [s1.user_id, INVITE_SENT], [s2.user_id, INVITE_SENT], [s3.user_id, INVITE_SENT],
          [r1.user_id, INVITE_RECEIVED], [r2.user_id, INVITE_RECEIVED],
          [b1.user_id, BLOCKED],
        ],
      };
    }

    it('every state, ordered by state then oldest relationship first; a state filter keeps that state', async () => {
      const { alice, expected } = await crowd();
      assert.deepEqual(await friendsOf(alice), expected);
      for (const state of [FRIEND, INVITE_SENT, INVITE_RECEIVED, BLOCKED]) {
        assert.deepEqual(await friendsOf(alice, state), expected.filter(([, s]) => s === state), `state ${state}`);
      }
      assert.equal(await edgeCount(alice), expected.length, 'edge_count counts every state');
      // The largest page is fine too.
      const page = await client.listFriends(alice, undefined, 1000);
      assert.deepEqual(page.friends.map((f) => [f.user.id, f.state]), expected);
      assert.equal(page.cursor, undefined);
    });

    it('pages with limit and cursor; a cursor is given only while rows remain', async () => {
      const { alice, expected } = await crowd();
      const seen = [];
      let cursor;
      const cursors = [];
      for (let i = 0; i < 3; i += 1) {
        const page = await client.listFriends(alice, undefined, 3, cursor);
        seen.push(...page.friends.map((f) => [f.user.id, f.state]));
        cursor = page.cursor;
        cursors.push(cursor);
      }
      assert.deepEqual(seen, expected);
      assert.equal(typeof cursors[0], 'string');
      assert.ok(cursors[0].length > 0);
      assert.equal(typeof cursors[1], 'string');
      assert.equal(cursors[2], undefined, 'the last page has no cursor');

      // Exactly as many rows as the limit: no cursor.
      const exact = await client.listFriends(alice, INVITE_SENT, 3);
      assert.equal(exact.friends.length, 3);
      assert.equal(exact.cursor, undefined);

      // Within one state, one row at a time.
      let page = await client.listFriends(alice, INVITE_SENT, 1);
      const sent = [page.friends[0].user.id];
      while (page.cursor) {
        page = await client.listFriends(alice, INVITE_SENT, 1, page.cursor);
        assert.equal(page.friends.length, 1);
        sent.push(page.friends[0].user.id);
        assert.ok(sent.length <= 3, 'at most three pages');
      }
      assert.deepEqual(sent, expected.filter(([, s]) => s === INVITE_SENT).map(([id]) => id));
    });

    it('raw answer: Friend{user, state (0 included), update_time, metadata}; no friends is {}', async () => {
      const [alice, bob, carol] = await newUsers(3);
      assert.deepEqual(await rawFriends(alice), {}, 'the empty list and the empty cursor are omitted');

      await befriend(alice, bob);
      await client.addFriends(alice, [carol.user_id]);
      const body = await rawFriends(alice);
      assert.deepEqual(Object.keys(body), ['friends'], JSON.stringify(body));
      const [friend, invited] = body.friends;
      assert.deepEqual(Object.keys(friend).sort(), ['metadata', 'state', 'update_time', 'user']);
      assert.equal(friend.state, 0, 'state is a wrapper: 0 is sent');
      assert.equal(invited.state, 1);
      assert.match(friend.update_time, TIMESTAMP_RE);
      assert.equal(friend.metadata, '{}');
      assert.equal(friend.user.id, bob.user_id);
      assert.equal(friend.user.username, bob.username);
      assert.equal(friend.user.edge_count, 1);
      assert.equal(friend.user.metadata, '{}');
      assert.match(friend.user.create_time, TIMESTAMP_RE);
      for (const absent of ['online', 'email', 'devices', 'wallet']) {
        assert.equal(Object.hasOwn(friend.user, absent), false, `${absent} in ${JSON.stringify(friend.user)}`);
      }
      // The cursor is in the raw answer when more rows remain.
      const paged = await rawFriends(alice, '?limit=1');
      assert.equal(paged.friends.length, 1);
      assert.equal(typeof paged.cursor, 'string');
    });

    it('limit outside 1..1000: "Invalid limit - limit must be between 1 and 1000."; state outside 0..3', async () => {
      const alice = await newUser();
      for (const limit of [0, -1, 1001, 5000]) {
        await expectError(client.listFriends(alice, undefined, limit), BAD_LIST_LIMIT);
      }
      for (const state of [4, -1, 100]) {
        await expectError(client.listFriends(alice, state), BAD_STATE);
      }
      assert.deepEqual((await client.listFriends(alice, undefined, 1)).friends, []);
    });

    it('a malformed cursor, or a cursor used with another state filter: "Cursor is invalid."', async () => {
      const { alice } = await crowd();
      for (const cursor of GARBAGE_CURSORS) {
        await expectError(client.listFriends(alice, undefined, 10, cursor), BAD_CURSOR);
      }
      const { cursor } = await client.listFriends(alice, INVITE_SENT, 1);
      assert.equal(typeof cursor, 'string');
      await expectError(client.listFriends(alice, FRIEND, 1, cursor), BAD_CURSOR);
      await expectError(client.listFriends(alice, INVITE_RECEIVED, 1, cursor), BAD_CURSOR);
      // With its own filter it still works.
      assert.equal((await client.listFriends(alice, INVITE_SENT, 1, cursor)).friends.length, 1);
    });

    it('online: true for a friend connected with appearOnline, omitted otherwise', async () => {
      const [alice, bob, carol] = await newUsers(3);
      await befriend(alice, bob);
      await befriend(alice, carol);
      const onlineOf = async () => Object.fromEntries((await client.listFriends(alice)).friends.map((f) => [f.user.id, f.user.online]));
      assert.deepEqual(await onlineOf(), { [bob.user_id]: undefined, [carol.user_id]: undefined });

      // Bob appears online: wait for his socket's own status join before looking.
      const probe = createSocket(client);
      const statuses = new Queue();
      probe.socket.onstatuspresence = (evt) => statuses.push(evt);
      await probe.connect(bob, true);
      await statuses.next(WAIT_MS, "bob's own status join");
      // Carol is connected without appearing online: that does not count.
      const quiet = await connectSocket(client, carol);

      assert.deepEqual(await onlineOf(), { [bob.user_id]: true, [carol.user_id]: undefined });
      const raw = await rawFriends(alice);
      assert.equal(raw.friends.find((f) => f.user.id === bob.user_id).user.online, true);
      assert.equal(Object.hasOwn(raw.friends.find((f) => f.user.id === carol.user_id).user, 'online'), false);
      await probe.close();
      await quiet.close();
    });
  });

  describe('listFriendsOfFriends', () => {
    const pairsOf = (page) => page.friends_of_friends.map((f) => [f.referrer, f.user.id]);
    const byPair = (a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]);

    it('the friends of my friends, without me and my friends, once per referrer, ordered by (referrer, user)', async () => {
      // alice's friends: bob, erin. bob's: alice, carol, dave, erin, gina. erin's: alice, bob,
      // carol, fred. Alice has only invited gina (not a friend yet), and hank only invited bob.
      const [alice, bob, carol, dave, erin, fred, gina, hank] = await newUsers(8);
      await befriend(alice, bob);
      await befriend(alice, erin);
      await befriend(bob, carol);
      await befriend(bob, dave);
      await befriend(bob, erin);
      await befriend(bob, gina);
      await befriend(erin, carol);
      await befriend(erin, fred);
      await client.addFriends(alice, [gina.user_id]);
      await client.addFriends(hank, [bob.user_id]);

      const expected = [
        [bob.user_id, carol.user_id], [bob.user_id, dave.user_id], [bob.user_id, gina.user_id],
        [erin.user_id, carol.user_id], [erin.user_id, fred.user_id],
      ].sort(byPair);
      const page = await client.listFriendsOfFriends(alice);
      assert.deepEqual(pairsOf(page), expected);
      assert.equal(page.cursor, undefined);
      const carolItem = page.friends_of_friends.find((f) => f.user.id === carol.user_id);
      assert.equal(carolItem.user.username, carol.username);
      assert.deepEqual(carolItem.user.metadata, {});

      // Raw items are exactly {referrer, user}.
      const res = await request(server.baseUrl, 'GET', '/v2/friend/friends', auth(alice));
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.deepEqual(Object.keys(body), ['friends_of_friends']);
      for (const item of body.friends_of_friends) assert.deepEqual(Object.keys(item).sort(), ['referrer', 'user']);
    });

    it('default limit 10; pages with a cursor while rows remain', async () => {
      // One referrer (bob) with twelve other friends.
      const [alice, bob] = await newUsers(2);
      await befriend(alice, bob);
      const others = await newUsers(12);
      for (const o of others) await befriend(bob, o);
      const expected = others.map((o) => [bob.user_id, o.user_id]).sort(byPair);

      const first = await client.listFriendsOfFriends(alice);
      assert.deepEqual(pairsOf(first), expected.slice(0, 10), 'the default limit is 10');
      assert.equal(typeof first.cursor, 'string');
      const rest = await client.listFriendsOfFriends(alice, undefined, first.cursor);
      assert.deepEqual(pairsOf(rest), expected.slice(10));
      assert.equal(rest.cursor, undefined);

      const seen = [];
      let cursor;
      for (let i = 0; i < 3; i += 1) {
        const page = await client.listFriendsOfFriends(alice, 5, cursor);
        seen.push(...pairsOf(page));
        cursor = page.cursor;
        if (i < 2) assert.equal(typeof cursor, 'string', `page ${i + 1} has a cursor`);
      }
      assert.deepEqual(seen, expected);
      assert.equal(cursor, undefined, 'no cursor after the last row');
      assert.deepEqual(pairsOf(await client.listFriendsOfFriends(alice, 100)), expected);
    });

    it('no friends, or friends without other friends: an empty list', async () => {
      const [alice, bob] = await newUsers(2);
      const empty = await client.listFriendsOfFriends(alice);
      assert.deepEqual(empty.friends_of_friends, []);
      assert.equal(empty.cursor, undefined);
      await befriend(alice, bob);
      assert.deepEqual((await client.listFriendsOfFriends(alice)).friends_of_friends, []);
      const res = await request(server.baseUrl, 'GET', '/v2/friend/friends', auth(alice));
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 200, body: {} }, res.text);
    });

    it('limit outside 1..100: "Invalid limit - limit must be between 1 and 100."; a bad cursor: "Cursor is invalid."', async () => {
      const alice = await newUser();
      for (const limit of [0, -1, 101, 1000]) {
        await expectError(client.listFriendsOfFriends(alice, limit), BAD_FOF_LIMIT);
      }
      for (const cursor of GARBAGE_CURSORS) {
        await expectError(client.listFriendsOfFriends(alice, 10, cursor), BAD_CURSOR);
      }
      assert.deepEqual((await client.listFriendsOfFriends(alice, 100)).friends_of_friends, []);
    });
  });

  describe('deleteAccount', () => {
    it('removes the deleted user\'s edges and (Kizuna fix) decrements the other users\' edge_count', async () => {
      // alice is friends with bob, has invited carol, and dave has blocked her.
      const [alice, bob, carol, dave] = await newUsers(4);
      await befriend(alice, bob);
      await client.addFriends(alice, [carol.user_id]);
      await client.blockFriends(dave, [alice.user_id]);
      assert.deepEqual(await edgeCounts(bob, carol, dave), [1, 1, 1]);

      assert.equal(await client.deleteAccount(alice), true);

      for (const other of [bob, carol, dave]) {
        assert.deepEqual(await friendsOf(other), [], `${other.username} has no edge to the deleted user`);
      }
      assert.deepEqual(await edgeCounts(bob, carol, dave), [0, 0, 0]);
      // bob's friends of friends do not reach through the deleted user either.
      assert.deepEqual((await client.listFriendsOfFriends(bob)).friends_of_friends, []);
    });
  });

  describe('guide walk-throughs', () => {
    it('Sagi-shi: add by usernames and ids, accept every incoming request, list mutual friends, remove and block', async () => {
      const suffix = randomBytes(4).toString('hex');
      const player = await newUser();
      const imposter = await client.authenticateDevice(randomDeviceId(), true, `AlwaysTheImposter21${suffix}`);
      const sneaky = await client.authenticateDevice(randomDeviceId(), true, `SneakyBoi${suffix}`);
      const [someUser, anotherUser, fan1, fan2] = await newUsers(4);

      // "Add friends by Username" / "by User ID": outgoing requests.
      assert.equal(await client.addFriends(player, undefined, [imposter.username, sneaky.username]), true);
      assert.equal(await client.addFriends(player, [someUser.user_id, anotherUser.user_id]), true);
      // The two usernames of one call may be resolved in any order; the calls are in order.
      const sent = await friendsOf(player, INVITE_SENT);
      assert.deepEqual(sent.slice(0, 2).sort(), [imposter, sneaky].map((u) => [u.user_id, INVITE_SENT]).sort());
      assert.deepEqual(sent.slice(2), [someUser, anotherUser].map((u) => [u.user_id, INVITE_SENT]));
      for (const u of [imposter, sneaky, someUser, anotherUser]) {
        assert.deepEqual(await friendsOf(u), [[player.user_id, INVITE_RECEIVED]]);
        assert.deepEqual(await notesOf(u), [requestFrom(player)]);
      }

      // Two fans send requests; "Sagi-shi just fetches and accepts all the incoming friend requests".
      await client.addFriends(fan1, [player.user_id]);
      await client.addFriends(fan2, undefined, [player.username]);
      const incoming = await client.listFriends(player, INVITE_RECEIVED, 1000);
      assert.deepEqual(incoming.friends.map((f) => f.user.id), [fan1.user_id, fan2.user_id]);
      for (const f of incoming.friends) await client.addFriends(player, [f.user.id]);
      assert.deepEqual(await friendsOf(player, INVITE_RECEIVED), []);

      // The imposter accepts too. "lists the 20 most recent mutual friends": state 0, limit 20,
      // oldest relationship first (the imposter's request predates the fans').
      await client.addFriends(imposter, [player.user_id]);
      const mutual = await client.listFriends(player, FRIEND, 20);
      assert.deepEqual(mutual.friends.map((f) => [f.user.username, f.state]),
        [[imposter.username, FRIEND], [fan1.username, FRIEND], [fan2.username, FRIEND]]);
      assert.equal(mutual.cursor, undefined);
      assert.deepEqual(await notesOf(player), sortedNotes(requestFrom(fan1), requestFrom(fan2), acceptFrom(imposter)));
      assert.deepEqual(await notesOf(fan1), [acceptFrom(player)]);

      // "Delete friends by User ID" then "by Username": a friend and a pending request.
      assert.equal(await client.deleteFriends(player, [fan1.user_id, someUser.user_id]), true);
      assert.equal(await client.deleteFriends(player, undefined, [fan2.username]), true);
      for (const u of [fan1, someUser, fan2]) {
        assert.deepEqual(await friendsOf(u), []);
      }
      assert.deepEqual(await notesOf(fan1), sortedNotes(acceptFrom(player), removalFrom(player)));

      // "Block friends by User ID" / "by Username"; "Blocked users can listed ... (3)".
      assert.equal(await client.blockFriends(player, [anotherUser.user_id]), true);
      assert.equal(await client.blockFriends(player, undefined, [sneaky.username]), true);
      // A block keeps the place of the relationship it replaces: both were invitations, and
      // sneaky's came first.
      assert.deepEqual(await friendsOf(player, BLOCKED), [[sneaky.user_id, BLOCKED], [anotherUser.user_id, BLOCKED]]);
      assert.deepEqual(await friendsOf(sneaky), []);
      assert.deepEqual(await friendsOf(player), [[imposter.user_id, FRIEND], [sneaky.user_id, BLOCKED], [anotherUser.user_id, BLOCKED]]);
      assert.deepEqual(await edgeCounts(player, imposter, sneaky, anotherUser), [3, 1, 0, 0]);
    });

    it('Friends document: a user can remove a friend, reject, cancel and unblock with the same call', async () => {
      const [me, friend, inviter, invitee, pest] = await newUsers(5);
      await befriend(me, friend);
      await client.addFriends(inviter, [me.user_id]);
      await client.addFriends(me, [invitee.user_id]);
      await client.blockFriends(me, [pest.user_id]);
      assert.deepEqual(await friendsOf(me), [
        [friend.user_id, FRIEND], [invitee.user_id, INVITE_SENT], [inviter.user_id, INVITE_RECEIVED], [pest.user_id, BLOCKED],
      ]);
      assert.equal(await edgeCount(me), 4);

      assert.equal(await client.deleteFriends(me, [friend.user_id, inviter.user_id, invitee.user_id, pest.user_id]), true);
      assert.deepEqual(await friendsOf(me), []);
      assert.equal(await edgeCount(me), 0);
      assert.deepEqual(await edgeCounts(friend, inviter, invitee, pest), [0, 0, 0, 0]);
      // Everybody whose own edge went is told; the unblocked user is not.
      assert.deepEqual(await notesOf(friend), sortedNotes(requestFrom(me), removalFrom(me)));
      assert.deepEqual(await notesOf(inviter), [removalFrom(me)]);
      assert.deepEqual(await notesOf(invitee), sortedNotes(requestFrom(me), removalFrom(me)));
      assert.deepEqual(await notesOf(pest), []);

      // "If a user is unblocked they are removed from the friend list entirely. To re-add them
      // each user must add the other again."
      await client.addFriends(pest, [me.user_id]);
      assert.deepEqual(await friendsOf(me), [[pest.user_id, INVITE_RECEIVED]]);
      await client.addFriends(me, [pest.user_id]);
      assert.deepEqual(await friendsOf(me), [[pest.user_id, FRIEND]]);
    });
  });

  it('every friend route needs a bearer token: 401 "Auth token required"', async () => {
    const id = randomUUID();
    for (const [method, path] of [
      ['GET', '/v2/friend'], ['POST', `/v2/friend?ids=${id}`], ['DELETE', `/v2/friend?ids=${id}`],
      ['POST', `/v2/friend/block?ids=${id}`], ['GET', '/v2/friend/friends'],
    ]) {
      expectErrorResponse(await request(server.baseUrl, method, path), AUTH_REQUIRED);
    }
  });
});
