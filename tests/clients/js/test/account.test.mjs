// GetAccount, UpdateAccount, DeleteAccount and GetUsers
// (nakama-semantics.md §1.3, §1.7, nakama-wire.md §8.1, §8.3).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Session } from '@heroiclabs/nakama-js';
import { startServer } from '../lib/server.mjs';
import {
  Code, TIMESTAMP_RE, UUID_RE, bearer, expectError, expectErrorResponse, forgeSessionToken, nowSec,
  randomCustomId, randomDeviceId, randomEmail, randomPassword, randomUsername, request, invalid,
} from '../lib/util.mjs';

const AUTH_INVALID = { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token invalid' };
const ACCOUNT_NOT_FOUND = { status: 404, code: Code.NOT_FOUND, message: 'Account not found.' };

describe('account', () => {
  let server;
  let client;
  const deviceUser = async (username) => {
    const deviceId = randomDeviceId();
    return { deviceId, session: await client.authenticateDevice(deviceId, true, username) };
  };

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('getAccount', () => {
    it('returns the fields of a new device account', async () => {
      const { deviceId, session } = await deviceUser();
      const account = await client.getAccount(session);
      const { user } = account;
      assert.equal(user.id, session.user_id);
      assert.match(user.id, UUID_RE);
      assert.equal(user.username, session.username);
      assert.match(user.create_time, TIMESTAMP_RE);
      assert.match(user.update_time, TIMESTAMP_RE);
      assert.ok(Date.parse(user.update_time) >= Date.parse(user.create_time));
      assert.ok(Math.abs(Date.parse(user.create_time) / 1000 - nowSec()) < 120, `create_time ${user.create_time}`);
      assert.equal(user.lang_tag, 'en');
      assert.equal(user.metadata, '{}');
      assert.equal(user.online, undefined, 'online=false is omitted');
      assert.equal(user.edge_count, undefined, 'edge_count=0 is omitted');
      assert.equal(user.display_name, undefined);
      assert.equal(account.wallet, '{}');
      assert.deepEqual(account.devices, [{ id: deviceId }]);
      assert.equal(account.custom_id, undefined);
      assert.equal(account.email, undefined);
      assert.equal(account.verify_time, undefined);
      assert.equal(account.disable_time, undefined);
    });

    it('shows custom id and email of an account that has them', async () => {
      const customId = randomCustomId();
      const session = await client.authenticateCustom(customId);
      const email = randomEmail();
      await client.linkEmail(session, { email, password: randomPassword() });
      const account = await client.getAccount(session);
      assert.equal(account.custom_id, customId);
      assert.equal(account.email, email);
      assert.equal(account.devices, undefined);
    });

    it('a valid token for a user that does not exist: 404 "Account not found."', async () => {
      const token = forgeSessionToken({ uid: randomUUID() });
      await expectError(client.getAccount(Session.restore(token, '')), ACCOUNT_NOT_FOUND);
    });

    it('needs a bearer token: 401 "Auth token required"', async () => {
      const res = await request(server.baseUrl, 'GET', '/v2/account');
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
    });
  });

  describe('updateAccount', () => {
    const fields = {
      display_name: 'Display Name ✓',
      timezone: 'Europe/Paris',
      location: 'Paris, France',
      lang_tag: 'fr',
      avatar_url: 'https://example.org/avatar.png',
    };

    it('sets display_name, timezone, location, lang_tag and avatar_url', async () => {
      const { session } = await deviceUser();
      assert.equal(await client.updateAccount(session, fields), true);
      const { user } = await client.getAccount(session);
      for (const [k, v] of Object.entries(fields)) assert.equal(user[k], v, k);
    });

    it('updates only the fields that are given', async () => {
      const { session } = await deviceUser();
      await client.updateAccount(session, fields);
      await client.updateAccount(session, { location: 'Lyon' });
      const { user } = await client.getAccount(session);
      assert.equal(user.location, 'Lyon');
      assert.equal(user.display_name, fields.display_name);
      assert.equal(user.timezone, fields.timezone);
      assert.equal(user.lang_tag, fields.lang_tag);
    });

    it('an empty string clears display_name, timezone, location and avatar_url', async () => {
      const { session } = await deviceUser();
      await client.updateAccount(session, fields);
      await client.updateAccount(session, { display_name: '', timezone: '', location: '', avatar_url: '' });
      const { user } = await client.getAccount(session);
      for (const k of ['display_name', 'timezone', 'location', 'avatar_url']) {
        assert.equal(Object.hasOwn(user, k), false, `${k} should be cleared, got ${JSON.stringify(user[k])}`);
      }
      assert.equal(user.lang_tag, fields.lang_tag);
    });

    it('setting the same values again succeeds', async () => {
      const { session } = await deviceUser();
      await client.updateAccount(session, { display_name: 'Same' });
      assert.equal(await client.updateAccount(session, { display_name: 'Same' }), true);
      assert.equal((await client.getAccount(session)).user.display_name, 'Same');
    });

    it('changes the username; the new name is visible everywhere', async () => {
      const { deviceId, session } = await deviceUser();
      const username = randomUsername();
      await client.updateAccount(session, { username });
      assert.equal((await client.getAccount(session)).user.username, username);
      const again = await client.authenticateDevice(deviceId);
      assert.equal(again.username, username);
      const { users } = await client.getUsers(session, undefined, [username]);
      assert.deepEqual(users.map((u) => u.id), [session.user_id]);
    });

    it('a username in use: 400 code 3 with the re-wrapped AlreadyExists message', async () => {
      const taken = randomUsername();
      await deviceUser(taken);
      const { session } = await deviceUser();
      await expectError(client.updateAccount(session, { username: taken }),
        invalid('rpc error: code = AlreadyExists desc = Username is already in use.'));
      assert.notEqual((await client.getAccount(session)).user.username, taken);
    });

    it('keeping one\'s own username is not a clash', async () => {
      const username = randomUsername();
      const { session } = await deviceUser(username);
      assert.equal(await client.updateAccount(session, { username }), true);
    });

    it('username validation: 1-128 bytes, no control characters', async () => {
      const { session } = await deviceUser();
      const LENGTH = invalid('Username invalid, must be 1-128 bytes.');
      const CHARS = invalid('Username invalid, no spaces or control characters allowed.');
      await expectError(client.updateAccount(session, { username: '' }), LENGTH);
      await expectError(client.updateAccount(session, { username: 'u'.repeat(129) }), LENGTH);
      await expectError(client.updateAccount(session, { username: 'tab\tname' }), CHARS);
      await expectError(client.updateAccount(session, { username: 'bell\u0007name' }), CHARS);
      const name128 = `${'u'.repeat(120)}${randomBytes(4).toString('hex')}`;
      assert.equal(await client.updateAccount(session, { username: name128 }), true);
      assert.equal((await client.getAccount(session)).user.username, name128);
    });

    it('nothing to update: 400 "No fields to update."', async () => {
      const { session } = await deviceUser();
      const NO_FIELDS = invalid('No fields to update.');
      // nakama-js sends the request object as is: {}.
      await expectError(client.updateAccount(session, {}), NO_FIELDS);
      // A wrapper set to null is "not set".
      const res = await request(server.baseUrl, 'PUT', '/v2/account', {
        headers: { Authorization: bearer(session.token) }, body: { display_name: null },
      });
      expectErrorResponse(res, NO_FIELDS);
    });

    describe('upstream quirks (nakama-semantics.md §1.3 marks this as a quirk)', () => {
      it('an empty lang_tag fails with 500 "Error while trying to update account." (NOT NULL column)', async () => {
        const { session } = await deviceUser();
        await expectError(client.updateAccount(session, { lang_tag: '' }), {
          status: 500, code: Code.INTERNAL, message: 'Error while trying to update account.',
        });
        assert.equal((await client.getAccount(session)).user.lang_tag, 'en');
      });
    });
  });

  describe('deleteAccount', () => {
    it('deletes the account: its tokens stop working and it cannot be found', async () => {
      const { deviceId, session } = await deviceUser();
      // Issued 30 s before the deletion (see session.test.mjs on whole seconds).
      const iat = nowSec() - 30;
      const earlier = forgeSessionToken({ uid: session.user_id, usn: session.username, iat });
      assert.equal((await client.getAccount(Session.restore(earlier, ''))).user.id, session.user_id);

      assert.equal(await client.deleteAccount(session), true);

      await expectError(client.getAccount(Session.restore(earlier, '')), AUTH_INVALID);
      // The token used for the call was issued in this same second or just
      // before: it is rejected either as revoked or as belonging to no account.
      let err;
      try {
        await client.getAccount(session);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof Response, 'getAccount with the deleted session must fail');
      const body = await err.json();
      assert.ok(
        (err.status === 401 && body.code === Code.UNAUTHENTICATED && body.message === 'Auth token invalid')
        || (err.status === 404 && body.code === Code.NOT_FOUND && body.message === 'Account not found.'),
        `unexpected HTTP ${err.status} ${JSON.stringify(body)}`,
      );
      await expectError(client.authenticateDevice(deviceId, false), {
        status: 404, code: Code.NOT_FOUND, message: 'User account not found.',
      });
    });

    it('tokens of the deletion\'s second find no account and can write nothing', async () => {
      const { session } = await deviceUser();
      assert.equal(await client.deleteAccount(session), true);
      // Issued at or after the deletion's second: valid on Nakama, with no account behind it.
      const late = Session.restore(forgeSessionToken({ uid: session.user_id, usn: session.username }), '');
      await expectError(client.getAccount(late), ACCOUNT_NOT_FOUND);
      await expectError(client.writeStorageObjects(late, [{ collection: 'c', key: 'k', value: { a: 1 } }]), ACCOUNT_NOT_FOUND);
      await expectError(client.createGroup(late, { name: `ghost-${randomUsername()}`, open: true }), ACCOUNT_NOT_FOUND);
      await expectError(client.addFriends(late, [], [session.username]), ACCOUNT_NOT_FOUND);
    });

    it('frees the device id and the username for new accounts', async () => {
      const username = randomUsername();
      const { deviceId, session } = await deviceUser(username);
      await client.deleteAccount(session);
      const fresh = await client.authenticateDevice(deviceId, true, username);
      assert.equal(fresh.created, true);
      assert.notEqual(fresh.user_id, session.user_id);
      assert.equal(fresh.username, username);
    });

    it('the deleted user disappears from getUsers', async () => {
      const viewer = await deviceUser();
      const { session } = await deviceUser();
      await client.deleteAccount(session);
      const { users } = await client.getUsers(viewer.session, [session.user_id], [session.username]);
      assert.deepEqual(users, []);
    });

    it('needs a bearer token: 401 "Auth token required"', async () => {
      const res = await request(server.baseUrl, 'DELETE', '/v2/account');
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
    });
  });

  describe('getUsers', () => {
    let viewer;
    let alice;
    let bob;

    before(async () => {
      viewer = (await deviceUser()).session;
      alice = (await deviceUser(randomUsername())).session;
      bob = (await deviceUser(randomUsername())).session;
      await client.updateAccount(bob, { display_name: 'Bob', lang_tag: 'de' });
    });

    it('by ids', async () => {
      const { users } = await client.getUsers(viewer, [alice.user_id, bob.user_id]);
      assert.deepEqual(users.map((u) => u.id).sort(), [alice.user_id, bob.user_id].sort());
      const b = users.find((u) => u.id === bob.user_id);
      assert.equal(b.username, bob.username);
      assert.equal(b.display_name, 'Bob');
      assert.equal(b.lang_tag, 'de');
      assert.match(b.create_time, TIMESTAMP_RE);
      assert.match(b.update_time, TIMESTAMP_RE);
    });

    it('by usernames', async () => {
      const { users } = await client.getUsers(viewer, undefined, [alice.username, bob.username]);
      assert.deepEqual(users.map((u) => u.username).sort(), [alice.username, bob.username].sort());
    });

    it('ids and usernames combine; a user named both ways appears once', async () => {
      const { users } = await client.getUsers(viewer, [alice.user_id], [alice.username, bob.username]);
      assert.deepEqual(users.map((u) => u.id).sort(), [alice.user_id, bob.user_id].sort());
    });

    it('returns public users only: no email, devices or wallet; online false omitted', async () => {
      const res = await request(server.baseUrl, 'GET', `/v2/user?ids=${alice.user_id}`, {
        headers: { Authorization: bearer(viewer.token) },
      });
      assert.equal(res.status, 200);
      const { users } = res.json();
      assert.equal(users.length, 1);
      const [user] = users;
      assert.equal(user.id, alice.user_id);
      assert.equal(user.metadata, '{}');
      for (const absent of ['email', 'devices', 'wallet', 'custom_id', 'online', 'edge_count']) {
        assert.equal(Object.hasOwn(user, absent), false, `${absent} in ${res.text}`);
      }
    });

    it('unknown ids and usernames are omitted', async () => {
      const { users } = await client.getUsers(viewer, [randomUUID(), alice.user_id], [randomUsername()]);
      assert.deepEqual(users.map((u) => u.id), [alice.user_id]);
      const none = await client.getUsers(viewer, [randomUUID()], [randomUsername()], ['123456789']);
      assert.deepEqual(none.users, []);
    });

    it('facebook ids that match nobody give an empty list', async () => {
      const { users } = await client.getUsers(viewer, undefined, undefined, ['1234567890']);
      assert.deepEqual(users, []);
    });

    it('an empty request gives an empty list', async () => {
      const { users } = await client.getUsers(viewer);
      assert.deepEqual(users, []);
      const empty = await client.getUsers(viewer, [], [], []);
      assert.deepEqual(empty.users, []);
    });

    it('an id that is not a UUID: 400 "ID \'<id>\' is not a valid system ID."', async () => {
      await expectError(client.getUsers(viewer, ['not-a-uuid']),
        invalid("ID 'not-a-uuid' is not a valid system ID."));
      await expectError(client.getUsers(viewer, [alice.user_id, '1234']),
        invalid("ID '1234' is not a valid system ID."));
    });

    it('needs a bearer token: 401 "Auth token required"', async () => {
      const res = await request(server.baseUrl, 'GET', `/v2/user?ids=${alice.user_id}`);
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
    });
  });
});
