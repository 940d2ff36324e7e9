// Pins what the installed @heroiclabs/nakama-js puts on the wire and how it
// reports errors, against a tiny in-process HTTP recorder (no kizuna needed).
// The server tests rely on these facts; if a client upgrade changes one of
// them, this file says which.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Client, Session } from '@heroiclabs/nakama-js';
import { forgeRefreshToken, forgeSessionToken, nowSec } from '../lib/util.mjs';

describe('nakama-js wire behaviour', () => {
  let recorder;
  let port;
  const seen = [];
  let reply = () => ({ status: 200, body: {} });

  const client = (opts = {}) =>
    new Client('defaultkey', '127.0.0.1', String(port), false, 2000, opts.autoRefreshSession ?? false);
  const last = () => seen.at(-1);
  const session = (expiresIn = 3600) => {
    const iat = nowSec();
    return Session.restore(forgeSessionToken({ iat, exp: iat + expiresIn }), forgeRefreshToken({ iat }));
  };
  const sessionReply = () => ({
    status: 200,
    body: { token: forgeSessionToken(), refresh_token: forgeRefreshToken() },
  });

  before(async () => {
    recorder = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        // nakama-js builds "<path>?" + "k=v&"...; Node's fetch drops a lone
        // trailing "?" but keeps the trailing "&".
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const { status, body } = reply(req);
        res.writeHead(status, { 'Content-Type': 'application/json', Connection: 'close' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    port = recorder.address().port;
  });
  after(async () => {
    await new Promise((resolve) => recorder.close(resolve));
  });

  it('authenticateDevice: query create/username, Basic "<key>:", JSON body with id and vars', async () => {
    reply = sessionReply;
    await client().authenticateDevice('device-0123456789', false, 'someone', { a: '1' });
    const req = last();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v2/account/authenticate/device?create=false&username=someone&');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('defaultkey:').toString('base64')}`);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(req.body), { id: 'device-0123456789', vars: { a: '1' } });
  });

  it('authenticateDevice without create/username/vars sends neither query parameter nor vars', async () => {
    reply = sessionReply;
    await client().authenticateDevice('device-0123456789');
    assert.equal(last().url, '/v2/account/authenticate/device');
    assert.equal(last().body, '{"id":"device-0123456789"}');
  });

  it('sessionRefresh sends {"token": <refresh>, "vars": {}} by default', async () => {
    reply = sessionReply;
    const s = session();
    const refreshToken = s.refresh_token;
    await client().sessionRefresh(s);
    assert.equal(last().url, '/v2/account/session/refresh');
    assert.equal(last().headers.authorization, `Basic ${Buffer.from('defaultkey:').toString('base64')}`);
    assert.deepEqual(JSON.parse(last().body), { token: refreshToken, vars: {} });
  });

  it('sessionLogout sends {"refresh_token", "token"} with the session as bearer; "" stays ""', async () => {
    reply = () => ({ status: 200, body: {} });
    const s = session();
    await client().sessionLogout(s, 'T', 'R');
    assert.equal(last().url, '/v2/session/logout');
    assert.equal(last().headers.authorization, `Bearer ${s.token}`);
    assert.deepEqual(JSON.parse(last().body), { refresh_token: 'R', token: 'T' });
    await client().sessionLogout(s, '', '');
    assert.equal(last().body, '{"refresh_token":"","token":""}');
    await client().sessionLogout(s, 'T', undefined);
    assert.equal(last().body, '{"token":"T"}');
  });

  it('updateAccount({}) sends the body {}', async () => {
    reply = () => ({ status: 200, body: {} });
    await client().updateAccount(session(), {});
    assert.equal(last().method, 'PUT');
    assert.equal(last().url, '/v2/account');
    assert.equal(last().body, '{}');
  });

  it('getUsers repeats query keys and omits empty lists', async () => {
    reply = () => ({ status: 200, body: {} });
    const result = await client().getUsers(session(), ['a', 'b'], ['u v'], ['f']);
    assert.equal(last().url, '/v2/user?ids=a&ids=b&usernames=u%20v&facebook_ids=f&');
    assert.deepEqual(result, { users: [] });
    await client().getUsers(session(), [], []);
    assert.equal(last().url, '/v2/user');
  });

  it('unlinkDevice({}) sends the body {}', async () => {
    reply = () => ({ status: 200, body: {} });
    await client().unlinkDevice(session(), {});
    assert.equal(last().url, '/v2/account/unlink/device');
    assert.equal(last().body, '{}');
  });

  it('a non-2xx answer rejects with the fetch Response itself', async () => {
    reply = () => ({ status: 409, body: { code: 6, message: 'Username is already in use.' } });
    let err;
    try {
      await client().authenticateDevice('device-0123456789', true, 'taken');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Response, `rejected with ${err}`);
    assert.equal(err.status, 409);
    assert.equal(err.ok, false);
    assert.deepEqual(await err.json(), { code: 6, message: 'Username is already in use.' });
  });

  it('with autoRefreshSession (its default) it refreshes a token expiring within 5 minutes first', async () => {
    reply = (req) => (req.url.startsWith('/v2/account/session/refresh') ? sessionReply() : { status: 200, body: {} });
    seen.length = 0;
    await client({ autoRefreshSession: true }).getAccount(session(60));
    assert.deepEqual(seen.map((r) => r.url), ['/v2/account/session/refresh', '/v2/account']);
    seen.length = 0;
    await client({ autoRefreshSession: false }).getAccount(session(60));
    assert.deepEqual(seen.map((r) => r.url), ['/v2/account']);
  });
});
