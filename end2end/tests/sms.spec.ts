// SMS through Twilio as a person uses it: an admin connects a Twilio number with the account's
// SID and token (nothing to configure at Twilio), a customer's text arrives live, the composer
// shows what the reply costs in segments as the agent types (and when it turns Unicode), the
// reply climbs to "delivered" through Twilio's status callbacks, and a customer who texts STOP
// is flagged above the composer.
//
// The steps share one organization and build on each other, so they run in order.
import { test, expect, type APIRequestContext, type BrowserContext, type Page } from '@playwright/test';
import { SLOW, bubble, conversationItem, expectLive, signUp, watchForScriptErrors } from './support';

const TWILIO = process.env.FAKE_TWILIO_URL ?? 'http://127.0.0.1:3903';
const ACCOUNT = { sid: 'ACa1b2c3d4e5f60718293a4b5c6d7e8f90', token: 'f3e2d1c0b9a8978695a4b3c2d1e0f9a8' };
const NUMBER = '+15017122661';
const CUSTOMER = '+14155550100';
const run = `${Date.now()}`;
const owner = {
  organization: `SMS Org ${run}`,
  name: 'Sam Admin',
  email: `sms-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};

test.describe.configure({ mode: 'serial' });

async function customerTexts(request: APIRequestContext, body: string) {
  const response = await request.post(`${TWILIO}/_fake/twilio/numbers/${encodeURIComponent(NUMBER)}/sms`, {
    data: { from: CUSTOMER, body },
  });
  expect(response.ok(), `${response.status()} ${await response.text()}`).toBeTruthy();
  const delivery = await response.json();
  expect(delivery.status, JSON.stringify(delivery)).toBe(200);
}

test.describe('SMS through Twilio, end to end', () => {
  let context: BrowserContext;
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    context = await browser.newContext();
    page = await context.newPage();
    watchForScriptErrors(page, 'sms');
  });

  test.afterAll(async () => {
    await context?.close();
  });

  test('an admin connects a Twilio number', async ({ request }) => {
    await request.post(`${TWILIO}/_fake/twilio/reset`);
    await signUp(page, owner);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
    await expect(page).toHaveURL(/\/settings\/channels$/);
    await expectLive(page);

    const card = page.getByTestId('connect-sms');
    await card.getByTestId('connect-form-open').click();
    await card.getByTestId('connect-field-account_sid').fill(ACCOUNT.sid);
    await expect(card.getByTestId('connect-field-auth_token')).toHaveAttribute('type', 'password');
    await card.getByTestId('connect-field-auth_token').fill(ACCOUNT.token);
    await card.getByTestId('connect-field-phone_number').fill(NUMBER);
    await card.getByTestId('connect-form-submit').click();

    const row = page.getByTestId('channel-row').filter({ hasText: NUMBER });
    await expect(row).toHaveAttribute('data-status', 'active', SLOW);
    await expect(row).toHaveAttribute('data-kind', 'sms');
    const numbers = await (await request.get(`${TWILIO}/_fake/twilio/numbers`)).json();
    const number = numbers.find((n: { phone_number: string }) => n.phone_number === NUMBER);
    expect(number.sms_url).toContain('/api/webhooks/sms/');
  });

  test('a text arrives live, the composer counts segments, the reply is delivered', async ({ request }) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expectLive(page);
    const question = `Do you deliver on Sundays? ${run}`;
    await customerTexts(request, question);
    const item = conversationItem(page, CUSTOMER);
    await expect(item).toBeVisible(SLOW);
    await item.click();
    await expect(bubble(page, question)).toBeVisible();

    const input = page.getByTestId('composer-input');
    const meter = page.getByTestId('sms-meter');
    await input.fill('a'.repeat(161));
    await expect(meter).toHaveAttribute('data-encoding', 'GSM-7');
    await expect(meter).toHaveAttribute('data-segments', '2');
    await input.fill('Yes, we do ✓');
    await expect(meter).toHaveAttribute('data-encoding', 'UCS-2');
    await expect(meter).toContainText('Unicode');

    const reply = `Yes, every Sunday until 4pm. ${run}`;
    await input.fill(reply);
    await expect(meter).toHaveAttribute('data-encoding', 'GSM-7');
    await input.press('Enter');
    await expect(bubble(page, reply)).toHaveAttribute('data-status', 'delivered', SLOW);
  });

  test('a customer who texts STOP is flagged above the composer', async ({ request }) => {
    await customerTexts(request, 'STOP');
    await expect(page.getByTestId('unreachable-notice')).toContainText('replied STOP', SLOW);
    await customerTexts(request, 'START');
    await expect(page.getByTestId('unreachable-notice')).toHaveCount(0, SLOW);
  });
});
