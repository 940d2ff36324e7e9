// Link / unlink of device, custom and email identifiers
// (nakama-semantics.md §1.4, nakama-wire.md §8.1).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, expectError, expectErrorResponse, randomCustomId, randomDeviceId, randomEmail,
  randomPassword, request, invalid,
} from '../lib/util.mjs';

const inUse = (message) => ({ status: 409, code: Code.ALREADY_EXISTS, message });
const LAST_LINK = {
  status: 403,
  code: Code.PERMISSION_DENIED,
  message: 'Cannot unlink last account identifier. Check profile exists and is not last link.',
};
const NOT_FOUND = { status: 404, code: Code.NOT_FOUND, message: 'User account not found.' };

describe('link', () => {
  let server;
  let client;
  const deviceUser = async () => {
    const deviceId = randomDeviceId();
    return { deviceId, session: await client.authenticateDevice(deviceId) };
  };

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('device', () => {
    it('links a second device; both authenticate to the same account', async () => {
      const { deviceId, session } = await deviceUser();
      const second = randomDeviceId();
      assert.equal(await client.linkDevice(session, { id: second }), true);
      const account = await client.getAccount(session);
      assert.deepEqual(account.devices.map((d) => d.id).sort(), [deviceId, second].sort());
      const viaSecond = await client.authenticateDevice(second, false);
      assert.equal(viaSecond.user_id, session.user_id);
      assert.equal(viaSecond.created, false);
    });

    it('re-linking a device the caller already has succeeds without duplicating it', async () => {
      const { deviceId, session } = await deviceUser();
      assert.equal(await client.linkDevice(session, { id: deviceId }), true);
      const account = await client.getAccount(session);
      assert.deepEqual(account.devices, [{ id: deviceId }]);
    });

    it('a device of another user: 409 "Device ID already in use."', async () => {
      const { session } = await deviceUser();
      const other = await deviceUser();
      await expectError(client.linkDevice(session, { id: other.deviceId }), inUse('Device ID already in use.'));
      const account = await client.getAccount(other.session);
      assert.deepEqual(account.devices, [{ id: other.deviceId }]);
    });

    it('validation: required, 10-128 bytes, no spaces or control characters', async () => {
      const { session } = await deviceUser();
      await expectError(client.linkDevice(session, { id: '' }), invalid('Device ID is required.'));
      await expectError(client.linkDevice(session, {}), invalid('Device ID is required.'));
      await expectError(client.linkDevice(session, { id: 'short' }), invalid('Device ID invalid, must be 10-128 bytes.'));
      await expectError(client.linkDevice(session, { id: 'd'.repeat(129) }),
        invalid('Device ID invalid, must be 10-128 bytes.'));
      await expectError(client.linkDevice(session, { id: 'device with spaces' }),
        invalid('Device ID invalid, no spaces or control characters allowed.'));
      await expectError(client.linkDevice(session, { id: 'device\u0007bell' }),
        invalid('Device ID invalid, no spaces or control characters allowed.'));
    });

    it('unlinks one of two devices; it no longer authenticates', async () => {
      const { deviceId, session } = await deviceUser();
      const second = randomDeviceId();
      await client.linkDevice(session, { id: second });
      assert.equal(await client.unlinkDevice(session, { id: second }), true);
      const account = await client.getAccount(session);
      assert.deepEqual(account.devices, [{ id: deviceId }]);
      await expectError(client.authenticateDevice(second, false), NOT_FOUND);
    });

    it('the last device cannot be unlinked: 403', async () => {
      const { deviceId, session } = await deviceUser();
      await expectError(client.unlinkDevice(session, { id: deviceId }), LAST_LINK);
      assert.deepEqual((await client.getAccount(session)).devices, [{ id: deviceId }]);
    });

    it('a device that is not the caller\'s cannot be unlinked: 403', async () => {
      const { session } = await deviceUser();
      await client.linkCustom(session, { id: randomCustomId() });
      const other = await deviceUser();
      await expectError(client.unlinkDevice(session, { id: other.deviceId }), LAST_LINK);
      await expectError(client.unlinkDevice(session, { id: randomDeviceId() }), LAST_LINK);
      assert.equal((await client.authenticateDevice(other.deviceId, false)).user_id, other.session.user_id);
    });

    it('unlink without an id: 400 "A device ID must be supplied."', async () => {
      const { session } = await deviceUser();
      await expectError(client.unlinkDevice(session, {}), invalid('A device ID must be supplied.'));
      await expectError(client.unlinkDevice(session, { id: '' }), invalid('A device ID must be supplied.'));
    });

    it('a device can be unlinked once another kind of identifier exists', async () => {
      const { deviceId, session } = await deviceUser();
      const customId = randomCustomId();
      await client.linkCustom(session, { id: customId });
      assert.equal(await client.unlinkDevice(session, { id: deviceId }), true);
      const account = await client.getAccount(session);
      assert.equal(account.devices, undefined);
      assert.equal(account.custom_id, customId);
      await expectError(client.authenticateDevice(deviceId, false), NOT_FOUND);
    });
  });

  describe('custom', () => {
    const CUSTOM_CHARS = invalid('Invalid custom ID, no spaces or control characters allowed.');
    const CUSTOM_LENGTH = invalid('Invalid custom ID, must be 6-128 bytes.');

    it('links a custom id; it then authenticates to the same account', async () => {
      const { session } = await deviceUser();
      const customId = randomCustomId();
      assert.equal(await client.linkCustom(session, { id: customId }), true);
      assert.equal((await client.getAccount(session)).custom_id, customId);
      const viaCustom = await client.authenticateCustom(customId, false);
      assert.equal(viaCustom.user_id, session.user_id);
    });

    it('re-linking the same custom id succeeds', async () => {
      const { session } = await deviceUser();
      const customId = randomCustomId();
      await client.linkCustom(session, { id: customId });
      assert.equal(await client.linkCustom(session, { id: customId }), true);
      assert.equal((await client.getAccount(session)).custom_id, customId);
    });

    it('linking a new custom id replaces the previous one', async () => {
      const { session } = await deviceUser();
      const first = randomCustomId();
      const second = randomCustomId();
      await client.linkCustom(session, { id: first });
      await client.linkCustom(session, { id: second });
      assert.equal((await client.getAccount(session)).custom_id, second);
      await expectError(client.authenticateCustom(first, false), NOT_FOUND);
      assert.equal((await client.authenticateCustom(second, false)).user_id, session.user_id);
    });

    it('a custom id of another user: 409 "Custom ID is already in use."', async () => {
      const { session } = await deviceUser();
      const customId = randomCustomId();
      const owner = await client.authenticateCustom(customId);
      await expectError(client.linkCustom(session, { id: customId }), inUse('Custom ID is already in use.'));
      assert.equal((await client.authenticateCustom(customId, false)).user_id, owner.user_id);
    });

    it('validation messages differ from authenticate ("Invalid custom ID, ...")', async () => {
      const { session } = await deviceUser();
      await expectError(client.linkCustom(session, { id: '' }), invalid('Custom ID is required.'));
      await expectError(client.linkCustom(session, { id: 'abcde' }), CUSTOM_LENGTH);
      await expectError(client.linkCustom(session, { id: 'c'.repeat(129) }), CUSTOM_LENGTH);
      await expectError(client.linkCustom(session, { id: 'custom id' }), CUSTOM_CHARS);
      await expectError(client.linkCustom(session, { id: 'custom\tid' }), CUSTOM_CHARS);
      assert.equal((await client.getAccount(session)).custom_id, undefined);
    });

    it('unlinks a custom id when a device remains', async () => {
      const { session } = await deviceUser();
      const customId = randomCustomId();
      await client.linkCustom(session, { id: customId });
      assert.equal(await client.unlinkCustom(session, { id: customId }), true);
      assert.equal((await client.getAccount(session)).custom_id, undefined);
      await expectError(client.authenticateCustom(customId, false), NOT_FOUND);
    });

    it('the only identifier cannot be unlinked: 403', async () => {
      const customId = randomCustomId();
      const session = await client.authenticateCustom(customId);
      await expectError(client.unlinkCustom(session, { id: customId }), LAST_LINK);
      assert.equal((await client.getAccount(session)).custom_id, customId);
    });

    it('a custom id that is not the linked one cannot be unlinked: 403', async () => {
      const { session } = await deviceUser();
      const customId = randomCustomId();
      await client.linkCustom(session, { id: customId });
      await expectError(client.unlinkCustom(session, { id: randomCustomId() }), LAST_LINK);
      assert.equal((await client.getAccount(session)).custom_id, customId);
    });
  });

  describe('email', () => {
    it('links an email (stored lower-cased); email authentication then works', async () => {
      const { session } = await deviceUser();
      const local = `Link${randomBytes(4).toString('hex')}`;
      const password = randomPassword();
      assert.equal(await client.linkEmail(session, { email: `${local}@Example.com`, password }), true);
      assert.equal((await client.getAccount(session)).email, `${local.toLowerCase()}@example.com`);
      const viaEmail = await client.authenticateEmail(`${local.toLowerCase()}@example.com`, password, false);
      assert.equal(viaEmail.user_id, session.user_id);
      assert.equal(viaEmail.created, false);
    });

    it('re-linking the own email with a new password succeeds and replaces the password', async () => {
      const { session } = await deviceUser();
      const email = randomEmail();
      const oldPassword = randomPassword();
      const newPassword = randomPassword();
      await client.linkEmail(session, { email, password: oldPassword });
      assert.equal(await client.linkEmail(session, { email, password: newPassword }), true);
      assert.equal((await client.authenticateEmail(email, newPassword, false)).user_id, session.user_id);
      await expectError(client.authenticateEmail(email, oldPassword, false), {
        status: 401, code: Code.UNAUTHENTICATED, message: 'Invalid credentials.',
      });
    });

    it('an email of another user: 409 "Email is already in use."', async () => {
      const { session } = await deviceUser();
      const email = randomEmail();
      await client.authenticateEmail(email, randomPassword());
      await expectError(client.linkEmail(session, { email, password: randomPassword() }),
        inUse('Email is already in use.'));
      await expectError(client.linkEmail(session, { email: email.toUpperCase(), password: randomPassword() }),
        inUse('Email is already in use.'));
    });

    it('validation messages', async () => {
      const { session } = await deviceUser();
      const password = randomPassword();
      await expectError(client.linkEmail(session, { email: '', password }),
        invalid('Email address and password is required.'));
      await expectError(client.linkEmail(session, { email: randomEmail(), password: '' }),
        invalid('Email address and password is required.'));
      await expectError(client.linkEmail(session, { email: randomEmail(), password: 'short' }),
        invalid('Password must be at least 8 characters long.'));
      await expectError(client.linkEmail(session, { email: 'spaced out@example.com', password }),
        invalid('Invalid email address, no spaces or control characters allowed.'));
      await expectError(client.linkEmail(session, { email: 'not-an-email-address', password }),
        invalid('Invalid email address format.'));
      await expectError(client.linkEmail(session, { email: 'a@b.cd', password }),
        invalid('Invalid email address, must be 10-255 bytes.'));
      await expectError(client.linkEmail(session, { email: `${'e'.repeat(250)}@example.com`, password }),
        invalid('Invalid email address, must be 10-255 bytes.'));
      assert.equal((await client.getAccount(session)).email, undefined);
    });

    it('unlinks the email (matched case-insensitively) when a device remains', async () => {
      const { session } = await deviceUser();
      const email = randomEmail();
      const password = randomPassword();
      await client.linkEmail(session, { email, password });
      assert.equal(await client.unlinkEmail(session, { email: email.toUpperCase(), password }), true);
      assert.equal((await client.getAccount(session)).email, undefined);
      await expectError(client.authenticateEmail(email, password, false), NOT_FOUND);
    });

    it('the only identifier cannot be unlinked: 403', async () => {
      const email = randomEmail();
      const password = randomPassword();
      const session = await client.authenticateEmail(email, password);
      await expectError(client.unlinkEmail(session, { email, password }), LAST_LINK);
      assert.equal((await client.getAccount(session)).email, email);
    });
  });

  describe('auth', () => {
    for (const path of ['/v2/account/link/device', '/v2/account/unlink/device', '/v2/account/link/custom',
      '/v2/account/unlink/custom', '/v2/account/link/email', '/v2/account/unlink/email']) {
      it(`POST ${path} without a bearer token: 401 "Auth token required"`, async () => {
        const res = await request(server.baseUrl, 'POST', path, { body: { id: randomDeviceId() } });
        expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
      });
    }
  });
});
