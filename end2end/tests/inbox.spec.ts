// The inbox as a person uses it: sign up, connect a Facebook page through the (fake) Facebook
// login, receive customer messages live, reply, follow delivery and read receipts, and
// recover when the page's token expires. The fake Graph API plays Facebook and the customer
// through its control API; `end2end/run.sh` starts it and the server.
//
// The steps share one organization and build on each other, so they run in order and a
// failure skips the rest.
import { test, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
  FAKE,
  SLOW,
  bubble,
  consoleErrors,
  conversationItem,
  expectLive,
  expectSameDocument,
  fakePost,
  markDocument,
  scriptErrors,
  watchForScriptErrors,
} from './support';

const PAGE_ID = '101'; // "Acme Shoes" in the fake
const PAGE_NAME = 'Acme Shoes';
const PSID = '7001002'; // one of the page's customers
const NEW_CUSTOMER = { psid: '7001003', name: 'Chloé Durand' }; // writes last, as a newcomer
const run = `${Date.now()}`;
const owner = {
  organization: `Browser Org ${run}`,
  name: 'Olivia Owner',
  email: `owner-${run}@example.test`,
  password: 'correct horse battery staple',
};

test.describe.configure({ mode: 'serial' });

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async function customerSays(request: APIRequestContext, text: string) {
  const answer = await fakePost(request, '/_fake/customer-message', { pageId: PAGE_ID, psid: PSID, text });
  expect(answer.status, `Messio's webhook answered ${JSON.stringify(answer)}`).toBe(200);
  return answer.mid as string;
}

type SentCall = { page_id: string; recipient_id: string; message_id: string; body: { message?: { text?: string } } };

async function sentByFacebook(request: APIRequestContext): Promise<SentCall[]> {
  const response = await request.get(`${FAKE}/_fake/sent`);
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** Settings → Channels → Connect Facebook → "Continue as …" → pick the page → Connect. */
async function connectFacebookPage(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  await expect(page).toHaveURL(/\/settings\/channels$/);
  await expectLive(page);
  await page.getByTestId('connect-facebook').click();

  // Facebook's login dialog (the fake's).
  await expect(page).toHaveURL(/\/v21\.0\/dialog\/oauth/);
  await page.locator('#fake-fb-continue').click();

  // Back in Messio: pick which of the user's pages to connect.
  await expect(page).toHaveURL(/\/settings\/channels\/facebook\?pick=/);
  await expectLive(page);
  const option = page.locator(`[data-testid="page-option"][value="messenger:${PAGE_ID}"]`);
  await expect(option).toBeVisible();
  await expect(option).toBeEnabled();
  await option.check();
  await expect(option).toBeChecked();
  await page.getByTestId('connect-selected').click();

  await expect(page).toHaveURL(/\/settings\/channels(\?.*)?$/, SLOW);
  const row = page.getByTestId('channel-row').filter({ hasText: PAGE_NAME });
  await expect(row).toHaveAttribute('data-status', 'active', SLOW);
  return row;
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

test.describe('the inbox, end to end', () => {
  let browser: Browser;
  let owners: BrowserContext;
  let teammates: BrowserContext | undefined;
  let page: Page; // the owner's tab
  let teammate: Page; // the same organization in another browser
  let conversationId = '';
  const first = `Hi! Do you have these shoes in size 42? ${run}`;
  const second = `Also, do you ship to Norway? ${run}`;
  const reply = `Yes we do, in black and brown. ${run}`;
  const failedReply = `Shipping to Norway takes 3 days. ${run}`;

  test.beforeAll(async ({ browser: b }) => {
    browser = b;
    owners = await browser.newContext();
    page = await owners.newPage();
    watchForScriptErrors(page, 'owner');
  });

  test.afterAll(async () => {
    await teammates?.close();
    await owners?.close();
  });

  test('an owner signs up and lands in a live inbox', async () => {
    await page.goto('/signup');
    await page.locator('#organization').fill(owner.organization);
    await page.locator('#name').fill(owner.name);
    await page.locator('#email').fill(owner.email);
    await page.locator('#password').fill(owner.password);
    await page.locator('#password').press('Enter');

    await expect(page).toHaveURL(/\/inbox$/, SLOW);
    await expectLive(page);
    await expect(page.getByTestId('conversation-list')).toBeVisible();
    await expect(page.getByTestId('conversation-item')).toHaveCount(0);
  });

  test('connects a Facebook page from Settings → Channels', async ({ request }) => {
    await connectFacebookPage(page);
    // Messio subscribed its app to the page's webhooks.
    const subscriptions = await (await request.get(`${FAKE}/_fake/subscriptions`)).json();
    expect(subscriptions).toContain(PAGE_ID);
  });

  test("a customer's message shows up live in the list, and opening it shows the message", async ({ request }) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expect(page).toHaveURL(/\/inbox$/);
    await expectLive(page);
    await markDocument(page);

    await customerSays(request, first);

    const item = conversationItem(page, first);
    await expect(item).toBeVisible();
    await expect(item.getByTestId('unread-badge')).toBeVisible();
    await expectSameDocument(page);

    conversationId = (await item.getAttribute('data-conversation-id')) ?? '';
    expect(conversationId).toMatch(/^\d+$/);
    await item.click();
    await expect(page).toHaveURL(new RegExp(`/inbox/${conversationId}$`));
    const message = bubble(page, first);
    await expect(message).toBeVisible();
    await expect(message).toHaveAttribute('data-direction', 'inbound');
    // Reading the conversation clears its unread badge.
    await expect(conversationItem(page, first).getByTestId('unread-badge')).toHaveCount(0);
  });

  test('a teammate logged in elsewhere sees new messages live too', async ({ request }) => {
    teammates = await browser.newContext();
    teammate = await teammates.newPage();
    watchForScriptErrors(teammate, 'teammate');
    await teammate.goto('/login');
    await teammate.locator('#email').fill(owner.email);
    await teammate.locator('#password').fill(owner.password);
    await teammate.locator('#password').press('Enter');
    await expect(teammate).toHaveURL(/\/inbox$/, SLOW);
    await expectLive(teammate);
    await expect(teammate.getByTestId('conversation-item')).toHaveCount(1);
    await markDocument(teammate);
    await markDocument(page);

    await customerSays(request, second);

    // The teammate's list moves the conversation's preview to the new message...
    const item = conversationItem(teammate, second);
    await expect(item).toBeVisible();
    await expect(item).toHaveAttribute('data-conversation-id', conversationId);
    await expect(teammate.getByTestId('conversation-item')).toHaveCount(1);
    // ...and the owner, who has the conversation open, sees it land in the thread.
    await expect(bubble(page, second)).toBeVisible();
    await expect(bubble(page, second)).toHaveAttribute('data-direction', 'inbound');
    await expectSameDocument(teammate);
    await expectSameDocument(page);

    await item.click();
    await expect(teammate).toHaveURL(new RegExp(`/inbox/${conversationId}$`));
    await expect(bubble(teammate, first)).toBeVisible();
    await expect(bubble(teammate, second)).toBeVisible();
  });

  test('a reply goes to Facebook and its status climbs sent → delivered → read', async ({ request }) => {
    const input = page.getByTestId('composer-input');
    await expect(input).toBeEditable();
    await input.fill(reply);
    await input.press('Enter');

    const mine = bubble(page, reply);
    await expect(mine).toHaveCount(1); // one bubble, not an optimistic copy next to the stored one
    await expect(mine).toHaveAttribute('data-direction', 'outbound');
    await expect(input).toHaveValue('');

    // Facebook's Send API received it, addressed to the customer.
    let call: SentCall | undefined;
    await expect
      .poll(async () => {
        call = (await sentByFacebook(request)).find((m) => m.body?.message?.text === reply);
        return call?.recipient_id;
      }, SLOW)
      .toBe(PSID);
    expect(call?.page_id).toBe(PAGE_ID);

    await expect(mine).toHaveAttribute('data-status', 'sent', SLOW);
    await expect(mine).toHaveAttribute('data-message-id', /^\d+$/);

    await fakePost(request, '/_fake/delivery', { pageId: PAGE_ID, psid: PSID, mids: [call!.message_id] });
    await expect(mine).toHaveAttribute('data-status', 'delivered');

    await fakePost(request, '/_fake/read', { pageId: PAGE_ID, psid: PSID });
    await expect(mine).toHaveAttribute('data-status', 'read');

    // The teammate watching the same conversation followed along.
    const theirs = bubble(teammate, reply);
    await expect(theirs).toHaveCount(1);
    await expect(theirs).toHaveAttribute('data-direction', 'outbound');
    await expect(theirs).toHaveAttribute('data-status', 'read');
  });

  test('when the page token expires, the reply fails with a retry button and the app asks to reconnect', async ({ request }) => {
    await fakePost(request, `/_fake/pages/${PAGE_ID}/expire-token`);

    const input = page.getByTestId('composer-input');
    await input.fill(failedReply);
    await input.press('Enter');

    const failed = bubble(page, failedReply);
    await expect(failed).toHaveCount(1);
    await expect(failed).toHaveAttribute('data-direction', 'outbound');
    await expect(failed).toHaveAttribute('data-status', 'failed', SLOW);
    await expect(failed.getByTestId('retry-button')).toBeVisible();
    expect((await sentByFacebook(request)).some((m) => m.body?.message?.text === failedReply)).toBe(false);

    // The inbox says the page needs reconnecting, live...
    await expect(page.getByTestId('reconnect-banner')).toBeVisible();
    await expect(teammate.getByTestId('reconnect-banner')).toBeVisible();
    await expect(bubble(teammate, failedReply)).toHaveAttribute('data-status', 'failed');
    // ...and so does Settings → Channels.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
    await expect(page).toHaveURL(/\/settings\/channels$/);
    await expect(page.getByTestId('channel-row').filter({ hasText: PAGE_NAME })).toHaveAttribute('data-status', 'needs_reconnect');
  });

  test('reconnecting the page and retrying delivers the failed reply', async ({ request }) => {
    const row = await connectFacebookPage(page);
    await expect(row).toHaveCount(1); // the same channel again, not a second one

    await page.goto(`/inbox/${conversationId}`);
    await expectLive(page);
    await expect(page.getByTestId('reconnect-banner')).toHaveCount(0);
    await expect(teammate.getByTestId('reconnect-banner')).toHaveCount(0);

    const failed = bubble(page, failedReply);
    await expect(failed).toHaveAttribute('data-status', 'failed');
    await failed.getByTestId('retry-button').click();
    await expect(failed).toHaveAttribute('data-status', 'sent', SLOW);
    await expect(failed.getByTestId('retry-button')).toHaveCount(0);
    await expect
      .poll(async () => (await sentByFacebook(request)).filter((m) => m.body?.message?.text === failedReply).length, SLOW)
      .toBe(1);
    await expect(bubble(teammate, failedReply)).toHaveAttribute('data-status', 'sent');
  });

  test('resolving and reopening a conversation', async ({ request }) => {
    await page.getByTestId('status-resolve').click();
    await expect(page.getByTestId('status-reopen')).toBeVisible();
    // The teammate's open copy follows.
    await expect(teammate.getByTestId('status-reopen')).toBeVisible();

    await page.getByTestId('status-reopen').click();
    await expect(page.getByTestId('status-resolve')).toBeVisible();

    // A resolved conversation comes back by itself when the customer writes again.
    await page.getByTestId('status-resolve').click();
    await expect(page.getByTestId('status-reopen')).toBeVisible();
    const again = `One more question! ${run}`;
    await customerSays(request, again);
    await expect(bubble(page, again)).toBeVisible();
    await expect(page.getByTestId('status-resolve')).toBeVisible();
  });

  test('logging out ends the session', async () => {
    await page.getByTestId('logout').click();
    await expect(page).toHaveURL(/\/login$/, SLOW);
    await page.goto('/inbox');
    await expect(page).toHaveURL(/\/login$/);
    // The other browser's session is its own and stays signed in.
    await teammate.reload();
    await expect(teammate).toHaveURL(new RegExp(`/inbox/${conversationId}$`));
    await expectLive(teammate);
  });

  test('no script errors or panics in either browser along the way', () => {
    console.log(consoleErrors.length ? `console errors seen:\n  ${consoleErrors.join('\n  ')}` : 'no console errors');
    expect(scriptErrors).toEqual([]);
  });

  test("a newcomer's conversation shows their Facebook name without a reload", async ({ request }) => {
    // Messio learns the name from the User Profile API just after the first message
    // (`contact:updated`); the list should not keep the placeholder ("Customer 1003").
    await markDocument(teammate);
    const hello = `Bonjour ! ${run}`;
    const answer = await fakePost(request, '/_fake/customer-message', { pageId: PAGE_ID, psid: NEW_CUSTOMER.psid, text: hello });
    expect(answer.status).toBe(200);
    const item = conversationItem(teammate, hello);
    await expect(item).toBeVisible();
    await expect(item).toContainText(NEW_CUSTOMER.name);
    await expectSameDocument(teammate);
  });
});
