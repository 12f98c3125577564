// Helpers the browser scenarios share: the fake Graph API's control API, waiting for the
// live connection, finding list items and bubbles, and watching for script errors.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { deflateSync } from 'node:zlib';

export const FAKE = process.env.FAKE_META_URL ?? 'http://127.0.0.1:3901';
export const SLOW = { timeout: 45_000 }; // things that go through the outbox and the fake

/** The fake's control API. */
export async function fakePost(request: APIRequestContext, path: string, data?: unknown) {
  const response = await request.post(`${FAKE}${path}`, { data: data ?? {} });
  expect(response.ok(), `POST ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Hydrated, and the live connection is up: what the sidebar's indicator shows a person. */
export async function expectLive(page: Page) {
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-state', 'connected', SLOW);
}

export function conversationItem(page: Page, text: string): Locator {
  return page.getByTestId('conversation-list').getByTestId('conversation-item').filter({ hasText: text });
}

export function bubble(page: Page, text: string): Locator {
  return page
    .getByTestId('thread')
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-body').filter({ hasText: text }) });
}

/** Marks the document so a later check can tell whether the page was reloaded. */
export async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { __e2e?: string }).__e2e = 'same-document'));
}

export async function expectSameDocument(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __e2e?: string }).__e2e), 'the page was not reloaded').toBe('same-document');
}

/** Uncaught exceptions and Rust panics in the front end, per page: a broken page, for a person. */
export const scriptErrors: string[] = [];
export const consoleErrors: string[] = [];
export function watchForScriptErrors(page: Page, who: string) {
  page.on('pageerror', (error) => scriptErrors.push(`${who}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location()?.url;
      const text = `${who}: ${message.text()}${where ? ` (${where})` : ''}`;
      consoleErrors.push(text);
      if (/panicked|RuntimeError|unreachable/i.test(text)) scriptErrors.push(text);
    }
  });
}

/** A new organization's owner, signed up through the form; lands on a live inbox. */
export async function signUp(page: Page, owner: { organization: string; name: string; email: string; password: string }) {
  await page.goto('/signup');
  await page.locator('#organization').fill(owner.organization);
  await page.locator('#name').fill(owner.name);
  await page.locator('#email').fill(owner.email);
  await page.locator('#password').fill(owner.password);
  await page.locator('#password').press('Enter');
  await expect(page).toHaveURL(/\/inbox$/, SLOW);
  await expectLive(page);
}

/** Connects one of the fake's WhatsApp numbers by hand (Settings → Channels), as an admin does. */
export async function connectWhatsAppNumber(
  page: Page,
  number: { phoneNumberId: string; wabaId: string; token: string; name: string },
) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  await expect(page).toHaveURL(/\/settings\/channels$/);
  await expectLive(page);
  await page.getByTestId('wa-connect-open').click();
  await page.getByTestId('wa-phone-number-id').fill(number.phoneNumberId);
  await page.getByTestId('wa-waba-id').fill(number.wabaId);
  await page.getByTestId('wa-access-token').fill(number.token);
  await page.getByTestId('wa-connect-submit').click();
  const row = page.getByTestId('channel-row').filter({ hasText: number.name });
  await expect(row).toHaveAttribute('data-status', 'active', SLOW);
}

/** What the fake's WhatsApp Cloud API accepted (`GET /_fake/whatsapp/sent`). */
export type FakeWhatsAppSent = {
  phone_number_id: string;
  to: string;
  wamid: string;
  status: string;
  body: Record<string, any>;
  attachment?: { kind: string; source: string; content_type: string; size: number; sha256: string } | null;
};

export async function fakeWhatsAppSent(request: APIRequestContext): Promise<FakeWhatsAppSent[]> {
  const response = await request.get(`${FAKE}/_fake/whatsapp/sent`);
  expect(response.ok(), `GET /_fake/whatsapp/sent: ${response.status()}`).toBeTruthy();
  return response.json();
}

/** A real PNG of `width`×`height` pixels of one colour (zlib-compressed, CRCs and all). */
export function pngBytes(width: number, height: number, rgb: [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
