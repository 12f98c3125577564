// Attaching a file to a reply, as an agent does it: in a WhatsApp conversation inside the
// 24-hour window the agent picks a photo, watches it upload, adds a caption and sends it;
// the bubble shows the photo at once and the customer (the fake Cloud API) gets exactly
// those bytes with the caption. A file WhatsApp would refuse is stopped in the browser,
// with the reason, before anything is uploaded; an upload can be cancelled; a pasted or
// dropped file is attached like a picked one; a reply lost on its way is retried with its file.
//
// The steps share one organization and build on each other, so they run in order. The
// number is the fake's second one (502), so the WhatsApp suite keeps the first (501).
import { createHash } from 'node:crypto';
import { test, expect, type BrowserContext, type Page, type Request } from '@playwright/test';
import {
  FAKE,
  SLOW,
  bubble,
  connectWhatsAppNumber,
  conversationItem,
  expectLive,
  fakePost,
  fakeWhatsAppSent,
  pngBytes,
  scriptErrors,
  signUp,
  watchForScriptErrors,
} from './support';

const NUMBER = { phoneNumberId: '502', wabaId: '401', token: 'wa-token-401', name: 'Acme Support' };
const LENA = { waId: '15550003333', name: 'Lena Fischer' };
const run = `${Date.now()}`;
const owner = {
  organization: `Attachments Org ${run}`,
  name: 'Ada Agent',
  email: `attach-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};
const UPLOAD = '**/api/inbox/messages/upload';

test.describe.configure({ mode: 'serial' });

test.describe('Attachments in replies', () => {
  let context: BrowserContext;
  let page: Page;
  const uploads: Request[] = [];

  test.beforeAll(async ({ browser }) => {
    context = await browser.newContext();
    page = await context.newPage();
    watchForScriptErrors(page, 'attachments');
    page.on('request', (r) => {
      if (r.url().includes('/api/inbox/messages/upload')) uploads.push(r);
    });
  });

  test.afterAll(async () => {
    // Leave the number free for whoever connects it next.
    if (page) {
      const listed = await page.request.get('/api/inbox/channels');
      if (listed.ok()) {
        const channels: { id: number; kind: string; externalId: string }[] = await listed.json();
        for (const c of channels.filter((c) => c.kind === 'whatsapp' && c.externalId === NUMBER.phoneNumberId)) {
          await page.request.delete(`/api/inbox/channels/${c.id}`);
        }
      }
    }
    await context?.close();
  });

  test('an agent opens a WhatsApp conversation inside the 24-hour window', async ({ request }) => {
    await signUp(page, owner);
    await connectWhatsAppNumber(page, NUMBER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expect(page).toHaveURL(/\/inbox$/);
    await expectLive(page);

    const question = `Can you send me a photo of the receipt? ${run}`;
    const answer = await fakePost(request, '/_fake/whatsapp/message', {
      phone_number_id: NUMBER.phoneNumberId,
      from: LENA.waId,
      text: question,
    });
    expect(answer.status, JSON.stringify(answer)).toBe(200);
    const item = conversationItem(page, LENA.name);
    await expect(item).toBeVisible(SLOW);
    await item.click();
    await expect(bubble(page, question)).toBeVisible();
    await expect(page.getByTestId('composer-attach')).toBeEnabled();
  });

  test('a photo with a caption is uploaded, shown at once and reaches WhatsApp', async ({ request }) => {
    const png = pngBytes(48, 32, [79, 70, 229]);
    const caption = `Here is your receipt ${run}`;
    const input = page.getByTestId('composer-input');

    await page.getByTestId('composer-file').setInputFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: png });
    const chip = page.getByTestId('attachment-chip');
    await expect(chip).toBeVisible(SLOW);
    await expect(chip).toContainText('receipt.png');
    await expect(chip).toHaveAttribute('data-kind', 'image');
    const thumb = chip.locator('img');
    await expect(thumb).toHaveAttribute('src', /^\/api\/media\/uploads\/[A-Za-z0-9]+$/);
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), SLOW).toBe(48);
    await expect(page.getByTestId('upload-progress')).toHaveCount(0);
    // Back in the reply box, which now asks for a caption; the file alone could be sent.
    await expect(input).toBeFocused();
    await expect(input).toHaveAttribute('placeholder', 'Add a caption…');
    await expect(page.getByTestId('composer-send')).toBeEnabled();
    expect(uploads).toHaveLength(1);

    await input.fill(caption);
    await input.press('Enter');
    await expect(chip).toHaveCount(0);
    const mine = bubble(page, caption);
    await expect(mine).toHaveCount(1);
    await expect(mine).toHaveAttribute('data-direction', 'outbound');
    const image = mine.locator('[data-testid="attachment"][data-kind="image"] img');
    await expect(image).toHaveAttribute('src', /^\/api\/media\/uploads\//);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), SLOW).toBeGreaterThan(0);
    await expect(mine).toHaveAttribute('data-status', /^(sent|delivered|read)$/, SLOW);
    await expect(mine.getByRole('img', { name: /^(Sent|Delivered|Read)$/ })).toBeVisible();

    // The customer got that picture, with the caption.
    let sent: Awaited<ReturnType<typeof fakeWhatsAppSent>>[number] | undefined;
    await expect
      .poll(async () => {
        sent = (await fakeWhatsAppSent(request)).filter((s) => s.body?.type === 'image').at(-1);
        return sent?.body?.image?.caption;
      }, SLOW)
      .toBe(caption);
    expect(sent!.to).toBe(LENA.waId);
    expect(sent!.phone_number_id).toBe(NUMBER.phoneNumberId);
    expect(sent!.body.image.id, JSON.stringify(sent!.body)).toBeTruthy();
    const sha256 = createHash('sha256').update(png).digest('hex');
    if (sent!.attachment) {
      expect(sent!.attachment.size).toBe(png.length);
      expect(sent!.attachment.sha256).toBe(sha256);
    }
    // The media object the app uploaded to WhatsApp holds the same bytes.
    const media: { id: string; file_size: number; sha256: string; mime_type: string }[] = await (
      await request.get(`${FAKE}/_fake/whatsapp/media`)
    ).json();
    const uploaded = media.find((m) => m.id === sent!.body.image.id);
    expect(uploaded, JSON.stringify(media)).toBeTruthy();
    expect(uploaded!.file_size).toBe(png.length);
    expect(uploaded!.mime_type).toBe('image/png');
  });

  test('a file WhatsApp does not take is refused with the reason, and nothing is uploaded', async () => {
    const before = uploads.length;
    const file = page.getByTestId('composer-file');
    const error = page.getByTestId('attachment-error');

    // GIF: not a WhatsApp image type.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    await file.setInputFiles({ name: 'party.gif', mimeType: 'image/gif', buffer: gif });
    await expect(error).toBeVisible();
    await expect(error).toHaveAttribute('role', 'alert');
    await expect(error).toContainText('party.gif');
    await expect(error).toContainText('WhatsApp does not accept image/gif');
    await expect(error).toContainText('JPEG, PNG');
    await expect(page.getByTestId('attachment-chip')).toHaveCount(0);

    // 6 MB: over WhatsApp's 5 MB for images.
    await file.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(6 * 1024 * 1024, 1) });
    await expect(error).toContainText('huge.png');
    await expect(error).toContainText('up to 5 MB');
    await expect(error).toContainText('6 MB');
    await expect(page.getByTestId('attachment-chip')).toHaveCount(0);
    await expect(page.getByTestId('upload-progress')).toHaveCount(0);
    expect(uploads.length - before, 'no upload was attempted').toBe(0);
    // Nothing to send: no text, no file.
    await expect(page.getByTestId('composer-send')).toBeDisabled();

    await error.getByRole('button', { name: 'Dismiss' }).click();
    await expect(error).toHaveCount(0);
  });

  test('an upload in progress shows its progress and can be cancelled; a picked file can be removed', async () => {
    // Hold the upload at the server's door so the progress bar stays up.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(UPLOAD, async (route) => {
      await held;
      await route.continue().catch(() => {});
    });
    try {
      const png = pngBytes(8, 8, [4, 120, 87]);
      await page.getByTestId('composer-file').setInputFiles({ name: 'slow.png', mimeType: 'image/png', buffer: png });
      const status = page.getByTestId('upload-status');
      await expect(status).toBeVisible();
      await expect(status).toContainText('slow.png');
      const progress = page.getByTestId('upload-progress');
      await expect(progress).toHaveAttribute('aria-label', 'Uploading slow.png');
      await expect(progress).toHaveAttribute('max', '100');
      // While it uploads, nothing else can be attached and the reply waits for the file.
      await expect(page.getByTestId('composer-attach')).toBeDisabled();
      await expect(page.getByTestId('composer-send')).toBeDisabled();
      await page.getByTestId('upload-cancel').click();
      await expect(status).toHaveCount(0);
      await expect(page.getByTestId('attachment-chip')).toHaveCount(0);
      await expect(page.getByTestId('attachment-error')).toHaveCount(0);
      await expect(page.getByTestId('composer-attach')).toBeEnabled();
    } finally {
      release();
      await page.unroute(UPLOAD);
    }

    // Picked again, then removed: the reply box is back to plain text.
    const png = pngBytes(8, 8, [201, 48, 44]);
    await page.getByTestId('composer-file').setInputFiles({ name: 'oops.png', mimeType: 'image/png', buffer: png });
    const chip = page.getByTestId('attachment-chip');
    await expect(chip).toContainText('oops.png', SLOW);
    await chip.getByRole('button', { name: 'Remove attachment' }).click();
    await expect(chip).toHaveCount(0);
    await expect(page.getByTestId('composer-input')).toBeFocused();
    await expect(page.getByTestId('composer-send')).toBeDisabled();
  });

  test('a pasted screenshot and a file dropped on the composer are attached too', async () => {
    const input = page.getByTestId('composer-input');
    const chip = page.getByTestId('attachment-chip');
    const before = uploads.length;

    await input.evaluate((el, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, [...pngBytes(10, 10, [20, 20, 20])]);
    await expect(chip).toContainText('pasted.png', SLOW);
    await chip.getByRole('button', { name: 'Remove attachment' }).click();
    await expect(chip).toHaveCount(0);

    const composer = page.locator('form.composer');
    await composer.evaluate((form, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
      form.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, [...pngBytes(10, 10, [200, 200, 20])]);
    await expect(chip).toContainText('dropped.png', SLOW);
    await chip.getByRole('button', { name: 'Remove attachment' }).click();
    await expect(chip).toHaveCount(0);
    expect(uploads.length - before).toBe(2);
  });

  test('a reply that could not reach the server is retried with its picture', async ({ request }) => {
    const png = pngBytes(16, 16, [2, 132, 199]);
    const caption = `Second try ${run}`;
    await page.getByTestId('composer-file').setInputFiles({ name: 'retry.png', mimeType: 'image/png', buffer: png });
    await expect(page.getByTestId('attachment-chip')).toContainText('retry.png', SLOW);

    // The send itself is lost on the way.
    const SEND = '**/rpc/send_message*';
    await page.route(SEND, (route) => route.abort('connectionreset'));
    const input = page.getByTestId('composer-input');
    await input.fill(caption);
    await input.press('Enter');
    const mine = bubble(page, caption);
    await expect(mine).toHaveAttribute('data-status', 'failed', SLOW);
    await expect(mine.locator('[data-testid="attachment"][data-kind="image"] img')).toHaveAttribute('src', /^\/api\/media\/uploads\//);
    await expect(page.getByTestId('attachment-chip')).toHaveCount(0);
    await page.unroute(SEND);

    await mine.getByTestId('retry-button').click();
    await expect(mine).toHaveAttribute('data-status', /^(sent|delivered|read)$/, SLOW);
    await expect(mine).toHaveCount(1);
    await expect(mine.locator('[data-testid="attachment"][data-kind="image"] img')).toHaveAttribute('src', /^\/api\/media\/uploads\//);
    await expect
      .poll(async () => (await fakeWhatsAppSent(request)).filter((s) => s.body?.image?.caption === caption).length, SLOW)
      .toBe(1);
    expect(scriptErrors).toEqual([]);
  });
});
