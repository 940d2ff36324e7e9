// Events (nakama-wire.md route `POST /v2/event`, `emitEvent`): a client reports a named event with
// string properties and an optional timestamp. Nakama hands it to the runtime's event functions;
// with none registered (Kizuna has no runtime yet) it is accepted and dropped. So the client sees
// `true`, a bad body is a 400 and a missing session a 401.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { AUTH_REQUIRED, Code, bearer, expectErrorResponse, randomDeviceId, request } from '../lib/util.mjs';

describe('events', () => {
  let server;
  let client;

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  it('emitEvent resolves true for an event with properties and a timestamp', async () => {
    const session = await client.authenticateDevice(randomDeviceId(), true);
    const sent = await client.emitEvent(session, {
      name: 'level_up',
      properties: { level: '7', class: 'mage' },
      timestamp: '2026-11-22T10:00:00Z',
    });
    assert.equal(sent, true);
    // The smallest event: a name only.
    assert.equal(await client.emitEvent(session, { name: 'ping' }), true);
  });

  it('answers {} on the wire, rejects a malformed timestamp, and needs a session', async () => {
    const session = await client.authenticateDevice(randomDeviceId(), true);
    const ok = await request(server.baseUrl, 'POST', '/v2/event', {
      headers: { Authorization: bearer(session.token) },
      body: { name: 'match_end', properties: { result: 'win' }, external: false },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), {});
    const bad = await request(server.baseUrl, 'POST', '/v2/event', {
      headers: { Authorization: bearer(session.token) },
      body: { name: 'x', timestamp: 'yesterday' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json().code, Code.INVALID_ARGUMENT);
    const anonymous = await request(server.baseUrl, 'POST', '/v2/event', { body: { name: 'x' } });
    expectErrorResponse(anonymous, AUTH_REQUIRED);
  });
});
