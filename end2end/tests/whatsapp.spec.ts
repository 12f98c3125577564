// WhatsApp as a person uses it: an admin connects a WhatsApp number by hand, a customer's
// photo shows up live and loads through Messio's media route, the reply gets its read tick,
// a template is authored and approved by Meta (the fake) while the admin watches, and a
// customer outside the 24-hour window is answered with an approved template.
//
// The steps share one organization and build on each other, so they run in order.
import { test, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { FAKE, SLOW, bubble, conversationItem, expectLive, fakePost, scriptErrors, watchForScriptErrors } from './support';

const NUMBER = '501'; // "Acme Shoes" on the fake's WhatsApp Business Account 401
const WABA = '401';
const MARIA = { waId: '15550001111', name: 'Maria Garcia' };
const KENJI = { waId: '15550002222', name: 'Kenji Sato' };
const run = `${Date.now()}`;
const owner = {
  organization: `WhatsApp Org ${run}`,
  name: 'Wendy Admin',
  email: `wa-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};
const TEMPLATE = `delivery_slot_${run.slice(-6)}`;

test.describe.configure({ mode: 'serial' });

type WhatsAppSent = { phone_number_id: string; to: string; wamid: string; body: Record<string, any> };

async function whatsappSent(request: APIRequestContext): Promise<WhatsAppSent[]> {
  const response = await request.get(`${FAKE}/_fake/whatsapp/sent`);
  expect(response.ok()).toBeTruthy();
  return response.json();
}

async function openSettings(page: Page, name: 'Channels' | 'Templates') {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  if (name === 'Templates') await page.getByTestId('nav-templates').click();
  await expect(page).toHaveURL(new RegExp(`/settings/${name.toLowerCase()}$`));
  await expectLive(page);
}

test.describe('WhatsApp, end to end', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  test.beforeAll(async ({ browser: b }) => {
    browser = b;
    context = await browser.newContext();
    page = await context.newPage();
    watchForScriptErrors(page, 'whatsapp');
  });

  test.afterAll(async () => {
    await context?.close();
  });

  test('an admin signs up and connects a WhatsApp number by hand', async ({ request }) => {
    await page.goto('/signup');
    await page.locator('#organization').fill(owner.organization);
    await page.locator('#name').fill(owner.name);
    await page.locator('#email').fill(owner.email);
    await page.locator('#password').fill(owner.password);
    await page.locator('#password').press('Enter');
    await expect(page).toHaveURL(/\/inbox$/, SLOW);
    await expectLive(page);

    await openSettings(page, 'Channels');
    await page.getByTestId('wa-connect-open').click();
    await page.getByTestId('wa-phone-number-id').fill(NUMBER);
    await page.getByTestId('wa-waba-id').fill(WABA);
    await page.getByTestId('wa-access-token').fill('wa-token-401');
    await page.getByTestId('wa-connect-submit').click();

    const row = page.getByTestId('channel-row').filter({ hasText: 'Acme Shoes' });
    await expect(row).toHaveAttribute('data-status', 'active', SLOW);
    await expect(row).toHaveAttribute('data-kind', 'whatsapp');
    const subscriptions = await (await request.get(`${FAKE}/_fake/whatsapp/subscriptions`)).json();
    expect(JSON.stringify(subscriptions)).toContain(WABA);
  });

  test("a customer's photo arrives live and loads through Messio's media route", async ({ request }) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expect(page).toHaveURL(/\/inbox$/);
    await expectLive(page);

    const caption = `Is this scratch covered? ${run}`;
    const answer = await fakePost(request, '/_fake/whatsapp/message', {
      phone_number_id: NUMBER,
      from: MARIA.waId,
      type: 'image',
      caption,
    });
    expect(answer.status, JSON.stringify(answer)).toBe(200);

    const item = conversationItem(page, MARIA.name);
    await expect(item).toBeVisible(SLOW);
    await item.click();
    const photo = bubble(page, caption);
    await expect(photo).toBeVisible();
    const image = photo.locator('[data-testid="attachment"][data-kind="image"] img');
    await expect(image).toHaveAttribute('src', new RegExp(`/api/media/whatsapp/${NUMBER}/`));
    // The picture really loaded (the route is authenticated by the session cookie).
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), SLOW).toBeGreaterThan(0);
  });

  test('the reply goes out on WhatsApp and shows the read tick', async ({ request }) => {
    const reply = `Yes, it is covered by the warranty. ${run}`;
    const input = page.getByTestId('composer-input');
    await expect(input).toBeEditable();
    await input.fill(reply);
    await input.press('Enter');
    const mine = bubble(page, reply);
    await expect(mine).toHaveCount(1);
    await expect(mine).toHaveAttribute('data-status', 'sent', SLOW);

    let sent: WhatsAppSent | undefined;
    await expect
      .poll(async () => {
        sent = (await whatsappSent(request)).find((s) => s.body?.text?.body === reply);
        return sent?.to;
      }, SLOW)
      .toBe(MARIA.waId);

    // WhatsApp may report `read` without `delivered`.
    await fakePost(request, '/_fake/whatsapp/status', { phone_number_id: NUMBER, message_id: sent!.wamid, status: 'read' });
    await expect(mine).toHaveAttribute('data-status', 'read');
  });

  test('an admin authors a template and watches Meta approve it', async ({ request }) => {
    await openSettings(page, 'Templates');
    await expect(page.getByTestId('templates-page')).toBeVisible();
    // Templates made elsewhere (in WhatsApp Manager) come in with a sync.
    await page.getByTestId('template-sync').click();
    await expect(page.getByTestId('template-card').filter({ hasText: 'order_update' })).toHaveAttribute('data-status', 'approved', SLOW);

    await page.getByTestId('template-new').click();
    await page.getByTestId('tpl-name').fill(TEMPLATE);
    await page.getByTestId('tpl-category').selectOption('utility');
    await page.getByTestId('tpl-body').fill('Hi ');
    await page.getByTestId('tpl-add-variable').click();
    await page.getByTestId('tpl-body').press('End');
    await page.getByTestId('tpl-body').pressSequentially(', your delivery arrives tomorrow.');
    await page.getByTestId('tpl-example-1').fill('Ann');
    await expect(page.getByTestId('tpl-preview')).toContainText('Hi Ann, your delivery arrives tomorrow.');
    await page.getByTestId('tpl-submit').click();

    const card = page.getByTestId('template-card').filter({ hasText: TEMPLATE });
    await expect(card).toHaveAttribute('data-status', 'pending', SLOW);
    const atMeta = await (await request.get(`${FAKE}/_fake/whatsapp/templates`)).json();
    expect(JSON.stringify(atMeta)).toContain(TEMPLATE);

    // Meta's review comes back by webhook: the card turns approved without a reload.
    await page.evaluate(() => ((window as unknown as { __e2e?: string }).__e2e = 'same-document'));
    await fakePost(request, `/_fake/whatsapp/templates/${TEMPLATE}/review`, { status: 'APPROVED' });
    await expect(card).toHaveAttribute('data-status', 'approved', SLOW);
    expect(await page.evaluate(() => (window as unknown as { __e2e?: string }).__e2e)).toBe('same-document');
  });

  test('after the 24-hour window only a template can be sent, with its variables filled in', async ({ request }) => {
    const yesterday = Math.floor(Date.now() / 1000) - 25 * 3600;
    const old = `Where is my order? ${run}`;
    const answer = await fakePost(request, '/_fake/whatsapp/message', {
      phone_number_id: NUMBER,
      from: KENJI.waId,
      text: old,
      timestamp: yesterday,
    });
    expect(answer.status, JSON.stringify(answer)).toBe(200);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expectLive(page);
    await conversationItem(page, KENJI.name).click();
    await expect(bubble(page, old)).toBeVisible();
    await expect(page.getByTestId('window-notice')).toHaveAttribute('data-window', 'templates_only');
    await expect(page.getByTestId('composer-input')).toBeDisabled();

    await page.getByTestId('template-picker-open').click();
    const picker = page.getByTestId('template-picker');
    await expect(picker).toBeVisible();
    await picker.locator('[data-testid="template-option"][data-name="order_update"]').click();
    await page.getByTestId('template-param-1').fill('Kenji');
    await page.getByTestId('template-param-2').fill('#1042');
    await expect(page.getByTestId('template-preview')).toContainText('Hi Kenji, your order #1042 has shipped.');
    await page.getByTestId('template-send').click();

    const sentBubble = bubble(page, 'Hi Kenji, your order #1042 has shipped.');
    await expect(sentBubble).toHaveCount(1);
    await expect(sentBubble).toHaveAttribute('data-status', 'sent', SLOW);
    const calls = await whatsappSent(request);
    const call = calls.find((s) => s.body?.type === 'template' && s.to === KENJI.waId);
    expect(call?.body.template.name).toBe('order_update');
    expect(JSON.stringify(call?.body.template.components)).toContain('#1042');
  });

  test('deleting a template asks once more, then removes it here and at Meta', async ({ request }) => {
    await openSettings(page, 'Templates');
    const card = page.getByTestId('template-card').filter({ hasText: TEMPLATE });
    await expect(card).toBeVisible();
    await card.getByTestId('template-delete').click();
    await expect(card.getByRole('group', { name: `Delete ${TEMPLATE}?` })).toBeVisible();
    await card.getByTestId('template-confirm-delete').click();
    await expect(card).toHaveCount(0, SLOW);
    const atMeta = await (await request.get(`${FAKE}/_fake/whatsapp/templates`)).json();
    expect(JSON.stringify(atMeta)).not.toContain(TEMPLATE);
  });

  test('no script errors or panics along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
