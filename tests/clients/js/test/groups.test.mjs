// Groups (nakama-semantics.md §4, §6; nakama-wire.md §1.2, §8.2, §8.3): create, update, delete,
// join (open groups and join requests), leave, add / accept, kick, ban, promote, demote, and the
// three listings (ListGroups, ListGroupUsers, ListUserGroups), between several users, with the
// notifications they cause (-4 added to a group, -5 join request) and the groups' edge_count.
// Also the groups walk-through of the Sagi-shi JavaScript guide.
//
// Every test makes its own users and groups, with unique names, so the tests are independent and
// may run in any order on the shared server. Every wait is an event with a deadline, never a sleep.
//
// nakama-js facts this file relies on (client.ts of @heroiclabs/nakama-js 2.8.0):
//  * createGroup / listGroups / listUserGroups parse the group's metadata ("{}" -> {}) and turn a
//    missing edge_count into 0; `open` is passed through as sent.
//  * listGroupUsers / listUserGroups turn a missing state into 0 and answer an empty list when the
//    server omits it; listGroups sets `cursor` only when the page has groups.
//  * listGroups only takes name, cursor and limit: the lang_tag / members / open filters are sent
//    with request().
//  * promoteGroupUsers resolves with the response body ({}), not with true like the other calls.
//  * listUserGroups(session, userId, state, limit, cursor) passes state and limit to the generated
//    API in swapped positions (see userGroups() below).

// lib/ws.mjs first: it installs the global WebSocket and must load before lib/server.mjs.
import { Queue, WAIT_MS, closeAllSockets, createSocket } from '../lib/ws.mjs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, TIMESTAMP_RE, UUID_RE, bearer, expectError, expectErrorResponse, randomDeviceId,
  randomUsername, request, invalid, AUTH_REQUIRED, hex, b64url,
} from '../lib/util.mjs';

const notFound = (message) => ({ status: 404, code: Code.NOT_FOUND, message });
const PERMISSION_DENIED = notFound('Group not found or permission denied.');
const UPDATE_DENIED = notFound("Group not found or you're not allowed to update.");
const DELETE_DENIED = invalid("Group not found or you're not allowed to delete.");
const GROUP_NOT_FOUND = notFound('Group not found.');
const GROUP_FULL = invalid('Group is full.');
const BAD_GROUP_ID = invalid('Group ID must be a valid ID.');
const BAD_USER_ID = invalid('User ID must be a valid ID.');
const USERS_NOT_FOUND = invalid('One or more users not found.');
const LAST_SUPERADMIN = invalid('Cannot leave group when you are the last superadmin.');
const BAD_LIMIT = invalid('Invalid limit - limit must be between 1 and 100.');
const BAD_STATE = invalid('Invalid state - state must be between 0 and 4.');
const BAD_CURSOR = invalid('Cursor is invalid.');
const MALFORMED_CURSOR = invalid('Malformed cursor was used.');
const NAME_COMBINED = invalid('name filter cannot be combined with any other filter');

// Membership states (nakama-semantics.md §4.1).
const SUPERADMIN = 0;
const ADMIN = 1;
const MEMBER = 2;
const JOIN_REQUEST = 3;
const BANNED = 4;

// A group name no other test uses: lowercase, no LIKE wildcard.
const uniqueName = (label = 'group') => `${label}-${hex(6)}`;
const GARBAGE_CURSORS = ['not a cursor', '!!!', '%%%', b64url('hello'), b64url('{}'), b64url('"x"'), b64url(randomUUID())];

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byNote = (a, b) => a.code - b.code || cmp(a.subject, b.subject) || cmp(a.sender_id, b.sender_id);

// The notifications group operations send (§4.4, §4.5).
const joinRequestNote = (group, requester) => ({
  code: -5,
  subject: `User ${requester.username} wants to join your group`,
  content: { group_id: group.id, username: requester.username },
  sender_id: requester.user_id,
});
const addedNote = (group, by) => ({
  code: -4,
  subject: `You've been added to group ${group.name}`,
  content: { group_id: group.id, name: group.name },
  sender_id: by.user_id,
});

describe('groups', () => {
  let server;
  let client;

  const newUser = () => client.authenticateDevice(randomDeviceId(), true, randomUsername());
  const newUsers = (n) => Promise.all(Array.from({ length: n }, newUser));
  const auth = (session) => ({ headers: { Authorization: bearer(session.token) } });

  // createGroup with a unique name unless one is given.
  const create = (session, fields = {}) => client.createGroup(session, { name: uniqueName(), ...fields });

  // nakama-js 2.8.0 Client.listUserGroups(session, userId, state, limit, cursor) calls the
  // generated apiClient.listUserGroups(token, userId, limit, state, cursor) as
  // (token, userId, state, limit, cursor): a game's listUserGroups(session, id, 2) asks for
  // limit=2 and no state. This helper hands the client the two values swapped, so the intended
  // ones reach the server. The client's own behaviour is pinned in "listUserGroups" below.
  const userGroups = (session, userId, { state, limit, cursor } = {}) => client.listUserGroups(session, userId, limit, state, cursor);

  // A group's members as [user id, state] pairs in the server's order; one page, no cursor.
  async function membersOf(viewer, group, state) {
    const page = await client.listGroupUsers(viewer, group.id, state);
    assert.equal(page.cursor, undefined, `one page, no cursor: ${JSON.stringify(page.cursor)}`);
    return page.group_users.map((gu) => [gu.user.id, gu.state]);
  }

  // A user's groups as [group id, state] pairs in the server's order; one page, no cursor.
  async function groupsOf(session, state) {
    const page = await userGroups(session, session.user_id, { state });
    assert.equal(page.cursor, undefined, `one page, no cursor: ${JSON.stringify(page.cursor)}`);
    return page.user_groups.map((ug) => [ug.group.id, ug.state]);
  }

  // The group with exactly this name as listGroups shows it, or undefined.
  async function groupNamed(session, name) {
    const { groups } = await client.listGroups(session, name, undefined, 100);
    assert.ok(groups.length <= 1, `at most one group is named ${name}: ${JSON.stringify(groups)}`);
    return groups[0];
  }
  async function edgeCountOf(session, group) {
    const g = await groupNamed(session, group.name);
    assert.ok(g, `group ${group.name} exists`);
    return g.edge_count;
  }

  // The caller's stored notifications (optionally of one code), reduced and sorted.
  async function notesOf(session, code) {
    const { notifications } = await client.listNotifications(session, 100);
    for (const n of notifications) {
      assert.match(n.id, UUID_RE);
      assert.equal(n.persistent, true, `group notifications are persistent: ${JSON.stringify(n)}`);
      assert.match(n.create_time, TIMESTAMP_RE);
    }
    return notifications
      .filter((n) => code === undefined || n.code === code)
      .map(({ code: c, subject, content, sender_id }) => ({ code: c, subject, content, sender_id }))
      .sort(byNote);
  }
  const sortedNotes = (...notes) => [...notes].sort(byNote);

  // An open group with an owner (superadmin) and the given users joined as members, in order.
  async function openGroupWith(owner, users, fields = {}) {
    const group = await create(owner, { open: true, ...fields });
    for (const u of users) assert.equal(await client.joinGroup(u, group.id), true);
    return group;
  }

  // The owner's group where `admins` joined first and were promoted, then `members` joined; closed
  // afterwards unless `open`. Only id and name of the returned group are up to date.
  async function staffedGroup(owner, { admins = [], members = [], open = true } = {}) {
    const group = await openGroupWith(owner, [...admins, ...members]);
    if (admins.length > 0) {
      assert.deepEqual(await client.promoteGroupUsers(owner, group.id, admins.map((a) => a.user_id)), {});
    }
    if (!open) assert.equal(await client.updateGroup(owner, group.id, { open: false }), true);
    return group;
  }

  const rawGet = async (session, path) => {
    const res = await request(server.baseUrl, 'GET', path, auth(session));
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

  describe('createGroup', () => {
    it('returns the group; the creator is its only member, as superadmin', async () => {
      const owner = await newUser();
      const name = uniqueName('imposters');
      const group = await client.createGroup(owner, {
        name,
        description: 'A group for people who love playing the imposter.',
        lang_tag: 'fr',
        avatar_url: 'https://example.org/g.png',
        open: true,
        max_count: 50,
      });
      assert.match(group.id, UUID_RE);
      assert.deepEqual({ ...group, id: undefined, create_time: undefined, update_time: undefined }, {
        id: undefined,
        creator_id: owner.user_id,
        name,
        description: 'A group for people who love playing the imposter.',
        lang_tag: 'fr',
        avatar_url: 'https://example.org/g.png',
        metadata: {},
        open: true,
        edge_count: 1,
        max_count: 50,
        create_time: undefined,
        update_time: undefined,
      });
      assert.match(group.create_time, TIMESTAMP_RE);
      assert.match(group.update_time, TIMESTAMP_RE);

      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
      const { user_groups: [mine] } = await userGroups(owner, owner.user_id);
      assert.equal(mine.state, SUPERADMIN);
      assert.deepEqual(mine.group, group, 'listUserGroups shows the same group');
      assert.deepEqual(await groupNamed(owner, name), group, 'and so does listGroups');
    });

    it('raw answer with the defaults: closed (open false is sent), lang "en", max_count 100, metadata "{}", no description or avatar', async () => {
      const owner = await newUser();
      const name = uniqueName();
      const res = await request(server.baseUrl, 'POST', '/v2/group', { ...auth(owner), body: { name } });
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(),
        ['create_time', 'creator_id', 'edge_count', 'id', 'lang_tag', 'max_count', 'metadata', 'name', 'open', 'update_time'], res.text);
      assert.match(body.id, UUID_RE);
      assert.deepEqual({ creator_id: body.creator_id, name: body.name, lang_tag: body.lang_tag, metadata: body.metadata, open: body.open, edge_count: body.edge_count, max_count: body.max_count },
        { creator_id: owner.user_id, name, lang_tag: 'en', metadata: '{}', open: false, edge_count: 1, max_count: 100 });
      assert.match(body.create_time, TIMESTAMP_RE);
      assert.equal(body.update_time, body.create_time);

      // max_count 0 means the default too; an empty description or avatar is no description.
      const g = await create(owner, { max_count: 0, description: '', avatar_url: '' });
      assert.equal(g.max_count, 100);
      assert.equal(g.open, false);
      assert.equal(g.lang_tag, 'en');
      assert.equal(g.description, undefined);
      assert.equal(g.avatar_url, undefined);
    });

    it('name required: 400 "Group name must be set."; negative max_count: 400 "Group max count must be >= 1 when set."', async () => {
      const owner = await newUser();
      await expectError(client.createGroup(owner, {}), invalid('Group name must be set.'));
      await expectError(client.createGroup(owner, { name: '', open: true }), invalid('Group name must be set.'));
      await expectError(create(owner, { max_count: -1 }), invalid('Group max count must be >= 1 when set.'));
      assert.deepEqual(await groupsOf(owner), [], 'nothing was created');
      assert.equal((await create(owner, { max_count: 1 })).max_count, 1);
    });

    it('a name in use: 409 code 6 "Group name is in use."; names are case-sensitive', async () => {
      const [owner, other] = await newUsers(2);
      const name = uniqueName('taken');
      await create(owner, { name });
      const IN_USE = { status: 409, code: Code.ALREADY_EXISTS, message: 'Group name is in use.' };
      await expectError(create(other, { name }), IN_USE);
      await expectError(create(owner, { name, open: true }), IN_USE);
      assert.deepEqual(await groupsOf(other), []);
      const upper = await create(other, { name: name.toUpperCase() });
      assert.equal(upper.name, name.toUpperCase());
    });
  });

  describe('updateGroup', () => {
    it('the superadmin and admins change name, description, lang_tag, avatar_url and open', async () => {
      const [owner, admin] = await newUsers(2);
      const group = await staffedGroup(owner, { admins: [admin] });
      const name = uniqueName('renamed');
      assert.equal(await client.updateGroup(owner, group.id, {
        name, description: 'new description', lang_tag: 'de', avatar_url: 'https://example.org/new.png', open: false,
      }), true);
      let [{ group: g }] = (await userGroups(owner, owner.user_id)).user_groups;
      assert.deepEqual({ name: g.name, description: g.description, lang_tag: g.lang_tag, avatar_url: g.avatar_url, open: g.open },
        { name, description: 'new description', lang_tag: 'de', avatar_url: 'https://example.org/new.png', open: false });
      assert.equal(g.creator_id, owner.user_id);
      assert.equal(g.max_count, 100);
      assert.equal(g.create_time, group.create_time);
      assert.ok(Date.parse(g.update_time) >= Date.parse(group.update_time), 'update_time moves forward');
      assert.equal(await groupNamed(owner, group.name), undefined, 'the old name is free');

      // An admin may update too; only the given fields change.
      assert.equal(await client.updateGroup(admin, group.id, { description: 'by the admin', open: true }), true);
      [{ group: g }] = (await userGroups(owner, owner.user_id)).user_groups;
      assert.deepEqual({ name: g.name, description: g.description, lang_tag: g.lang_tag, open: g.open },
        { name, description: 'by the admin', lang_tag: 'de', open: true });
    });

    it('an empty description or avatar_url clears it (raw: the key is gone)', async () => {
      const owner = await newUser();
      const group = await create(owner, { description: 'something', avatar_url: 'https://example.org/a.png' });
      assert.equal(await client.updateGroup(owner, group.id, { description: '', avatar_url: '' }), true);
      const body = await rawGet(owner, `/v2/user/${owner.user_id}/group`);
      const raw = body.user_groups[0].group;
      assert.equal(Object.hasOwn(raw, 'description'), false, JSON.stringify(raw));
      assert.equal(Object.hasOwn(raw, 'avatar_url'), false, JSON.stringify(raw));
      assert.equal(raw.name, group.name);
    });

    it('members, outsiders and unknown groups: 404 code 5 "Group not found or you\'re not allowed to update."', async () => {
      const [owner, member, outsider, requester] = await newUsers(4);
      const group = await openGroupWith(owner, [member]);
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);
      for (const session of [member, outsider, requester]) {
        await expectError(client.updateGroup(session, group.id, { description: 'nope' }), UPDATE_DENIED);
      }
      await expectError(client.updateGroup(owner, randomUUID(), { description: 'nope' }), UPDATE_DENIED);
      const [{ group: g }] = (await userGroups(owner, owner.user_id)).user_groups;
      assert.equal(g.description, undefined, 'nothing changed');
    });

    it('name or lang_tag set to "": 400; a name in use: 400 code 3 "Group name is in use."; no field: 400', async () => {
      const owner = await newUser();
      const group = await create(owner);
      const other = await create(owner);
      await expectError(client.updateGroup(owner, group.id, { name: '' }), invalid('Group name cannot be empty.'));
      await expectError(client.updateGroup(owner, group.id, { lang_tag: '' }), invalid('Group language cannot be empty.'));
      await expectError(client.updateGroup(owner, group.id, { name: other.name }), invalid('Group name is in use.'));
      await expectError(client.updateGroup(owner, group.id, {}), invalid('Specify at least one field to update.'));
      assert.equal((await groupNamed(owner, group.name)).id, group.id, 'the group keeps its name');
      assert.equal((await groupNamed(owner, other.name)).id, other.id);
    });
  });

  describe('deleteGroup', () => {
    it('the superadmin deletes the group: it is gone from every listing, and its name is free', async () => {
      const [owner, member] = await newUsers(2);
      const group = await openGroupWith(owner, [member]);
      assert.equal(await client.deleteGroup(owner, group.id), true);

      assert.deepEqual(await membersOf(owner, group), []);
      assert.deepEqual(await groupsOf(owner), []);
      assert.deepEqual(await groupsOf(member), []);
      assert.equal(await groupNamed(owner, group.name), undefined);
      await expectError(client.joinGroup(member, group.id), GROUP_NOT_FOUND);
      await expectError(client.updateGroup(owner, group.id, { description: 'x' }), UPDATE_DENIED);
      await expectError(client.deleteGroup(owner, group.id), DELETE_DENIED);
      assert.equal((await create(member, { name: group.name })).name, group.name, 'the name can be used again');
    });

    it('admins, members, outsiders and unknown groups: 400 code 3 "Group not found or you\'re not allowed to delete."', async () => {
      const [owner, admin, member, outsider] = await newUsers(4);
      const group = await staffedGroup(owner, { admins: [admin], members: [member] });
      for (const session of [admin, member, outsider]) {
        await expectError(client.deleteGroup(session, group.id), DELETE_DENIED);
      }
      await expectError(client.deleteGroup(owner, randomUUID()), DELETE_DENIED);
      assert.deepEqual(await membersOf(outsider, group),
        [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [member.user_id, MEMBER]]);
    });
  });

  describe('joinGroup', () => {
    it('open group: the user becomes a member at once, edge_count +1; joining again changes nothing', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await create(owner, { open: true });
      assert.equal(await client.joinGroup(alice, group.id), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [alice.user_id, MEMBER]]);
      assert.deepEqual(await groupsOf(alice), [[group.id, MEMBER]]);
      assert.equal(await edgeCountOf(owner, group), 2);

      assert.equal(await client.joinGroup(alice, group.id), true);
      assert.equal(await client.joinGroup(owner, group.id), true, 'the superadmin joining again');
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [alice.user_id, MEMBER]]);
      assert.equal(await edgeCountOf(owner, group), 2);
      assert.deepEqual(await notesOf(owner), [], 'an open join notifies nobody');
    });

    it('closed group: a join request (state 3), edge_count unchanged; every superadmin and admin is notified (-5)', async () => {
      const [owner, superadmin2, admin, member, requester] = await newUsers(5);
      const group = await openGroupWith(owner, [superadmin2, admin, member]);
      await client.promoteGroupUsers(owner, group.id, [superadmin2.user_id, admin.user_id]);
      await client.promoteGroupUsers(owner, group.id, [superadmin2.user_id]);
      await client.updateGroup(owner, group.id, { open: false });
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [superadmin2.user_id, SUPERADMIN], [admin.user_id, ADMIN], [member.user_id, MEMBER]]);

      assert.equal(await client.joinGroup(requester, group.id), true);
      assert.deepEqual(await membersOf(owner, group, JOIN_REQUEST), [[requester.user_id, JOIN_REQUEST]]);
      assert.deepEqual(await groupsOf(requester), [[group.id, JOIN_REQUEST]]);
      assert.equal(await edgeCountOf(owner, group), 4, 'a join request is not counted');
      for (const staff of [owner, superadmin2, admin]) {
        assert.deepEqual(await notesOf(staff, -5), [joinRequestNote(group, requester)]);
      }
      assert.deepEqual(await notesOf(member), [], 'members are not told');
      assert.deepEqual(await notesOf(requester), []);

      // Asking again: nothing changes, nobody is told twice.
      assert.equal(await client.joinGroup(requester, group.id), true);
      assert.deepEqual(await membersOf(owner, group, JOIN_REQUEST), [[requester.user_id, JOIN_REQUEST]]);
      assert.deepEqual(await notesOf(owner, -5), [joinRequestNote(group, requester)]);
    });

    it('an unknown group: 404 code 5 "Group not found."', async () => {
      const alice = await newUser();
      await expectError(client.joinGroup(alice, randomUUID()), GROUP_NOT_FOUND);
      assert.deepEqual(await groupsOf(alice), []);
    });

    it('a full group: 400 "Group is full.", open or closed', async () => {
      const [owner, alice, bob] = await newUsers(3);
      const open = await create(owner, { open: true, max_count: 2 });
      await client.joinGroup(alice, open.id);
      await expectError(client.joinGroup(bob, open.id), GROUP_FULL);
      assert.deepEqual(await membersOf(owner, open), [[owner.user_id, SUPERADMIN], [alice.user_id, MEMBER]]);

      const closed = await create(owner, { open: false, max_count: 1 });
      await expectError(client.joinGroup(bob, closed.id), GROUP_FULL);
      assert.deepEqual(await membersOf(owner, closed), [[owner.user_id, SUPERADMIN]]);
      assert.deepEqual(await groupsOf(bob), []);
      assert.deepEqual(await notesOf(owner), []);
    });
  });

  describe('leaveGroup', () => {
    it('a member leaves: edge_count -1, gone from both listings; leaving again succeeds', async () => {
      const [owner, alice, bob] = await newUsers(3);
      const group = await openGroupWith(owner, [alice, bob]);
      assert.equal(await client.leaveGroup(alice, group.id), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [bob.user_id, MEMBER]]);
      assert.deepEqual(await groupsOf(alice), []);
      assert.equal(await edgeCountOf(owner, group), 2);
      assert.equal(await client.leaveGroup(alice, group.id), true);
      assert.equal(await edgeCountOf(owner, group), 2);
      // She can come back.
      await client.joinGroup(alice, group.id);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [bob.user_id, MEMBER], [alice.user_id, MEMBER]]);
    });

    it('leaving withdraws a join request; edge_count does not move', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await create(owner);
      await client.joinGroup(alice, group.id);
      assert.equal(await client.leaveGroup(alice, group.id), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
      assert.deepEqual(await groupsOf(alice), []);
      assert.equal(await edgeCountOf(owner, group), 1);
    });

    it('the last superadmin cannot leave while others remain: 400; with another superadmin they can', async () => {
      const [owner, alice, bob] = await newUsers(3);
      const group = await staffedGroup(owner, { admins: [alice], members: [bob] });
      await expectError(client.leaveGroup(owner, group.id), LAST_SUPERADMIN);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [alice.user_id, ADMIN], [bob.user_id, MEMBER]]);

      await client.promoteGroupUsers(owner, group.id, [alice.user_id]);
      assert.equal(await client.leaveGroup(owner, group.id), true);
      assert.deepEqual(await membersOf(alice, group), [[alice.user_id, SUPERADMIN], [bob.user_id, MEMBER]]);
      assert.equal(await edgeCountOf(alice, group), 2);
      await expectError(client.leaveGroup(alice, group.id), LAST_SUPERADMIN);
    });

    it('the last superadmin leaving alone deletes the group', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await create(owner, { open: true });
      assert.equal(await client.leaveGroup(owner, group.id), true);
      assert.equal(await groupNamed(owner, group.name), undefined);
      assert.deepEqual(await groupsOf(owner), []);
      await expectError(client.joinGroup(alice, group.id), GROUP_NOT_FOUND);
    });

    it('an outsider or a banned user leaving: success, nothing changes', async () => {
      const [owner, outsider, banned] = await newUsers(3);
      const group = await openGroupWith(owner, [banned]);
      await client.banGroupUsers(owner, group.id, [banned.user_id]);
      assert.equal(await client.leaveGroup(outsider, group.id), true);
      assert.equal(await client.leaveGroup(banned, group.id), true);
      assert.deepEqual(await membersOf(owner, group, BANNED), [[banned.user_id, BANNED]], 'still banned');
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
    });
  });

  describe('addGroupUsers', () => {
    it('admins add users as members; each added user is notified (-4); adding again changes nothing', async () => {
      const [owner, admin, alice, bob, carol] = await newUsers(5);
      const group = await staffedGroup(owner, { admins: [admin], open: false });
      assert.equal(await client.addGroupUsers(owner, group.id, [alice.user_id, bob.user_id]), true);
      assert.equal(await client.addGroupUsers(admin, group.id, [carol.user_id]), true);

      assert.deepEqual(await membersOf(owner, group), [
        [owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [alice.user_id, MEMBER], [bob.user_id, MEMBER], [carol.user_id, MEMBER],
      ]);
      assert.equal(await edgeCountOf(owner, group), 5);
      assert.deepEqual(await notesOf(alice), [addedNote(group, owner)]);
      assert.deepEqual(await notesOf(bob), [addedNote(group, owner)]);
      assert.deepEqual(await notesOf(carol), [addedNote(group, admin)]);

      // Members, admins and the caller itself are skipped; an empty list is a no-op.
      assert.equal(await client.addGroupUsers(owner, group.id, [alice.user_id, admin.user_id, owner.user_id]), true);
      assert.equal(await client.addGroupUsers(owner, group.id, []), true);
      assert.equal(await edgeCountOf(owner, group), 5);
      assert.deepEqual(await notesOf(alice), [addedNote(group, owner)], 'no second notification');
      assert.deepEqual(await notesOf(admin, -4), [], 'the admin joined by itself');
    });

    it('adding a user with a join request accepts it (3 -> 2), edge_count +1, the user is notified (-4)', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await create(owner);
      await client.joinGroup(alice, group.id);
      assert.equal(await client.addGroupUsers(owner, group.id, [alice.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [alice.user_id, MEMBER]]);
      assert.deepEqual(await groupsOf(alice), [[group.id, MEMBER]]);
      assert.equal(await edgeCountOf(owner, group), 2);
      assert.deepEqual(await notesOf(alice), [addedNote(group, owner)]);
    });

    it('members, outsiders and unknown groups: 404 code 5 "Group not found or permission denied."', async () => {
      const [owner, member, requester, outsider, target] = await newUsers(5);
      const group = await openGroupWith(owner, [member]);
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);
      for (const session of [member, requester, outsider]) {
        await expectError(client.addGroupUsers(session, group.id, [target.user_id]), PERMISSION_DENIED);
      }
      await expectError(client.addGroupUsers(owner, randomUUID(), [target.user_id]), PERMISSION_DENIED);
      assert.deepEqual(await groupsOf(target), []);
      assert.deepEqual(await notesOf(target), []);
    });

    it('an unknown user: 400 "One or more users not found." and nobody is added; a bad id: 400 "User ID must be a valid ID."', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await create(owner);
      await expectError(client.addGroupUsers(owner, group.id, [alice.user_id, randomUUID()]), USERS_NOT_FOUND);
      await expectError(client.addGroupUsers(owner, group.id, [alice.user_id, 'not-a-uuid']), BAD_USER_ID);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
      assert.deepEqual(await notesOf(alice), []);
    });

    it('more users than max_count allows: 400 "Group is full." and nobody is added', async () => {
      const [owner, alice, bob, carol] = await newUsers(4);
      const group = await create(owner, { max_count: 3 });
      await expectError(client.addGroupUsers(owner, group.id, [alice.user_id, bob.user_id, carol.user_id]), GROUP_FULL);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
      assert.deepEqual(await notesOf(alice), []);
      assert.equal(await client.addGroupUsers(owner, group.id, [alice.user_id, bob.user_id]), true);
      assert.equal(await edgeCountOf(owner, group), 3);
      await expectError(client.addGroupUsers(owner, group.id, [carol.user_id]), GROUP_FULL);
    });
  });

  describe('kickGroupUsers', () => {
    it('a superadmin kicks members, admins and other superadmins, never itself', async () => {
      const [owner, super2, admin, member, stays] = await newUsers(5);
      const group = await staffedGroup(owner, { admins: [super2, admin], members: [member, stays] });
      await client.promoteGroupUsers(owner, group.id, [super2.user_id]);
      assert.equal(await edgeCountOf(owner, group), 5);

      assert.equal(await client.kickGroupUsers(owner, group.id, [super2.user_id, admin.user_id, member.user_id, owner.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [stays.user_id, MEMBER]]);
      assert.equal(await edgeCountOf(owner, group), 2);
      for (const kicked of [super2, admin, member]) assert.deepEqual(await groupsOf(kicked), []);
      // A kicked user may join again.
      await client.joinGroup(member, group.id);
      assert.deepEqual(await groupsOf(member), [[group.id, MEMBER]]);
    });

    it('an admin kicks members and join requests; admins and superadmins are skipped', async () => {
      const [owner, admin, admin2, member, requester] = await newUsers(5);
      const group = await staffedGroup(owner, { admins: [admin, admin2], members: [member] });
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);

      assert.equal(await client.kickGroupUsers(admin, group.id, [owner.user_id, admin2.user_id, member.user_id, requester.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [admin2.user_id, ADMIN]]);
      assert.equal(await edgeCountOf(owner, group), 3);
    });

    it('rejecting a join request is kicking it: edge_count does not move, the user may ask again', async () => {
      const [owner, requester] = await newUsers(2);
      const group = await create(owner);
      await client.joinGroup(requester, group.id);
      assert.equal(await client.kickGroupUsers(owner, group.id, [requester.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
      assert.deepEqual(await groupsOf(requester), []);
      assert.equal(await edgeCountOf(owner, group), 1);
      await client.joinGroup(requester, group.id);
      assert.deepEqual(await groupsOf(requester), [[group.id, JOIN_REQUEST]]);
    });

    it('outsiders, unknown ids and empty lists: success, nothing changes', async () => {
      const [owner, member, outsider] = await newUsers(3);
      const group = await openGroupWith(owner, [member]);
      assert.equal(await client.kickGroupUsers(owner, group.id, [outsider.user_id, randomUUID()]), true);
      assert.equal(await client.kickGroupUsers(owner, group.id, []), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [member.user_id, MEMBER]]);
    });

    it('members, outsiders and unknown groups: 404 "Group not found or permission denied."; a bad user id: 400', async () => {
      const [owner, member, other, outsider] = await newUsers(4);
      const group = await openGroupWith(owner, [member, other]);
      await expectError(client.kickGroupUsers(member, group.id, [other.user_id]), PERMISSION_DENIED);
      await expectError(client.kickGroupUsers(outsider, group.id, [other.user_id]), PERMISSION_DENIED);
      await expectError(client.kickGroupUsers(owner, randomUUID(), [other.user_id]), PERMISSION_DENIED);
      await expectError(client.kickGroupUsers(owner, group.id, ['bad-id']), BAD_USER_ID);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [member.user_id, MEMBER], [other.user_id, MEMBER]]);
    });
  });

  describe('banGroupUsers', () => {
    it('banning several users in one call bans all of them (Kizuna fix); they leave the member list and show with state 4', async () => {
      const [owner, m1, m2, m3, requester, stays] = await newUsers(6);
      const group = await openGroupWith(owner, [m1, m2, m3, stays]);
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);
      assert.equal(await edgeCountOf(owner, group), 5);

      assert.equal(await client.banGroupUsers(owner, group.id, [m1.user_id, m2.user_id, m3.user_id, requester.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [stays.user_id, MEMBER]]);
      assert.deepEqual((await membersOf(owner, group, BANNED)).sort(),
        [m1, m2, m3, requester].map((u) => [u.user_id, BANNED]).sort());
      assert.equal(await edgeCountOf(owner, group), 2, 'three members left the count; the join request never counted');
      for (const banned of [m1, m2, m3, requester]) {
        assert.deepEqual(await groupsOf(banned), [], 'a banned user\'s groups do not show the group');
      }
      // Raw: a banned user is listed with state 4 only on request.
      const raw = await rawGet(owner, `/v2/group/${group.id}/user?state=4`);
      assert.equal(raw.group_users.length, 4);
      assert.ok(raw.group_users.every((gu) => gu.state === 4), JSON.stringify(raw));
    });

    it('a banned user cannot join again (silent success) nor be added; kicking the ban lifts it', async () => {
      const [owner, admin, banned] = await newUsers(3);
      const group = await staffedGroup(owner, { admins: [admin], members: [banned] });
      await client.banGroupUsers(admin, group.id, [banned.user_id]);

      assert.equal(await client.joinGroup(banned, group.id), true);
      assert.equal(await client.addGroupUsers(owner, group.id, [banned.user_id]), true);
      assert.deepEqual(await membersOf(owner, group, BANNED), [[banned.user_id, BANNED]]);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN]]);
      assert.deepEqual(await groupsOf(banned), []);
      assert.deepEqual(await notesOf(banned), [], 'no -4 for a banned user');
      assert.equal(await edgeCountOf(owner, group), 2);

      // Unban = kick the ban (an admin may).
      assert.equal(await client.kickGroupUsers(admin, group.id, [banned.user_id]), true);
      assert.deepEqual(await membersOf(owner, group, BANNED), []);
      assert.equal(await client.joinGroup(banned, group.id), true);
      assert.deepEqual(await groupsOf(banned), [[group.id, MEMBER]]);
      assert.equal(await edgeCountOf(owner, group), 3);
    });

    it('an admin cannot ban admins or superadmins; users without a membership are not banned', async () => {
      const [owner, admin, admin2, outsider] = await newUsers(4);
      const group = await staffedGroup(owner, { admins: [admin, admin2] });
      assert.equal(await client.banGroupUsers(admin, group.id, [owner.user_id, admin2.user_id]), true);
      assert.equal(await client.banGroupUsers(owner, group.id, [outsider.user_id, randomUUID(), owner.user_id]), true);
      assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [admin2.user_id, ADMIN]]);
      assert.deepEqual(await membersOf(owner, group, BANNED), []);
      // The outsider may still join.
      await client.joinGroup(outsider, group.id);
      assert.deepEqual(await groupsOf(outsider), [[group.id, MEMBER]]);
    });

    it('members and outsiders: 404 "Group not found or permission denied."; a bad user id: 400', async () => {
      const [owner, member, other, outsider] = await newUsers(4);
      const group = await openGroupWith(owner, [member, other]);
      await expectError(client.banGroupUsers(member, group.id, [other.user_id]), PERMISSION_DENIED);
      await expectError(client.banGroupUsers(outsider, group.id, [other.user_id]), PERMISSION_DENIED);
      await expectError(client.banGroupUsers(owner, randomUUID(), [other.user_id]), PERMISSION_DENIED);
      await expectError(client.banGroupUsers(owner, group.id, ['bad-id']), BAD_USER_ID);
      assert.deepEqual(await membersOf(owner, group, BANNED), []);
    });
  });

  describe('promoteGroupUsers / demoteGroupUsers', () => {
    it('promote: a superadmin raises members to admin and admins to superadmin; join requests stay', async () => {
      const [owner, alice, bob, requester] = await newUsers(4);
      const group = await openGroupWith(owner, [alice, bob]);
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);

      assert.deepEqual(await client.promoteGroupUsers(owner, group.id, [alice.user_id, requester.user_id, owner.user_id]), {},
        'nakama-js resolves promoteGroupUsers with the body, {}');
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [alice.user_id, ADMIN], [bob.user_id, MEMBER], [requester.user_id, JOIN_REQUEST]]);
      await client.promoteGroupUsers(owner, group.id, [alice.user_id, bob.user_id]);
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [alice.user_id, SUPERADMIN], [bob.user_id, ADMIN], [requester.user_id, JOIN_REQUEST]]);
      // A superadmin is as high as it gets.
      await client.promoteGroupUsers(owner, group.id, [alice.user_id]);
      assert.deepEqual(await groupsOf(alice), [[group.id, SUPERADMIN]]);
      assert.equal(await edgeCountOf(owner, group), 3, 'promotions do not change the count');
    });

    it('promote: an admin raises members to admin but not admins to superadmin', async () => {
      const [owner, admin, admin2, member] = await newUsers(4);
      const group = await staffedGroup(owner, { admins: [admin, admin2], members: [member] });
      await client.promoteGroupUsers(admin, group.id, [admin2.user_id, member.user_id]);
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [admin2.user_id, ADMIN], [member.user_id, ADMIN]]);
    });

    it('demote: a superadmin lowers superadmins to admin and admins to member; members stay members', async () => {
      const [owner, super2, admin, member] = await newUsers(4);
      const group = await staffedGroup(owner, { admins: [super2, admin], members: [member] });
      await client.promoteGroupUsers(owner, group.id, [super2.user_id]);
      assert.equal(await client.demoteGroupUsers(owner, group.id, [super2.user_id, admin.user_id, member.user_id]), true);
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [super2.user_id, ADMIN], [admin.user_id, MEMBER], [member.user_id, MEMBER]]);
      // The caller itself is skipped (it would leave the group without a superadmin).
      await client.demoteGroupUsers(owner, group.id, [owner.user_id]);
      assert.deepEqual(await groupsOf(owner), [[group.id, SUPERADMIN]]);
    });

    it('demote: an admin lowers other admins to member, never superadmins; join requests stay', async () => {
      const [owner, admin, admin2, requester] = await newUsers(4);
      const group = await staffedGroup(owner, { admins: [admin, admin2] });
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);
      await client.demoteGroupUsers(admin, group.id, [owner.user_id, admin2.user_id, requester.user_id]);
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [admin2.user_id, MEMBER], [requester.user_id, JOIN_REQUEST]]);
    });

    it('demote with an empty list: 400 "User IDs must be set."', async () => {
      const [owner, admin] = await newUsers(2);
      const group = await staffedGroup(owner, { admins: [admin] });
      await expectError(client.demoteGroupUsers(owner, group.id, []), invalid('User IDs must be set.'));
      assert.deepEqual(await groupsOf(admin), [[group.id, ADMIN]]);
      // Promote with an empty list is a no-op.
      assert.deepEqual(await client.promoteGroupUsers(owner, group.id, []), {});
    });

    it('members, join requests and outsiders: 404 "Group not found or permission denied."; a bad user id: 400', async () => {
      const [owner, admin, member, requester, outsider] = await newUsers(5);
      const group = await staffedGroup(owner, { admins: [admin], members: [member] });
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(requester, group.id);
      for (const session of [member, requester, outsider]) {
        await expectError(client.promoteGroupUsers(session, group.id, [member.user_id]), PERMISSION_DENIED);
        await expectError(client.demoteGroupUsers(session, group.id, [admin.user_id]), PERMISSION_DENIED);
      }
      await expectError(client.promoteGroupUsers(owner, randomUUID(), [member.user_id]), PERMISSION_DENIED);
      await expectError(client.demoteGroupUsers(owner, randomUUID(), [admin.user_id]), PERMISSION_DENIED);
      await expectError(client.promoteGroupUsers(owner, group.id, ['bad-id']), BAD_USER_ID);
      await expectError(client.demoteGroupUsers(owner, group.id, ['bad-id']), BAD_USER_ID);
      assert.deepEqual(await membersOf(owner, group),
        [[owner.user_id, SUPERADMIN], [admin.user_id, ADMIN], [member.user_id, MEMBER], [requester.user_id, JOIN_REQUEST]]);
    });
  });

  it('every route with a group id checks it: 400 "Group ID must be a valid ID."', async () => {
    const [owner, alice] = await newUsers(2);
    const group = await create(owner);
    const ids = [alice.user_id];
    for (const bad of ['not-a-uuid', '1234', `${group.id}x`]) {
      await expectError(client.updateGroup(owner, bad, { description: 'x' }), BAD_GROUP_ID);
      await expectError(client.deleteGroup(owner, bad), BAD_GROUP_ID);
      await expectError(client.joinGroup(alice, bad), BAD_GROUP_ID);
      await expectError(client.leaveGroup(alice, bad), BAD_GROUP_ID);
      await expectError(client.addGroupUsers(owner, bad, ids), BAD_GROUP_ID);
      await expectError(client.kickGroupUsers(owner, bad, ids), BAD_GROUP_ID);
      await expectError(client.banGroupUsers(owner, bad, ids), BAD_GROUP_ID);
      await expectError(client.promoteGroupUsers(owner, bad, ids), BAD_GROUP_ID);
      await expectError(client.demoteGroupUsers(owner, bad, ids), BAD_GROUP_ID);
      await expectError(client.listGroupUsers(owner, bad), BAD_GROUP_ID);
    }
    assert.deepEqual(await membersOf(owner, group), [[owner.user_id, SUPERADMIN]]);
  });

  describe('listGroups', () => {
    // Three groups named <prefix>-a, -b, -c (lowercase, so every collation orders them alike).
    async function threeGroups(owner, label = 'imp') {
      const prefix = `${label}-${hex(6)}`;
      const groups = [];
      for (const suffix of ['b', 'a', 'c']) groups.push(await create(owner, { name: `${prefix}-${suffix}`, open: true }));
      groups.sort((x, y) => cmp(x.name, y.name));
      return { prefix, groups };
    }
    const namesOf = (page) => page.groups.map((g) => g.name);

    it('name filter with %: a case-insensitive prefix search ordered by name; default limit 1; paging', async () => {
      const owner = await newUser();
      const { prefix, groups } = await threeGroups(owner);
      const names = groups.map((g) => g.name);

      const first = await client.listGroups(owner, `${prefix}%`);
      assert.deepEqual(namesOf(first), names.slice(0, 1), 'the default limit is 1');
      assert.equal(typeof first.cursor, 'string');
      assert.deepEqual(first.groups[0], groups[0], 'listed as created');

      const all = await client.listGroups(owner, `${prefix}%`, undefined, 100);
      assert.deepEqual(namesOf(all), names);
      assert.equal(all.cursor, undefined);
      assert.deepEqual(namesOf(await client.listGroups(owner, `${prefix.toUpperCase()}%`, undefined, 100)), names, 'case-insensitive');

      const p1 = await client.listGroups(owner, `${prefix}%`, undefined, 2);
      assert.deepEqual(namesOf(p1), names.slice(0, 2));
      assert.equal(typeof p1.cursor, 'string');
      const p2 = await client.listGroups(owner, `${prefix}%`, p1.cursor, 2);
      assert.deepEqual(namesOf(p2), names.slice(2));
      assert.equal(p2.cursor, undefined, 'no cursor after the last group');
    });

    it('name filter: without % the name must match whole; leading % and spaces are stripped (no infix search)', async () => {
      const owner = await newUser();
      const { prefix, groups } = await threeGroups(owner);
      const names = groups.map((g) => g.name);
      assert.deepEqual(namesOf(await client.listGroups(owner, names[1], undefined, 100)), [names[1]]);
      assert.deepEqual(namesOf(await client.listGroups(owner, names[1].toUpperCase(), undefined, 100)), [names[1]]);
      assert.deepEqual(namesOf(await client.listGroups(owner, prefix, undefined, 100)), [], 'a bare prefix is not a prefix search');
      assert.deepEqual(namesOf(await client.listGroups(owner, `%${prefix}%`, undefined, 100)), names);
      assert.deepEqual(namesOf(await client.listGroups(owner, `%% ${prefix}%`, undefined, 100)), names);
      assert.deepEqual(namesOf(await client.listGroups(owner, `  ${prefix}%`, undefined, 100)), names);
      const infix = prefix.slice(4); // the random part, without "imp-"
      assert.deepEqual(namesOf(await client.listGroups(owner, `%${infix}%`, undefined, 100)), [],
        'stripping the leading % makes it a prefix search that matches nothing');
      assert.deepEqual(namesOf(await client.listGroups(owner, `${prefix}-_`, undefined, 100)), names, '_ matches one character');
    });

    it('raw answer: {groups, cursor}; nothing found is {}', async () => {
      const owner = await newUser();
      const { prefix } = await threeGroups(owner);
      const body = await rawGet(owner, `/v2/group?name=${encodeURIComponent(`${prefix}%`)}&limit=2`);
      assert.deepEqual(Object.keys(body).sort(), ['cursor', 'groups']);
      assert.equal(body.groups[0].open, true);
      assert.equal(body.groups[0].metadata, '{}');
      assert.equal(body.groups[0].edge_count, 1);
      assert.deepEqual(await rawGet(owner, `/v2/group?name=${encodeURIComponent(`none-${hex(6)}%`)}`), {});
    });

    it('lang_tag, members and open filters (raw): every combination lists the matching groups', async () => {
      const [owner, joiner] = await newUsers(2);
      const lang = `x${hex(5)}`;
      const small = await create(owner, { lang_tag: lang, open: true });
      const big = await create(owner, { lang_tag: lang, open: true });
      const closed = await create(owner, { lang_tag: lang, open: false });
      await client.joinGroup(joiner, big.id);
      await client.joinGroup(joiner, closed.id); // a join request: closed keeps edge_count 1
      const ids = async (query) => ((await rawGet(owner, `/v2/group?lang_tag=${lang}&limit=100${query}`)).groups ?? []).map((g) => g.id).sort();
      const sorted = (...gs) => gs.map((g) => g.id).sort();

      assert.deepEqual(await ids(''), sorted(small, big, closed));
      assert.deepEqual(await ids('&members=1'), sorted(small, closed));
      assert.deepEqual(await ids('&members=2'), sorted(small, big, closed));
      assert.deepEqual(await ids('&open=true'), sorted(small, big));
      assert.deepEqual(await ids('&open=false'), sorted(closed));
      assert.deepEqual(await ids('&open=true&members=1'), sorted(small));
      assert.deepEqual(await ids('&open=false&members=1'), sorted(closed));
      assert.deepEqual(await ids('&open=false&members=2'), sorted(closed));

      // Without a lang_tag the filters still hold for whatever else the server has.
      const openOnes = (await rawGet(owner, '/v2/group?open=true&limit=100')).groups ?? [];
      assert.ok(openOnes.length > 0);
      assert.ok(openOnes.every((g) => g.open === true), JSON.stringify(openOnes.map((g) => g.open)));
      const smallOnes = (await rawGet(owner, '/v2/group?members=1&limit=100')).groups ?? [];
      assert.ok(smallOnes.length > 0);
      assert.ok(smallOnes.every((g) => g.edge_count <= 1), JSON.stringify(smallOnes.map((g) => g.edge_count)));
    });

    it('lang_tag filter pages with a cursor, ordered by edge_count then id', async () => {
      const [owner, joiner] = await newUsers(2);
      const lang = `y${hex(5)}`;
      const groups = [];
      for (let i = 0; i < 3; i += 1) groups.push(await create(owner, { lang_tag: lang, open: true }));
      await client.joinGroup(joiner, groups[0].id);
      const expected = [...groups.slice(1).map((g) => g.id).sort(), groups[0].id];

      const seen = [];
      let cursor;
      for (let i = 0; i < 3; i += 1) {
        const query = `/v2/group?lang_tag=${lang}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const body = await rawGet(owner, query);
        assert.equal(body.groups.length, 1, JSON.stringify(body));
        seen.push(body.groups[0].id);
        cursor = body.cursor;
        if (i < 2) assert.equal(typeof cursor, 'string', `page ${i + 1} has a cursor`);
      }
      assert.deepEqual(seen, expected);
      assert.equal(cursor, undefined, 'no cursor after the last group');
    });

    it('name combined with another filter: 400 "name filter cannot be combined with any other filter"', async () => {
      const owner = await newUser();
      for (const extra of ['lang_tag=en', 'members=10', 'open=true', 'open=false', 'lang_tag=en&open=true']) {
        const res = await request(server.baseUrl, 'GET', `/v2/group?name=abc%25&${extra}`, auth(owner));
        expectErrorResponse(res, NAME_COMBINED);
      }
    });

    it('limit outside 1..100: 400; a malformed cursor: 400 "Malformed cursor was used."', async () => {
      const owner = await newUser();
      const { prefix } = await threeGroups(owner);
      for (const limit of [0, -1, 101]) {
        await expectError(client.listGroups(owner, `${prefix}%`, undefined, limit), BAD_LIMIT);
        expectErrorResponse(await request(server.baseUrl, 'GET', `/v2/group?limit=${limit}`, auth(owner)), BAD_LIMIT);
      }
      for (const cursor of GARBAGE_CURSORS) {
        await expectError(client.listGroups(owner, `${prefix}%`, cursor, 10), MALFORMED_CURSOR);
        expectErrorResponse(await request(server.baseUrl, 'GET', `/v2/group?lang_tag=en&cursor=${encodeURIComponent(cursor)}`, auth(owner)),
          MALFORMED_CURSOR);
      }
      // No filter at all: the default page of one group.
      const any = await client.listGroups(owner);
      assert.ok(any.groups.length <= 1);
    });
  });

  describe('listGroupUsers', () => {
    // owner (superadmin), m1..m3 joined in that order with m3 promoted to admin, then the group
    // closed and r1, r2 asked to join, and `banned` banned.
    async function fullHouse() {
      const [owner, m1, m2, m3, r1, r2, banned] = await newUsers(7);
      const group = await openGroupWith(owner, [m1, m2, m3, banned]);
      await client.promoteGroupUsers(owner, group.id, [m3.user_id]);
      await client.updateGroup(owner, group.id, { open: false });
      await client.joinGroup(r1, group.id);
      await client.joinGroup(r2, group.id);
      await client.banGroupUsers(owner, group.id, [banned.user_id]);
      return {
        owner, group, banned,
        expected: [
          [owner.user_id, SUPERADMIN], [m3.user_id, ADMIN], [m1.user_id, MEMBER], [m2.user_id, MEMBER],
          [r1.user_id, JOIN_REQUEST], [r2.user_id, JOIN_REQUEST],
        ],
      };
    }

    it('states 0-3 ordered by state then join order, bans only with state 4; anyone may list', async () => {
      const { owner, group, banned, expected } = await fullHouse();
      const outsider = await newUser();
      assert.deepEqual(await membersOf(outsider, group), expected);
      for (const state of [SUPERADMIN, ADMIN, MEMBER, JOIN_REQUEST]) {
        assert.deepEqual(await membersOf(owner, group, state), expected.filter(([, s]) => s === state), `state ${state}`);
      }
      assert.deepEqual(await membersOf(owner, group, BANNED), [[banned.user_id, BANNED]]);
      const page = await client.listGroupUsers(owner, group.id, undefined, 100);
      assert.deepEqual(page.group_users.map((gu) => [gu.user.id, gu.state]), expected);
      assert.equal(page.group_users[0].user.username, owner.username);
      assert.deepEqual(page.group_users[0].user.metadata, {});
    });

    it('pages with limit and cursor; a cursor is given only while rows remain', async () => {
      const { owner, group, expected } = await fullHouse();
      const seen = [];
      let cursor;
      for (let i = 0; i < 3; i += 1) {
        const page = await client.listGroupUsers(owner, group.id, undefined, 2, cursor);
        seen.push(...page.group_users.map((gu) => [gu.user.id, gu.state]));
        cursor = page.cursor;
        if (i < 2) assert.equal(typeof cursor, 'string', `page ${i + 1} has a cursor`);
      }
      assert.deepEqual(seen, expected);
      assert.equal(cursor, undefined, 'no cursor after the last row');

      const first = await client.listGroupUsers(owner, group.id, MEMBER, 1);
      assert.equal(typeof first.cursor, 'string');
      const second = await client.listGroupUsers(owner, group.id, MEMBER, 1, first.cursor);
      assert.deepEqual([...first.group_users, ...second.group_users].map((gu) => gu.user.id),
        expected.filter(([, s]) => s === MEMBER).map(([id]) => id));
      assert.equal(second.cursor, undefined);
    });

    it('raw answer: GroupUser{user, state (0 included)}; an unknown group lists nothing ({})', async () => {
      const { owner, group } = await fullHouse();
      const body = await rawGet(owner, `/v2/group/${group.id}/user`);
      assert.deepEqual(Object.keys(body), ['group_users'], JSON.stringify(Object.keys(body)));
      assert.deepEqual(Object.keys(body.group_users[0]).sort(), ['state', 'user']);
      assert.equal(body.group_users[0].state, 0, 'state is a wrapper: 0 is sent');
      assert.equal(body.group_users[0].user.id, owner.user_id);
      assert.deepEqual(await rawGet(owner, `/v2/group/${randomUUID()}/user`), {});
      assert.deepEqual((await client.listGroupUsers(owner, randomUUID())).group_users, []);
    });

    it('limit outside 1..100, state outside 0..4, a bad cursor or one used with another state: 400', async () => {
      const { owner, group } = await fullHouse();
      for (const limit of [0, -1, 101]) {
        await expectError(client.listGroupUsers(owner, group.id, undefined, limit), BAD_LIMIT);
      }
      for (const state of [5, -1, 10]) {
        await expectError(client.listGroupUsers(owner, group.id, state), BAD_STATE);
      }
      for (const cursor of GARBAGE_CURSORS) {
        await expectError(client.listGroupUsers(owner, group.id, undefined, 10, cursor), BAD_CURSOR);
      }
      const { cursor } = await client.listGroupUsers(owner, group.id, MEMBER, 1);
      await expectError(client.listGroupUsers(owner, group.id, JOIN_REQUEST, 1, cursor), BAD_CURSOR);
      assert.equal((await client.listGroupUsers(owner, group.id, MEMBER, 1, cursor)).group_users.length, 1);
    });

    it('online: true for a member connected with appearOnline', async () => {
      const [owner, alice] = await newUsers(2);
      const group = await openGroupWith(owner, [alice]);
      const onlineOf = async () => Object.fromEntries((await client.listGroupUsers(owner, group.id)).group_users.map((gu) => [gu.user.id, gu.user.online]));
      assert.deepEqual(await onlineOf(), { [owner.user_id]: undefined, [alice.user_id]: undefined });

      const probe = createSocket(client);
      const statuses = new Queue();
      probe.socket.onstatuspresence = (evt) => statuses.push(evt);
      await probe.connect(alice, true);
      await statuses.next(WAIT_MS, "alice's own status join");
      assert.deepEqual(await onlineOf(), { [owner.user_id]: undefined, [alice.user_id]: true });
      await probe.close();
    });
  });

  describe('listUserGroups', () => {
    // user: superadmin of g0, member of g2 (open join), join request to g3, banned from gb.
    async function memberships() {
      const [user, other] = await newUsers(2);
      const g0 = await create(user);
      const g2 = await create(other, { open: true });
      const g3 = await create(other);
      const gb = await create(other, { open: true });
      await client.joinGroup(user, g2.id);
      await client.joinGroup(user, g3.id);
      await client.joinGroup(user, gb.id);
      await client.banGroupUsers(other, gb.id, [user.user_id]);
      return { user, other, g0, g2, g3, expected: [[g0.id, SUPERADMIN], [g2.id, MEMBER], [g3.id, JOIN_REQUEST]] };
    }

    it('{group, state} ordered by state then join order; a state filter; banned groups never appear; anyone may look', async () => {
      const { user, other, g2, expected } = await memberships();
      assert.deepEqual(await groupsOf(user), expected);
      for (const state of [SUPERADMIN, MEMBER, JOIN_REQUEST]) {
        assert.deepEqual(await groupsOf(user, state), expected.filter(([, s]) => s === state), `state ${state}`);
      }
      assert.deepEqual(await groupsOf(user, ADMIN), []);
      assert.deepEqual(await groupsOf(user, BANNED), [], 'a ban has no user-side edge');
      const seenByOther = await userGroups(other, user.user_id);
      assert.deepEqual(seenByOther.user_groups.map((ug) => [ug.group.id, ug.state]), expected);
      const item = seenByOther.user_groups.find((ug) => ug.group.id === g2.id);
      assert.equal(item.group.edge_count, 2);
      assert.equal(item.group.open, true);
      assert.deepEqual(item.group.metadata, {});
    });

    it('pages with limit and cursor; raw items are {group, state (0 included)}', async () => {
      const { user, expected } = await memberships();
      const seen = [];
      let cursor;
      for (let i = 0; i < 3; i += 1) {
        const page = await userGroups(user, user.user_id, { limit: 1, cursor });
        seen.push(...page.user_groups.map((ug) => [ug.group.id, ug.state]));
        cursor = page.cursor;
        if (i < 2) assert.equal(typeof cursor, 'string', `page ${i + 1} has a cursor`);
      }
      assert.deepEqual(seen, expected);
      assert.equal(cursor, undefined);

      const body = await rawGet(user, `/v2/user/${user.user_id}/group`);
      assert.deepEqual(Object.keys(body), ['user_groups']);
      assert.deepEqual(Object.keys(body.user_groups[0]).sort(), ['group', 'state']);
      assert.equal(body.user_groups[0].state, 0);
      assert.equal(body.user_groups[0].group.open, false, 'open false is sent');
      assert.deepEqual(await rawGet(user, `/v2/user/${randomUUID()}/group`), {}, 'an unknown user has no groups');
    });

    it('validation: limit, state, cursor; a malformed user id: "Group ID must be a valid ID." (Nakama\'s wording)', async () => {
      const { user } = await memberships();
      for (const limit of [0, -1, 101]) {
        await expectError(userGroups(user, user.user_id, { limit }), BAD_LIMIT);
      }
      for (const state of [5, -1]) {
        await expectError(userGroups(user, user.user_id, { state }), BAD_STATE);
      }
      for (const cursor of GARBAGE_CURSORS) {
        await expectError(userGroups(user, user.user_id, { limit: 10, cursor }), BAD_CURSOR);
      }
      // This cursor points at the member row (state 2): with a state 3 filter it is invalid.
      const { cursor } = await userGroups(user, user.user_id, { limit: 1 });
      await expectError(userGroups(user, user.user_id, { state: JOIN_REQUEST, limit: 1, cursor }), BAD_CURSOR);
      assert.equal((await userGroups(user, user.user_id, { state: MEMBER, limit: 1, cursor })).user_groups.length, 1);
      for (const bad of ['not-a-uuid', '1234']) {
        await expectError(userGroups(user, bad), BAD_GROUP_ID);
      }
    });

    it('nakama-js quirk pinned: listUserGroups(session, id, state, limit) sends the state as the limit', async () => {
      const { user, expected } = await memberships();
      // "state 2" arrives as limit=2: the first two groups of any state, and a cursor.
      const page = await client.listUserGroups(user, user.user_id, MEMBER);
      assert.deepEqual(page.user_groups.map((ug) => [ug.group.id, ug.state]), expected.slice(0, 2));
      assert.equal(typeof page.cursor, 'string');
      // "state 0" arrives as limit=0.
      await expectError(client.listUserGroups(user, user.user_id, SUPERADMIN), BAD_LIMIT);
      // "limit 3" arrives as state=3.
      const requests = await client.listUserGroups(user, user.user_id, undefined, JOIN_REQUEST);
      assert.deepEqual(requests.user_groups.map((ug) => [ug.group.id, ug.state]), expected.filter(([, s]) => s === JOIN_REQUEST));
    });
  });

  describe('guide walk-through', () => {
    it('Sagi-shi: create, update visibility, join, accept requests, promote, demote, kick, ban, search, leave, delete', async () => {
      const tag = hex(4);
      const [player, friend1, friend2, friend3] = await newUsers(4);

      // "Creating groups": an open (public) group of up to 100.
      const group = await client.createGroup(player, {
        name: `Imposters R Us ${tag}`,
        description: 'A group for people who love playing the imposter.',
        open: true,
        max_count: 100,
      });
      assert.deepEqual({ open: group.open, max_count: group.max_count, edge_count: group.edge_count }, { open: true, max_count: 100, edge_count: 1 });

      // "Joining a group": a public group is joined at once.
      await client.joinGroup(friend1, group.id);
      assert.deepEqual(await groupsOf(friend1), [[group.id, MEMBER]]);

      // "Update group visibility": private from now on; joining becomes a request.
      assert.equal(await client.updateGroup(player, group.id, { open: false }), true);
      await client.joinGroup(friend2, group.id);
      await client.joinGroup(friend3, group.id);
      assert.deepEqual(await notesOf(player, -5), sortedNotes(joinRequestNote(group, friend2), joinRequestNote(group, friend3)));

      // "Accepting join requests": list the requests, add them.
      const requests = await client.listGroupUsers(player, group.id, JOIN_REQUEST);
      assert.deepEqual(requests.group_users.map((gu) => gu.user.id), [friend2.user_id, friend3.user_id]);
      assert.equal(await client.addGroupUsers(player, group.id, requests.group_users.map((gu) => gu.user.id)), true);
      assert.deepEqual(await notesOf(friend2), [addedNote(group, player)]);
      assert.deepEqual(await notesOf(friend3), [addedNote(group, player)]);

      // "Listing the user's groups" and "Listing members".
      const { user_groups: [mine] } = await userGroups(friend2, friend2.user_id);
      assert.deepEqual({ name: mine.group.name, state: mine.state }, { name: group.name, state: MEMBER });
      assert.deepEqual(await membersOf(friend2, group), [
        [player.user_id, SUPERADMIN], [friend1.user_id, MEMBER], [friend2.user_id, MEMBER], [friend3.user_id, MEMBER],
      ]);

      // "Promoting members" twice (member -> admin -> superadmin), "Demoting members" once.
      await client.promoteGroupUsers(player, group.id, [friend1.user_id]);
      assert.deepEqual(await groupsOf(friend1), [[group.id, ADMIN]]);
      await client.promoteGroupUsers(player, group.id, [friend1.user_id]);
      assert.deepEqual(await groupsOf(friend1), [[group.id, SUPERADMIN]]);
      assert.equal(await client.demoteGroupUsers(player, group.id, [friend1.user_id]), true);
      assert.deepEqual(await groupsOf(friend1), [[group.id, ADMIN]]);

      // "Kicking members" (by the admin) and "Banning members".
      assert.equal(await client.kickGroupUsers(friend1, group.id, [friend2.user_id]), true);
      assert.deepEqual(await groupsOf(friend2), []);
      assert.equal(await client.banGroupUsers(friend1, group.id, [friend3.user_id]), true);
      assert.deepEqual(await membersOf(player, group, BANNED), [[friend3.user_id, BANNED]]);
      assert.equal(await edgeCountOf(player, group), 2);

      // "Listing and filtering groups": a wildcard search, page by page.
      const found = [];
      let cursor;
      for (let i = 0; i < 100; i += 1) {
        const page = await client.listGroups(player, 'imposters r us%', cursor, 1);
        found.push(...page.groups);
        cursor = page.cursor;
        if (!cursor) break;
      }
      assert.ok(found.every((g) => g.name.toLowerCase().startsWith('imposters r us')), JSON.stringify(found.map((g) => g.name)));
      const listed = found.find((g) => g.id === group.id);
      assert.deepEqual({ name: listed.name, open: listed.open, edge_count: listed.edge_count, description: listed.description },
        { name: group.name, open: false, edge_count: 2, description: group.description });

      // "Leaving groups", then "Deleting groups".
      assert.equal(await client.leaveGroup(friend1, group.id), true);
      assert.deepEqual(await membersOf(player, group), [[player.user_id, SUPERADMIN]]);
      assert.equal(await client.deleteGroup(player, group.id), true);
      assert.equal(await groupNamed(player, group.name), undefined);
      assert.deepEqual(await groupsOf(player), []);
    });
  });

  it('every group route needs a bearer token: 401 "Auth token required"', async () => {
    const id = randomUUID();
    for (const [method, path] of [
      ['GET', '/v2/group'], ['POST', '/v2/group'], ['PUT', `/v2/group/${id}`], ['DELETE', `/v2/group/${id}`],
      ['POST', `/v2/group/${id}/join`], ['POST', `/v2/group/${id}/leave`], ['POST', `/v2/group/${id}/add?user_ids=${id}`],
      ['POST', `/v2/group/${id}/kick?user_ids=${id}`], ['POST', `/v2/group/${id}/ban?user_ids=${id}`],
      ['POST', `/v2/group/${id}/promote?user_ids=${id}`], ['POST', `/v2/group/${id}/demote?user_ids=${id}`],
      ['GET', `/v2/group/${id}/user`], ['GET', `/v2/user/${id}/group`],
    ]) {
      expectErrorResponse(await request(server.baseUrl, method, path), AUTH_REQUIRED);
    }
  });
});
