// A WhatsApp template with an image header, as an admin writes it. Meta reviews a media
// header only with a sample uploaded through its Resumable Upload API (a link is refused), so
// the editor asks for a file: it is checked in the browser (a GIF never leaves it), uploaded
// with progress, and shown as a chip with its thumbnail; the template then goes to Meta (the
// fake) with the upload's handle as the header's example.
//
// The steps share one organization and build on each other, so they run in order. The
// number is the fake's second one (502), freed again at the end for the other suites.
import { test, expect, type BrowserContext, type Page, type Request } from '@playwright/test';
import { FAKE, SLOW, connectWhatsAppNumber, expectLive, scriptErrors, signUp, watchForScriptErrors } from './support';

const NUMBER = { phoneNumberId: '502', wabaId: '401', token: 'wa-token-401', name: 'Acme Support' };
const run = `${Date.now()}`;
const owner = {
  organization: `Template Media Org ${run}`,
  name: 'Tara Admin',
  email: `tpl-media-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};
const TEMPLATE = `spring_look_${run.slice(-6)}`;
const SAMPLE_ROUTE = '/api/templates/whatsapp/header-sample';
// A valid 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
// The start of a GIF (enough for the browser and the server to call it one).
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

type FakeTemplate = { name: string; status: string; waba_id: string; components: Record<string, any>[] };

test.describe.configure({ mode: 'serial' });

test.describe('Template media headers', () => {
  let context: BrowserContext;
  let page: Page;
  const samples: Request[] = [];

  test.beforeAll(async ({ browser }) => {
    context = await browser.newContext();
    page = await context.newPage();
    watchForScriptErrors(page, 'template-media');
    page.on('request', (r) => {
      if (r.url().includes(SAMPLE_ROUTE)) samples.push(r);
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

  test('an image header asks for an uploaded sample before the template can be submitted', async () => {
    await signUp(page, owner);
    await connectWhatsAppNumber(page, NUMBER);
    await page.getByTestId('nav-templates').click();
    await expect(page).toHaveURL(/\/settings\/templates$/);
    await expectLive(page);

    await page.getByTestId('template-new').click();
    await page.getByTestId('tpl-name').fill(TEMPLATE);
    await page.getByTestId('tpl-category').selectOption('marketing');
    await page.getByTestId('tpl-body').fill('Our spring collection is here. Reply YES to see the whole lookbook.');
    await page.getByTestId('tpl-header-type').selectOption('image');

    const field = page.getByTestId('tpl-header-media');
    await expect(field.getByRole('button', { name: 'Upload a sample image' })).toBeVisible();
    await expect(page.getByTestId('tpl-header-media-file')).toHaveAttribute('accept', 'image/jpeg,image/png');
    await expect(field.locator('.field-hint')).toContainText("Meta's reviewers see this image");
    // No link field any more.
    await expect(page.getByTestId('tpl-header-media-example')).toHaveCount(0);

    // Without a sample it can't go: the header's problem is what stands in the way.
    await expect(page.getByTestId('tpl-submit')).toBeDisabled();
    await expect(page.locator('#tpl-todo')).toContainText('Header example: upload a sample image');
    await page.getByTestId('tpl-submit').click({ force: true });
    await expect(page.getByTestId('template-card')).toHaveCount(0);
  });

  test('a GIF is refused in the browser, with the reason, and nothing is uploaded', async () => {
    await page.getByTestId('tpl-header-media-file').setInputFiles({ name: 'party.gif', mimeType: 'image/gif', buffer: GIF });
    const error = page.getByTestId('tpl-header-media').locator('[data-testid="tpl-error"][data-field="headerExample"]');
    await expect(error).toHaveAttribute('role', 'alert');
    await expect(error).toContainText('“party.gif” can\'t be the sample');
    await expect(error).toContainText('JPEG or PNG');
    await expect(page.getByTestId('tpl-header-media-uploaded')).toHaveCount(0);
    await expect(page.getByTestId('tpl-submit')).toBeDisabled();
    // Give a stray request the time to show up before saying there was none.
    await page.waitForTimeout(500);
    expect(samples, 'the GIF went to the server').toHaveLength(0);
  });

  test('a PNG is uploaded with progress and shown as the uploaded sample', async () => {
    // Hold the upload for a moment, so its progress can be seen.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**${SAMPLE_ROUTE}`, async (route) => {
      await held;
      await route.continue();
    });
    const answer = page.waitForResponse((r) => r.url().includes(SAMPLE_ROUTE));
    await page.getByTestId('tpl-header-media-file').setInputFiles({ name: 'spring.png', mimeType: 'image/png', buffer: PNG });
    await expect(page.getByTestId('tpl-header-media-progress')).toBeVisible();
    await expect(page.getByTestId('tpl-submit')).toBeDisabled();
    release();

    const response = await answer;
    expect(response.status(), await response.text()).toBe(201);
    const sample = await response.json();
    expect(sample).toMatchObject({ format: 'image', mimeType: 'image/png', size: PNG.length });
    expect(sample.handle).toMatch(/^4::/);
    await page.unroute(`**${SAMPLE_ROUTE}`);
    expect(samples).toHaveLength(1);
    // The sample goes to the chosen number's WhatsApp Business Account.
    const form = samples[0].postDataBuffer()?.toString('latin1') ?? '';
    expect(form).toMatch(new RegExp(`name="wabaId"\\r\\n\\r\\n${NUMBER.wabaId}\\r\\n`));

    const chip = page.getByTestId('tpl-header-media-sample');
    await expect(page.getByTestId('tpl-header-media-uploaded')).toHaveText('✓ Uploaded for review');
    await expect(page.getByTestId('tpl-header-media-progress')).toHaveCount(0);
    await expect(chip.getByTestId('tpl-header-media-name')).toHaveText('spring.png');
    await expect(chip).toContainText('Image · 1 KB');
    await expect(chip.getByRole('button', { name: 'Replace the sample image' })).toBeVisible();
    await expect(chip.getByRole('button', { name: 'Remove the sample image' })).toBeVisible();
    const thumb = chip.locator('img.attachment-chip-thumb');
    await expect(thumb).toHaveAttribute('src', /^blob:/);
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    // The preview shows the picture too.
    await expect(page.getByTestId('tpl-preview').getByTestId('tpl-preview-image')).toHaveAttribute('src', /^blob:/);
    await expect(page.getByTestId('tpl-header-media').locator('[data-testid="tpl-error"]')).toHaveCount(0);
    await expect(page.locator('#tpl-todo')).toHaveCount(0);
  });

  test('the template goes to Meta for review with the upload handle as its header sample', async ({ request }) => {
    await expect(page.getByTestId('tpl-submit')).toBeEnabled();
    await page.getByTestId('tpl-submit').click();

    const card = page.getByTestId('template-card').filter({ hasText: TEMPLATE });
    await expect(card).toHaveAttribute('data-status', 'pending', SLOW);
    await expect(card.getByTestId('template-status')).toHaveText('In review');
    await expect(card).toContainText('[Image]');

    const atMeta: FakeTemplate[] = await (await request.get(`${FAKE}/_fake/whatsapp/templates`)).json();
    const submitted = atMeta.find((t) => t.name === TEMPLATE);
    expect(submitted, JSON.stringify(atMeta)).toBeTruthy();
    expect(submitted!.waba_id).toBe(NUMBER.wabaId);
    const header = submitted!.components.find((c) => c.type === 'HEADER');
    expect(header?.format).toBe('IMAGE');
    expect(header?.example?.header_handle?.[0]).toMatch(/^4::/);
  });

  test('changing the header type or removing the sample leaves no sample behind', async () => {
    await page.getByTestId('template-new').click();
    await page.getByTestId('tpl-header-type').selectOption('image');
    await page.getByTestId('tpl-header-media-file').setInputFiles({ name: 'again.png', mimeType: 'image/png', buffer: PNG });
    await expect(page.getByTestId('tpl-header-media-uploaded')).toBeVisible(SLOW);

    // A video header needs a video: the picture is no longer its sample.
    await page.getByTestId('tpl-header-type').selectOption('video');
    await expect(page.getByTestId('tpl-header-media-uploaded')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Upload a sample video' })).toBeVisible();
    await expect(page.getByTestId('tpl-header-media-file')).toHaveAttribute('accept', 'video/mp4');
    await page.getByTestId('tpl-header-type').selectOption('image');
    await expect(page.getByRole('button', { name: 'Upload a sample image' })).toBeVisible();
    await expect(page.getByTestId('tpl-header-media-uploaded')).toHaveCount(0);

    await page.getByTestId('tpl-header-media-file').setInputFiles({ name: 'again.png', mimeType: 'image/png', buffer: PNG });
    await expect(page.getByTestId('tpl-header-media-uploaded')).toBeVisible(SLOW);
    await page.getByTestId('tpl-header-media-remove').click();
    await expect(page.getByTestId('tpl-header-media-sample')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Upload a sample image' })).toBeFocused();
    await expect(page.getByTestId('tpl-preview').getByTestId('tpl-preview-image')).toHaveCount(0);
    await page.getByTestId('tpl-cancel').click();

    expect(scriptErrors, scriptErrors.join('\n')).toEqual([]);
  });
});
