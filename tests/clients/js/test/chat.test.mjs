// Chat (nakama-semantics.md §5, §4.8; nakama-wire.md §4.3 rows 2–10, §4.4, §8.2, §8.4): rooms,
// direct messages and group channels over the realtime socket — joins with their presence lists
// and events, hidden members, persistence, sending / updating / removing messages, the -1
// "wants to chat" notification, blocks closing direct chats, the messages group events write to a
// group's channel — and the history (GET /v2/channel/{channel_id}) with its three cursors. Also
// the walk-throughs of the Realtime Chat document and of the chat section of the Sagi-shi
// JavaScript guide, with several users.
//
// The nakama-js cases run with both the JSON adapter and the protobuf adapter; raw `ws`
// connections check the exact JSON frames, request() the raw history answers.
//
// Every test makes its own users, rooms and groups (unique names), so the tests are independent.
// Every wait is an event with a deadline, never a sleep. "Heard nothing" is checked with a ping
// round trip on the listening socket after the action (and after a positive control where there
// is one): whatever the server sent that socket before its pong has arrived when the pong does.
//
// nakama-js facts this file relies on (socket.ts / client.ts of @heroiclabs/nakama-js 2.8.0,
// web_socket_adapter_pb.ts of @heroiclabs/nakama-js-protobuf):
//  * joinChat(target, type, persistence, hidden) takes the target first. (The Sagi-shi guide
//    writes joinChat(1, roomName, ...), which sends a number as the target.) Undefined
//    persistence / hidden are left out, so the server's defaults apply.
//  * writeChatMessage / updateChatMessage / send({channel_message_send}) JSON.stringify the
//    content: nakama-js cannot send a content string that is not JSON; the raw tests do.
//  * onchannelmessage gets the content JSON.parse'd; listChannelMessages parses it too, turns a
//    missing code into 0 and leaves next_cursor / prev_cursor / cacheable_cursor undefined when
//    the server sends none.
//  * JSON adapter: the envelope as parsed — empty strings and lists are omitted (proto3 defaults),
//    the code / persistent wrappers are always there (0 and false included), times are RFC 3339
//    strings. Protobuf adapter: every string field is there ('' when unset), lists are [], times
//    are Dates (millisecond precision); on channel_message the adapter itself turns a missing code
//    into 0 and a missing persistent into false.
//  * A failed socket call rejects with the error envelope's `error` ({code, message}).

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import {
  FORMATS, Queue, WAIT_MS, closeAllSockets, createSocket, expectSocketError, openRaw, withTimeout,
} from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, UUID_RE, bearer, expectError, expectErrorResponse, randomDeviceId, randomUsername, request,
  invalid, AUTH_REQUIRED, NIL_UUID, hex, b64url,
} from '../lib/util.mjs';

// ChannelJoin.type
const ROOM = 1;
const DIRECT = 2;
const GROUP = 3;

// Socket errors (nakama-wire.md §8.4), all BAD_INPUT.
const bad = (message) => ({ code: 3, message });
const INVALID_TARGET = bad('Invalid channel target');
const NAME_LENGTH = bad('Channel name is required and must be 1-64 chars: Invalid channel target');
const NAME_CONTROL = bad('Channel name must not contain control chars: Invalid channel target');
const DM_BAD_USER = bad('Invalid user ID in direct message join: Invalid channel target');
const DM_NOT_FOUND = bad('User ID not found: Invalid channel target');
const GROUP_BAD_ID = bad('Invalid group ID in group channel join: Invalid channel target');
const GROUP_NOT_FOUND = bad('Group not found: Invalid channel target');
const BAD_TYPE = bad('Invalid channel type');
const BAD_CHANNEL = bad('Invalid channel identifier');
const BAD_CONTENT = bad('Message content must be a valid JSON object');
const NOT_JOINED_SEND = bad('Must join channel before sending messages');
const NOT_JOINED_UPDATE = bad('Must join channel before updating messages');
const NOT_JOINED_REMOVE = bad('Must join channel before removing messages');
const BAD_MESSAGE_ID = bad('Invalid message identifier');
const UPDATE_NOT_FOUND = bad('Could not find message to update in channel history');
const REMOVE_NOT_FOUND = bad('Could not find message to remove in channel history');

// History errors (nakama-semantics.md §5.5, nakama-wire.md §8.2).
const BAD_LIMIT = invalid('Invalid limit - limit must be between 1 and 100.');
const BAD_CURSOR = invalid('Cursor is invalid or expired.');
const BAD_CHANNEL_ID = invalid('Invalid channel ID.');
const HISTORY_GROUP_NOT_FOUND = invalid('Group not found.');
const HISTORY_DM_NOT_FOUND = invalid('Channel not found.');

// Channel message times keep sub-second precision (nakama-wire.md §2.2): RFC 3339 UTC, with a
// fraction of 3, 6 or 9 digits unless it is zero.
const CHAT_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?:\d{3}|\d{6}|\d{9}))?Z$/;
const FRACTION_RE = /\.\d+Z$/;

// Group message codes (nakama-semantics.md §4.8, §5.6).
const CHAT = 0;
const CHAT_UPDATE = 1;
const CHAT_REMOVE = 2;
const GROUP_JOIN = 3;
const GROUP_ADD = 4;
const GROUP_LEAVE = 5;
const GROUP_KICK = 6;
const GROUP_PROMOTE = 7;
const GROUP_BAN = 8;
const GROUP_DEMOTE = 9;

const uniqueRoom = (label = 'room') => `${label}-${hex(6)}`;
const b64 = (s) => Buffer.from(s).toString('base64');
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const bySession = (a, b) => cmp(a.session_id, b.session_id);

// ---------------------------------------------------------------------------
// Channels as the tests describe them: the id, and the room / group / user fields every channel
// reply, presence event, ack and message carries ('' for those that do not apply).
// ---------------------------------------------------------------------------

const FIELD_KEYS = ['room_name', 'group_id', 'user_id_one', 'user_id_two'];
const NO_FIELDS = Object.freeze({ room_name: '', group_id: '', user_id_one: '', user_id_two: '' });
const roomChannel = (name) => ({ id: `2...${name}`, fields: { ...NO_FIELDS, room_name: name } });
const groupChannel = (groupId) => ({ id: `3.${groupId}..`, fields: { ...NO_FIELDS, group_id: groupId } });
// The direct chat of two users: `4.<lower id>.<higher id>.`, the ids ordered as strings.
function directChannel(a, b) {
  const [one, two] = [a.user_id, b.user_id].sort();
  return { id: `4.${one}.${two}.`, fields: { ...NO_FIELDS, user_id_one: one, user_id_two: two } };
}

// A chat presence: no status, persistence as joined.
const P = (session, sessionId, persistence = true) => ({
  user_id: session.user_id, session_id: sessionId, username: session.username, persistence,
});

// ---------------------------------------------------------------------------
// What nakama-js hands over, reduced to comparable objects (see the header for the two adapters)
// ---------------------------------------------------------------------------

// Fills in the empty strings / lists JSON leaves out, after checking it did leave them out.
function fill(obj, format, strings, lists, what) {
  assert.ok(obj !== null && typeof obj === 'object', `${what}: an object, got ${JSON.stringify(obj)}`);
  const out = { ...obj };
  for (const k of strings) {
    if (format === 'json') assert.notEqual(out[k], '', `${what}: an empty ${k} is omitted in JSON: ${JSON.stringify(obj)}`);
    out[k] ??= '';
  }
  for (const k of lists) {
    if (format === 'json' && out[k] !== undefined) {
      assert.ok(out[k].length > 0, `${what}: an empty ${k} list is omitted in JSON: ${JSON.stringify(obj)}`);
    }
    out[k] ??= [];
  }
  return out;
}

const fieldsOf = (o) => ({ room_name: o.room_name, group_id: o.group_id, user_id_one: o.user_id_one, user_id_two: o.user_id_two });
const withoutFields = (o) => Object.fromEntries(Object.entries(o).filter(([k]) => !FIELD_KEYS.includes(k)));

// A time as milliseconds: an RFC 3339 string (JSON) or a Date (protobuf).
function msOf(t, format, what) {
  if (format === 'json') {
    assert.match(String(t), CHAT_TIME_RE, `${what}: RFC 3339 UTC`);
    return Date.parse(t);
  }
  assert.ok(t instanceof Date && !Number.isNaN(t.getTime()), `${what}: a Date, got ${String(t)}`);
  return t.getTime();
}

function presenceOf(p, format, what = 'presence') {
  const { user_id, session_id, username, persistence, ...rest } = p;
  assert.deepEqual(rest, {}, `${what}: unexpected fields (a chat presence has no status): ${JSON.stringify(p)}`);
  if (format === 'json') assert.notEqual(persistence, false, `${what}: persistence=false is omitted in JSON`);
  assert.match(session_id, UUID_RE, `${what}: session id`);
  return { user_id, session_id, username, persistence: persistence ?? false };
}

// The `channel` reply to a join.
function channelOf(ch, format) {
  const c = fill(ch, format, ['id', ...FIELD_KEYS], ['presences'], 'channel');
  const { id, presences, self, room_name, group_id, user_id_one, user_id_two, ...rest } = c;
  assert.deepEqual(rest, {}, `unexpected fields in the channel ${JSON.stringify(ch)}`);
  assert.ok(self, `the channel has self: ${JSON.stringify(ch)}`);
  return {
    id,
    presences: presences.map((p) => presenceOf(p, format, 'channel presence')).sort(bySession),
    self: presenceOf(self, format, 'self'),
    fields: { room_name, group_id, user_id_one, user_id_two },
  };
}

function presenceEventOf(evt, format) {
  const e = fill(evt, format, ['channel_id', ...FIELD_KEYS], ['joins', 'leaves'], 'channel presence event');
  const { channel_id, joins, leaves, ...rest } = e;
  assert.deepEqual(Object.keys(withoutFields(rest)), [], `unexpected fields in the presence event ${JSON.stringify(evt)}`);
  return {
    channel_id,
    joins: joins.map((p) => presenceOf(p, format, 'join')).sort(bySession),
    leaves: leaves.map((p) => presenceOf(p, format, 'leave')).sort(bySession),
    fields: fieldsOf(rest),
  };
}

// A channel_message_ack, with its times as milliseconds.
function ackOf(ack, format) {
  const a = fill(ack, format, ['channel_id', 'message_id', 'username', ...FIELD_KEYS], [], 'ack');
  const { channel_id, message_id, code, username, create_time, update_time, persistent, ...rest } = a;
  assert.deepEqual(Object.keys(withoutFields(rest)), [], `unexpected fields in the ack ${JSON.stringify(ack)}`);
  assert.match(message_id, UUID_RE, 'ack message id');
  return {
    channel_id, message_id, code, username, persistent, fields: fieldsOf(rest),
    create_time: msOf(create_time, format, 'ack create_time'),
    update_time: msOf(update_time, format, 'ack update_time'),
  };
}

// A channel_message push, with its times as milliseconds.
function messageOf(m, format) {
  const x = fill(m, format, ['channel_id', 'message_id', 'sender_id', 'username', ...FIELD_KEYS], [], 'channel message');
  const { channel_id, message_id, code, sender_id, username, content, create_time, update_time, persistent, ...rest } = x;
  assert.deepEqual(Object.keys(withoutFields(rest)), [], `unexpected fields in the channel message ${JSON.stringify(m)}`);
  assert.match(message_id, UUID_RE, 'message id');
  return {
    channel_id, message_id, code, sender_id, username, content, persistent, fields: fieldsOf(rest),
    create_time: msOf(create_time, format, 'message create_time'),
    update_time: msOf(update_time, format, 'message update_time'),
  };
}

// A message of listChannelMessages (REST, so always JSON): times kept as the strings they are.
function listedOf(m) {
  const { channel_id, message_id, code, sender_id, username, content, create_time, update_time, persistent, ...rest } = m;
  assert.deepEqual(Object.keys(withoutFields(rest)), [], `unexpected fields in the listed message ${JSON.stringify(m)}`);
  assert.match(create_time, CHAT_TIME_RE, 'listed create_time');
  assert.match(update_time, CHAT_TIME_RE, 'listed update_time');
  const f = fieldsOf(rest);
  for (const k of FIELD_KEYS) f[k] ??= '';
  return { channel_id, message_id, code, sender_id, username, content, persistent, fields: f, create_time, update_time };
}

// The expected body of a message (push or listed), times aside.
const M = (chan, sender, message_id, content, { code = CHAT, persistent = true } = {}) => ({
  channel_id: chan.id, message_id, code, sender_id: sender.user_id, username: sender.username, content, persistent, fields: chan.fields,
});
const withoutTimes = ({ create_time, update_time, ...body }) => body;

// A void socket call answers with an envelope that has only its cid.
function assertAck(reply) {
  const members = Object.keys(reply ?? {}).filter((k) => reply[k] !== undefined);
  assert.deepEqual(members, ['cid'], `an empty ack, got ${JSON.stringify(reply)}`);
}

// A nakama-js socket (lib/ws.mjs createSocket) with its chat callbacks recorded too:
// probe.messages / probe.presences are Queues of onchannelmessage / onchannelpresence items, and
// probe.events gets ['message', m] / ['presence', e]. probe.sessionId is set by the first join.
function chatProbe(client, format) {
  const probe = createSocket(client, { format });
  probe.messages = new Queue();
  probe.presences = new Queue();
  probe.socket.onchannelmessage = (m) => {
    probe.events.push(['message', m]);
    probe.messages.push(m);
  };
  probe.socket.onchannelpresence = (e) => {
    probe.events.push(['presence', e]);
    probe.presences.push(e);
  };
  return probe;
}

// The socket heard no chat message, presence event or notification: a ping round trip first.
async function expectQuiet(probe, what) {
  const reply = await withTimeout(probe.socket.send({ ping: {} }), WAIT_MS, `the pong (${what})`);
  assert.deepEqual(reply.pong, {}, 'the ping is answered');
  assert.deepEqual(probe.messages.peek(), [], `${what}: no channel message may arrive before the pong`);
  assert.deepEqual(probe.presences.peek(), [], `${what}: no channel presence event may arrive before the pong`);
  assert.deepEqual(probe.notifications.peek(), [], `${what}: no notification may arrive before the pong`);
}

// Like expectQuiet, for chat messages only (presence events may be pending).
async function expectNoMessages(probe, what) {
  const reply = await withTimeout(probe.socket.send({ ping: {} }), WAIT_MS, `the pong (${what})`);
  assert.deepEqual(reply.pong, {}, 'the ping is answered');
  assert.deepEqual(probe.messages.peek(), [], `${what}: no channel message may arrive before the pong`);
}

async function expectPresence(probe, chan, { joins = [], leaves = [] }, what) {
  const evt = presenceEventOf(await probe.presences.next(WAIT_MS, what), probe.format);
  assert.deepEqual(evt, {
    channel_id: chan.id, joins: [...joins].sort(bySession), leaves: [...leaves].sort(bySession), fields: chan.fields,
  }, what);
}

async function expectMessage(probe, expected, what) {
  const m = messageOf(await probe.messages.next(WAIT_MS, what), probe.format);
  assert.deepEqual(withoutTimes(m), expected, what);
  return m;
}

// The socket is still usable after errors: open, not disconnected, answering pings.
async function expectStillOpen(probe) {
  const reply = await withTimeout(probe.socket.send({ ping: {} }), WAIT_MS, 'the pong after the errors');
  assert.deepEqual(reply.pong, {});
  assert.equal(probe.adapter.isOpen(), true, 'the socket stays open after error envelopes');
  assert.equal(probe.disconnects.size, 0, 'no disconnect');
}

describe('chat', () => {
  let server;
  let client;

  const newUser = () => client.authenticateDevice(randomDeviceId(), true, randomUsername());
  const newUsers = (n) => Promise.all(Array.from({ length: n }, newUser));
  const auth = (session) => ({ headers: { Authorization: bearer(session.token) } });

  // GET /v2/channel/{id} with request(): { status, body } for what nakama-js hides.
  async function rawHistory(session, channelId, query = '') {
    const res = await request(server.baseUrl, 'GET', `/v2/channel/${encodeURIComponent(channelId)}${query}`, session ? auth(session) : {});
    return res;
  }

  // The message ids of one history page (nakama-js).
  async function historyIds(session, chan, { limit, forward, cursor } = {}) {
    const page = await client.listChannelMessages(session, chan.id, limit, forward, cursor);
    return page.messages.map((m) => m.message_id);
  }

  // An open group with its owner and the given users as members.
  async function openGroupWith(owner, users) {
    const group = await client.createGroup(owner, { name: `chat-${hex(6)}`, open: true });
    for (const u of users) assert.equal(await client.joinGroup(u, group.id), true);
    return group;
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
      const connect = (session) => chatProbe(client, format).connect(session);

      // joinChat, reduced with channelOf; records the socket's session id on its first join.
      async function join(probe, target, type, { persistence, hidden } = {}) {
        const ch = channelOf(await probe.socket.joinChat(target, type, persistence, hidden), format);
        if (probe.sessionId === undefined) probe.sessionId = ch.self.session_id;
        else assert.equal(ch.self.session_id, probe.sessionId, 'one socket is one session on every channel');
        return ch;
      }

      // Joins a channel no one else is on: the reply lists nobody and the socket hears its own join.
      async function joinAlone(probe, session, chan, target, type, opts = {}) {
        const ch = await join(probe, target, type, opts);
        const persistence = opts.persistence ?? true;
        assert.deepEqual(ch, { id: chan.id, presences: [], self: P(session, ch.self.session_id, persistence), fields: chan.fields });
        if (!opts.hidden) await expectPresence(probe, chan, { joins: [ch.self] }, 'the joiner hears its own join');
        return ch;
      }

      // writeChatMessage, checking the ack; resolves with the reduced ack (times in ms) and the
      // raw ack.
      async function write(probe, sender, chan, content, { persistent = true } = {}) {
        const raw = await probe.socket.writeChatMessage(chan.id, content);
        const ack = ackOf(raw, format);
        assert.deepEqual(withoutTimes(ack), {
          channel_id: chan.id, message_id: ack.message_id, code: CHAT, username: sender.username, persistent, fields: chan.fields,
        }, 'the send ack');
        assert.equal(ack.update_time, ack.create_time, 'a new message: update_time = create_time');
        return { ...ack, raw };
      }

      // Writes and takes the message off every listed socket (each must receive it, the sender's
      // own socket included); resolves with the ack.
      async function say(probe, sender, chan, content, listeners = [probe], opts = {}) {
        const ack = await write(probe, sender, chan, content, opts);
        for (const l of listeners) {
          const m = await expectMessage(l, M(chan, sender, ack.message_id, content, { persistent: opts.persistent ?? true }),
            `${l === probe ? 'the sender' : 'a member'} receives the message`);
          assert.deepEqual([m.create_time, m.update_time], [ack.create_time, ack.update_time], 'the message has the times of the ack');
        }
        return ack;
      }

      describe('rooms and presences', () => {
        it('join replies with the channel: id 2...<name>, the others on it, self and room_name; type 0 is a room too; everyone hears each join', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const name = uniqueRoom('lobby');
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          const c = await connect(carol);

          const ca = await joinAlone(a, alice, chan, name, ROOM);
          const pa = ca.self;

          // Type 0 (unspecified) is a room.
          const cb = await join(b, name, 0);
          const pb = cb.self;
          assert.deepEqual(cb, { id: chan.id, presences: [pa], self: P(bob, pb.session_id), fields: chan.fields });
          assert.notEqual(pb.session_id, pa.session_id);
          await expectPresence(a, chan, { joins: [pb] }, 'alice hears bob join');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          // persistence false shows in self, in the others' listing and in the events.
          const cc = await join(c, name, ROOM, { persistence: false, hidden: false });
          const pc = cc.self;
          assert.deepEqual(cc, { id: chan.id, presences: [pa, pb].sort(bySession), self: P(carol, pc.session_id, false), fields: chan.fields });
          for (const [probe, who] of [[a, 'alice'], [b, 'bob'], [c, 'carol herself']]) {
            await expectPresence(probe, chan, { joins: [pc] }, `${who} hears carol join`);
          }
          for (const probe of [a, b, c]) await expectQuiet(probe, 'one event per join');
          for (const probe of [a, b, c]) await probe.close();
        });

        it('re-joining is idempotent (no event, self may be listed); leaveChat is a leave for the others only; leaving twice or a channel never joined is fine', async () => {
          const [alice, bob] = await newUsers(2);
          const name = uniqueRoom();
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          const pa = (await joinAlone(a, alice, chan, name, ROOM)).self;
          const pb = (await join(b, name, ROOM)).self;
          await expectPresence(a, chan, { joins: [pb] }, 'alice hears bob join');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          const again = await join(b, name, ROOM);
          assert.equal(again.id, chan.id);
          assert.deepEqual(again.self, pb, 'the same presence');
          assert.deepEqual(again.presences.filter((p) => p.session_id !== pb.session_id), [pa], 'the others are listed as before');
          await expectQuiet(a, 'a re-join is not a new join');
          await expectQuiet(b, 'a re-join is not a new join (own socket)');

          assertAck(await b.socket.leaveChat(chan.id));
          await expectPresence(a, chan, { leaves: [pb] }, 'alice hears bob leave');
          await expectQuiet(b, 'the leaver does not hear its own leave');
          assertAck(await b.socket.leaveChat(chan.id));
          assertAck(await b.socket.leaveChat(roomChannel(uniqueRoom('never')).id));
          await expectQuiet(a, 'leaving a channel one is not on announces nothing');

          // Off the channel: no more messages, and no sending.
          await expectSocketError(b.socket.writeChatMessage(chan.id, { after: 'leave' }), NOT_JOINED_SEND, format);
          const ack = await say(a, alice, chan, { only: 'alice' });
          await expectQuiet(b, 'bob left: he does not receive alice\'s message');
          assert.deepEqual(await historyIds(bob, roomChannel(name), { limit: 10 }), [ack.message_id]);
          await a.close();
          await b.close();
        });

        it('a disconnected socket leaves every channel it was on: the others hear a leave on each; the user\'s other socket stays', async () => {
          const [alice, bob] = await newUsers(2);
          const group = await openGroupWith(alice, [bob]);
          const name = uniqueRoom();
          const chans = [roomChannel(name), groupChannel(group.id), directChannel(alice, bob)];
          const a = await connect(alice);
          const b = await connect(bob);
          const b2 = await connect(bob);
          await joinAlone(a, alice, chans[0], name, ROOM);
          await joinAlone(a, alice, chans[1], group.id, GROUP);
          await joinAlone(a, alice, chans[2], bob.user_id, DIRECT);
          const targets = [name, group.id, alice.user_id];
          const types = [ROOM, GROUP, DIRECT];
          let pb;
          for (let i = 0; i < 3; i += 1) {
            const ch = await join(b, targets[i], types[i]);
            assert.equal(ch.id, chans[i].id);
            pb = ch.self;
            await expectPresence(a, chans[i], { joins: [pb] }, `alice hears bob join ${chans[i].id}`);
            await expectPresence(b, chans[i], { joins: [pb] }, `bob hears his own join of ${chans[i].id}`);
          }
          // Bob's second socket is on the room only.
          const pb2 = (await join(b2, name, ROOM)).self;
          assert.notEqual(pb2.session_id, pb.session_id, 'each socket is its own presence');
          for (const probe of [a, b, b2]) await expectPresence(probe, chans[0], { joins: [pb2] }, 'the second socket joins the room');

          await b.close();
          const heard = [];
          for (let i = 0; i < 3; i += 1) heard.push(presenceEventOf(await a.presences.next(WAIT_MS, `leave ${i + 1} of 3`), format));
          heard.sort((x, y) => cmp(x.channel_id, y.channel_id));
          const expected = chans.map((chan) => ({ channel_id: chan.id, joins: [], leaves: [pb], fields: chan.fields }))
            .sort((x, y) => cmp(x.channel_id, y.channel_id));
          assert.deepEqual(heard, expected, 'one leave per channel');
          await expectPresence(b2, chans[0], { leaves: [pb] }, "bob's other socket hears the leave on the room");
          await expectQuiet(a, 'three leaves, nothing more');

          // Bob's remaining socket still chats on the room.
          const ack = await say(b2, bob, chans[0], { still: 'here' }, [b2, a]);
          assert.match(ack.message_id, UUID_RE);
          await a.close();
          await b2.close();
        });

        it('hidden members: no join or leave events and not listed, yet they hear the others and chat normally', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const name = uniqueRoom('hidden');
          const chan = roomChannel(name);
          const a = await connect(alice);
          const h = await connect(bob);
          const c = await connect(carol);
          const pa = (await joinAlone(a, alice, chan, name, ROOM)).self;

          const ch = await join(h, name, ROOM, { hidden: true });
          assert.deepEqual(ch, { id: chan.id, presences: [pa], self: P(bob, ch.self.session_id), fields: chan.fields });
          await expectQuiet(a, 'a hidden join is not announced');
          await expectQuiet(h, 'a hidden join is not announced to the joiner either');

          const cc = await join(c, name, ROOM);
          assert.deepEqual(cc.presences, [pa], 'the hidden member is not listed');
          for (const probe of [a, h, c]) await expectPresence(probe, chan, { joins: [cc.self] }, 'everyone, the hidden member too, hears carol join');

          await say(h, bob, chan, { from: 'the shadows' }, [h, a, c]);
          await say(c, carol, chan, { to: 'everyone' }, [c, a, h]);

          assertAck(await h.socket.leaveChat(chan.id));
          await expectQuiet(a, 'a hidden leave is not announced');
          await expectQuiet(c, 'a hidden leave is not announced');

          // Hidden again, then disconnected: still nothing.
          await join(h, name, ROOM, { hidden: true });
          await h.close();
          await expectQuiet(a, 'a hidden member disconnecting is not announced');
          await a.close();
          await c.close();
        });

        it('room names: 1-64 bytes, any UTF-8 but control chars; case-sensitive; dots and spaces allowed (the history URL encodes them)', async () => {
          const [alice, bob] = await newUsers(2);
          const a = await connect(alice);
          const b = await connect(bob);
          const tag = hex(3);
          const longest = `${tag}${'r'.repeat(64 - tag.length)}`;
          const multiByte = `${tag}${'é'.repeat(29)}`; // 6 + 58 = 64 bytes
          assert.equal(Buffer.byteLength(multiByte), 64);
          const fancy = `Marvel Movie Fans ✨ v1.2 ${tag}`;
          const matchLike = `${randomUUID()}.`; // a relayed match id, as Sagi-shi names its rooms
          for (const name of [longest, multiByte, fancy, matchLike, `Lobby-${tag}`, `lobby-${tag}`]) {
            const chan = roomChannel(name);
            await joinAlone(a, alice, chan, name, ROOM);
            const ack = await say(a, alice, chan, { room: name });
            const page = await client.listChannelMessages(bob, chan.id, 10);
            assert.deepEqual(page.messages.map((m) => withoutTimes(listedOf(m))), [M(chan, alice, ack.message_id, { room: name })],
              `the history of ${JSON.stringify(name)}, read without joining`);
          }
          // Names differing only in case are different rooms.
          const upper = roomChannel(`Lobby-${tag}`);
          const pb = (await join(b, `Lobby-${tag}`, ROOM)).self;
          await expectPresence(a, upper, { joins: [pb] }, 'alice hears bob join Lobby');
          await expectPresence(b, upper, { joins: [pb] }, 'bob hears his own join');
          await say(b, bob, upper, { case: 'upper' }, [b, a]);
          await expectQuiet(a, 'the message reached alice once, on Lobby');
          assert.equal((await historyIds(bob, roomChannel(`lobby-${tag}`), { limit: 10 })).length, 1, 'lobby has only its own message');
          assert.equal((await historyIds(bob, upper, { limit: 10 })).length, 2, 'Lobby has two');

          for (const name of [`${'r'.repeat(65)}`, `${'é'.repeat(33)}`, `${'汉'.repeat(22)}`]) {
            await expectSocketError(a.socket.joinChat(name, ROOM, true, false), NAME_LENGTH, format);
          }
          for (const name of ['tab\there', 'new\nline', 'nul\u0000', 'esc\u001b', 'del\u007f', '\r']) {
            await expectSocketError(a.socket.joinChat(name, ROOM, true, false), NAME_CONTROL, format);
          }
          await expectSocketError(a.socket.joinChat('', ROOM, true, false), INVALID_TARGET, format);
          await expectSocketError(a.socket.joinChat('', 0, true, false), INVALID_TARGET, format);
          await expectStillOpen(a);
          await a.close();
          await b.close();
        });
      });

      describe('messages', () => {
        it('writeChatMessage: an ack, and every member (the sender included) receives the message; only sockets that joined', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const name = uniqueRoom();
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          const bobOther = await connect(bob);
          const c = await connect(carol);
          await joinAlone(a, alice, chan, name, ROOM);
          const pb = (await join(b, name, ROOM)).self;
          await expectPresence(a, chan, { joins: [pb] }, 'bob joins');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          const content = { message: 'I think Red is the imposter!', nested: { list: [1, 2.5, 'three', null, true], empty: {} }, emoji: '🎮 汉字' };
          const ack = await say(a, alice, chan, content, [a, b]);
          const reply = await say(b, bob, chan, { message: 'No way, it was Blue.' }, [b, a]);
          const empty = await say(a, alice, chan, {}, [a, b]);
          await expectQuiet(c, 'carol never joined');
          await expectQuiet(bobOther, "bob's other socket never joined");

          // Joining on another socket of the same user does not count.
          await expectSocketError(bobOther.socket.writeChatMessage(chan.id, { hi: 1 }), NOT_JOINED_SEND, format);
          await expectSocketError(c.socket.writeChatMessage(chan.id, { hi: 1 }), NOT_JOINED_SEND, format);

          // All three are in the history, oldest first, as persistent chat messages.
          const page = await client.listChannelMessages(carol, chan.id, 100);
          assert.deepEqual(page.messages.map((m) => withoutTimes(listedOf(m))), [
            M(chan, alice, ack.message_id, content), M(chan, bob, reply.message_id, { message: 'No way, it was Blue.' }), M(chan, alice, empty.message_id, {}),
          ]);
          // Listed times are the acks' (to the millisecond here; the raw tests compare the strings).
          assert.deepEqual(page.messages.map((m) => [Date.parse(m.create_time), Date.parse(m.update_time)]),
            [ack, reply, empty].map((x) => [x.create_time, x.update_time]));
          if (format === 'json') {
            assert.deepEqual(page.messages.map((m) => [m.create_time, m.update_time]), [ack, reply, empty].map((x) => [x.raw.create_time, x.raw.update_time]),
              'the exact time strings of the acks');
          }
          assert.ok(ack.create_time <= reply.create_time && reply.create_time <= empty.create_time, 'times never go backwards');
          for (const probe of [a, b, bobOther, c]) await probe.close();
        });

        it('persistence false: the message is delivered with persistent false and never stored; a persistent member\'s messages still are', async () => {
          const [alice, bob] = await newUsers(2);
          const name = uniqueRoom('ephemeral');
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          await joinAlone(a, alice, chan, name, ROOM);
          const pb = (await join(b, name, ROOM, { persistence: false })).self;
          assert.equal(pb.persistence, false);
          await expectPresence(a, chan, { joins: [pb] }, 'bob joins without persistence');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          const fleeting = await say(b, bob, chan, { gone: 'soon' }, [b, a], { persistent: false });
          const kept = await say(a, alice, chan, { kept: true }, [a, b]);
          // Editing a message of a non-persistent presence is broadcast, still not stored.
          const edit = ackOf(await b.socket.updateChatMessage(chan.id, fleeting.message_id, { gone: 'edited' }), format);
          assert.deepEqual(withoutTimes(edit), {
            channel_id: chan.id, message_id: fleeting.message_id, code: CHAT_UPDATE, username: bob.username, persistent: false, fields: chan.fields,
          });
          for (const probe of [b, a]) {
            await expectMessage(probe, M(chan, bob, fleeting.message_id, { gone: 'edited' }, { code: CHAT_UPDATE, persistent: false }), 'the edit');
          }

          const page = await client.listChannelMessages(alice, chan.id, 100);
          assert.deepEqual(page.messages.map((m) => m.message_id), [kept.message_id], 'only the persistent message is stored');
          await a.close();
          await b.close();
        });

        it('updateChatMessage: code 1 to every member, only by the original sender; the history shows the new content with code 0', async () => {
          const [alice, bob] = await newUsers(2);
          const name = uniqueRoom();
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          await joinAlone(a, alice, chan, name, ROOM);
          const pb = (await join(b, name, ROOM)).self;
          await expectPresence(a, chan, { joins: [pb] }, 'bob joins');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          const original = await say(a, alice, chan, { message: 'I think Red is the imposter!' }, [a, b]);
          const other = await say(b, bob, chan, { message: 'Agreed.' }, [b, a]);

          const edited = { message: 'I think BLUE is the imposter!' };
          const ack = ackOf(await a.socket.updateChatMessage(chan.id, original.message_id, edited), format);
          assert.deepEqual(withoutTimes(ack), {
            channel_id: chan.id, message_id: original.message_id, code: CHAT_UPDATE, username: alice.username, persistent: true, fields: chan.fields,
          });
          for (const probe of [a, b]) {
            const m = await expectMessage(probe, M(chan, alice, original.message_id, edited, { code: CHAT_UPDATE }), 'the update');
            assert.equal(m.create_time, original.create_time, 'the update carries the stored create_time');
            assert.ok(m.update_time >= original.update_time, 'update_time does not go back');
          }

          // Someone else's message, an unknown one: not found; nothing is broadcast.
          await expectSocketError(b.socket.updateChatMessage(chan.id, original.message_id, { message: 'hijacked' }), UPDATE_NOT_FOUND, format);
          await expectSocketError(b.socket.updateChatMessage(chan.id, randomUUID(), { message: 'nothing' }), UPDATE_NOT_FOUND, format);
          await expectQuiet(a, 'rejected updates are not broadcast');
          await expectQuiet(b, 'rejected updates are not broadcast');

          const { messages } = await client.listChannelMessages(bob, chan.id, 100);
          const listed = messages.map(listedOf);
          assert.deepEqual(listed.map(withoutTimes), [M(chan, alice, original.message_id, edited), M(chan, bob, other.message_id, { message: 'Agreed.' })],
            'the stored message has the new content and keeps code 0');
          assert.equal(Date.parse(listed[0].create_time), original.create_time, 'create_time unchanged');
          assert.ok(Date.parse(listed[0].update_time) >= original.update_time, 'update_time later or equal');
          if (format === 'json') assert.equal(listed[0].create_time, original.raw.create_time);
          await a.close();
          await b.close();
        });

        it('removeChatMessage: code 2 with content {} to every member, only by the sender; the message is gone from the history', async () => {
          const [alice, bob] = await newUsers(2);
          const name = uniqueRoom();
          const chan = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          await joinAlone(a, alice, chan, name, ROOM);
          const pb = (await join(b, name, ROOM)).self;
          await expectPresence(a, chan, { joins: [pb] }, 'bob joins');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');

          const first = await say(a, alice, chan, { n: 1 }, [a, b]);
          const second = await say(a, alice, chan, { n: 2 }, [a, b]);

          await expectSocketError(b.socket.removeChatMessage(chan.id, first.message_id), REMOVE_NOT_FOUND, format);
          await expectSocketError(b.socket.removeChatMessage(chan.id, randomUUID()), REMOVE_NOT_FOUND, format);
          await expectQuiet(a, 'rejected removals are not broadcast');

          const ack = ackOf(await a.socket.removeChatMessage(chan.id, first.message_id), format);
          assert.deepEqual(withoutTimes(ack), {
            channel_id: chan.id, message_id: first.message_id, code: CHAT_REMOVE, username: alice.username, persistent: true, fields: chan.fields,
          });
          for (const probe of [a, b]) await expectMessage(probe, M(chan, alice, first.message_id, {}, { code: CHAT_REMOVE }), 'the removal');

          assert.deepEqual(await historyIds(bob, chan, { limit: 100 }), [second.message_id]);
          // Gone: it cannot be removed or updated again.
          await expectSocketError(a.socket.removeChatMessage(chan.id, first.message_id), REMOVE_NOT_FOUND, format);
          await expectSocketError(a.socket.updateChatMessage(chan.id, first.message_id, { n: 'again' }), UPDATE_NOT_FOUND, format);
          await expectQuiet(b, 'nothing more');
          await a.close();
          await b.close();
        });

        it('bad input: error envelopes with code 3, and the socket stays open', async () => {
          const [alice, bob] = await newUsers(2);
          const name = uniqueRoom();
          const chan = roomChannel(name);
          const a = await connect(alice);
          await joinAlone(a, alice, chan, name, ROOM);
          const mine = await say(a, alice, chan, { mine: true });

          // Joins.
          await expectSocketError(a.socket.joinChat('', DIRECT, true, false), INVALID_TARGET, format);
          await expectSocketError(a.socket.joinChat('', GROUP, true, false), INVALID_TARGET, format);
          for (const type of [4, 5, -1, 99]) {
            await expectSocketError(a.socket.joinChat(name, type, true, false), BAD_TYPE, format);
          }

          // Malformed channel ids on leave, send, update and remove.
          const badIds = [
            '', name, '2..', '2...', `2...${'r'.repeat(65)}`, `1...${name}`, `5...${name}`, `2.x..${name}`, `2..x.${name}`,
            '3.not-a-uuid..', `3.${randomUUID()}.x.`, `3.${randomUUID()}..x`, `4.${alice.user_id}.${bob.user_id}.x`, `4.nope.${bob.user_id}.`,
            randomUUID(),
          ];
          for (const id of badIds) {
            await expectSocketError(a.socket.leaveChat(id), BAD_CHANNEL, format);
            await expectSocketError(a.socket.writeChatMessage(id, { x: 1 }), BAD_CHANNEL, format);
            await expectSocketError(a.socket.updateChatMessage(id, mine.message_id, { x: 1 }), BAD_CHANNEL, format);
            await expectSocketError(a.socket.removeChatMessage(id, mine.message_id), BAD_CHANNEL, format);
          }

          // Content must be a JSON object: nakama-js JSON.stringifies whatever it is given.
          for (const content of ['a string', 42, [1, 2], null, true, undefined]) {
            await expectSocketError(a.socket.writeChatMessage(chan.id, content), BAD_CONTENT, format);
            await expectSocketError(a.socket.updateChatMessage(chan.id, mine.message_id, content), BAD_CONTENT, format);
          }

          // The message id is checked first, then the channel id.
          for (const messageId of ['nope', '', `${mine.message_id}x`]) {
            await expectSocketError(a.socket.updateChatMessage(chan.id, messageId, { x: 1 }), BAD_MESSAGE_ID, format);
            await expectSocketError(a.socket.removeChatMessage(chan.id, messageId), BAD_MESSAGE_ID, format);
            await expectSocketError(a.socket.updateChatMessage('garbage', messageId, { x: 1 }), BAD_MESSAGE_ID, format);
            await expectSocketError(a.socket.removeChatMessage('garbage', messageId), BAD_MESSAGE_ID, format);
          }

          // Not joined: a well-formed channel the socket is not on.
          const elsewhere = roomChannel(uniqueRoom('elsewhere'));
          await expectSocketError(a.socket.writeChatMessage(elsewhere.id, { x: 1 }), NOT_JOINED_SEND, format);
          await expectSocketError(a.socket.updateChatMessage(elsewhere.id, mine.message_id, { x: 1 }), NOT_JOINED_UPDATE, format);
          await expectSocketError(a.socket.removeChatMessage(elsewhere.id, mine.message_id), NOT_JOINED_REMOVE, format);
          // The content is checked before the membership.
          await expectSocketError(a.socket.writeChatMessage(elsewhere.id, 'text'), BAD_CONTENT, format);

          await expectStillOpen(a);
          // Nothing was sent or changed by the rejected calls.
          await expectQuiet(a, 'no broadcast from rejected calls');
          const page = await client.listChannelMessages(alice, chan.id, 100);
          assert.deepEqual(page.messages.map((m) => [m.message_id, m.content]), [[mine.message_id, { mine: true }]]);
          await a.close();
        });
      });

      describe('direct messages', () => {
        it('4.<lower id>.<higher id>.: the other user is notified (-1) when not on the channel; only sessions that joined receive messages; history for the two', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const chan = directChannel(alice, bob);
          const a = await connect(alice);
          const b = await connect(bob);
          await expectQuiet(b, 'bob is connected');

          const pa = (await joinAlone(a, alice, chan, bob.user_id, DIRECT)).self;
          const wantsToChat = {
            code: -1, subject: `${alice.username} wants to chat`, content: { username: alice.username }, sender_id: alice.user_id, persistent: true,
          };
          const n = await b.notifications.next(WAIT_MS, 'the -1 notification');
          assert.deepEqual({ code: n.code, subject: n.subject, content: n.content, sender_id: n.sender_id, persistent: n.persistent }, wantsToChat);
          assert.match(n.id, UUID_RE);
          const stored = (await client.listNotifications(bob, 100)).notifications;
          assert.deepEqual(stored.map((x) => ({ code: x.code, subject: x.subject, content: x.content, sender_id: x.sender_id, persistent: x.persistent })),
            [wantsToChat], 'the notification is stored');
          assert.equal(stored[0].id, n.id);

          // Alice writes before bob joined: stored, not delivered to him.
          const early = await say(a, alice, chan, { message: 'Hey, are you there?' });
          await expectQuiet(b, 'bob is not on the direct chat yet');

          // Bob joins with alice's id upper-cased: the same channel, lower-case ids.
          const cb = await join(b, alice.user_id.toUpperCase(), DIRECT);
          assert.deepEqual(cb, { id: chan.id, presences: [pa], self: P(bob, cb.self.session_id), fields: chan.fields });
          await expectPresence(a, chan, { joins: [cb.self] }, 'alice hears bob join');
          await expectPresence(b, chan, { joins: [cb.self] }, 'bob hears his own join');
          await expectQuiet(a, 'alice is on the channel: no notification for her');

          const answer = await say(b, bob, chan, { message: 'Yes!' }, [b, a]);

          // Alice leaves and comes back while bob is there: no new notification.
          assertAck(await a.socket.leaveChat(chan.id));
          await expectPresence(b, chan, { leaves: [pa] }, 'bob hears alice leave');
          const back = await join(a, bob.user_id, DIRECT);
          assert.deepEqual(back.presences, [cb.self]);
          await expectPresence(a, chan, { joins: [pa] }, 'alice hears her own join');
          await expectPresence(b, chan, { joins: [pa] }, 'bob hears alice come back');
          await expectQuiet(b, 'bob is on the channel: no second notification');
          assert.equal((await client.listNotifications(bob, 100)).notifications.length, 1);

          // The history is the two users' only.
          for (const who of [alice, bob]) {
            const page = await client.listChannelMessages(who, chan.id, 100);
            assert.deepEqual(page.messages.map((m) => withoutTimes(listedOf(m))),
              [M(chan, alice, early.message_id, { message: 'Hey, are you there?' }), M(chan, bob, answer.message_id, { message: 'Yes!' })]);
          }
          await expectError(client.listChannelMessages(carol, chan.id, 100), HISTORY_DM_NOT_FOUND);

          // Bad targets.
          for (const target of ['not-a-uuid', NIL_UUID, `${bob.user_id}x`, '1234']) {
            await expectSocketError(a.socket.joinChat(target, DIRECT, true, false), DM_BAD_USER, format);
          }
          await expectSocketError(a.socket.joinChat(randomUUID(), DIRECT, true, false), DM_NOT_FOUND, format);
          await expectStillOpen(a);
          await a.close();
          await b.close();
        });

        it('the -1 notification goes out when the other user is only on the channel hidden, or not connected at all; a re-join does not repeat it', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const a = await connect(alice);
          const b = await connect(bob);
          const chan = directChannel(alice, bob);
          await join(b, alice.user_id, DIRECT, { hidden: true });
          await expectQuiet(b, 'a hidden join');
          // Bob is on it hidden: alice's join still asks him (and bob hears her join).
          const pa = (await joinAlone(a, alice, chan, bob.user_id, DIRECT)).self;
          await expectPresence(b, chan, { joins: [pa] }, 'bob (hidden) hears alice join');
          const n = await b.notifications.next(WAIT_MS, 'the -1 notification despite the hidden presence');
          assert.deepEqual([n.code, n.subject, n.sender_id], [-1, `${alice.username} wants to chat`, alice.user_id]);
          // A re-join is not a new join: nothing is sent.
          await join(a, bob.user_id, DIRECT);
          await expectQuiet(b, 'a re-join sends nothing');

          // Carol is offline: the notification is stored for her.
          await joinAlone(a, alice, directChannel(alice, carol), carol.user_id, DIRECT);
          const { notifications } = await client.listNotifications(carol, 100);
          assert.deepEqual(notifications.map((x) => [x.code, x.subject, x.content, x.sender_id]),
            [[-1, `${alice.username} wants to chat`, { username: alice.username }, alice.user_id]]);
          // Alice got bob's "wants to chat" from his hidden join (she was not on the channel then).
          const aliceNotes = (await client.listNotifications(alice, 100)).notifications;
          assert.deepEqual(aliceNotes.map((x) => [x.code, x.subject, x.sender_id]), [[-1, `${bob.username} wants to chat`, bob.user_id]],
            'a hidden joiner still asks the other user');
          await a.close();
          await b.close();
        });

        it('blocking: a user who blocked the joiner cannot be DM-joined; the block closes the direct chat without presence events', async () => {
          const [alice, bob] = await newUsers(2);
          const chan = directChannel(alice, bob);
          const name = uniqueRoom();
          const room = roomChannel(name);
          const a = await connect(alice);
          const b = await connect(bob);
          await expectQuiet(a, 'alice is connected');
          await expectQuiet(b, 'bob is connected');
          await joinAlone(a, alice, chan, bob.user_id, DIRECT);
          await b.notifications.next(WAIT_MS, 'the -1 notification');
          const pb = (await join(b, alice.user_id, DIRECT)).self;
          await expectPresence(a, chan, { joins: [pb] }, 'bob joins');
          await expectPresence(b, chan, { joins: [pb] }, 'bob hears his own join');
          await joinAlone(a, alice, room, name, ROOM);
          await join(b, name, ROOM);
          await expectPresence(a, room, { joins: [pb] }, 'bob joins the room');
          await expectPresence(b, room, { joins: [pb] }, 'bob hears his own room join');
          const before = await say(a, alice, chan, { before: 'the block' }, [a, b]);

          // Bob blocks alice (POST /v2/friend/block).
          assert.equal(await client.blockFriends(bob, [alice.user_id]), true);
          await expectQuiet(a, 'the direct chat is closed without events');
          await expectQuiet(b, 'the direct chat is closed without events (blocker)');
          await expectSocketError(a.socket.writeChatMessage(chan.id, { after: 'the block' }), NOT_JOINED_SEND, format);
          await expectSocketError(b.socket.writeChatMessage(chan.id, { after: 'the block' }), NOT_JOINED_SEND, format);
          // Alice cannot join it again.
          await expectSocketError(a.socket.joinChat(bob.user_id, DIRECT, true, false), DM_NOT_FOUND, format);
          // Other channels are untouched.
          await say(a, alice, room, { still: 'in the room' }, [a, b]);
          // The stored history stays.
          assert.deepEqual(await historyIds(bob, chan, { limit: 100 }), [before.message_id]);

          // Only the block of the joiner counts: bob (the blocker) may still open it, and as alice
          // is not on it, she is asked to chat.
          const again = await join(b, alice.user_id, DIRECT);
          assert.deepEqual(again.presences, [], 'alice is no longer on it');
          await expectPresence(b, chan, { joins: [again.self] }, 'bob hears his own join');
          const n = await a.notifications.next(WAIT_MS, "bob's -1 notification");
          assert.deepEqual([n.code, n.subject, n.sender_id], [-1, `${bob.username} wants to chat`, bob.user_id]);
          await expectQuiet(a, 'alice is not on the channel any more');
          await expectSocketError(a.socket.joinChat(bob.user_id, DIRECT, true, false), DM_NOT_FOUND, format);

          // Unblocking (deleting the edge) lets her in again.
          assert.equal(await client.deleteFriends(bob, [alice.user_id]), true);
          const rejoined = await join(a, bob.user_id, DIRECT);
          assert.deepEqual(rejoined.presences, [again.self]);
          await a.close();
          await b.close();
        });
      });

      describe('group channels', () => {
        it('members, admins and superadmins join 3.<group id>..; join requests, banned users, outsiders and unknown groups are refused', async () => {
          const [owner, admin, member, requester, banned, outsider] = await newUsers(6);
          const group = await openGroupWith(owner, [admin, member, banned]);
          assert.deepEqual(await client.promoteGroupUsers(owner, group.id, [admin.user_id]), {});
          assert.equal(await client.banGroupUsers(owner, group.id, [banned.user_id]), true);
          assert.equal(await client.updateGroup(owner, group.id, { open: false }), true);
          assert.equal(await client.joinGroup(requester, group.id), true); // a join request
          const chan = groupChannel(group.id);

          const o = await connect(owner);
          const ad = await connect(admin);
          const m = await connect(member);
          const po = (await joinAlone(o, owner, chan, group.id, GROUP)).self;
          const cad = await join(ad, group.id, GROUP);
          assert.deepEqual(cad, { id: chan.id, presences: [po], self: P(admin, cad.self.session_id), fields: chan.fields });
          const cm = await join(m, group.id.toUpperCase(), GROUP);
          assert.deepEqual(cm, { id: chan.id, presences: [po, cad.self].sort(bySession), self: P(member, cm.self.session_id), fields: chan.fields },
            'an upper-case group id names the same channel');
          for (const probe of [o, ad]) await expectPresence(probe, chan, { joins: [cad.self] }, 'the admin joins');
          for (const probe of [o, ad, m]) await expectPresence(probe, chan, { joins: [cm.self] }, 'the member joins');

          const hello = await say(m, member, chan, { message: 'hello group' }, [m, o, ad]);

          for (const who of [requester, banned, outsider]) {
            const probe = await connect(who);
            await expectSocketError(probe.socket.joinChat(group.id, GROUP, true, false), GROUP_NOT_FOUND, format);
            await expectSocketError(probe.socket.writeChatMessage(chan.id, { x: 1 }), NOT_JOINED_SEND, format);
            await expectError(client.listChannelMessages(who, chan.id, 10), HISTORY_GROUP_NOT_FOUND);
            await probe.close();
          }
          await expectSocketError(o.socket.joinChat(randomUUID(), GROUP, true, false), GROUP_NOT_FOUND, format);
          for (const target of ['not-a-uuid', `${group.id}x`, '1234']) {
            await expectSocketError(o.socket.joinChat(target, GROUP, true, false), GROUP_BAD_ID, format);
          }
          await expectError(client.listChannelMessages(owner, groupChannel(randomUUID()).id, 10), HISTORY_GROUP_NOT_FOUND);

          for (const who of [owner, admin, member]) {
            const { messages } = await client.listChannelMessages(who, chan.id, 100, false);
            assert.deepEqual(withoutTimes(listedOf(messages[0])), M(chan, member, hello.message_id, { message: 'hello group' }), 'members read the history');
          }
          await expectStillOpen(o);
          for (const probe of [o, ad, m]) await probe.close();
        });

        it('group events: join, add, promote, demote, kick, ban and leave write codes 3-9 (content {}, the affected user as sender) and reach the members on the channel', async () => {
          const [owner, u1, u2, u3, u4] = await newUsers(5);
          const group = await client.createGroup(owner, { name: `events-${hex(6)}`, open: true });
          const chan = groupChannel(group.id);
          const o = await connect(owner);
          await joinAlone(o, owner, chan, group.id, GROUP);

          // Each event reaches the owner's socket and every listed member socket still on the channel.
          const expected = [];
          const expectEvent = async (code, user, what, others = []) => {
            const m = messageOf(await o.messages.next(WAIT_MS, what), format);
            assert.deepEqual(withoutTimes(m), M(chan, user, m.message_id, {}, { code }), what);
            assert.equal(m.update_time, m.create_time, `${what}: update_time = create_time`);
            expected.push(M(chan, user, m.message_id, {}, { code }));
            for (const probe of others) {
              const got = await expectMessage(probe, M(chan, user, m.message_id, {}, { code }), `${what} (another member)`);
              assert.equal(got.create_time, m.create_time);
            }
          };
          // A member's socket on the group channel.
          const onChannel = async (session) => {
            const probe = await connect(session);
            const ch = await join(probe, group.id, GROUP);
            // Removed members taken off the channel earlier may show up first as leaves.
            for (;;) {
              const evt = presenceEventOf(await o.presences.next(WAIT_MS, `${session.username} joins the channel`), format);
              if (evt.joins.length === 0) continue;
              assert.deepEqual(evt, { channel_id: chan.id, joins: [ch.self], leaves: [], fields: chan.fields }, `${session.username} joins the channel`);
              break;
            }
            await expectPresence(probe, chan, { joins: [ch.self] }, `${session.username} hears the own join`);
            return probe;
          };

          assert.equal(await client.joinGroup(u1, group.id), true);
          await expectEvent(GROUP_JOIN, u1, 'u1 joins the open group');
          const p1 = await onChannel(u1);
          assert.equal(await client.addGroupUsers(owner, group.id, [u2.user_id]), true);
          await expectEvent(GROUP_ADD, u2, 'u2 is added', [p1]);
          const p2 = await onChannel(u2);

          assert.deepEqual(await client.promoteGroupUsers(owner, group.id, [u1.user_id]), {});
          await expectEvent(GROUP_PROMOTE, u1, 'u1 is promoted', [p1, p2]);
          assert.equal(await client.demoteGroupUsers(owner, group.id, [u1.user_id]), true);
          await expectEvent(GROUP_DEMOTE, u1, 'u1 is demoted', [p1, p2]);
          assert.equal(await client.kickGroupUsers(owner, group.id, [u2.user_id]), true);
          await expectEvent(GROUP_KICK, u2, 'u2 is kicked', [p1]);
          assert.equal(await client.joinGroup(u3, group.id), true);
          await expectEvent(GROUP_JOIN, u3, 'u3 joins', [p1]);
          const p3 = await onChannel(u3);
          assert.equal(await client.banGroupUsers(owner, group.id, [u3.user_id]), true);
          await expectEvent(GROUP_BAN, u3, 'u3 is banned', [p1]);

          // A join request writes nothing; accepting it (adding the user) is an add.
          assert.equal(await client.updateGroup(owner, group.id, { open: false }), true);
          assert.equal(await client.joinGroup(u4, group.id), true);
          await expectNoMessages(o, 'a join request is not a group event');
          assert.equal(await client.addGroupUsers(owner, group.id, [u4.user_id]), true);
          await expectEvent(GROUP_ADD, u4, 'the join request is accepted', [p1]);

          assert.equal(await client.leaveGroup(u1, group.id), true);
          await expectEvent(GROUP_LEAVE, u1, 'u1 leaves');
          // (Presence events, such as removed members taken off the channel, are not checked here.)
          await expectNoMessages(o, 'one message per event');

          // The same messages, in order, in the history; content "{}" in the raw answer.
          const page = await client.listChannelMessages(owner, chan.id, 100);
          assert.deepEqual(page.messages.map((m) => withoutTimes(listedOf(m))), expected);
          const raw = await rawHistory(owner, chan.id, '?limit=100');
          assert.equal(raw.status, 200, raw.text);
          assert.deepEqual(raw.json().messages.map((m) => [m.code, m.content, m.sender_id, m.username]),
            expected.map((m) => [m.code, '{}', m.sender_id, m.username]));
          assert.deepEqual(await historyIds(u4, chan, { limit: 100 }), expected.map((m) => m.message_id), 'the accepted member reads it all');

          // The kicked, banned and departed users are off the channel and out of its history.
          for (const [probe, what] of [[p2, 'kicked'], [p3, 'banned'], [p1, 'departed']]) {
            await expectSocketError(probe.socket.writeChatMessage(chan.id, { still: 'here?' }), NOT_JOINED_SEND, format);
            await expectSocketError(probe.socket.joinChat(group.id, GROUP, true, false), GROUP_NOT_FOUND, format);
            assert.equal(probe.adapter.isOpen(), true, `the ${what} member's socket stays open`);
          }
          for (const gone of [u1, u2, u3]) await expectError(client.listChannelMessages(gone, chan.id, 10), HISTORY_GROUP_NOT_FOUND);
          for (const probe of [o, p1, p2, p3]) await probe.close();
        });
      });

      describe('history', () => {
        // Five messages m1..m5 in a room, oldest first.
        async function fiveMessages() {
          const [alice, reader] = await newUsers(2);
          const name = uniqueRoom('history');
          const chan = roomChannel(name);
          const a = await connect(alice);
          await joinAlone(a, alice, chan, name, ROOM);
          const ids = [];
          for (let i = 1; i <= 5; i += 1) ids.push((await say(a, alice, chan, { n: i })).message_id);
          return { alice, reader, a, chan, ids };
        }

        it('limit defaults to 1, oldest first; next_cursor pages on, prev_cursor (only with a cursor) pages back; forward=false is newest first', async () => {
          const { reader, a, chan, ids } = await fiveMessages();
          const [m1, m2, m3, m4, m5] = ids;

          const first = await client.listChannelMessages(reader, chan.id);
          assert.deepEqual(first.messages.map((m) => m.message_id), [m1], 'the default limit is 1, oldest first');
          assert.equal(typeof first.next_cursor, 'string');
          assert.equal(first.prev_cursor, undefined, 'no prev_cursor without a cursor');
          assert.equal(typeof first.cacheable_cursor, 'string');

          const p1 = await client.listChannelMessages(reader, chan.id, 2, true);
          assert.deepEqual(p1.messages.map((m) => m.message_id), [m1, m2]);
          assert.equal(p1.prev_cursor, undefined);
          const p2 = await client.listChannelMessages(reader, chan.id, 2, true, p1.next_cursor);
          assert.deepEqual(p2.messages.map((m) => m.message_id), [m3, m4]);
          assert.equal(typeof p2.prev_cursor, 'string', 'a paged listing has a prev_cursor');
          const p3 = await client.listChannelMessages(reader, chan.id, 2, true, p2.next_cursor);
          assert.deepEqual(p3.messages.map((m) => m.message_id), [m5]);
          assert.equal(p3.next_cursor, undefined, 'no next_cursor after the last message');
          assert.equal(typeof p3.prev_cursor, 'string');

          // Back from page 2: page 1 again, in the requested order, and on to page 2 from there.
          const back = await client.listChannelMessages(reader, chan.id, 2, true, p2.prev_cursor);
          assert.deepEqual(back.messages.map((m) => m.message_id), [m1, m2]);
          assert.equal(back.prev_cursor, undefined, 'nothing before the first page');
          const forth = await client.listChannelMessages(reader, chan.id, 2, true, back.next_cursor);
          assert.deepEqual(forth.messages.map((m) => m.message_id), [m3, m4]);
          const back3 = await client.listChannelMessages(reader, chan.id, 2, true, p3.prev_cursor);
          assert.deepEqual(back3.messages.map((m) => m.message_id), [m3, m4]);

          // Newest first.
          const b1 = await client.listChannelMessages(reader, chan.id, 2, false);
          assert.deepEqual(b1.messages.map((m) => m.message_id), [m5, m4]);
          const b2 = await client.listChannelMessages(reader, chan.id, 2, false, b1.next_cursor);
          assert.deepEqual(b2.messages.map((m) => m.message_id), [m3, m2]);
          const b3 = await client.listChannelMessages(reader, chan.id, 2, false, b2.next_cursor);
          assert.deepEqual(b3.messages.map((m) => m.message_id), [m1]);
          assert.equal(b3.next_cursor, undefined);
          const bBack = await client.listChannelMessages(reader, chan.id, 2, false, b2.prev_cursor);
          assert.deepEqual(bBack.messages.map((m) => m.message_id), [m5, m4]);
          assert.deepEqual(await historyIds(reader, chan, { limit: 1, forward: false }), [m5]);

          const all = await client.listChannelMessages(reader, chan.id, 100);
          assert.deepEqual(all.messages.map((m) => m.message_id), ids);
          assert.equal(all.next_cursor, undefined);
          assert.equal(all.prev_cursor, undefined);
          assert.ok(all.messages.every((m) => m.persistent === true && m.code === 0), 'listed messages are persistent chat messages');
          await a.close();
        });

        it('cacheable_cursor: after the last returned message; a later call with it returns only newer messages, and with nothing new the cursor comes back', async () => {
          const { alice, reader, a, chan, ids } = await fiveMessages();
          const all = await client.listChannelMessages(reader, chan.id, 100, true);
          assert.deepEqual(all.messages.map((m) => m.message_id), ids);
          const cacheable = all.cacheable_cursor;
          assert.equal(typeof cacheable, 'string');

          const nothing = await client.listChannelMessages(reader, chan.id, 100, true, cacheable);
          assert.deepEqual(nothing.messages, []);
          assert.equal(nothing.next_cursor, undefined);
          assert.equal(nothing.prev_cursor, undefined);
          assert.equal(nothing.cacheable_cursor, cacheable, 'no results: the incoming cursor comes back');

          const m6 = await say(a, alice, chan, { n: 6 });
          const m7 = await say(a, alice, chan, { n: 7 });
          const newer = await client.listChannelMessages(reader, chan.id, 100, true, cacheable);
          assert.deepEqual(newer.messages.map((m) => m.message_id), [m6.message_id, m7.message_id], 'only the newer messages');
          assert.deepEqual(await historyIds(reader, chan, { limit: 100, forward: true, cursor: newer.cacheable_cursor }), []);

          // A newest-first listing: the cacheable cursor is after its last (oldest) message, forward.
          const backward = await client.listChannelMessages(reader, chan.id, 2, false);
          assert.deepEqual(backward.messages.map((m) => m.message_id), [m7.message_id, m6.message_id]);
          assert.deepEqual(await historyIds(reader, chan, { limit: 100, forward: true, cursor: backward.cacheable_cursor }), [m7.message_id]);
          await expectError(client.listChannelMessages(reader, chan.id, 100, false, backward.cacheable_cursor), BAD_CURSOR);

          // A newest-first listing from a cursor with nothing left: its cursor comes back turned
          // forward. (A next_cursor stands at the last message returned, m2 here.)
          const [m1] = ids;
          const tail = await client.listChannelMessages(reader, chan.id, 6, false);
          assert.deepEqual(tail.messages.map((m) => m.message_id), [m7.message_id, m6.message_id, ...ids.slice(1).reverse()]);
          assert.equal(typeof tail.next_cursor, 'string', 'm1 is left');
          assert.equal((ackOf(await a.socket.removeChatMessage(chan.id, m1), format)).code, CHAT_REMOVE);
          const empty = await client.listChannelMessages(reader, chan.id, 6, false, tail.next_cursor);
          assert.deepEqual(empty.messages, []);
          assert.equal(typeof empty.cacheable_cursor, 'string');
          assert.deepEqual(await historyIds(reader, chan, { limit: 100, forward: true, cursor: empty.cacheable_cursor }),
            [...ids.slice(2), m6.message_id, m7.message_id], 'the echoed cursor now lists forward, after where it stood (m2)');
          await a.close();
        });

        it('cursors of another channel or the other direction, and garbage: 400 "Cursor is invalid or expired."; limit outside 1..100: 400', async () => {
          const { reader, a, chan, ids } = await fiveMessages();
          const otherName = uniqueRoom('other');
          await join(a, otherName, ROOM);
          const otherAck = await a.socket.writeChatMessage(roomChannel(otherName).id, { other: true });
          await a.socket.writeChatMessage(roomChannel(otherName).id, { other: 2 });
          assert.match(otherAck.message_id, UUID_RE);
          const other = await client.listChannelMessages(reader, roomChannel(otherName).id, 1);
          assert.equal(typeof other.next_cursor, 'string');

          const mine = await client.listChannelMessages(reader, chan.id, 2, true);
          await expectError(client.listChannelMessages(reader, chan.id, 2, true, other.next_cursor), BAD_CURSOR);
          await expectError(client.listChannelMessages(reader, chan.id, 2, true, other.cacheable_cursor), BAD_CURSOR);
          await expectError(client.listChannelMessages(reader, chan.id, 2, false, mine.next_cursor), BAD_CURSOR);
          const backward = await client.listChannelMessages(reader, chan.id, 2, false);
          await expectError(client.listChannelMessages(reader, chan.id, 2, true, backward.next_cursor), BAD_CURSOR);
          for (const cursor of ['not a cursor', '!!!', b64url('hello'), b64url('{}'), b64('{}'), b64url(randomUUID()), `${mine.next_cursor}x`]) {
            await expectError(client.listChannelMessages(reader, chan.id, 2, true, cursor), BAD_CURSOR);
          }
          // The right cursor still works.
          assert.deepEqual(await historyIds(reader, chan, { limit: 2, forward: true, cursor: mine.next_cursor }), ids.slice(2, 4));

          for (const limit of [0, -1, 101, 1000]) {
            await expectError(client.listChannelMessages(reader, chan.id, limit), BAD_LIMIT);
          }
          assert.deepEqual(await historyIds(reader, chan, { limit: 100 }), ids);
          await a.close();
        });

        it('who may read: a room anyone (without joining), a group its members, a direct chat its two users; malformed ids: 400 "Invalid channel ID."', async () => {
          const [alice, bob, carol] = await newUsers(3);
          const group = await openGroupWith(alice, [bob]);
          const a = await connect(alice);
          const name = uniqueRoom();
          const room = roomChannel(name);
          await joinAlone(a, alice, room, name, ROOM);
          const r = await say(a, alice, room, { where: 'room' });
          const gchan = groupChannel(group.id);
          await joinAlone(a, alice, gchan, group.id, GROUP);
          const g = await say(a, alice, gchan, { where: 'group' });
          const dchan = directChannel(alice, bob);
          await joinAlone(a, alice, dchan, bob.user_id, DIRECT);
          const d = await say(a, alice, dchan, { where: 'dm' });

          for (const who of [alice, bob, carol]) {
            assert.deepEqual(await historyIds(who, room, { limit: 10 }), [r.message_id], 'anyone reads a room');
          }
          for (const who of [alice, bob]) {
            const { messages } = await client.listChannelMessages(who, gchan.id, 10);
            assert.deepEqual(messages.map((m) => [m.code, m.sender_id, m.message_id]),
              [[GROUP_JOIN, bob.user_id, messages[0]?.message_id], [CHAT, alice.user_id, g.message_id]], 'members read the group (bob\'s join first)');
            assert.deepEqual(await historyIds(who, dchan, { limit: 10 }), [d.message_id], 'the two users read their chat');
          }
          await expectError(client.listChannelMessages(carol, gchan.id, 10), HISTORY_GROUP_NOT_FOUND);
          await expectError(client.listChannelMessages(carol, dchan.id, 10), HISTORY_DM_NOT_FOUND);

          // Sagi-shi passes the bare group id as the channel id; that is not a channel id.
          for (const id of [group.id, name, '2..', '2...', `5...${name}`, `2.x..${name}`, '3.not-a-uuid..', `3.${group.id}.x.`,
            `4.${alice.user_id}.${bob.user_id}.x`, `2...${'r'.repeat(65)}`]) {
            await expectError(client.listChannelMessages(alice, id, 10), BAD_CHANNEL_ID);
          }

          // A channel nobody wrote to: no messages and no cursors (the raw answer is {}).
          const silent = await client.listChannelMessages(carol, roomChannel(uniqueRoom('silent')).id, 10);
          assert.deepEqual(silent, { messages: [], next_cursor: undefined, prev_cursor: undefined, cacheable_cursor: undefined });
          await a.close();
        });
      });

      describe('walk-throughs', () => {
        it('Realtime Chat document: join with socket.send, presence bookkeeping, code 0 on chat messages, leave, peek at the history with a cursor', async () => {
          const [viewer, fan1, fan2, fan3] = await newUsers(4);
          const name = `PizzaFans-${hex(4)}`;
          const chan = roomChannel(name);
          const v = await connect(viewer);
          const f1 = await connect(fan1);
          await join(f1, name, ROOM);
          const pf1 = presenceEventOf(await f1.presences.next(), format).joins[0];

          // "Join chat": socket.send({ channel_join }) answers the envelope with `channel`.
          const response = await v.socket.send({ channel_join: { type: 1, target: name, persistence: true, hidden: false } });
          const channel = channelOf(response.channel, format);
          assert.equal(channel.id, chan.id, '"You can now send messages to channel id"');
          // "List online users": the initial list, then the presence events.
          let onlineUsers = [...channel.presences];
          assert.deepEqual(onlineUsers, [pf1], 'the others already there, not self');
          const track = (evt) => {
            const e = presenceEventOf(evt, format);
            onlineUsers = onlineUsers.filter((u) => !e.leaves.some((l) => l.session_id === u.session_id)).concat(e.joins);
          };
          track(await v.presences.next(WAIT_MS, 'own join'));
          onlineUsers = onlineUsers.filter((u) => u.session_id !== channel.self.session_id); // "Remove your own user from list"
          await f1.presences.next();

          const f2 = await connect(fan2);
          const f3 = await connect(fan3);
          const pf2 = (await join(f2, name, ROOM)).self;
          track(await v.presences.next(WAIT_MS, 'fan2 joins'));
          await f2.presences.next(WAIT_MS, "fan2's own join");
          const pf3 = (await join(f3, name, ROOM, { hidden: true })).self;
          assert.ok(pf3);
          await f1.close();
          track(await v.presences.next(WAIT_MS, 'fan1 disconnects'));
          await expectPresence(f2, chan, { leaves: [pf1] }, 'fan2 hears fan1 leave');
          await expectQuiet(v, 'the hidden fan3 is never announced');
          assert.deepEqual(onlineUsers, [pf2], 'fan2 is the only visible user online');

          // "Send messages" with socket.send, then the ack; messages carry code 0 ("chat message").
          const data = { some: 'data' };
          const sent = await v.socket.send({ channel_message_send: { channel_id: chan.id, content: data } });
          const ack = ackOf(sent.channel_message_ack, format);
          assert.deepEqual([ack.code, ack.username, ack.persistent], [0, viewer.username, true]);
          const received = messageOf(await f2.messages.next(WAIT_MS, 'fan2 receives the message'), format);
          assert.deepEqual([received.code, received.content, received.message_id], [0, data, ack.message_id]);
          await v.messages.next();
          await f3.messages.next();

          // "Leave chat" with socket.send.
          assertAck(await v.socket.send({ channel_leave: { channel_id: chan.id } }));
          await expectPresence(f2, chan, { leaves: [channel.self] }, 'fan2 hears the viewer leave');

          // "Message history": a user who never joined peeks, 10 at a time with next_cursor.
          for (let i = 0; i < 11; i += 1) await f2.socket.writeChatMessage(chan.id, { i });
          const outsider = (await newUsers(1))[0];
          const firstPage = await client.listChannelMessages(outsider, chan.id, 10, true);
          assert.equal(firstPage.messages.length, 10);
          assert.deepEqual(firstPage.messages[0].content, data);
          assert.ok(firstPage.next_cursor, 'a cursor when there are more messages');
          const secondPage = await client.listChannelMessages(outsider, chan.id, 10, true, firstPage.next_cursor);
          assert.deepEqual(secondPage.messages.map((m) => m.content), [{ i: 9 }, { i: 10 }]);
          assert.equal(secondPage.next_cursor, undefined);
          for (const probe of [v, f2, f3]) await probe.close();
        });

        it('Sagi-shi: a non-persistent match room, group chat with history and cacheable cursor, a direct invitation, and an edited accusation', async () => {
          const [player, red, blue, friend] = await newUsers(4);
          const group = await openGroupWith(player, [red, blue]);
          const p = await connect(player);
          const r = await connect(red);
          const bl = await connect(blue);

          // "Joining dynamic rooms": the match id as the room name, persistence false.
          const roomName = `${randomUUID()}.`;
          const match = roomChannel(roomName);
          const cp = await join(p, roomName, ROOM, { persistence: false, hidden: false });
          assert.deepEqual(cp, { id: match.id, presences: [], self: P(player, cp.self.session_id, false), fields: match.fields });
          await p.presences.next();
          await join(r, roomName, ROOM, { persistence: false });
          await p.presences.next();
          await r.presences.next();

          // "Sending messages": a chat text and an emote.
          await say(p, player, match, { message: 'I think Red is the imposter!' }, [p, r], { persistent: false });
          await say(p, player, match, { emote: 'point', emoteTarget: red.user_id }, [p, r], { persistent: false });
          assert.deepEqual(await historyIds(player, match, { limit: 100 }), [], 'the match chat is not kept');

          // "Joining group chat": persistent.
          const gchan = groupChannel(group.id);
          await joinAlone(p, player, gchan, group.id, GROUP, { persistence: true, hidden: false });
          const cr = await join(r, group.id, GROUP, { persistence: true, hidden: false });
          await p.presences.next();
          await r.presences.next();
          assert.equal(cr.id, gchan.id);
          const accusation = await say(p, player, gchan, { message: 'I think Red is the imposter!' }, [p, r]);

          // "Updating messages": quickly edited to confuse the others.
          const edit = ackOf(await p.socket.updateChatMessage(gchan.id, accusation.message_id, { message: 'I think BLUE is the imposter!' }), format);
          assert.equal(edit.code, CHAT_UPDATE);
          for (const probe of [p, r]) {
            await expectMessage(probe, M(gchan, player, accusation.message_id, { message: 'I think BLUE is the imposter!' }, { code: CHAT_UPDATE }), 'the edit');
          }
          await say(r, red, gchan, { message: "It wasn't me!" }, [r, p]);

          // "Listing message history": limit 100, forward, by username; then the cacheable cursor.
          // The group's history starts with red's and blue's joins (code 3, content {}).
          const result = await client.listChannelMessages(blue, gchan.id, 100, true);
          assert.deepEqual(result.messages.map((m) => [m.username, m.code, m.content]), [
            [red.username, GROUP_JOIN, {}], [blue.username, GROUP_JOIN, {}],
            [player.username, 0, { message: 'I think BLUE is the imposter!' }], [red.username, 0, { message: "It wasn't me!" }],
          ]);
          const cursor = result.cacheable_cursor;
          const quiet = await client.listChannelMessages(blue, gchan.id, 100, true, cursor);
          assert.deepEqual(quiet.messages, []);
          const cb = await join(bl, group.id, GROUP);
          assert.equal(cb.presences.length, 2);
          await bl.presences.next();
          await p.presences.next();
          await r.presences.next();
          const late = await say(bl, blue, gchan, { message: 'Blue? Never.' }, [bl, p, r]);
          const nextResults = await client.listChannelMessages(blue, gchan.id, 100, true, cursor);
          assert.deepEqual(nextResults.messages.map((m) => m.message_id), [late.message_id]);

          // "Creating matches": invite a friend by direct message.
          const dchan = directChannel(player, friend);
          const f = await connect(friend);
          await expectQuiet(f, 'the friend is connected');
          await joinAlone(p, player, dchan, friend.user_id, DIRECT);
          const invite = await f.notifications.next(WAIT_MS, 'the friend is asked to chat');
          assert.equal(invite.subject, `${player.username} wants to chat`);
          const messageData = { message: `Hey ${friend.username}, join me for a match!`, matchId: roomName };
          await say(p, player, dchan, messageData);
          const fc = await join(f, player.user_id, DIRECT);
          assert.equal(fc.id, dchan.id);
          const [invitation] = (await client.listChannelMessages(friend, dchan.id, 1, false)).messages;
          assert.deepEqual(invitation.content, messageData, 'the friend finds the match id in the message');
          for (const probe of [p, r, bl, f]) await probe.close();
        });
      });
    });
  }

  describe('raw JSON socket', () => {
    // Reads n frames: the reply (with cid) and pushes may come in any order.
    const frames = async (raw, n, what) => {
      const out = [];
      for (let i = 0; i < n; i += 1) out.push(await raw.next(WAIT_MS, `${what} (${i + 1}/${n})`));
      return out;
    };
    const reply = (list, cid) => {
      const found = list.filter((f) => f.cid === cid);
      assert.equal(found.length, 1, `one reply with cid ${cid} in ${JSON.stringify(list)}`);
      return found[0];
    };
    const pushes = (list) => list.filter((f) => f.cid === undefined);

    it('join, send, update, remove and leave: exact frames; code 0 and persistent are sent; times keep sub-second precision', async () => {
      const [alice, bob] = await newUsers(2);
      const name = uniqueRoom('raw');
      const id = `2...${name}`;
      const a = await openRaw(server, { token: alice.token });
      const b = await openRaw(server, { token: bob.token });

      // A join without persistence / hidden: persistent and visible; no presences key when alone.
      a.send({ cid: '1', channel_join: { target: name, type: 1 } });
      let got = await frames(a, 2, 'the join reply and the own join event');
      const self = reply(got, '1').channel?.self;
      assert.match(String(self?.session_id), UUID_RE);
      const pa = { user_id: alice.user_id, session_id: self.session_id, username: alice.username, persistence: true };
      assert.deepEqual(reply(got, '1'), { cid: '1', channel: { id, self: pa, room_name: name } });
      assert.deepEqual(pushes(got), [{ channel_presence_event: { channel_id: id, joins: [pa], room_name: name } }]);

      // Bob joins without persistence: "persistence" is left out of his presence.
      b.send({ cid: '1', channel_join: { target: name, type: 1, persistence: false } });
      got = await frames(b, 2, "bob's join");
      const pb = { user_id: bob.user_id, session_id: reply(got, '1').channel.self.session_id, username: bob.username };
      assert.deepEqual(reply(got, '1'), { cid: '1', channel: { id, presences: [pa], self: pb, room_name: name } });
      assert.deepEqual(pushes(got), [{ channel_presence_event: { channel_id: id, joins: [pb], room_name: name } }]);
      assert.deepEqual(await a.next(), { channel_presence_event: { channel_id: id, joins: [pb], room_name: name } });

      // Send: the content goes out as it came in.
      a.send({ cid: '2', channel_message_send: { channel_id: id, content: '{"message":"hi","n":[1,2]}' } });
      got = await frames(a, 2, 'the ack and the message');
      const ack = reply(got, '2').channel_message_ack;
      assert.match(String(ack?.message_id), UUID_RE);
      assert.match(ack.create_time, CHAT_TIME_RE);
      const sentAck = {
        channel_id: id, message_id: ack.message_id, code: 0, username: alice.username,
        create_time: ack.create_time, update_time: ack.create_time, persistent: true, room_name: name,
      };
      assert.deepEqual(reply(got, '2'), { cid: '2', channel_message_ack: sentAck });
      const push = {
        channel_message: {
          channel_id: id, message_id: ack.message_id, code: 0, sender_id: alice.user_id, username: alice.username,
          content: '{"message":"hi","n":[1,2]}', create_time: ack.create_time, update_time: ack.create_time, persistent: true, room_name: name,
        },
      };
      assert.deepEqual(pushes(got), [push]);
      assert.deepEqual(await b.next(), push, 'bob receives the same message');

      // Bob's (non-persistent) message: persistent false is sent too.
      b.send({ cid: '2', channel_message_send: { channel_id: id, content: '{}' } });
      got = await frames(b, 2, "bob's ack and message");
      const bobAck = reply(got, '2').channel_message_ack;
      assert.deepEqual(bobAck, {
        channel_id: id, message_id: bobAck.message_id, code: 0, username: bob.username,
        create_time: bobAck.create_time, update_time: bobAck.create_time, persistent: false, room_name: name,
      });
      assert.equal((await a.next()).channel_message.persistent, false);

      // Update: code 1, the stored create_time in the push.
      a.send({ cid: '3', channel_message_update: { channel_id: id, message_id: ack.message_id, content: '{"message":"edited"}' } });
      got = await frames(a, 2, 'the update ack and push');
      const updAck = reply(got, '3').channel_message_ack;
      assert.match(updAck.create_time, CHAT_TIME_RE);
      assert.match(updAck.update_time, CHAT_TIME_RE);
      assert.deepEqual({ ...updAck, create_time: undefined, update_time: undefined }, {
        channel_id: id, message_id: ack.message_id, code: 1, username: alice.username, persistent: true, room_name: name,
        create_time: undefined, update_time: undefined,
      });
      const updPush = pushes(got)[0].channel_message;
      assert.deepEqual({ ...updPush, update_time: undefined }, {
        channel_id: id, message_id: ack.message_id, code: 1, sender_id: alice.user_id, username: alice.username,
        content: '{"message":"edited"}', create_time: ack.create_time, update_time: undefined, persistent: true, room_name: name,
      });
      assert.match(updPush.update_time, CHAT_TIME_RE);
      assert.ok(Date.parse(updPush.update_time) >= Date.parse(ack.create_time));
      assert.deepEqual(await b.next(), pushes(got)[0]);

      // The history: the stored message with the new content, code 0 and the ack's create_time.
      const res = await rawHistory(bob, id, '?limit=10');
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['cacheable_cursor', 'messages'], 'no next_cursor / prev_cursor on a single page');
      assert.equal(body.messages.length, 1);
      const [listed] = body.messages;
      assert.deepEqual({ ...listed, content: JSON.parse(listed.content), update_time: undefined }, {
        channel_id: id, message_id: ack.message_id, code: 0, sender_id: alice.user_id, username: alice.username,
        content: { message: 'edited' }, create_time: ack.create_time, update_time: undefined, persistent: true, room_name: name,
      });
      assert.match(listed.update_time, CHAT_TIME_RE);
      assert.ok(Date.parse(listed.update_time) >= Date.parse(listed.create_time));
      // Sub-second precision: the acks, pushes and the history have fractions (a zero fraction
      // would be left out, which happens once in a million).
      assert.match(ack.create_time, FRACTION_RE, 'the ack keeps the sub-second part');
      assert.match(listed.create_time, FRACTION_RE, 'the history keeps the sub-second part');

      // Remove: code 2, content "{}".
      a.send({ cid: '4', channel_message_remove: { channel_id: id, message_id: ack.message_id } });
      got = await frames(a, 2, 'the remove ack and push');
      assert.deepEqual({ ...reply(got, '4').channel_message_ack, create_time: undefined, update_time: undefined }, {
        channel_id: id, message_id: ack.message_id, code: 2, username: alice.username, persistent: true, room_name: name,
        create_time: undefined, update_time: undefined,
      });
      const rmPush = pushes(got)[0].channel_message;
      assert.deepEqual([rmPush.code, rmPush.content, rmPush.sender_id, rmPush.message_id], [2, '{}', alice.user_id, ack.message_id]);
      assert.deepEqual(await b.next(), pushes(got)[0]);
      const afterRemove = await rawHistory(bob, id, '?limit=10');
      assert.deepEqual({ status: afterRemove.status, body: afterRemove.json() }, { status: 200, body: {} }, 'nothing left: {}');

      // Leave: an empty ack; bob hears the leave.
      a.send({ cid: '5', channel_leave: { channel_id: id } });
      assert.deepEqual(await a.next(), { cid: '5' });
      assert.deepEqual(await b.next(), { channel_presence_event: { channel_id: id, leaves: [pa], room_name: name } });
      a.send({ cid: '6', ping: {} });
      assert.deepEqual(await a.next(), { cid: '6', pong: {} }, 'the leaver hears nothing of its own leave');
      await a.close();
      await b.close();
    });

    it('a direct chat and a group channel: the user_id_one / user_id_two and group_id fields; the -1 notification frame', async () => {
      const [alice, bob] = await newUsers(2);
      const [one, two] = [alice.user_id, bob.user_id].sort();
      const dmId = `4.${one}.${two}.`;
      const b = await openRaw(server, { token: bob.token });
      b.send({ cid: '0', ping: {} });
      assert.deepEqual(await b.next(), { cid: '0', pong: {} });
      const a = await openRaw(server, { token: alice.token });
      a.send({ cid: '1', channel_join: { target: bob.user_id, type: 2 } });
      let got = await frames(a, 2, 'the DM join');
      const pa = reply(got, '1').channel.self;
      assert.deepEqual(reply(got, '1'), { cid: '1', channel: { id: dmId, self: pa, user_id_one: one, user_id_two: two } });
      assert.deepEqual(pushes(got), [{ channel_presence_event: { channel_id: dmId, joins: [pa], user_id_one: one, user_id_two: two } }]);

      const note = await b.next(WAIT_MS, 'the notification push');
      const n = note.notifications?.notifications?.[0];
      assert.match(String(n?.id), UUID_RE);
      assert.deepEqual(note, {
        notifications: {
          notifications: [{
            id: n.id, subject: `${alice.username} wants to chat`, content: n.content,
            code: -1, sender_id: alice.user_id, create_time: n.create_time, persistent: true,
          }],
        },
      });
      assert.deepEqual(JSON.parse(n.content), { username: alice.username });

      a.send({ cid: '2', channel_message_send: { channel_id: dmId, content: '{"dm":true}' } });
      got = await frames(a, 2, 'the DM message');
      const ack = reply(got, '2').channel_message_ack;
      assert.deepEqual(Object.keys(ack).sort(),
        ['channel_id', 'code', 'create_time', 'message_id', 'persistent', 'update_time', 'user_id_one', 'user_id_two', 'username']);
      assert.deepEqual([ack.user_id_one, ack.user_id_two], [one, two]);
      assert.deepEqual(pushes(got)[0].channel_message.sender_id, alice.user_id);

      const group = await openGroupWith(alice, []);
      const gid = `3.${group.id}..`;
      a.send({ cid: '3', channel_join: { target: group.id, type: 3 } });
      got = await frames(a, 2, 'the group join');
      assert.deepEqual(reply(got, '3'), { cid: '3', channel: { id: gid, self: pa, group_id: group.id } });
      assert.deepEqual(pushes(got), [{ channel_presence_event: { channel_id: gid, joins: [pa], group_id: group.id } }]);
      a.send({ cid: '4', channel_message_send: { channel_id: gid, content: '{}' } });
      got = await frames(a, 2, 'the group message');
      assert.equal(reply(got, '4').channel_message_ack.group_id, group.id);
      assert.equal(pushes(got)[0].channel_message.group_id, group.id);
      await a.close();
      await b.close();
    });

    it('content: any JSON object text (leading whitespace too); not JSON or not an object: error; exact error envelopes and the socket stays open', async () => {
      const alice = await newUser();
      const name = uniqueRoom();
      const id = `2...${name}`;
      const a = await openRaw(server, { token: alice.token });
      a.send({ cid: '1', channel_join: { target: name } }); // no type: a room
      const got = await frames(a, 2, 'the join');
      assert.equal(reply(got, '1').channel.id, id);

      let cid = 10;
      for (const content of ['{"a":{"b":[1,{"c":null}]}}', '  {"spaced": true}', '\n{}']) {
        cid += 1;
        a.send({ cid: String(cid), channel_message_send: { channel_id: id, content } });
        const two = await frames(a, 2, `send ${JSON.stringify(content)}`);
        assert.equal(reply(two, String(cid)).channel_message_ack.code, 0);
        assert.equal(pushes(two)[0].channel_message.content, content, 'the content is delivered as sent');
      }
      const errors = [
        [{ channel_message_send: { channel_id: id, content: '{"a":' } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: id, content: '' } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: id } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: id, content: '[{}]' } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: id, content: '"{}"' } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: id, content: 'hello' } }, BAD_CONTENT],
        [{ channel_message_send: { channel_id: 'nope', content: '{}' } }, BAD_CHANNEL],
        [{ channel_message_send: { channel_id: `2...${uniqueRoom()}`, content: '{}' } }, NOT_JOINED_SEND],
        [{ channel_message_update: { channel_id: id, message_id: 'nope', content: '{}' } }, BAD_MESSAGE_ID],
        [{ channel_message_update: { channel_id: id, message_id: randomUUID(), content: '{"x"' } }, BAD_CONTENT],
        [{ channel_message_update: { channel_id: id, message_id: randomUUID(), content: '{}' } }, UPDATE_NOT_FOUND],
        [{ channel_message_remove: { channel_id: id, message_id: randomUUID() } }, REMOVE_NOT_FOUND],
        [{ channel_message_remove: { channel_id: id } }, BAD_MESSAGE_ID],
        [{ channel_leave: { channel_id: '' } }, BAD_CHANNEL],
        [{ channel_leave: {} }, BAD_CHANNEL],
        [{ channel_join: {} }, INVALID_TARGET],
        [{ channel_join: { target: name, type: 4 } }, BAD_TYPE],
        [{ channel_join: { target: 'x'.repeat(65), type: 1 } }, NAME_LENGTH],
        [{ channel_join: { target: 'bell\u0007', type: 1 } }, NAME_CONTROL],
        [{ channel_join: { target: NIL_UUID, type: 2 } }, DM_BAD_USER],
        [{ channel_join: { target: randomUUID(), type: 2 } }, DM_NOT_FOUND],
        [{ channel_join: { target: 'group', type: 3 } }, GROUP_BAD_ID],
        [{ channel_join: { target: randomUUID(), type: 3 } }, GROUP_NOT_FOUND],
      ];
      for (const [message, error] of errors) {
        cid += 1;
        a.send({ cid: String(cid), ...message });
        assert.deepEqual(await a.next(WAIT_MS, JSON.stringify(message)), { cid: String(cid), error }, JSON.stringify(message));
      }
      a.send({ cid: '99', ping: {} });
      assert.deepEqual(await a.next(), { cid: '99', pong: {} }, 'the socket is still open and nothing else was sent');
      await a.close();
    });
  });

  it('GET /v2/channel/{channel_id} needs a bearer token: 401 "Auth token required"', async () => {
    expectErrorResponse(await rawHistory(undefined, `2...${uniqueRoom()}`), AUTH_REQUIRED);
  });
});
