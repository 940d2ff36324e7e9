// Storage engine (write / read / list / delete, permissions, versions,
// cursors) and the read-only wallet
// (nakama-semantics.md §2, §1.8, §0; nakama-wire.md §1.2, §8.2, §8.3;
// seed guide "Storage Engine" and "Accessing wallets").
//
// Values are JSON inside a string. The server stores them as JSONB and returns
// PostgreSQL's canonical text (nakama-semantics.md §0), so values are always
// compared after JSON.parse, never as text. The version, however, is the MD5
// of the value string exactly as the client sent it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import {
  Code, TIMESTAMP_RE, bearer, expectError, expectErrorResponse, nowSec, randomDeviceId, request,
  invalid, AUTH_REQUIRED, NIL_UUID,
} from '../lib/util.mjs';


const COLLECTION_KEY = invalid('Invalid collection or key value supplied. They must be set.');
const BAD_READ = invalid('Invalid Read permission supplied. It must be either 0, 1 or 2.');
const BAD_WRITE = invalid('Invalid Write permission supplied. It must be either 0 or 1.');
const NOT_OBJECT = invalid('Value must be a JSON object.');
const VERSION_FAILED = invalid('Storage write rejected - version check failed.');
const WRITE_DENIED = invalid('Storage write rejected - permission denied.');
const DELETE_REJECTED = invalid('Storage delete rejected - not found, version check failed, or permission denied.');
const BAD_USER_ID = invalid('Invalid user ID - make sure user ID is a valid UUID.');
const BAD_LIMIT = invalid('Invalid limit - limit must be between 1 and 100.');
const BAD_CURSOR = invalid('Malformed cursor was used.');
const WRITE_ERROR = { status: 500, code: Code.INTERNAL, message: 'Error writing storage objects.' };

const VERSION_RE = /^[0-9a-f]{32}$/;
// Ack times come from timestamppb.New(<row time>) upstream, so unlike the
// whole-second times of read/list results they may carry a fraction
// (nakama-wire.md §2.2: 3, 6 or 9 digits).
const ACK_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6}|\.\d{9})?Z$/;

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex');
// A collection name no other test uses (listings without user_id span all users).
const uniqueCollection = (name) => `${name}_${randomBytes(4).toString('hex')}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sortedKeys = (objects) => objects.map((o) => o.key).sort();
const wholeSeconds = (time) => Math.floor(Date.parse(time) / 1000);

describe('storage and wallet', () => {
  let server;
  let client;

  const newUser = () => client.authenticateDevice(randomDeviceId(), true);
  const write = (session, objects) => client.writeStorageObjects(session, objects);
  // Reads one object of `owner` (default: the caller); undefined if not visible.
  const readOne = async (session, collection, key, owner = session.user_id) => {
    const ids = [{ collection, key, ...(owner === null ? {} : { user_id: owner }) }];
    const { objects } = await client.readStorageObjects(session, { object_ids: ids });
    assert.ok(objects.length <= 1, `one id read back ${objects.length} objects`);
    return objects[0];
  };
  const readMany = async (session, ids) => (await client.readStorageObjects(session, { object_ids: ids })).objects;
  // Follows cursors to the end; returns every page.
  const listPages = async (session, collection, userId, limit) => {
    const pages = [];
    let cursor;
    for (let i = 0; i < 50; i += 1) {
      const page = await client.listStorageObjects(session, collection, userId, limit, cursor);
      pages.push(page);
      if (!page.cursor) return pages;
      assert.notEqual(page.cursor, cursor, 'a cursor must move forward');
      cursor = page.cursor;
    }
    assert.fail('listing did not end after 50 pages');
  };
  const raw = (method, path, session, body) => request(server.baseUrl, method, path, {
    headers: session ? { Authorization: bearer(session.token) } : {},
    body,
  });

  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    await server?.stop();
  });

  describe('writeStorageObjects', () => {
    it('acks collection, key, owner, times and version = MD5 of the value string', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const value = { level: 3, name: 'Sagi', items: ['hat', 'skin'] };
      const result = await write(session, [{ collection, key: 'slot1', value }]);
      assert.deepEqual(Object.keys(result), ['acks']);
      assert.equal(result.acks.length, 1);
      const [ack] = result.acks;
      assert.deepEqual(Object.keys(ack).sort(), ['collection', 'create_time', 'key', 'update_time', 'user_id', 'version']);
      assert.equal(ack.collection, collection);
      assert.equal(ack.key, 'slot1');
      assert.equal(ack.user_id, session.user_id);
      assert.match(ack.version, VERSION_RE);
      // nakama-js sends JSON.stringify(value); the version hashes exactly that.
      assert.equal(ack.version, md5(JSON.stringify(value)));
      assert.match(ack.create_time, ACK_TIME_RE);
      assert.match(ack.update_time, ACK_TIME_RE);
      assert.equal(ack.update_time, ack.create_time, 'a new object is created and updated at the same instant');
      assert.ok(Math.abs(wholeSeconds(ack.create_time) - nowSec()) < 120, `create_time ${ack.create_time}`);
    });

    it('the object reads back with its value and the default permissions read 1, write 1', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const value = { level: 7, checkpoints: [1, 2, 3], boss: { defeated: true, hp: 0 } };
      const { acks: [ack] } = await write(session, [{ collection, key: 'slot1', value }]);
      const obj = await readOne(session, collection, 'slot1');
      assert.ok(obj, 'the written object must be readable by its owner');
      assert.equal(obj.collection, collection);
      assert.equal(obj.key, 'slot1');
      assert.equal(obj.user_id, session.user_id);
      assert.deepEqual(obj.value, value);
      assert.equal(obj.version, ack.version);
      assert.equal(obj.permission_read, 1);
      assert.equal(obj.permission_write, 1);
      assert.match(obj.create_time, TIMESTAMP_RE);
      assert.match(obj.update_time, TIMESTAMP_RE);
      assert.equal(obj.update_time, obj.create_time);
      assert.equal(Date.parse(obj.create_time) / 1000, wholeSeconds(ack.create_time));
    });

    it('the version hashes the value exactly as sent, not the normalised JSONB text', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const text = '{"zz": [1,2,  3],   "a":{"y":true,"x":null}, "name":"é✓", "n": 1.50}';
      const res = await raw('PUT', '/v2/storage', session, { objects: [{ collection, key: 'k', value: text }] });
      assert.equal(res.status, 200, res.text);
      const [ack] = res.json().acks;
      assert.equal(ack.version, md5(text));
      const obj = await readOne(session, collection, 'k');
      assert.equal(obj.version, md5(text), 'the stored version is the one acked');
      assert.deepEqual(obj.value, JSON.parse(text));
    });

    it('values round-trip as JSON: nesting, unicode, numbers, booleans, null, empty containers', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const values = {
        nested: { a: { b: { c: { d: [1, [2, [3, { e: 'deep' }]]] } } } },
        unicode: { text: 'こんにちは 🌸 «ç»', 'clé ✓': 'value', escaped: 'quote " backslash \\ newline \n tab \t' },
        scalars: { int: 42, negative: -7, float: 3.25, big: 1e21, zero: 0, t: true, f: false, nothing: null },
        empty: {},
        containers: { list: [], obj: {}, mixed: [null, false, 0, '', {}, []] },
      };
      await write(session, Object.entries(values).map(([key, value]) => ({ collection, key, value })));
      for (const [key, value] of Object.entries(values)) {
        assert.deepEqual((await readOne(session, collection, key)).value, value, key);
      }
    });

    it('an unconditional write overwrites and changes the version', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const v1 = { coins: 1 };
      const v2 = { coins: 2 };
      const v3 = { coins: 3 };
      const { acks: [a1] } = await write(session, [{ collection, key: 'k', value: v1 }]);
      const { acks: [a2] } = await write(session, [{ collection, key: 'k', value: v2 }]);
      assert.equal(a2.version, md5(JSON.stringify(v2)));
      assert.notEqual(a2.version, a1.version);
      assert.deepEqual((await readOne(session, collection, 'k')).value, v2);
      // An explicit empty version is the same as none.
      const { acks: [a3] } = await write(session, [{ collection, key: 'k', value: v3, version: '' }]);
      assert.equal(a3.version, md5(JSON.stringify(v3)));
      const obj = await readOne(session, collection, 'k');
      assert.deepEqual(obj.value, v3);
      assert.equal(obj.version, a3.version);
    });

    it('identical content is acknowledged without an update; a matching version always updates', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const value = { same: true };
      const { acks: [first] } = await write(session, [{ collection, key: 'k', value }]);
      const o1 = await readOne(session, collection, 'k');
      await sleep(1100); // read/list times are whole seconds

      const { acks: [again] } = await write(session, [{ collection, key: 'k', value }]);
      assert.equal(again.version, first.version);
      assert.equal(wholeSeconds(again.update_time), Date.parse(o1.update_time) / 1000,
        'the ack of an unchanged object carries the stored update_time');
      const o2 = await readOne(session, collection, 'k');
      assert.equal(o2.update_time, o1.update_time, 'nothing changed, so update_time is not bumped');
      assert.equal(o2.create_time, o1.create_time);

      const { acks: [matched] } = await write(session, [{ collection, key: 'k', value, version: o1.version }]);
      assert.equal(matched.version, o1.version);
      const o3 = await readOne(session, collection, 'k');
      assert.ok(Date.parse(o3.update_time) > Date.parse(o1.update_time),
        `if-match bumps update_time even for identical content: ${o1.update_time} -> ${o3.update_time}`);
      assert.equal(o3.create_time, o1.create_time, 'create_time never changes');
    });

    it('changing only the permissions updates the object and keeps the version', async () => {
      const owner = await newUser();
      const other = await newUser();
      const collection = uniqueCollection('profile');
      const value = { bio: 'hello' };
      const { acks: [a1] } = await write(owner, [{ collection, key: 'card', value }]);
      assert.equal(await readOne(other, collection, 'card', owner.user_id), undefined);
      const { acks: [a2] } = await write(owner, [{ collection, key: 'card', value, permission_read: 2 }]);
      assert.equal(a2.version, a1.version, 'same value string, same version');
      const seen = await readOne(other, collection, 'card', owner.user_id);
      assert.ok(seen, 'the object is public now');
      assert.equal(seen.permission_read, 2);
      assert.deepEqual(seen.value, value);
    });

    it('version "*" creates only if absent: 400 "Storage write rejected - version check failed."', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const original = { first: true };
      const { acks: [ack] } = await write(session, [{ collection, key: 'k', value: original, version: '*' }]);
      assert.equal(ack.version, md5(JSON.stringify(original)));
      await expectError(write(session, [{ collection, key: 'k', value: { first: false }, version: '*' }]), VERSION_FAILED);
      // Same content does not help either: the key exists.
      await expectError(write(session, [{ collection, key: 'k', value: original, version: '*' }]), VERSION_FAILED);
      const obj = await readOne(session, collection, 'k');
      assert.deepEqual(obj.value, original);
      assert.equal(obj.version, ack.version);
    });

    it('a matching version updates; a stale or unknown version is rejected', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const { acks: [a1] } = await write(session, [{ collection, key: 'k', value: { n: 1 } }]);
      const { acks: [a2] } = await write(session, [{ collection, key: 'k', value: { n: 2 }, version: a1.version }]);
      assert.equal(a2.version, md5(JSON.stringify({ n: 2 })));
      await expectError(write(session, [{ collection, key: 'k', value: { n: 3 }, version: a1.version }]), VERSION_FAILED);
      await expectError(write(session, [{ collection, key: 'k', value: { n: 3 }, version: 'f'.repeat(32) }]), VERSION_FAILED);
      await expectError(write(session, [{ collection, key: 'k', value: { n: 3 }, version: 'not-a-version' }]), VERSION_FAILED);
      const obj = await readOne(session, collection, 'k');
      assert.deepEqual(obj.value, { n: 2 });
      assert.equal(obj.version, a2.version);
    });

    it('a version for an object that does not exist is rejected and creates nothing', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      await expectError(write(session, [{ collection, key: 'missing', value: { n: 1 }, version: md5('{"n":1}') }]),
        VERSION_FAILED);
      assert.equal(await readOne(session, collection, 'missing'), undefined);
    });

    it('acks come back in request order', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const objects = ['zeta', 'alpha', 'mid', 'beta'].map((key, i) => ({ collection, key, value: { i } }));
      const { acks } = await write(session, objects);
      assert.deepEqual(acks.map((a) => a.key), ['zeta', 'alpha', 'mid', 'beta']);
      acks.forEach((a, i) => {
        assert.equal(a.version, md5(JSON.stringify({ i })), a.key);
        assert.equal(a.user_id, session.user_id);
        assert.equal(a.collection, collection);
      });
    });

    it('objects of one batch may span collections', async () => {
      const session = await newUser();
      const c1 = uniqueCollection('one');
      const c2 = uniqueCollection('two');
      const { acks } = await write(session, [
        { collection: c1, key: 'k', value: { c: 1 } },
        { collection: c2, key: 'k', value: { c: 2 } },
      ]);
      assert.deepEqual(acks.map((a) => a.collection), [c1, c2]);
      assert.deepEqual((await readOne(session, c1, 'k')).value, { c: 1 });
      assert.deepEqual((await readOne(session, c2, 'k')).value, { c: 2 });
    });

    it('a batch is all or nothing: one rejected object and nothing of the batch is written', async () => {
      const session = await newUser();
      const collection = uniqueCollection('saves');
      const { acks: [taken] } = await write(session, [{ collection, key: 'taken', value: { v: 'original' } }]);

      // "*" on an existing key fails after the other objects were processed.
      await expectError(write(session, [
        { collection, key: 'new1', value: { v: 1 } },
        { collection, key: 'taken', value: { v: 'replaced' }, version: '*' },
        { collection, key: 'new2', value: { v: 2 } },
      ]), VERSION_FAILED);
      // A stale version next to an unconditional update of an existing object.
      await expectError(write(session, [
        { collection, key: 'taken', value: { v: 'updated' } },
        { collection, key: 'zzz', value: { v: 3 }, version: 'f'.repeat(32) },
      ]), VERSION_FAILED);
      // A validation failure in the last object.
      await expectError(write(session, [
        { collection, key: 'new3', value: { v: 3 } },
        { collection, key: 'new4', value: { v: 4 }, permission_read: 3 },
      ]), BAD_READ);

      const objects = await readMany(session, ['taken', 'new1', 'new2', 'new3', 'new4', 'zzz']
        .map((key) => ({ collection, key, user_id: session.user_id })));
      assert.deepEqual(objects.map((o) => o.key), ['taken']);
      assert.deepEqual(objects[0].value, { v: 'original' });
      assert.equal(objects[0].version, taken.version);
    });

    it('an empty batch succeeds with no acks', async () => {
      const session = await newUser();
      // nakama-js returns the response body as is.
      assert.deepEqual(await write(session, []), {});
      const res = await raw('PUT', '/v2/storage', session, {});
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), {});
    });
  });

  describe('write validation', () => {
    let session;
    let collection;
    before(async () => {
      session = await newUser();
      collection = uniqueCollection('valid');
    });

    it('a NUL character in a value, collection or key is refused alike on every database; nothing is written', async () => {
      const NUL = invalid('Text must not contain NUL characters.');
      await expectError(write(session, [{ collection, key: 'nul', value: { a: 'x\u0000y' } }]), NUL);
      await expectError(write(session, [{ collection: `${collection}\u0000`, key: 'k', value: { a: 1 } }]), NUL);
      await expectError(write(session, [{ collection, key: 'k\u0000', value: { a: 1 } }]), NUL);
      const { objects } = await client.readStorageObjects(session, { object_ids: [{ collection, key: 'nul', user_id: session.user_id }] });
      assert.deepEqual(objects, []);
    });

    it('collection, key and value must be set: 400 "Invalid collection or key value supplied. They must be set."', async () => {
      await expectError(write(session, [{ collection: '', key: 'k', value: { a: 1 } }]), COLLECTION_KEY);
      await expectError(write(session, [{ collection, key: '', value: { a: 1 } }]), COLLECTION_KEY);
      await expectError(write(session, [{ key: 'k', value: { a: 1 } }]), COLLECTION_KEY);
      await expectError(write(session, [{ collection, value: { a: 1 } }]), COLLECTION_KEY);
      // JSON.stringify(undefined) is undefined: nakama-js then sends no value at all.
      await expectError(write(session, [{ collection, key: 'k' }]), COLLECTION_KEY);
      const res = await raw('PUT', '/v2/storage', session, { objects: [{ collection, key: 'k', value: '' }] });
      expectErrorResponse(res, COLLECTION_KEY);
      assert.equal(await readOne(session, collection, 'k'), undefined);
    });

    it('permission_read must be 0, 1 or 2: 400 "Invalid Read permission supplied. It must be either 0, 1 or 2."', async () => {
      for (const permission_read of [3, -1, 99]) {
        await expectError(write(session, [{ collection, key: 'r', value: { a: 1 }, permission_read }]), BAD_READ);
      }
      assert.equal(await readOne(session, collection, 'r'), undefined);
      const { acks } = await write(session, [0, 1, 2].map((permission_read) => ({
        collection, key: `r${permission_read}`, value: { a: 1 }, permission_read,
      })));
      assert.equal(acks.length, 3);
    });

    it('permission_write must be 0 or 1: 400 "Invalid Write permission supplied. It must be either 0 or 1."', async () => {
      for (const permission_write of [2, -1, 7]) {
        await expectError(write(session, [{ collection, key: 'w', value: { a: 1 }, permission_write }]), BAD_WRITE);
      }
      assert.equal(await readOne(session, collection, 'w'), undefined);
      const { acks } = await write(session, [0, 1].map((permission_write) => ({
        collection, key: `w${permission_write}`, value: { a: 1 }, permission_write,
      })));
      assert.equal(acks.length, 2);
    });

    it('the value must be a JSON object: 400 "Value must be a JSON object."', async () => {
      // nakama-js JSON.stringifies `value`.
      for (const value of [[1], 's', 12, null, true, [], [{ a: 1 }]]) {
        await expectError(write(session, [{ collection, key: 'v', value }]), NOT_OBJECT);
      }
      // Text nakama-js cannot produce: not JSON at all, or whitespace only.
      for (const value of ['{"a":', 'not json', '{a: 1}', "{'a': 1}", '{"a": 1}}', '   ', '\n']) {
        const res = await raw('PUT', '/v2/storage', session, { objects: [{ collection, key: 'v', value }] });
        expectErrorResponse(res, NOT_OBJECT);
      }
      assert.equal(await readOne(session, collection, 'v'), undefined);
    });

    it('whitespace around a JSON object is accepted', async () => {
      for (const [key, value] of [['ws1', '  {"a": 1}'], ['ws2', '\n\t{"a": 1}\r\n']]) {
        const res = await raw('PUT', '/v2/storage', session, { objects: [{ collection, key, value }] });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json().acks[0].version, md5(value));
        assert.deepEqual((await readOne(session, collection, key)).value, { a: 1 });
      }
    });

    it('each object is checked in turn: set fields, then read, then write permission, then the value', async () => {
      await expectError(write(session, [{ collection: '', key: 'o', value: [1], permission_read: 3, permission_write: 2 }]),
        COLLECTION_KEY);
      await expectError(write(session, [{ collection, key: 'o', value: [1], permission_read: 3, permission_write: 2 }]),
        BAD_READ);
      await expectError(write(session, [{ collection, key: 'o', value: [1], permission_write: 2 }]), BAD_WRITE);
      // The first object is checked completely before the second.
      await expectError(write(session, [
        { collection, key: 'o1', value: [1] },
        { collection: '', key: 'o2', value: { a: 1 } },
      ]), NOT_OBJECT);
      await expectError(write(session, [
        { collection, key: 'o1', value: { a: 1 } },
        { collection, key: 'o2', value: { a: 1 }, permission_write: 5 },
      ]), BAD_WRITE);
    });

    it('collection and key hold at most 128 characters; longer fails with 500 "Error writing storage objects."', async () => {
      const long128 = 'c'.repeat(128);
      const { acks: [ack] } = await write(session, [{ collection: long128, key: 'k'.repeat(128), value: { a: 1 } }]);
      assert.equal(ack.collection, long128);
      assert.deepEqual((await readOne(session, long128, 'k'.repeat(128))).value, { a: 1 });
      await expectError(write(session, [{ collection: 'c'.repeat(129), key: 'k', value: { a: 1 } }]), WRITE_ERROR);
      await expectError(write(session, [{ collection, key: 'k'.repeat(129), value: { a: 1 } }]), WRITE_ERROR);
    });
  });

  describe('readStorageObjects', () => {
    it('an empty request returns no objects ({} on the wire)', async () => {
      const session = await newUser();
      assert.deepEqual(await client.readStorageObjects(session, { object_ids: [] }), { objects: [] });
      const res = await raw('POST', '/v2/storage', session, {});
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), {});
    });

    it('missing objects are silently omitted', async () => {
      const session = await newUser();
      const collection = uniqueCollection('inv');
      await write(session, [{ collection, key: 'here', value: { ok: true } }]);
      const objects = await readMany(session, [
        { collection, key: 'gone', user_id: session.user_id },
        { collection, key: 'here', user_id: session.user_id },
        { collection: uniqueCollection('nothing'), key: 'here', user_id: session.user_id },
        { collection, key: 'here', user_id: randomUUID() },
      ]);
      assert.deepEqual(objects.map((o) => o.key), ['here']);
      assert.equal(objects[0].user_id, session.user_id);
      assert.deepEqual(await readMany(session, [{ collection, key: 'gone', user_id: session.user_id }]), []);
    });

    it('reads several objects of several owners in one call', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const collection = uniqueCollection('inv');
      await write(alice, [
        { collection, key: 'a1', value: { a: 1 }, permission_read: 2 },
        { collection, key: 'a2', value: { a: 2 } },
      ]);
      await write(bob, [
        { collection, key: 'b1', value: { b: 1 } },
        { collection, key: 'b2', value: { b: 2 }, permission_read: 2 },
      ]);
      const objects = await readMany(bob, [
        { collection, key: 'a1', user_id: alice.user_id },
        { collection, key: 'a2', user_id: alice.user_id },
        { collection, key: 'b1', user_id: bob.user_id },
        { collection, key: 'b2', user_id: bob.user_id },
      ]);
      // Result order is not guaranteed.
      const byKey = Object.fromEntries(objects.map((o) => [o.key, o]));
      assert.deepEqual(Object.keys(byKey).sort(), ['a1', 'b1', 'b2']);
      assert.equal(byKey.a1.user_id, alice.user_id);
      assert.deepEqual(byKey.a1.value, { a: 1 });
      assert.equal(byKey.b1.user_id, bob.user_id);
      assert.deepEqual(byKey.b2.value, { b: 2 });
    });

    it('without user_id the system owner is meant, so even one\'s own objects need user_id', async () => {
      const session = await newUser();
      const collection = uniqueCollection('inv');
      await write(session, [{ collection, key: 'mine', value: { a: 1 }, permission_read: 2 }]);
      assert.equal(await readOne(session, collection, 'mine', null), undefined);
      const res = await raw('POST', '/v2/storage', session, { object_ids: [{ collection, key: 'mine' }] });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), {});
      assert.ok(await readOne(session, collection, 'mine'));
    });

    it('collection and key must be set: 400 "Invalid collection or key value supplied. They must be set."', async () => {
      const session = await newUser();
      const me = session.user_id;
      await expectError(client.readStorageObjects(session, { object_ids: [{ collection: '', key: 'k', user_id: me }] }),
        COLLECTION_KEY);
      await expectError(client.readStorageObjects(session, { object_ids: [{ collection: 'c', key: '', user_id: me }] }),
        COLLECTION_KEY);
      await expectError(client.readStorageObjects(session, { object_ids: [{ key: 'k' }] }), COLLECTION_KEY);
      await expectError(client.readStorageObjects(session, {
        object_ids: [{ collection: 'c', key: 'k', user_id: me }, { collection: 'c', user_id: me }],
      }), COLLECTION_KEY);
    });

    it('user_id must be a valid non-nil UUID: 400 "Invalid user ID - make sure user ID is a valid UUID."', async () => {
      const session = await newUser();
      for (const user_id of ['not-a-uuid', '1234', `${session.user_id}x`, NIL_UUID]) {
        await expectError(client.readStorageObjects(session, { object_ids: [{ collection: 'c', key: 'k', user_id }] }),
          BAD_USER_ID);
      }
      await expectError(client.readStorageObjects(session, {
        object_ids: [{ collection: 'c', key: 'k', user_id: session.user_id }, { collection: 'c', key: 'k', user_id: 'bad' }],
      }), BAD_USER_ID);
    });

    it('wire shape: all fields for read 1 / write 1; permission_write 0 is omitted; whole-second times', async () => {
      const session = await newUser();
      const collection = uniqueCollection('wire');
      await write(session, [
        { collection, key: 'normal', value: { a: [1, 2] } },
        { collection, key: 'locked', value: { b: 1 }, permission_read: 2, permission_write: 0 },
      ]);
      const res = await raw('POST', '/v2/storage', session, {
        object_ids: ['normal', 'locked'].map((key) => ({ collection, key, user_id: session.user_id })),
      });
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.deepEqual(Object.keys(body), ['objects']);
      const byKey = Object.fromEntries(body.objects.map((o) => [o.key, o]));
      const normal = byKey.normal;
      assert.deepEqual(Object.keys(normal).sort(), [
        'collection', 'create_time', 'key', 'permission_read', 'permission_write', 'update_time', 'user_id', 'value', 'version',
      ]);
      assert.equal(typeof normal.value, 'string', 'value is JSON inside a string');
      assert.deepEqual(JSON.parse(normal.value), { a: [1, 2] });
      assert.equal(normal.permission_read, 1);
      assert.equal(normal.permission_write, 1);
      assert.equal(normal.version, md5(JSON.stringify({ a: [1, 2] })));
      assert.match(normal.create_time, TIMESTAMP_RE);
      assert.match(normal.update_time, TIMESTAMP_RE);
      const locked = byKey.locked;
      assert.equal(locked.permission_read, 2);
      assert.equal(Object.hasOwn(locked, 'permission_write'), false, `permission_write 0 is omitted: ${res.text}`);
    });
  });

  describe('permissions between two users', () => {
    let alice;
    let bob;
    let collection;
    // Alice's objects: key -> [read, write].
    const objects = {
      'no-read': [0, 1],
      'owner-read': [1, 1],
      'owner-locked': [1, 0],
      public: [2, 1],
      'public-locked': [2, 0],
    };
    const valueOf = (key) => ({ owner: 'alice', key });
    const allIds = (owner) => Object.keys(objects).map((key) => ({ collection, key, user_id: owner }));
    let versions;

    before(async () => {
      alice = await newUser();
      bob = await newUser();
      collection = uniqueCollection('matrix');
      const { acks } = await write(alice, Object.entries(objects).map(([key, [read, writePerm]]) => ({
        collection, key, value: valueOf(key), permission_read: read, permission_write: writePerm,
      })));
      versions = Object.fromEntries(acks.map((a) => [a.key, a.version]));
    });

    it('another user reads only the public (read 2) objects, and only with the owner\'s user_id', async () => {
      const seen = await readMany(bob, allIds(alice.user_id));
      assert.deepEqual(sortedKeys(seen), ['public', 'public-locked']);
      for (const o of seen) {
        assert.equal(o.user_id, alice.user_id);
        assert.deepEqual(o.value, valueOf(o.key));
        assert.equal(o.permission_read, 2);
      }
      assert.equal(seen.find((o) => o.key === 'public-locked').permission_write, 0);
      assert.deepEqual(await readMany(bob, Object.keys(objects).map((key) => ({ collection, key }))), []);
    });

    it('the owner reads its read 1 and read 2 objects; read 0 is runtime-only, not even the owner', async () => {
      const seen = await readMany(alice, allIds(alice.user_id));
      assert.deepEqual(sortedKeys(seen), ['owner-locked', 'owner-read', 'public', 'public-locked']);
      for (const o of seen) {
        assert.deepEqual([o.permission_read, o.permission_write], objects[o.key], o.key);
        assert.equal(o.version, versions[o.key]);
      }
      assert.equal(await readOne(alice, collection, 'no-read'), undefined);
    });

    it('another user listing the owner\'s collection sees only public objects, by key', async () => {
      const page = await client.listStorageObjects(bob, collection, alice.user_id, 100);
      assert.deepEqual(page.objects.map((o) => o.key), ['public', 'public-locked']);
      assert.equal(page.cursor, undefined);
      for (const o of page.objects) {
        assert.equal(o.user_id, alice.user_id);
        assert.deepEqual(o.value, valueOf(o.key));
      }
    });

    it('the owner listing its own collection sees read 1 objects first, then read 2, each by key; never read 0', async () => {
      const page = await client.listStorageObjects(alice, collection, alice.user_id, 100);
      assert.deepEqual(page.objects.map((o) => o.key), ['owner-locked', 'owner-read', 'public', 'public-locked']);
      assert.equal(page.cursor, undefined);
      // The same order one object at a time, across the read 1 / read 2 boundary.
      const pages = await listPages(alice, collection, alice.user_id, 1);
      assert.deepEqual(pages.flatMap((p) => p.objects.map((o) => o.key)),
        ['owner-locked', 'owner-read', 'public', 'public-locked']);
    });

    it('GET /v2/storage/{collection}/{user_id} lists the same way', async () => {
      const path = `/v2/storage/${collection}/${alice.user_id}?limit=100`;
      const asBob = await raw('GET', path, bob);
      assert.equal(asBob.status, 200, asBob.text);
      assert.deepEqual(asBob.json().objects.map((o) => o.key), ['public', 'public-locked']);
      const asAlice = await raw('GET', path, alice);
      assert.equal(asAlice.status, 200, asAlice.text);
      assert.deepEqual(asAlice.json().objects.map((o) => o.key), ['owner-locked', 'owner-read', 'public', 'public-locked']);
      expectErrorResponse(await raw('GET', `/v2/storage/${collection}/not-a-uuid?limit=10`, alice), BAD_USER_ID);
    });

    it('write 0 objects cannot be written by the owner: 400 "Storage write rejected - permission denied."', async () => {
      for (const key of ['owner-locked', 'public-locked']) {
        const [read] = objects[key];
        await expectError(write(alice, [{ collection, key, value: { changed: true } }]), WRITE_DENIED);
        // Not even with identical content and permissions.
        await expectError(write(alice, [{ collection, key, value: valueOf(key), permission_read: read, permission_write: 0 }]),
          WRITE_DENIED);
        // Permission is checked before the version.
        await expectError(write(alice, [{ collection, key, value: { changed: true }, version: versions[key] }]), WRITE_DENIED);
        await expectError(write(alice, [{ collection, key, value: { changed: true }, version: 'f'.repeat(32) }]), WRITE_DENIED);
        // "*" fails because the key exists.
        await expectError(write(alice, [{ collection, key, value: { changed: true }, version: '*' }]), VERSION_FAILED);
        const o = await readOne(alice, collection, key);
        assert.deepEqual(o.value, valueOf(key));
        assert.equal(o.version, versions[key]);
      }
      // A write 0 object in a batch rejects the whole batch.
      await expectError(write(alice, [
        { collection, key: 'owner-read', value: { changed: true } },
        { collection, key: 'owner-locked', value: { changed: true } },
      ]), WRITE_DENIED);
      assert.deepEqual((await readOne(alice, collection, 'owner-read')).value, valueOf('owner-read'));
    });

    it('write 0 objects cannot be deleted by the owner', async () => {
      for (const key of ['owner-locked', 'public-locked']) {
        await expectError(client.deleteStorageObjects(alice, { object_ids: [{ collection, key }] }), DELETE_REJECTED);
        await expectError(client.deleteStorageObjects(alice, { object_ids: [{ collection, key, version: versions[key] }] }),
          DELETE_REJECTED);
        assert.ok(await readOne(alice, collection, key), `${key} is still there`);
      }
    });

    it('another user\'s writes always go to its own objects', async () => {
      const { acks: [ack] } = await write(bob, [{ collection, key: 'public', value: { owner: 'bob' } }]);
      assert.equal(ack.user_id, bob.user_id);
      assert.deepEqual((await readOne(alice, collection, 'public')).value, valueOf('public'));
      assert.equal((await readOne(alice, collection, 'public')).version, versions.public);
      assert.deepEqual((await readOne(bob, collection, 'public')).value, { owner: 'bob' });

      // Alice's version means nothing for Bob, who has no such object.
      await expectError(write(bob, [{ collection, key: 'owner-read', value: { owner: 'bob' }, version: versions['owner-read'] }]),
        VERSION_FAILED);
      // A user_id in the request is not a field of WriteStorageObject and is ignored.
      const res = await raw('PUT', '/v2/storage', bob, {
        objects: [{ collection, key: 'public-locked', value: '{"owner": "bob"}', user_id: alice.user_id }],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().acks[0].user_id, bob.user_id);
      assert.deepEqual((await readOne(alice, collection, 'public-locked')).value, valueOf('public-locked'));
      assert.deepEqual((await readOne(bob, collection, 'public-locked')).value, { owner: 'bob' });

      const owners = await readMany(alice, allIds(alice.user_id));
      assert.ok(owners.every((o) => o.user_id === alice.user_id && o.value.owner === 'alice'));
    });

    it('another user can never delete the owner\'s objects', async () => {
      const before = sortedKeys(await readMany(alice, allIds(alice.user_id)));
      for (const key of ['owner-read', 'no-read']) {
        await expectError(client.deleteStorageObjects(bob, { object_ids: [{ collection, key }] }), DELETE_REJECTED);
        await expectError(client.deleteStorageObjects(bob, { object_ids: [{ collection, key, version: versions[key] }] }),
          DELETE_REJECTED);
      }
      // A user_id in the request is ignored too.
      expectErrorResponse(await raw('PUT', '/v2/storage/delete', bob, {
        object_ids: [{ collection, key: 'owner-read', user_id: alice.user_id }],
      }), DELETE_REJECTED);
      // Bob deleting the same collection/key deletes his own object, not Alice's.
      await write(bob, [{ collection, key: 'owner-read', value: { owner: 'bob' } }]);
      assert.equal(await client.deleteStorageObjects(bob, { object_ids: [{ collection, key: 'owner-read' }] }), true);
      assert.equal(await readOne(bob, collection, 'owner-read'), undefined);
      assert.deepEqual(sortedKeys(await readMany(alice, allIds(alice.user_id))), before);
      assert.deepEqual((await readOne(alice, collection, 'owner-read')).value, valueOf('owner-read'));
    });
  });

  describe('listStorageObjects', () => {
    it('limit defaults to 1', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      await write(session, ['a', 'b', 'c'].map((key) => ({ collection, key, value: { key } })));
      const page = await client.listStorageObjects(session, collection, session.user_id);
      assert.deepEqual(page.objects.map((o) => o.key), ['a']);
      assert.equal(typeof page.cursor, 'string');
      assert.ok(page.cursor.length > 0);
      const next = await client.listStorageObjects(session, collection, session.user_id, undefined, page.cursor);
      assert.deepEqual(next.objects.map((o) => o.key), ['b']);
    });

    it('limit must be 1-100: 400 "Invalid limit - limit must be between 1 and 100."', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      await write(session, [{ collection, key: 'a', value: { a: 1 } }]);
      for (const limit of [0, 101, -1, 1000]) {
        await expectError(client.listStorageObjects(session, collection, session.user_id, limit), BAD_LIMIT);
      }
      // The limit is checked before the user id.
      await expectError(client.listStorageObjects(session, collection, 'not-a-uuid', 0), BAD_LIMIT);
      for (const limit of [1, 100]) {
        const page = await client.listStorageObjects(session, collection, session.user_id, limit);
        assert.deepEqual(page.objects.map((o) => o.key), ['a'], `limit ${limit}`);
      }
    });

    it('user_id must be a UUID: 400 "Invalid user ID - make sure user ID is a valid UUID."', async () => {
      const session = await newUser();
      for (const userId of ['not-a-uuid', '1234', `${session.user_id}0`]) {
        await expectError(client.listStorageObjects(session, 'c', userId, 10), BAD_USER_ID);
      }
    });

    it('pages through 7 objects 3 at a time: each exactly once, in key order; the last page has no cursor', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
      const shuffled = ['k4', 'k0', 'k6', 'k2', 'k5', 'k1', 'k3'];
      await write(session, shuffled.map((key) => ({ collection, key, value: { key } })));
      const pages = await listPages(session, collection, session.user_id, 3);
      assert.deepEqual(pages.map((p) => p.objects.length), [3, 3, 1]);
      assert.equal(typeof pages[0].cursor, 'string');
      assert.equal(typeof pages[1].cursor, 'string');
      assert.equal(pages[2].cursor, undefined);
      const listed = pages.flatMap((p) => p.objects);
      assert.deepEqual(listed.map((o) => o.key), keys);
      for (const o of listed) {
        assert.deepEqual(o.value, { key: o.key });
        assert.equal(o.user_id, session.user_id);
        assert.equal(o.collection, collection);
        assert.equal(o.version, md5(JSON.stringify({ key: o.key })));
        assert.equal(o.permission_read, 1);
        assert.equal(o.permission_write, 1);
        assert.match(o.create_time, TIMESTAMP_RE);
        assert.match(o.update_time, TIMESTAMP_RE);
      }
    });

    it('one\'s own listing is ordered by read permission, then key: owner-read objects before public ones', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      await write(session, [
        { collection, key: 'a', value: { key: 'a' }, permission_read: 2 },
        { collection, key: 'b', value: { key: 'b' }, permission_read: 1 },
        { collection, key: 'c', value: { key: 'c' }, permission_read: 2 },
        { collection, key: 'd', value: { key: 'd' }, permission_read: 1 },
        { collection, key: '0', value: { key: '0' }, permission_read: 0 },
      ]);
      const page = await client.listStorageObjects(session, collection, session.user_id, 100);
      assert.deepEqual(page.objects.map((o) => o.key), ['b', 'd', 'a', 'c']);
      for (const limit of [1, 3]) {
        const pages = await listPages(session, collection, session.user_id, limit);
        assert.deepEqual(pages.flatMap((p) => p.objects.map((o) => o.key)), ['b', 'd', 'a', 'c'], `limit ${limit}`);
      }
      // Another user sees the public ones, by key.
      const other = await newUser();
      const pages = await listPages(other, collection, session.user_id, 1);
      assert.deepEqual(pages.flatMap((p) => p.objects.map((o) => o.key)), ['a', 'c']);
    });

    it('a page that ends exactly at the last object has no cursor', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      await write(session, ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ collection, key, value: { key } })));
      const pages = await listPages(session, collection, session.user_id, 3);
      assert.deepEqual(pages.map((p) => p.objects.map((o) => o.key)), [['a', 'b', 'c'], ['d', 'e', 'f']]);
      assert.equal(pages[1].cursor, undefined);
      const whole = await client.listStorageObjects(session, collection, session.user_id, 6);
      assert.equal(whole.objects.length, 6);
      assert.equal(whole.cursor, undefined);
    });

    it('an empty collection lists no objects and no cursor ({} on the wire)', async () => {
      const session = await newUser();
      const collection = uniqueCollection('empty');
      const page = await client.listStorageObjects(session, collection, session.user_id, 10);
      assert.deepEqual(page, { objects: [], cursor: undefined });
      const res = await raw('GET', `/v2/storage/${collection}?user_id=${session.user_id}&limit=10`, session);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), {});
      const everyone = await client.listStorageObjects(session, collection, undefined, 10);
      assert.deepEqual(everyone.objects, []);
    });

    it('a tampered cursor: 400 "Malformed cursor was used."', async () => {
      const session = await newUser();
      const collection = uniqueCollection('list');
      await write(session, ['a', 'b', 'c'].map((key) => ({ collection, key, value: { key } })));
      const { cursor } = await client.listStorageObjects(session, collection, session.user_id, 1);
      assert.ok(cursor);
      const truncated = cursor.slice(0, Math.floor(cursor.length / 2));
      for (const bad of ['not a cursor!', '%%%', truncated]) {
        await expectError(client.listStorageObjects(session, collection, session.user_id, 1, bad), BAD_CURSOR);
      }
    });

    it('without user_id: every owner\'s public (read 2) objects, ordered by key then owner id', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const carol = await newUser();
      const collection = uniqueCollection('shared');
      await write(alice, [
        { collection, key: 'a', value: { o: 'alice' }, permission_read: 2 },
        { collection, key: 'b', value: { o: 'alice' } },
        { collection, key: 'c', value: { o: 'alice' }, permission_read: 2, permission_write: 0 },
        { collection, key: 'e', value: { o: 'alice' }, permission_read: 0 },
      ]);
      await write(bob, [
        { collection, key: 'd', value: { o: 'bob' }, permission_read: 2 },
        { collection, key: 'a', value: { o: 'bob' }, permission_read: 2 },
        { collection, key: 'c', value: { o: 'bob' }, permission_read: 1 },
        { collection, key: 'f', value: { o: 'bob' }, permission_read: 2 },
      ]);
      const [first, second] = [alice.user_id, bob.user_id].sort();
      const expected = [['a', first], ['a', second], ['c', alice.user_id], ['d', bob.user_id], ['f', bob.user_id]];
      for (const viewer of [alice, bob, carol]) {
        const page = await client.listStorageObjects(viewer, collection, undefined, 100);
        assert.deepEqual(page.objects.map((o) => [o.key, o.user_id]), expected);
        assert.equal(page.cursor, undefined);
        for (const o of page.objects) {
          assert.equal(o.permission_read, 2);
          assert.deepEqual(o.value, { o: o.user_id === alice.user_id ? 'alice' : 'bob' });
        }
      }
      // Paging keeps the order, including between two owners of the same key.
      for (const limit of [1, 2]) {
        const pages = await listPages(carol, collection, undefined, limit);
        assert.deepEqual(pages.flatMap((p) => p.objects.map((o) => [o.key, o.user_id])), expected, `limit ${limit}`);
      }
      // The raw route with no user_id at all.
      const res = await raw('GET', `/v2/storage/${collection}?limit=100`, carol);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json().objects.map((o) => [o.key, o.user_id]), expected);
    });
  });

  describe('deleteStorageObjects', () => {
    it('deletes by collection and key; the key can then be created again with "*"', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      await write(session, [{ collection, key: 'a', value: { a: 1 } }, { collection, key: 'b', value: { b: 1 } }]);
      assert.equal(await client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'a' }] }), true);
      assert.equal(await readOne(session, collection, 'a'), undefined);
      assert.ok(await readOne(session, collection, 'b'));
      const { acks: [ack] } = await write(session, [{ collection, key: 'a', value: { a: 2 }, version: '*' }]);
      assert.equal(ack.version, md5('{"a":2}'));
    });

    it('deletes with the matching version', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      const { acks: [ack] } = await write(session, [{ collection, key: 'a', value: { a: 1 } }]);
      assert.equal(await client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'a', version: ack.version }] }),
        true);
      assert.equal(await readOne(session, collection, 'a'), undefined);
    });

    it('a wrong version: 400 "Storage delete rejected - not found, version check failed, or permission denied."', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      const { acks: [a1] } = await write(session, [{ collection, key: 'a', value: { a: 1 } }]);
      await write(session, [{ collection, key: 'a', value: { a: 2 } }]);
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'a', version: a1.version }] }),
        DELETE_REJECTED);
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'a', version: '*' }] }),
        DELETE_REJECTED);
      assert.deepEqual((await readOne(session, collection, 'a')).value, { a: 2 });
    });

    it('an object that does not exist: the same rejection', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'never' }] }), DELETE_REJECTED);
      await write(session, [{ collection, key: 'once', value: { a: 1 } }]);
      await client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'once' }] });
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection, key: 'once' }] }), DELETE_REJECTED);
    });

    it('a batch is all or nothing', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      const { acks } = await write(session, [
        { collection, key: 'a', value: { a: 1 } },
        { collection, key: 'b', value: { b: 1 } },
      ]);
      const ids = ['a', 'b'].map((key) => ({ collection, key, user_id: session.user_id }));

      await expectError(client.deleteStorageObjects(session, {
        object_ids: [{ collection, key: 'a' }, { collection, key: 'missing' }],
      }), DELETE_REJECTED);
      await expectError(client.deleteStorageObjects(session, {
        object_ids: [{ collection, key: 'a', version: acks[0].version }, { collection, key: 'b', version: acks[0].version }],
      }), DELETE_REJECTED);
      // The same object twice: the second delete finds nothing.
      await expectError(client.deleteStorageObjects(session, {
        object_ids: [{ collection, key: 'a' }, { collection, key: 'a' }],
      }), DELETE_REJECTED);
      assert.deepEqual(sortedKeys(await readMany(session, ids)), ['a', 'b']);

      assert.equal(await client.deleteStorageObjects(session, {
        object_ids: [{ collection, key: 'b', version: acks[1].version }, { collection, key: 'a' }],
      }), true);
      assert.deepEqual(await readMany(session, ids), []);
    });

    it('collection and key must be set: 400 "Invalid collection or key value supplied. They must be set."', async () => {
      const session = await newUser();
      const collection = uniqueCollection('del');
      await write(session, [{ collection, key: 'a', value: { a: 1 } }]);
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection: '', key: 'a' }] }), COLLECTION_KEY);
      await expectError(client.deleteStorageObjects(session, { object_ids: [{ collection, key: '' }] }), COLLECTION_KEY);
      await expectError(client.deleteStorageObjects(session, {
        object_ids: [{ collection, key: 'a' }, { collection }],
      }), COLLECTION_KEY);
      assert.ok(await readOne(session, collection, 'a'), 'validation failed before anything was deleted');
    });

    it('an empty request succeeds', async () => {
      const session = await newUser();
      assert.equal(await client.deleteStorageObjects(session, { object_ids: [] }), true);
      const res = await raw('PUT', '/v2/storage/delete', session, {});
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), {});
    });
  });

  describe('authentication', () => {
    it('every storage route needs a bearer token: 401 "Auth token required"', async () => {
      const id = randomUUID();
      const calls = [
        ['PUT', '/v2/storage', { objects: [{ collection: 'c', key: 'k', value: '{}' }] }],
        ['POST', '/v2/storage', { object_ids: [{ collection: 'c', key: 'k', user_id: id }] }],
        ['PUT', '/v2/storage/delete', { object_ids: [{ collection: 'c', key: 'k' }] }],
        ['GET', `/v2/storage/c?user_id=${id}`],
        ['GET', `/v2/storage/c/${id}`],
      ];
      for (const [method, path, body] of calls) {
        expectErrorResponse(await raw(method, path, null, body), AUTH_REQUIRED);
      }
    });
  });

  // The client calls shown in the seed guide's "Storage Engine" section
  // (Sagi-shi), written with nakama-js' real signatures.
  describe('Sagi-shi guide examples', () => {
    const unlocks = {
      Titles: { titles: ['Novice', 'Detective'] },
      Hats: { Hats: ['cowboy', 'alien'] },
      Skins: { skins: ['ninja'] },
    };

    it('writes favorite hats (read 1, write 1), one object or several', async () => {
      const session = await newUser();
      const favoriteHats = { hats: ['cowboy', 'alien'] };
      const { acks } = await write(session, [{
        collection: 'favorites', key: 'Hats', value: favoriteHats, permission_read: 1, permission_write: 1,
      }]);
      assert.equal(acks[0].user_id, session.user_id);
      await write(session, [
        { collection: 'favorites', key: 'Skins', value: { skins: ['ninja'] }, permission_read: 1, permission_write: 1 },
        { collection: 'favorites', key: 'Titles', value: { titles: ['Novice'] }, permission_read: 1, permission_write: 1 },
      ]);
      const result = await readMany(session, ['Hats', 'Skins', 'Titles']
        .map((key) => ({ collection: 'favorites', key, user_id: session.user_id })));
      assert.deepEqual(sortedKeys(result), ['Hats', 'Skins', 'Titles']);
      assert.deepEqual(result.find((o) => o.key === 'Hats').value, favoriteHats);
    });

    it('reads Unlocks/Hats with the player\'s own user id and parses the value', async () => {
      const session = await newUser();
      await write(session, Object.entries(unlocks).map(([key, value]) => ({ collection: 'Unlocks', key, value })));
      const result = await client.readStorageObjects(session, {
        object_ids: [{ collection: 'Unlocks', key: 'Hats', user_id: session.user_id }],
      });
      assert.equal(result.objects.length, 1);
      const [storageObject] = result.objects;
      assert.deepEqual(storageObject.value.Hats, ['cowboy', 'alien']);
    });

    it('reads another player\'s public object with their user id; their private one stays hidden', async () => {
      const player = await newUser();
      const other = await newUser();
      await write(other, [
        { collection: 'Unlocks', key: 'Hats', value: unlocks.Hats, permission_read: 2 },
        { collection: 'Unlocks', key: 'Skins', value: unlocks.Skins },
      ]);
      const result = await client.readStorageObjects(player, {
        object_ids: ['Hats', 'Skins'].map((key) => ({ collection: 'Unlocks', key, user_id: other.user_id })),
      });
      assert.deepEqual(result.objects.map((o) => o.key), ['Hats']);
      assert.deepEqual(result.objects[0].value, unlocks.Hats);
    });

    it('conditional writes: a stale version fails, the current one succeeds (then permission_write 0 locks it)', async () => {
      const deviceId = randomDeviceId();
      const session = await client.authenticateDevice(deviceId, true);
      const otherDevice = await client.authenticateDevice(deviceId, false);
      await write(session, [{ collection: 'favorites', key: 'Hats', value: { hats: ['cowboy'] } }]);
      const storageObject = await readOne(session, 'favorites', 'Hats');

      // Someone else (here: another session of the same player) updates it first.
      await write(otherDevice, [{ collection: 'favorites', key: 'Hats', value: { hats: ['cowboy', 'pirate'] } }]);
      await expectError(write(session, [{
        collection: storageObject.collection, key: storageObject.key, value: { hats: ['alien'] },
        permission_write: 0, permission_read: 1, version: storageObject.version,
      }]), VERSION_FAILED);

      const fresh = await readOne(session, 'favorites', 'Hats');
      assert.deepEqual(fresh.value, { hats: ['cowboy', 'pirate'] });
      const { acks: [ack] } = await write(session, [{
        collection: fresh.collection, key: fresh.key, value: { hats: ['alien'] },
        permission_write: 0, permission_read: 1, version: fresh.version,
      }]);
      const locked = await readOne(session, 'favorites', 'Hats');
      assert.deepEqual(locked.value, { hats: ['alien'] });
      assert.equal(locked.version, ack.version);
      assert.equal(locked.permission_write, 0);
      await expectError(write(session, [{
        collection: 'favorites', key: 'Hats', value: { hats: [] }, version: locked.version,
      }]), WRITE_DENIED);
    });

    it('lists Unlocks with limit 3 and pages with the returned cursor', async () => {
      const session = await newUser();
      await write(session, Object.entries(unlocks).map(([key, value]) => ({ collection: 'Unlocks', key, value })));
      // The guide writes listStorageObjects(session, "Unlocks", limit, cursor); in
      // nakama-js the third argument is the user id, and the player's own
      // (read 1) objects are only listed with the player's user id.
      const unlocksObjectList = await client.listStorageObjects(session, 'Unlocks', session.user_id, 3, null);
      assert.deepEqual(unlocksObjectList.objects.map((o) => o.key), ['Hats', 'Skins', 'Titles']);
      assert.equal(unlocksObjectList.cursor, undefined);
      for (const unlockStorageObject of unlocksObjectList.objects) {
        assert.deepEqual(unlockStorageObject.value, unlocks[unlockStorageObject.key]);
      }

      let objectList = await client.listStorageObjects(session, 'Unlocks', session.user_id, 2);
      assert.deepEqual(objectList.objects.map((o) => o.key), ['Hats', 'Skins']);
      assert.ok(objectList.cursor);
      objectList = await client.listStorageObjects(session, 'Unlocks', session.user_id, 2, objectList.cursor);
      assert.deepEqual(objectList.objects.map((o) => o.key), ['Titles']);
      assert.equal(objectList.cursor, undefined);

      // Taken literally, the guide's call passes the limit as the user id.
      await expectError(client.listStorageObjects(session, 'Unlocks', 3), BAD_USER_ID);
    });
  });

  describe('wallet (read-only for clients)', () => {
    it('a new account\'s wallet is the JSON string "{}"', async () => {
      const session = await client.authenticateDevice(randomDeviceId(), true);
      const account = await client.getAccount(session);
      assert.equal(typeof account.wallet, 'string');
      const wallet = JSON.parse(account.wallet);
      assert.deepEqual(wallet, {});
      assert.deepEqual(Object.keys(wallet), [], 'no currencies yet');
    });

    it('clients cannot change it: a wallet field in UpdateAccount is not a field and is ignored', async () => {
      const session = await client.authenticateDevice(randomDeviceId(), true);
      assert.equal(await client.updateAccount(session, { display_name: 'Rich', wallet: '{"coins": 1000}' }), true);
      const account = await client.getAccount(session);
      assert.equal(account.user.display_name, 'Rich');
      assert.deepEqual(JSON.parse(account.wallet), {});
      // With nothing else set, the request is empty.
      await expectError(client.updateAccount(session, { wallet: '{"coins": 1000}' }), invalid('No fields to update.'));
      assert.deepEqual(JSON.parse((await client.getAccount(session)).wallet), {});
    });

    it('storage writes do not touch the wallet', async () => {
      const session = await client.authenticateDevice(randomDeviceId(), true);
      await client.writeStorageObjects(session, [{ collection: 'wallet', key: 'coins', value: { coins: 1000 } }]);
      assert.deepEqual(JSON.parse((await client.getAccount(session)).wallet), {});
    });
  });
});
