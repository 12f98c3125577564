// Socket.IO end-to-end tests: the official socket.io-client against a running Messio server,
// with the fake Graph API playing Facebook and the customer. `end2end/run.sh` starts both and
// sets MESSIO_URL / FAKE_META_URL; run alone with `node --test tests/socket.test.mjs`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';

const BASE = process.env.MESSIO_URL ?? 'http://127.0.0.1:3900';
const FAKE = process.env.FAKE_META_URL ?? 'http://127.0.0.1:3901';
const PAGE_A = '101';
const PAGE_B = '102';
const PSID = '7001001'; // Alice Johnson, one of page 101's customers in the fake
const WAIT_MS = 20_000;
const run = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

// ---------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------

async function http(method, url, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!response.ok) {
    throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  }
  return { status: response.status, body: json };
}

const api = (method, path, token, body) => http(method, `${BASE}${path}`, { token, body });
const fake = (method, path, body) => http(method, `${FAKE}${path}`, { body });

async function signup(label) {
  const { status, body } = await api('POST', '/api/auth/signup', undefined, {
    organization: `${label} ${run}`,
    name: `${label} Owner`,
    email: `${label.toLowerCase().replace(/\W+/g, '-')}-${run}@example.test`,
    password: 'correct horse battery staple',
  });
  assert.equal(status, 201);
  assert.equal(typeof body.token, 'string');
  return body;
}

async function pageToken(pageId) {
  const { body } = await fake('GET', '/_fake/pages');
  const page = body.pages.find((p) => p.id === pageId);
  assert.ok(page, `the fake has no page ${pageId}: ${JSON.stringify(body)}`);
  return page.accessToken;
}

async function connectPage(token, pageId) {
  const { status, body } = await api('POST', '/api/inbox/channels/social', token, {
    platform: 'messenger',
    pageId,
    accessToken: await pageToken(pageId),
  });
  assert.equal(status, 201);
  assert.equal(body.status, 'active');
  assert.equal(body.externalId, pageId);
  return body;
}

async function customerSays(text, psid = PSID, pageId = PAGE_A) {
  const { body } = await fake('POST', '/_fake/customer-message', { pageId, psid, text });
  assert.equal(body.status, 200, `Messio refused the webhook: ${JSON.stringify(body)}`);
  return body.mid;
}

// ---------------------------------------------------------------------------------------
// Socket helpers: every socket records what it receives, and tests wait on the record.
// ---------------------------------------------------------------------------------------

class Recorder {
  constructor(name) {
    this.name = name;
    this.events = [];
    this.waiters = [];
  }

  push(name, payload) {
    const event = { name, payload };
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (w.name === name && w.match(payload)) {
        clearTimeout(w.timer);
        w.resolve(payload);
        return false;
      }
      return true;
    });
  }

  /** Resolves with the first payload of `name` (already received or coming) that matches. */
  next(name, match = () => true, what = name) {
    const seen = this.events.find((e) => e.name === name && match(e.payload));
    if (seen) return Promise.resolve(seen.payload);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== resolve);
        const got = this.events.map((e) => `${e.name} ${JSON.stringify(e.payload)}`).join('\n  ');
        reject(new Error(`${this.name}: no ${what} within ${WAIT_MS} ms; received:\n  ${got || '(nothing)'}`));
      }, WAIT_MS);
      this.waiters.push({ name, match, resolve, timer });
    });
  }

  named(name) {
    return this.events.filter((e) => e.name === name).map((e) => e.payload);
  }

  maxSeq() {
    return this.events.reduce((max, e) => (typeof e.payload?.seq === 'number' ? Math.max(max, e.payload.seq) : max), 0);
  }
}

const sockets = [];

/** Connects with `auth` and resolves once the server has said `session`; rejects on refusal. */
function connect(label, auth) {
  const socket = io(BASE, { auth, transports: ['websocket'], reconnection: false, forceNew: true, timeout: WAIT_MS });
  sockets.push(socket);
  const recorder = new Recorder(label);
  socket.onAny((name, payload) => recorder.push(name, payload));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no session event within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('session', (session) => {
      clearTimeout(timer);
      resolve(session);
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return { socket, recorder, ready };
}

/** Resolves with the connect_error of a connection that must be refused. */
function refused(auth) {
  const socket = io(BASE, { auth, transports: ['websocket'], reconnection: false, forceNew: true, timeout: WAIT_MS });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('neither connect nor connect_error')), WAIT_MS);
    socket.on('connect', () => {
      clearTimeout(timer);
      reject(new Error('the server accepted a socket it should have refused'));
    });
    socket.on('connect_error', (error) => {
      clearTimeout(timer);
      resolve({ error, socket });
    });
  });
}

const byBody = (text) => (p) => p?.message?.body === text;

function assertSeq(payload, what) {
  assert.equal(typeof payload.seq, 'number', `${what} carries a numeric seq: ${JSON.stringify(payload)}`);
  assert.ok(Number.isInteger(payload.seq) && payload.seq > 0, `${what}: seq is a positive integer`);
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

describe('realtime over Socket.IO', () => {
  let orgA;
  let orgB;
  let channelA;
  let channelB;
  let a1;
  let a2;
  let b;
  let conversationId;
  let firstText;

  before(async () => {
    const health = await fetch(`${BASE}/healthz`);
    assert.equal(health.status, 200, 'the Messio server is not running (start it with end2end/run.sh)');
    orgA = await signup('Socket Org A');
    orgB = await signup('Socket Org B');
    assert.notEqual(orgA.organization.id, orgB.organization.id);
    channelA = await connectPage(orgA.token, PAGE_A);
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    // Leave the pages free for the browser tests, which connect page 101 to their own
    // organization (a page feeds one organization at a time).
    for (const [org, channel] of [[orgA, channelA], [orgB, channelB]]) {
      if (org && channel) {
        await api('DELETE', `/api/inbox/channels/${channel.id}`, org.token).catch((e) => console.error(e.message));
      }
    }
  });

  it('connects with a session token and says who is connected', async () => {
    a1 = connect('A1', { token: orgA.token });
    a2 = connect('A2', { token: orgA.token });
    b = connect('B', { token: orgB.token });
    const [s1, s2, sb] = await Promise.all([a1.ready, a2.ready, b.ready]);
    for (const [session, org] of [[s1, orgA], [s2, orgA], [sb, orgB]]) {
      assert.equal(session.userId, org.user.id);
      assert.equal(session.organizationId, org.organization.id);
      assert.equal(typeof session.seq, 'number');
    }
    assert.ok(a1.socket.connected && a2.socket.connected && b.socket.connected);
  });

  it('refuses a socket with a bad token or none', async () => {
    const bad = await refused({ token: 'not-a-real-session-token' });
    assert.match(bad.error.message, /unauthorized/i);
    assert.equal(bad.socket.connected, false);
    const none = await refused(undefined);
    assert.match(none.error.message, /unauthorized/i);
  });

  it("fans a customer's message out to every socket of the organization, and to no other", async () => {
    firstText = `Hello from the socket test ${run}`;
    await customerSays(firstText);

    for (const { recorder } of [a1, a2]) {
      const created = await recorder.next('conversation:new', (p) => p?.contact?.identities?.some((i) => i.externalId === PSID));
      assertSeq(created, 'conversation:new');
      assert.equal(typeof created.conversation.id, 'number');
      assert.equal(created.conversation.contactId, created.contact.id);
      assert.equal(created.conversation.channelId, channelA.id);
      assert.equal(typeof created.contact.name, 'string');
      assert.ok(created.contact.name.length > 0, 'a new contact has a name from the start');
      assert.equal(created.conversation.contactName, created.contact.name);
      conversationId = created.conversation.id;

      const received = await recorder.next('message:received', byBody(firstText), `message:received "${firstText}"`);
      assertSeq(received, 'message:received');
      assert.equal(received.conversationId, created.conversation.id);
      assert.equal(received.message.conversationId, created.conversation.id);
      assert.equal(received.message.direction, 'inbound');
      assert.equal(received.message.status, 'received');
      assert.equal(typeof received.message.id, 'number');
      assert.ok(received.seq > created.seq, 'the message comes after the conversation it belongs to');
    }
    // Right after, the server learns the customer's name as Facebook shows it (User Profile
    // API) and says so.
    for (const { recorder } of [a1, a2]) {
      const named = await recorder.next('contact:updated', (p) => p?.contact?.identities?.some((i) => i.externalId === PSID), 'contact:updated');
      assertSeq(named, 'contact:updated');
      assert.equal(named.contact.name, 'Alice Johnson');
      assert.equal(named.contactId, named.contact.id);
    }
    // Both sockets of A saw the very same events.
    assert.deepEqual(a1.recorder.named('message:received'), a2.recorder.named('message:received'));

    // B's socket is alive (it gets its own organization's events) ...
    channelB = await connectPage(orgB.token, PAGE_B);
    const own = await b.recorder.next('channel:status', (p) => p?.channelId === channelB.id);
    assertSeq(own, 'channel:status');
    // ... and nothing of A's: every event it ever got is about its own channel.
    assert.deepEqual(b.recorder.named('conversation:new'), []);
    assert.deepEqual(b.recorder.named('message:received'), []);
    assert.deepEqual(b.recorder.named('contact:updated'), []);
    assert.deepEqual(a1.recorder.named('channel:status').filter((p) => p.channelId === channelB.id), []);
  });

  it('replays what a socket missed while it was away (auth.since)', async () => {
    const lastSeq = a2.recorder.maxSeq();
    assert.ok(lastSeq > 0);
    a2.socket.disconnect();
    assert.equal(a2.socket.connected, false);

    const missedText = `Are you still there? ${run}`;
    await customerSays(missedText);
    // A1 stayed online and saw it live, so it is committed to the event log.
    const live = await a1.recorder.next('message:received', byBody(missedText), `live "${missedText}"`);
    assert.ok(live.seq > lastSeq);
    assert.equal(a2.recorder.named('message:received').some(byBody(missedText)), false, 'a disconnected socket gets nothing');

    // Reconnect the same client with where it stopped; the server replays the gap.
    const before = a2.recorder.events.length;
    a2.socket.auth = { token: orgA.token, since: lastSeq };
    const session = new Promise((resolve) => a2.socket.once('session', resolve));
    a2.socket.connect();
    const caughtUp = await a2.recorder.next('message:received', byBody(missedText), `replayed "${missedText}"`);
    assert.equal(caughtUp.seq, live.seq);
    assert.deepEqual(caughtUp, live);
    const s = await session;
    assert.ok(s.seq >= live.seq, 'the session event tells the latest seq');
    const replayed = a2.recorder.events.slice(before).filter((e) => typeof e.payload?.seq === 'number');
    assert.ok(replayed.every((e) => e.payload.seq > lastSeq), 'only events after `since` are replayed');
    const seqs = replayed.map((e) => e.payload.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'replayed in order');
  });

  it('replays on request (events:since)', async () => {
    const { recorder, socket, ready } = connect('A3', { token: orgA.token });
    await ready;
    const since = live0(a1.recorder);
    socket.emit('events:since', { since });
    const got = await recorder.next('message:received', (p) => p.seq > since);
    assert.ok(got.seq > since);
    socket.disconnect();
  });

  it('reports a reply as sent, then delivered, then read', async () => {
    const replyText = `Thanks, we are on it! ${run}`;
    const { status, body: queued } = await api('POST', '/api/inbox/messages/send', orgA.token, {
      conversationId,
      content: replyText,
      clientId: `socket-${run}`,
    });
    assert.equal(status, 202);
    assert.equal(queued.body, replyText);
    assert.equal(queued.direction, 'outbound');
    const id = queued.id;

    for (const { recorder } of [a1, a2]) {
      const sent = await recorder.next('message:sent', (p) => p?.message?.id === id, 'message:sent');
      assertSeq(sent, 'message:sent');
      assert.equal(sent.conversationId, conversationId);
      assert.equal(sent.message.body, replyText);
      assert.equal(sent.message.direction, 'outbound');
      const ok = await recorder.next('message:status', (p) => p?.messageId === id && p.status === 'sent', 'message:status sent');
      assertSeq(ok, 'message:status');
      assert.equal(ok.conversationId, conversationId);
      assert.ok(ok.seq > sent.seq, 'the status follows the message');
    }

    // Facebook really got it, addressed to the customer.
    const { body: sentByFake } = await fake('GET', '/_fake/sent');
    const call = sentByFake.find((m) => m.body?.message?.text === replyText);
    assert.ok(call, `the fake's Send API never saw "${replyText}": ${JSON.stringify(sentByFake)}`);
    assert.equal(call.page_id, PAGE_A);
    assert.equal(call.recipient_id, PSID);

    await fake('POST', '/_fake/delivery', { pageId: PAGE_A, psid: PSID, mids: [call.message_id] });
    for (const { recorder } of [a1, a2]) {
      const delivered = await recorder.next('message:status', (p) => p?.messageId === id && p.status === 'delivered', 'message:status delivered');
      assertSeq(delivered, 'message:status delivered');
    }

    await fake('POST', '/_fake/read', { pageId: PAGE_A, psid: PSID });
    for (const { recorder } of [a1, a2]) {
      const read = await recorder.next('message:status', (p) => p?.messageId === id && p.status === 'read', 'message:status read');
      assertSeq(read, 'message:status read');
    }

    // Statuses arrived in the order they happened.
    const order = a1.recorder.named('message:status').filter((p) => p.messageId === id).map((p) => p.status);
    assert.deepEqual(order.filter((s) => ['sent', 'delivered', 'read'].includes(s)), ['sent', 'delivered', 'read']);
  });

  it('reports a send refused for an expired page token as failed, and flags the channel', async () => {
    await fake('POST', `/_fake/pages/${PAGE_A}/expire-token`);
    const text = `This one cannot go out ${run}`;
    const { body: queued } = await api('POST', '/api/inbox/messages/send', orgA.token, { conversationId, content: text });
    const failed = await a1.recorder.next('message:status', (p) => p?.messageId === queued.id && p.status === 'failed', 'message:status failed');
    assertSeq(failed, 'message:status failed');
    assert.equal(typeof failed.error, 'string');
    assert.match(failed.error, /reconnect/i, 'the error tells the agent what to do');
    const flagged = await a1.recorder.next('channel:status', (p) => p?.channelId === channelA.id && p.status === 'needs_reconnect', 'channel:status needs_reconnect');
    assertSeq(flagged, 'channel:status');
    const { body: sentByFake } = await fake('GET', '/_fake/sent');
    assert.equal(sentByFake.some((m) => m.body?.message?.text === text), false, 'Facebook refused it');
    // A client that asks for the message later sees the same.
    const { body: history } = await api('GET', `/api/inbox/messages/${conversationId}`, orgA.token);
    assert.equal(history.items.find((m) => m.id === queued.id)?.status, 'failed');
  });

  it("kept organization B's sockets out of all of A's traffic", () => {
    assert.ok(conversationId, 'an earlier test created the conversation');
    const leaked = b.recorder.events.filter(
      (e) => e.payload?.conversationId === conversationId || e.payload?.conversation?.id === conversationId || e.payload?.channelId === channelA.id,
    );
    assert.deepEqual(leaked, []);
    assert.deepEqual(b.recorder.named('message:sent'), []);
    assert.deepEqual(b.recorder.named('message:status'), []);
  });
});

/** The seq just before the first message:received A1 saw, so a replay must include it. */
function live0(recorder) {
  const first = recorder.named('message:received')[0];
  assert.ok(first, 'A1 saw a message before');
  return first.seq - 1;
}
