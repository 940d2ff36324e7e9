// SessionRefresh and SessionLogout (nakama-wire.md §6, nakama-semantics.md §1.6).
//
// Revocation by "log out everything" compares whole seconds: a token is
// rejected when exp - token_expiry_sec < the logout second. A token issued in
// the same second as the logout is therefore still valid upstream, so those
// checks use tokens forged with the default key whose issue second is clearly
// before or after the logout instead of sleeping.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '@heroiclabs/nakama-js';
import { startServer } from '../lib/server.mjs';
import {
  Code, REFRESH_KEY, TOKEN_EXPIRY_SEC,
  basicAuth, bearer, decodeJwt, expectError, expectErrorResponse, forgeRefreshToken, forgeSessionToken,
  nowSec, randomDeviceId, randomUsername, request,
} from '../lib/util.mjs';

const AUTH_INVALID = { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token invalid' };
const REFRESH_INVALID = { status: 401, code: Code.UNAUTHENTICATED, message: 'Refresh token invalid or expired.' };
const LOGOUT_SESSION_INVALID = { status: 400, code: Code.INVALID_ARGUMENT, message: 'Session token invalid.' };
const LOGOUT_REFRESH_INVALID = { status: 400, code: Code.INVALID_ARGUMENT, message: 'Refresh token invalid.' };
const REFRESH_PATH = '/v2/account/session/refresh';

describe('session', () => {
  let server;
  let client;
  const newSession = (vars) => client.authenticateDevice(randomDeviceId(), true, undefined, vars);
  const restore = (token, refreshToken = '') => Session.restore(token, refreshToken);
  const rawRefresh = (body) => request(server.baseUrl, 'POST', REFRESH_PATH, {
    headers: { Authorization: basicAuth() }, body,
  });

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('sessionRefresh', () => {
    it('issues a session and refresh token with the same tid and iat for the same user', async () => {
      const session = await newSession();
      const oldToken = decodeJwt(session.token).payload;
      const oldRefresh = decodeJwt(session.refresh_token).payload;

      const refreshed = await client.sessionRefresh(session);
      const token = decodeJwt(refreshed.token).payload;
      const refresh = decodeJwt(refreshed.refresh_token).payload;

      for (const payload of [token, refresh]) {
        assert.equal(payload.tid, oldToken.tid);
        assert.equal(payload.iat, oldToken.iat);
        assert.equal(payload.uid, session.user_id);
        assert.equal(payload.usn, oldToken.usn);
      }
      assert.ok(token.exp >= oldToken.exp, 'session exp is recomputed from now');
      assert.ok(Math.abs(token.exp - nowSec() - TOKEN_EXPIRY_SEC) <= 2, `exp ${token.exp}`);
      assert.ok(refresh.exp >= oldRefresh.exp, 'refresh exp is recomputed from now');
      assert.equal(refreshed.user_id, session.user_id);

      const account = await client.getAccount(refreshed);
      assert.equal(account.user.id, session.user_id);
    });

    it('answers a Session without "created" (false) on the wire', async () => {
      const session = await newSession();
      const res = await rawRefresh({ token: session.refresh_token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.json()).sort(), ['refresh_token', 'token']);
    });

    it('nakama-js sends vars:{} by default, which keeps the vars (Nakama drops an empty map)', async () => {
      const session = await newSession({ level: '7' });
      assert.deepEqual(session.vars, { level: '7' });
      const refreshed = await client.sessionRefresh(session);
      assert.deepEqual(refreshed.vars, { level: '7' });
      assert.deepEqual(decodeJwt(refreshed.token).payload.vrs, { level: '7' });
      assert.deepEqual(decodeJwt(refreshed.refresh_token).payload.vrs, { level: '7' });
    });

    it('given vars replace the old ones in both tokens', async () => {
      const session = await newSession({ a: '1', b: '2' });
      const refreshed = await client.sessionRefresh(session, { c: '3' });
      assert.deepEqual(refreshed.vars, { c: '3' });
      assert.deepEqual(decodeJwt(refreshed.refresh_token).payload.vrs, { c: '3' });
    });

    it('a request without "vars" keeps the vars of the refresh token', async () => {
      const session = await newSession({ keep: 'me' });
      const res = await rawRefresh({ token: session.refresh_token });
      assert.equal(res.status, 200, res.text);
      const { token, refresh_token: refreshToken } = res.json();
      assert.deepEqual(decodeJwt(token).payload.vrs, { keep: 'me' });
      assert.deepEqual(decodeJwt(refreshToken).payload.vrs, { keep: 'me' });
    });

    it('re-reads the username from the database', async () => {
      const session = await newSession();
      const username = randomUsername();
      await client.updateAccount(session, { username });
      const refreshed = await client.sessionRefresh(session);
      assert.equal(refreshed.username, username);
      assert.equal(decodeJwt(refreshed.refresh_token).payload.usn, username);
    });

    it('the previous refresh token stays usable after a refresh', async () => {
      const session = await newSession();
      const original = session.refresh_token;
      await client.sessionRefresh(session);
      const again = await client.sessionRefresh(restore(session.token, original));
      assert.equal(again.user_id, session.user_id);
    });

    it('an empty refresh token: 400 "Refresh token is required."', async () => {
      const session = await newSession();
      const REQUIRED = { status: 400, code: Code.INVALID_ARGUMENT, message: 'Refresh token is required.' };
      await expectError(client.sessionRefresh(restore(session.token, '')), REQUIRED);
      expectErrorResponse(await rawRefresh({}), REQUIRED);
    });

    it('garbage: 401 "Refresh token invalid or expired."', async () => {
      expectErrorResponse(await rawRefresh({ token: 'not-a-jwt' }), REFRESH_INVALID);
      expectErrorResponse(await rawRefresh({ token: 'a.b.c' }), REFRESH_INVALID);
    });

    it('a session token presented as refresh token: 401 "Refresh token invalid or expired."', async () => {
      const session = await newSession();
      await expectError(client.sessionRefresh(restore(session.token, session.token)), REFRESH_INVALID);
    });

    it('a refresh token signed with another key: 401 "Refresh token invalid or expired."', async () => {
      const session = await newSession();
      const forged = forgeRefreshToken({ uid: session.user_id, usn: session.username, key: 'some-other-key' });
      await expectError(client.sessionRefresh(restore(session.token, forged)), REFRESH_INVALID);
    });

    it('an expired refresh token: 401 "Refresh token invalid or expired."', async () => {
      const session = await newSession();
      const iat = nowSec() - 7200;
      const expired = forgeRefreshToken({ uid: session.user_id, usn: session.username, iat, exp: iat + 3600 });
      await expectError(client.sessionRefresh(restore(session.token, expired)), REFRESH_INVALID);
    });

    it('a genuine-looking refresh token of a user that does not exist: 404 "User account not found."', async () => {
      const session = await newSession();
      const forged = forgeRefreshToken({ key: REFRESH_KEY }); // random uid
      await expectError(client.sessionRefresh(restore(session.token, forged)), {
        status: 404, code: Code.NOT_FOUND, message: 'User account not found.',
      });
    });

    it('a refresh token forged with the default refresh key is honoured', async () => {
      const session = await newSession();
      const forged = forgeRefreshToken({ uid: session.user_id, usn: session.username, vrs: { via: 'forge' } });
      const res = await rawRefresh({ token: forged });
      assert.equal(res.status, 200, res.text);
      const token = decodeJwt(res.json().token).payload;
      assert.equal(token.uid, session.user_id);
      assert.equal(token.tid, decodeJwt(forged).payload.tid);
      assert.deepEqual(token.vrs, { via: 'forge' });
    });
  });

  describe('sessionLogout', () => {
    it('logging out the session and refresh token revokes both', async () => {
      const session = await newSession();
      assert.equal(await client.sessionLogout(session, session.token, session.refresh_token), true);
      await expectError(client.getAccount(session), AUTH_INVALID);
      await expectError(client.sessionRefresh(session), REFRESH_INVALID);
    });

    it('logging out only the session token leaves its refresh token usable', async () => {
      const session = await newSession();
      await client.sessionLogout(session, session.token, undefined);
      await expectError(client.getAccount(session), AUTH_INVALID);
      const refreshed = await client.sessionRefresh(restore(session.token, session.refresh_token));
      assert.equal(refreshed.user_id, session.user_id);
    });

    it('logging out only the refresh token leaves the session token usable', async () => {
      const session = await newSession();
      await client.sessionLogout(session, undefined, session.refresh_token);
      const account = await client.getAccount(session);
      assert.equal(account.user.id, session.user_id);
      await expectError(client.sessionRefresh(session), REFRESH_INVALID);
    });

    it('revokes only the given session, not other sessions of the same user', async () => {
      const deviceId = randomDeviceId();
      const first = await client.authenticateDevice(deviceId);
      const second = await client.authenticateDevice(deviceId);
      await client.sessionLogout(first, first.token, first.refresh_token);
      await expectError(client.getAccount(first), AUTH_INVALID);
      assert.equal((await client.getAccount(second)).user.id, first.user_id);
      assert.equal((await client.sessionRefresh(second)).user_id, first.user_id);
    });

    it("another user's session token: 400 \"Session token invalid.\"", async () => {
      const me = await newSession();
      const other = await newSession();
      await expectError(client.sessionLogout(me, other.token, undefined), LOGOUT_SESSION_INVALID);
      assert.equal((await client.getAccount(other)).user.id, other.user_id);
    });

    it("another user's refresh token: 400 \"Refresh token invalid.\"", async () => {
      const me = await newSession();
      const other = await newSession();
      await expectError(client.sessionLogout(me, undefined, other.refresh_token), LOGOUT_REFRESH_INVALID);
      assert.equal((await client.sessionRefresh(other)).user_id, other.user_id);
    });

    it('tokens that do not verify with the right key: 400', async () => {
      const me = await newSession();
      // Refresh token where a session token belongs, and the reverse.
      await expectError(client.sessionLogout(me, me.refresh_token, undefined), LOGOUT_SESSION_INVALID);
      await expectError(client.sessionLogout(me, undefined, me.token), LOGOUT_REFRESH_INVALID);
      // Garbage.
      const res = await request(server.baseUrl, 'POST', '/v2/session/logout', {
        headers: { Authorization: bearer(me.token) }, body: { token: 'not-a-jwt' },
      });
      expectErrorResponse(res, LOGOUT_SESSION_INVALID);
      // An expired token of the caller.
      const iat = nowSec() - 600;
      const expired = forgeSessionToken({ uid: me.user_id, usn: me.username, iat, exp: iat + 60 });
      await expectError(client.sessionLogout(me, expired, undefined), LOGOUT_SESSION_INVALID);
    });

    it('a rejected logout revokes nothing', async () => {
      const me = await newSession();
      const other = await newSession();
      await expectError(client.sessionLogout(me, me.token, other.refresh_token), LOGOUT_REFRESH_INVALID);
      assert.equal((await client.getAccount(me)).user.id, me.user_id);
    });

    it('needs a bearer token: 401 "Auth token required"', async () => {
      const res = await request(server.baseUrl, 'POST', '/v2/session/logout', { body: {} });
      expectErrorResponse(res, { status: 401, code: Code.UNAUTHENTICATED, message: 'Auth token required' });
    });

    it('with neither token, logs out everything issued before now', async () => {
      const me = await newSession();
      const other = await newSession();
      const { user_id: uid, username: usn } = me;
      const t0 = nowSec();
      // Issued 30 s ago / 30 s from now, as seen by exp - token_expiry_sec.
      const pastSession = forgeSessionToken({ uid, usn, iat: t0 - 30 });
      const pastRefresh = forgeRefreshToken({ uid, usn, iat: t0 - 30 });
      const laterSession = forgeSessionToken({ uid, usn, iat: t0 + 30 });
      const laterRefresh = forgeRefreshToken({ uid, usn, iat: t0 + 30 });
      assert.equal((await client.getAccount(restore(pastSession))).user.id, uid);

      // nakama-js sends {"refresh_token":"","token":""}.
      assert.equal(await client.sessionLogout(me, '', ''), true);

      await expectError(client.getAccount(restore(pastSession)), AUTH_INVALID);
      await expectError(client.sessionRefresh(restore(me.token, pastRefresh)), REFRESH_INVALID);
      assert.equal((await client.getAccount(restore(laterSession))).user.id, uid);
      assert.equal((await client.sessionRefresh(restore(laterSession, laterRefresh))).user_id, uid);
      // Other users are not affected.
      assert.equal((await client.getAccount(other)).user.id, other.user_id);
    });
  });
});

describe('session keys left unset', () => {
  let server;
  let client;

  before(async () => {
    // No session keys given: the server generates its own instead of Nakama's public defaults.
    server = await startServer({ defaultKeys: false });
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  it('tokens signed with the well-known default key are rejected; issued ones work', async () => {
    const session = await client.authenticateDevice(randomDeviceId(), true);
    assert.equal((await client.getAccount(session)).user.id, session.user_id);
    const forged = forgeSessionToken({ uid: session.user_id, usn: session.username });
    await expectError(client.getAccount(Session.restore(forged, '')), AUTH_INVALID);
    const refreshed = await client.sessionRefresh(session);
    assert.equal((await client.getAccount(refreshed)).user.id, session.user_id);
  });
});
