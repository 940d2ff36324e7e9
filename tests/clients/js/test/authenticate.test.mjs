// Authenticate* through nakama-js: create vs existing, usernames, validation
// messages, vars and token claims (nakama-semantics.md §1.1-§1.2,
// nakama-wire.md §6 and §8.1).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, GENERATED_USERNAME_RE, REFRESH_KEY, REFRESH_TOKEN_EXPIRY_SEC, SESSION_KEY,
  TOKEN_EXPIRY_SEC, UUID_RE, basicAuth, decodeJwt, expectError, expectErrorResponse,
  nonEmptyMessage, nowSec, randomCustomId, randomDeviceId, randomEmail, randomPassword,
  randomUsername, request, verifyJwt, invalid,
} from '../lib/util.mjs';

const NOT_FOUND = { status: 404, code: Code.NOT_FOUND, message: 'User account not found.' };
const USERNAME_TAKEN = { status: 409, code: Code.ALREADY_EXISTS, message: 'Username is already in use.' };
const BAD_CREDENTIALS = { status: 401, code: Code.UNAUTHENTICATED, message: 'Invalid credentials.' };
const USERNAME_CHARS = invalid('Username invalid, no spaces or control characters allowed.');
const USERNAME_LENGTH = invalid('Username invalid, must be 1-128 bytes.');

describe('authenticate', () => {
  let server;
  let client;

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('device', () => {
    const DEVICE_CHARS = invalid('Device ID invalid, no spaces or control characters allowed.');
    const DEVICE_LENGTH = invalid('Device ID invalid, must be 10-128 bytes.');

    it('creates an account with a generated 10-letter username', async () => {
      const session = await client.authenticateDevice(randomDeviceId());
      assert.equal(session.created, true);
      assert.match(session.user_id, UUID_RE);
      assert.match(session.username, GENERATED_USERNAME_RE);
    });

    it('returns the same account, created=false, for a known device', async () => {
      const deviceId = randomDeviceId();
      const first = await client.authenticateDevice(deviceId);
      const second = await client.authenticateDevice(deviceId);
      assert.equal(second.created, false);
      assert.equal(second.user_id, first.user_id);
      assert.equal(second.username, first.username);
    });

    it('uses the requested username on create', async () => {
      const username = randomUsername();
      const session = await client.authenticateDevice(randomDeviceId(), true, username);
      assert.equal(session.created, true);
      assert.equal(session.username, username);
    });

    it('ignores the requested username for an existing account', async () => {
      const deviceId = randomDeviceId();
      const first = await client.authenticateDevice(deviceId, true, randomUsername());
      const again = await client.authenticateDevice(deviceId, true, randomUsername());
      assert.equal(again.created, false);
      assert.equal(again.username, first.username);
    });

    it('create=false finds an existing account', async () => {
      const deviceId = randomDeviceId();
      const first = await client.authenticateDevice(deviceId);
      const again = await client.authenticateDevice(deviceId, false);
      assert.equal(again.created, false);
      assert.equal(again.user_id, first.user_id);
    });

    it('create=false for an unknown device: 404 "User account not found."', async () => {
      await expectError(client.authenticateDevice(randomDeviceId(), false), NOT_FOUND);
    });

    it('a username already in use: 409 "Username is already in use."', async () => {
      const username = randomUsername();
      await client.authenticateDevice(randomDeviceId(), true, username);
      await expectError(client.authenticateDevice(randomDeviceId(), true, username), USERNAME_TAKEN);
    });

    it('usernames are case-sensitive', async () => {
      const username = `Case${randomBytes(4).toString('hex')}`;
      const a = await client.authenticateDevice(randomDeviceId(), true, username);
      const b = await client.authenticateDevice(randomDeviceId(), true, username.toUpperCase());
      assert.notEqual(a.user_id, b.user_id);
      assert.equal(b.username, username.toUpperCase());
    });

    it('missing id: "Device ID is required."', async () => {
      await expectError(client.authenticateDevice(''), invalid('Device ID is required.'));
    });

    it('length is checked in bytes: 10 and 128 accepted, 9 and 129 rejected', async () => {
      const pad = (n) => randomBytes(n).toString('hex').slice(0, n);
      const ten = await client.authenticateDevice(pad(10));
      assert.equal(ten.created, true);
      const max = await client.authenticateDevice(pad(128));
      assert.equal(max.created, true);
      await expectError(client.authenticateDevice(pad(9)), DEVICE_LENGTH);
      await expectError(client.authenticateDevice(pad(129)), DEVICE_LENGTH);
    });

    it('multi-byte characters count as their UTF-8 bytes', async () => {
      // 7 characters but 10 bytes: valid. 65 characters but 130 bytes: too long.
      const raw = (id) => request(server.baseUrl, 'POST', '/v2/account/authenticate/device', {
        headers: { Authorization: basicAuth() }, body: { id },
      });
      const ok = await raw(`${'é'.repeat(3)}${randomBytes(2).toString('hex')}`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json().created, true);
      expectErrorResponse(await raw('é'.repeat(65)), DEVICE_LENGTH);
    });

    for (const [name, id] of [
      ['a space', 'device id with space'],
      ['a tab', 'device\tid-1234567'],
      ['a newline', 'device\nid-1234567'],
      ['a control character', 'device\u0001id-1234567'],
      ['DEL', 'device\u007fid-1234567'],
    ]) {
      it(`an id with ${name}: "Device ID invalid, no spaces or control characters allowed."`, async () => {
        await expectError(client.authenticateDevice(id), DEVICE_CHARS);
      });
    }
  });

  describe('custom', () => {
    const CUSTOM_CHARS = invalid('Custom ID invalid, no spaces or control characters allowed.');
    const CUSTOM_LENGTH = invalid('Custom ID invalid, must be 6-128 bytes.');

    it('creates, then finds the same account', async () => {
      const customId = randomCustomId();
      const first = await client.authenticateCustom(customId);
      assert.equal(first.created, true);
      assert.match(first.username, GENERATED_USERNAME_RE);
      const again = await client.authenticateCustom(customId);
      assert.equal(again.created, false);
      assert.equal(again.user_id, first.user_id);
    });

    it('uses the requested username on create', async () => {
      const username = randomUsername();
      const session = await client.authenticateCustom(randomCustomId(), true, username);
      assert.equal(session.username, username);
    });

    it('create=false for an unknown id: 404 "User account not found."', async () => {
      await expectError(client.authenticateCustom(randomCustomId(), false), NOT_FOUND);
    });

    it('a username already in use: 409 "Username is already in use."', async () => {
      const username = randomUsername();
      await client.authenticateCustom(randomCustomId(), true, username);
      await expectError(client.authenticateCustom(randomCustomId(), true, username), USERNAME_TAKEN);
    });

    it('missing id: "Custom ID is required."', async () => {
      await expectError(client.authenticateCustom(''), invalid('Custom ID is required.'));
    });

    it('length: 6 and 128 accepted, 5 and 129 rejected', async () => {
      const pad = (n) => randomBytes(n).toString('hex').slice(0, n);
      assert.equal((await client.authenticateCustom(pad(6))).created, true);
      assert.equal((await client.authenticateCustom(pad(128))).created, true);
      await expectError(client.authenticateCustom(pad(5)), CUSTOM_LENGTH);
      await expectError(client.authenticateCustom(pad(129)), CUSTOM_LENGTH);
    });

    for (const [name, id] of [
      ['a space', 'custom id'],
      ['a tab', 'custom\tid'],
      ['a control character', 'custom\u0000id'],
    ]) {
      it(`an id with ${name}: "Custom ID invalid, no spaces or control characters allowed."`, async () => {
        await expectError(client.authenticateCustom(id), CUSTOM_CHARS);
      });
    }
  });

  describe('email', () => {
    it('creates, then logs in with the same password', async () => {
      const email = randomEmail();
      const password = randomPassword();
      const first = await client.authenticateEmail(email, password);
      assert.equal(first.created, true);
      assert.match(first.username, GENERATED_USERNAME_RE);
      const again = await client.authenticateEmail(email, password);
      assert.equal(again.created, false);
      assert.equal(again.user_id, first.user_id);
    });

    it('a password of exactly 8 characters is accepted', async () => {
      const session = await client.authenticateEmail(randomEmail(), '12345678');
      assert.equal(session.created, true);
    });

    it('a wrong password: 401 "Invalid credentials."', async () => {
      const email = randomEmail();
      await client.authenticateEmail(email, randomPassword());
      await expectError(client.authenticateEmail(email, 'wrong-password'), BAD_CREDENTIALS);
    });

    it('emails are stored and compared lower-cased', async () => {
      const local = `Mixed${randomBytes(4).toString('hex')}`;
      const password = randomPassword();
      const first = await client.authenticateEmail(`${local}@Example.COM`, password);
      assert.equal(first.created, true);
      const lower = await client.authenticateEmail(`${local.toLowerCase()}@example.com`, password, false);
      assert.equal(lower.created, false);
      assert.equal(lower.user_id, first.user_id);
      const upper = await client.authenticateEmail(`${local.toUpperCase()}@EXAMPLE.COM`, password, false);
      assert.equal(upper.user_id, first.user_id);
      const account = await client.getAccount(first);
      assert.equal(account.email, `${local.toLowerCase()}@example.com`);
    });

    it('create=false for an unknown email: 404 "User account not found."', async () => {
      await expectError(client.authenticateEmail(randomEmail(), randomPassword(), false), NOT_FOUND);
    });

    it('a username already in use: 409 "Username is already in use."', async () => {
      const username = randomUsername();
      await client.authenticateEmail(randomEmail(), randomPassword(), true, username);
      await expectError(client.authenticateEmail(randomEmail(), randomPassword(), true, username), USERNAME_TAKEN);
    });

    it('a password shorter than 8: "Password must be at least 8 characters long."', async () => {
      await expectError(client.authenticateEmail(randomEmail(), '1234567'),
        invalid('Password must be at least 8 characters long.'));
    });

    it('whitespace in the email: "Invalid email address, no spaces or control characters allowed."', async () => {
      for (const email of ['has space@example.com', 'tab\there@example.com']) {
        await expectError(client.authenticateEmail(email, randomPassword()),
          invalid('Invalid email address, no spaces or control characters allowed.'));
      }
    });

    it('no "@" or no dot after it: "Invalid email address format."', async () => {
      for (const email of ['no-at-sign.example.com', 'nodot@examplecom', '@example.com']) {
        await expectError(client.authenticateEmail(email, randomPassword()),
          invalid('Invalid email address format.'));
      }
    });

    it('length: 10 and 255 bytes accepted, 9 and 256 rejected', async () => {
      const LENGTH = invalid('Invalid email address, must be 10-255 bytes.');
      const tail = '@example.com';                                   // 12 bytes
      const local = (n) => randomBytes(n).toString('hex').slice(0, n);
      const ten = `${local(4)}@ab.cd`;                               // 4 + 6 = 10
      assert.equal(ten.length, 10);
      assert.equal((await client.authenticateEmail(ten, randomPassword())).created, true);
      const max = `${local(255 - tail.length)}${tail}`;
      assert.equal(max.length, 255);
      assert.equal((await client.authenticateEmail(max, randomPassword())).created, true);
      await expectError(client.authenticateEmail('a@bcd.efg', randomPassword()), LENGTH);  // 9 bytes
      await expectError(client.authenticateEmail(`${local(256 - tail.length)}${tail}`, randomPassword()), LENGTH);
    });

    describe('username + password (empty email)', () => {
      let username;
      let password;
      let userId;

      before(async () => {
        username = randomUsername();
        password = randomPassword();
        userId = (await client.authenticateEmail(randomEmail(), password, true, username)).user_id;
      });

      it('logs in to the account with that username', async () => {
        const session = await client.authenticateEmail('', password, undefined, username);
        assert.equal(session.created, false);
        assert.equal(session.user_id, userId);
        assert.equal(session.username, username);
      });

      it('ignores create=false (never creates, never refuses to find)', async () => {
        const session = await client.authenticateEmail('', password, false, username);
        assert.equal(session.user_id, userId);
      });

      it('a wrong password: 401 "Invalid credentials."', async () => {
        await expectError(client.authenticateEmail('', 'not-the-password', undefined, username), BAD_CREDENTIALS);
      });

      it('an unknown username: 404 "User account not found."', async () => {
        await expectError(client.authenticateEmail('', password, true, randomUsername()), NOT_FOUND);
      });

      it('an account without a password: 401 "Invalid credentials."', async () => {
        const deviceUser = await client.authenticateDevice(randomDeviceId(), true, randomUsername());
        await expectError(client.authenticateEmail('', 'some-password', undefined, deviceUser.username),
          BAD_CREDENTIALS);
      });

      it('no username either: "Username is required when email address is not supplied."', async () => {
        await expectError(client.authenticateEmail('', password),
          invalid('Username is required when email address is not supplied.'));
      });
    });
  });

  describe('username validation (all providers)', () => {
    it('128 bytes accepted, 129 rejected: "Username invalid, must be 1-128 bytes."', async () => {
      const name = (n) => `u${'x'.repeat(n - 9)}${randomBytes(4).toString('hex')}`;
      const ok = await client.authenticateDevice(randomDeviceId(), true, name(128));
      assert.equal(ok.username.length, 128);
      await expectError(client.authenticateDevice(randomDeviceId(), true, name(129)), USERNAME_LENGTH);
      await expectError(client.authenticateCustom(randomCustomId(), true, name(129)), USERNAME_LENGTH);
      await expectError(client.authenticateEmail(randomEmail(), randomPassword(), true, name(129)), USERNAME_LENGTH);
    });

    it('length is in bytes: 65 two-byte characters are too long', async () => {
      await expectError(client.authenticateDevice(randomDeviceId(), true, 'é'.repeat(65)), USERNAME_LENGTH);
    });

    for (const [name, username] of [
      ['a tab', 'user\tname'],
      ['a newline', 'user\nname'],
      ['a carriage return', 'user\rname'],
      ['a control character', 'user\u0002name'],
    ]) {
      it(`a username with ${name}: "Username invalid, no spaces or control characters allowed."`, async () => {
        await expectError(client.authenticateDevice(randomDeviceId(), true, username), USERNAME_CHARS);
        await expectError(client.authenticateCustom(randomCustomId(), true, username), USERNAME_CHARS);
        await expectError(client.authenticateEmail(randomEmail(), randomPassword(), true, username), USERNAME_CHARS);
      });
    }

    it('a plain space is accepted (the username regex only rejects \\t\\n\\r\\f\\v and controls)', async () => {
      const username = `has space ${randomBytes(3).toString('hex')}`;
      const session = await client.authenticateDevice(randomDeviceId(), true, username);
      assert.equal(session.username, username);
    });

    describe('upstream quirks (nakama-semantics.md §1.1 marks these as quirks)', () => {
      it('the regex also rejects a "[" or whitespace followed by "]"', async () => {
        await expectError(client.authenticateDevice(randomDeviceId(), true, 'user[]name'), USERNAME_CHARS);
      });
    });
  });

  describe('vars and token claims', () => {
    it('vars round-trip into both tokens and session.vars', async () => {
      const vars = { level: '7', team: 'red', empty: '' };
      const session = await client.authenticateDevice(randomDeviceId(), true, undefined, vars);
      assert.deepEqual(session.vars, vars);
      assert.deepEqual(decodeJwt(session.refresh_token).payload.vrs, vars);
    });

    it('vars work for custom and email too', async () => {
      const vars = { source: 'custom' };
      assert.deepEqual((await client.authenticateCustom(randomCustomId(), true, undefined, vars)).vars, vars);
      const evars = { source: 'email' };
      assert.deepEqual((await client.authenticateEmail(randomEmail(), randomPassword(), true, undefined, evars)).vars,
        evars);
    });

    it('vars come from each request, also for an existing account', async () => {
      const deviceId = randomDeviceId();
      await client.authenticateDevice(deviceId, true, undefined, { first: '1' });
      const again = await client.authenticateDevice(deviceId, true, undefined, { second: '2' });
      assert.deepEqual(again.vars, { second: '2' });
      const none = await client.authenticateDevice(deviceId);
      assert.equal(none.vars, undefined);
    });

    it('no vars: the "vrs" claim is omitted', async () => {
      const session = await client.authenticateDevice(randomDeviceId());
      assert.equal(Object.hasOwn(decodeJwt(session.token).payload, 'vrs'), false);
      assert.equal(Object.hasOwn(decodeJwt(session.refresh_token).payload, 'vrs'), false);
      assert.equal(session.vars, undefined);
    });

    it('non-ASCII vars survive (checked on the raw token)', async () => {
      // nakama-js' own token decoding mangles some non-ASCII payloads, so this
      // goes through raw HTTP and decodes the JWT here.
      const vars = { '名前': 'テスト ✓', 'quote"and\\slash': '<&>' };
      const res = await request(server.baseUrl, 'POST', '/v2/account/authenticate/device', {
        headers: { Authorization: basicAuth() }, body: { id: randomDeviceId(), vars },
      });
      assert.equal(res.status, 200, res.text);
      const { token, refresh_token: refreshToken } = res.json();
      assert.deepEqual(decodeJwt(token).payload.vrs, vars);
      assert.deepEqual(decodeJwt(refreshToken).payload.vrs, vars);
    });

    it('token claims: HS256 with the default keys, tid/uid/usn/exp/iat', async () => {
      const username = randomUsername();
      const before = nowSec();
      const session = await client.authenticateDevice(randomDeviceId(), true, username);
      const after = nowSec();

      const token = decodeJwt(session.token);
      const refresh = decodeJwt(session.refresh_token);
      assert.deepEqual(token.header, { alg: 'HS256', typ: 'JWT' });
      assert.deepEqual(refresh.header, { alg: 'HS256', typ: 'JWT' });
      assert.ok(verifyJwt(session.token, SESSION_KEY), 'session token must be signed with session.encryption_key');
      assert.ok(verifyJwt(session.refresh_token, REFRESH_KEY),
        'refresh token must be signed with session.refresh_encryption_key');

      for (const { payload } of [token, refresh]) {
        assert.match(payload.tid, UUID_RE);
        assert.equal(payload.uid, session.user_id);
        assert.equal(payload.usn, username);
        assert.ok(Number.isInteger(payload.exp) && Number.isInteger(payload.iat), JSON.stringify(payload));
        assert.ok(payload.iat >= before - 1 && payload.iat <= after + 1, `iat ${payload.iat} not in [${before}, ${after}]`);
      }
      assert.equal(refresh.payload.tid, token.payload.tid, 'session and refresh token share one tid');
      assert.equal(refresh.payload.iat, token.payload.iat);
      assert.ok(Math.abs(token.payload.exp - token.payload.iat - TOKEN_EXPIRY_SEC) <= 1,
        `session lifetime ${token.payload.exp - token.payload.iat}, want ${TOKEN_EXPIRY_SEC}`);
      assert.ok(Math.abs(refresh.payload.exp - refresh.payload.iat - REFRESH_TOKEN_EXPIRY_SEC) <= 1,
        `refresh lifetime ${refresh.payload.exp - refresh.payload.iat}, want ${REFRESH_TOKEN_EXPIRY_SEC}`);

      // What nakama-js derived from them.
      assert.equal(session.user_id, token.payload.uid);
      assert.equal(session.username, username);
      assert.equal(session.expires_at, token.payload.exp);
      assert.equal(session.refresh_expires_at, refresh.payload.exp);
      assert.equal(session.isexpired(nowSec()), false);
    });

    it('every authentication gets a new token id', async () => {
      const deviceId = randomDeviceId();
      const a = await client.authenticateDevice(deviceId);
      const b = await client.authenticateDevice(deviceId);
      assert.notEqual(decodeJwt(a.token).payload.tid, decodeJwt(b.token).payload.tid);
    });
  });

  // Facebook Instant Games: the signed player info is checked with the app secret
  // (social.facebook_instant_game.app_secret; empty by default, and an empty secret is a key
  // too, as in Nakama), so the whole flow runs offline.
  describe('facebook instant games', () => {
    const signedPlayerInfo = (playerId, secret = '', algorithm = 'HMAC-SHA256') => {
      const payload = Buffer.from(JSON.stringify({ algorithm, player_id: playerId, issued_at: nowSec() })).toString('base64url');
      const signature = createHmac('sha256', secret).update(payload).digest('base64url');
      return `${signature}.${payload}`;
    };
    const EXTRACT_FAILED = {
      status: 500, code: 15, message: 'Error extracting the Facebook Instant Game player ID or validating the signature',
    };

    it('creates, then finds, the account of a signed player id', async () => {
      const player = `fbig-${randomDeviceId()}`;
      const first = await client.authenticateFacebookInstantGame(signedPlayerInfo(player));
      assert.equal(first.created, true);
      const again = await client.authenticateFacebookInstantGame(signedPlayerInfo(player), false);
      assert.equal(again.created, false);
      assert.equal(again.user_id, first.user_id);
      const account = await client.getAccount(again);
      assert.equal(account.user.facebook_instant_game_id, player);
    });

    it('rejects forged, malformed and missing player info', async () => {
      await expectError(client.authenticateFacebookInstantGame(signedPlayerInfo('p', 'guessed-secret')), EXTRACT_FAILED);
      await expectError(client.authenticateFacebookInstantGame('signature.payload'), EXTRACT_FAILED);
      await expectError(client.authenticateFacebookInstantGame(signedPlayerInfo('p', '', 'RS256')), EXTRACT_FAILED);
      await expectError(client.authenticateFacebookInstantGame(''), {
        status: 400, code: Code.INVALID_ARGUMENT, message: 'Signed Player Info for a Facebook Instant Game is required.',
      });
      await expectError(client.authenticateFacebookInstantGame(signedPlayerInfo(`fbig-${randomDeviceId()}`), false), {
        status: 404, code: Code.NOT_FOUND, message: 'User account not found.',
      });
    });

    it('links to and unlinks from a device account', async () => {
      const session = await client.authenticateDevice(randomDeviceId());
      const player = `fbig-${randomDeviceId()}`;
      assert.equal(await client.linkFacebookInstantGame(session, { signed_player_info: signedPlayerInfo(player) }), true);
      const viaPlayer = await client.authenticateFacebookInstantGame(signedPlayerInfo(player));
      assert.equal(viaPlayer.user_id, session.user_id);
      const other = await client.authenticateDevice(randomDeviceId());
      await expectError(client.linkFacebookInstantGame(other, { signed_player_info: signedPlayerInfo(player) }), {
        status: 409, code: Code.ALREADY_EXISTS, message: 'Facebook Instant Game ID is already in use.',
      });
      await expectError(client.linkFacebookInstantGame(other, { signed_player_info: signedPlayerInfo(player, 'x') }), {
        status: 401, code: Code.UNAUTHENTICATED, message: 'Could not authenticate Facebook Instant Game profile.',
      });
      assert.equal(await client.unlinkFacebookInstantGame(session, { signed_player_info: signedPlayerInfo(player) }), true);
      assert.equal((await client.getAccount(session)).user.facebook_instant_game_id, undefined);
    });
  });

  // The server currently answers the other social providers with gRPC UNIMPLEMENTED.
  // When a provider lands, replace its expectation with Nakama's answer for an
  // unconfigured provider / unverifiable token (nakama-wire.md §8.1), e.g.
  // apple → 400 code 9 "Apple authentication is not configured.",
  // steam → 400 code 9 "Steam authentication is not configured.".
  describe('providers not yet implemented (issue #2)', () => {
    const UNIMPLEMENTED = { status: 501, code: Code.UNIMPLEMENTED, message: nonEmptyMessage };

    it('apple: 501 code 12', async () => {
      await expectError(client.authenticateApple('apple-id-token'), UNIMPLEMENTED);
    });

    it('facebook: 501 code 12', async () => {
      await expectError(client.authenticateFacebook('facebook-access-token'), UNIMPLEMENTED);
    });

    it('google: 501 code 12', async () => {
      await expectError(client.authenticateGoogle('google-id-token'), UNIMPLEMENTED);
    });

    it('gamecenter: 501 code 12', async () => {
      await expectError(client.authenticateGameCenter(
        'com.example.game', 'G:1234567890', 'https://static.gc.apple.com/public-key/gc-prod-10.cer',
        'c2FsdA==', 'c2lnbmF0dXJl', String(nowSec()),
      ), UNIMPLEMENTED);
    });

    it('steam: 501 code 12', async () => {
      await expectError(client.authenticateSteam('steam-session-ticket'), UNIMPLEMENTED);
    });
  });
});
