// Telegram as a person uses it: an admin connects a bot with the token @BotFather gave (the
// form is drawn from the fields Telegram's channel declares), a customer's message arrives live,
// the agent's reply reaches the customer through the Bot API (the fake), a file too large for
// bots is shown with its name, size and why, and a customer who blocks the bot is flagged above
// the composer until they unblock it.
//
// The steps share one organization and build on each other, so they run in order.
import { test, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { SLOW, bubble, conversationItem, expectLive, signUp, watchForScriptErrors } from './support';

const TELEGRAM = process.env.FAKE_TELEGRAM_URL ?? 'http://127.0.0.1:3902';
const BOT = { id: 7000000001, token: '7000000001:AAFakeTokenForAcmeSupportBot0000000', name: 'Acme Support (@acme_support_bot)' };
const ADA = { id: 5550001, name: 'Ada Lovelace' };
const run = `${Date.now()}`;
const owner = {
  organization: `Telegram Org ${run}`,
  name: 'Tess Admin',
  email: `tg-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};

test.describe.configure({ mode: 'serial' });

async function telegramPost(request: APIRequestContext, path: string, data?: unknown) {
  const response = await request.post(`${TELEGRAM}${path}`, { data: data ?? {} });
  expect(response.ok(), `POST ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
  const delivery = await response.json();
  expect(delivery.status, JSON.stringify(delivery)).toBe(200);
  return delivery;
}

const customer = (path: string) => `/_fake/telegram/${BOT.id}/customers/${ADA.id}/${path}`;

test.describe('Telegram, end to end', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  test.beforeAll(async ({ browser: b }) => {
    browser = b;
    context = await browser.newContext();
    page = await context.newPage();
    watchForScriptErrors(page, 'telegram');
  });

  test.afterAll(async () => {
    await context?.close();
  });

  test('an admin connects a bot with its token', async ({ request }) => {
    await request.post(`${TELEGRAM}/_fake/telegram/reset`);
    await signUp(page, owner);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
    await expect(page).toHaveURL(/\/settings\/channels$/);
    await expectLive(page);

    const card = page.getByTestId('connect-telegram');
    await card.getByTestId('connect-form-open').click();
    const field = card.getByTestId('connect-field-bot_token');
    await expect(field).toHaveAttribute('type', 'password');
    // A pasted label instead of the token: Telegram is not even asked.
    await field.fill('my bot');
    await card.getByTestId('connect-form-submit').click();
    await expect(card.getByTestId('connect-form-error')).toContainText('not a bot token', SLOW);

    await field.fill(BOT.token);
    await card.getByTestId('connect-form-submit').click();
    const row = page.getByTestId('channel-row').filter({ hasText: BOT.name });
    await expect(row).toHaveAttribute('data-status', 'active', SLOW);
    await expect(row).toHaveAttribute('data-kind', 'telegram');
    await expect(row).toContainText(`${BOT.id}`);

    const webhook = await (await request.get(`${TELEGRAM}/_fake/telegram/${BOT.id}/webhook`)).json();
    expect(webhook.config.url).toContain('/api/webhooks/telegram/');
    expect(webhook.config.url).not.toContain(BOT.token);
  });

  test("a customer's message arrives live and the reply reaches them", async ({ request }) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await expect(page).toHaveURL(/\/inbox$/);
    await expectLive(page);

    const question = `Where is my parcel? ${run}`;
    await telegramPost(request, customer('text'), { text: question });
    const item = conversationItem(page, ADA.name);
    await expect(item).toBeVisible(SLOW);
    await item.click();
    await expect(bubble(page, question)).toBeVisible();
    await expect(page.getByTestId('window-notice')).toHaveCount(0);

    const reply = `It left our warehouse this morning <3 ${run}`;
    const input = page.getByTestId('composer-input');
    await expect(input).toBeEditable();
    await input.fill(reply);
    await input.press('Enter');
    const mine = bubble(page, reply);
    await expect(mine).toHaveAttribute('data-status', 'sent', SLOW);
    const sent = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    expect(sent.find((s: { text?: string }) => s.text === reply)?.chat_id).toBe(ADA.id);

    // Replying to the question itself: the composer says what it quotes, Escape would drop it.
    await bubble(page, question).hover();
    await bubble(page, question).getByTestId('reply-to').click();
    await expect(page.getByTestId('composer-replying')).toContainText('Where is my parcel?');
    await expect(input).toBeFocused();
    const quoted = `To answer your question: tomorrow. ${run}`;
    await input.fill(quoted);
    await input.press('Enter');
    await expect(page.getByTestId('composer-replying')).toHaveCount(0);
    const quotedBubble = bubble(page, quoted);
    await expect(quotedBubble.getByTestId('reply-quote')).toContainText('Where is my parcel?');
    await expect(quotedBubble).toHaveAttribute('data-status', 'sent', SLOW);
    const all = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    expect(all.find((s: { text?: string }) => s.text === quoted)?.reply_parameters?.message_id).toBeGreaterThan(0);
  });

  test('the agent edits a sent reply and takes another back', async ({ request }) => {
    const typo = `See you tomorow ${run}`;
    const input = page.getByTestId('composer-input');
    await input.fill(typo);
    await input.press('Enter');
    const mine = bubble(page, typo);
    await expect(mine).toHaveAttribute('data-status', 'sent', SLOW);
    await mine.hover();
    await mine.getByTestId('edit-message').click();
    await expect(page.getByTestId('composer-editing')).toBeVisible();
    await expect(input).toHaveValue(typo);
    const fixed = `See you tomorrow ${run}`;
    await input.fill(fixed);
    await input.press('Enter');
    const edited = bubble(page, fixed);
    await expect(edited.locator('.msg-edited')).toHaveText('edited', SLOW);
    await expect(page.getByTestId('composer-editing')).toHaveCount(0);
    const sent = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    expect(sent.some((s: { method: string; text?: string }) => s.method === 'editMessageText' && s.text === fixed)).toBeTruthy();

    await edited.hover();
    await edited.getByTestId('take-back').click();
    await edited.getByTestId('confirm-take-back').click();
    await expect(page.getByTestId('thread').getByText('This message was deleted.')).toBeVisible(SLOW);
    const after = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    expect(after.some((s: { method: string }) => s.method === 'deleteMessage')).toBeTruthy();
  });

  test('a reply offers buttons and the customer taps one', async ({ request }) => {
    const input = page.getByTestId('composer-input');
    await page.getByTestId('composer-buttons-open').click();
    const label = page.getByTestId('composer-button-input');
    await label.fill('Pick up');
    await label.press('Enter');
    await label.fill('Deliver');
    await label.press('Enter');
    await expect(page.getByTestId('composer-button-chip')).toHaveCount(2);
    const question = `Pick up or delivery? ${run}`;
    await input.fill(question);
    await input.press('Enter');
    const asked = bubble(page, question);
    await expect(asked.getByTestId('message-buttons')).toContainText('Deliver');
    await expect(asked).toHaveAttribute('data-status', 'sent', SLOW);

    const sent = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    const keyboard = sent.find((s: { text?: string }) => s.text === question);
    const deliver = keyboard.reply_markup.inline_keyboard.flat().find((b: { text: string }) => b.text === 'Deliver');
    await telegramPost(request, customer('callback'), { message_id: keyboard.message_id, data: deliver.callback_data });
    const choice = page.getByTestId('thread').getByTestId('message').filter({ has: page.getByTestId('message-body').filter({ hasText: /^Deliver$/ }) });
    await expect(choice).toHaveAttribute('data-kind', 'interactive', SLOW);
    await expect(choice.getByTestId('reply-quote')).toContainText('Pick up or delivery?');
  });

  test('the team leaves a private note that never reaches the customer', async ({ request }) => {
    const notes = page.getByTestId('notes');
    const text = `Customer is a VIP, offer free shipping ${run}`;
    await notes.getByTestId('note-input').fill(text);
    await notes.getByTestId('note-input').press('Enter');
    const note = notes.getByTestId('note').filter({ hasText: text });
    await expect(note).toBeVisible(SLOW);
    await expect(note).toContainText(owner.name);
    const sent = await (await request.get(`${TELEGRAM}/_fake/telegram/sent`)).json();
    expect(JSON.stringify(sent)).not.toContain(text);
    await page.reload();
    await expectLive(page);
    await expect(page.getByTestId('notes').getByTestId('note').filter({ hasText: text })).toBeVisible(SLOW);
    await page.getByTestId('notes').getByTestId('note').filter({ hasText: text }).getByTestId('note-delete').click();
    await expect(page.getByTestId('notes').getByTestId('note').filter({ hasText: text })).toHaveCount(0);

    // Nobody mentioned this admin (a note never mentions its own author): the mentions page
    // says so, and the sidebar shows no unread count.
    const back = page.url();
    await page.getByTestId('nav-mentions').click();
    await expect(page.getByTestId('mentions-page')).toContainText('No mentions yet', SLOW);
    await expect(page.getByTestId('mentions-unread')).toHaveCount(0);
    await page.goto(back);
    await expectLive(page);
  });

  test('a file too large for bots is shown with its name, size and why', async ({ request }) => {
    await telegramPost(request, customer('document'), { file_name: 'holiday-video.mov', mime_type: 'video/quicktime', size: 30 * 1024 * 1024 });
    const chip = page.getByTestId('thread').locator('[data-testid="attachment"][data-unavailable="true"]');
    await expect(chip).toContainText('holiday-video.mov', SLOW);
    await expect(chip).toContainText('30 MB');
    await expect(chip).toContainText('Too large to fetch');
  });

  test('a customer who blocks the bot is flagged until they unblock it', async ({ request }) => {
    await telegramPost(request, customer('block'));
    const notice = page.getByTestId('unreachable-notice');
    await expect(notice).toContainText('blocked this bot', SLOW);
    await expect(page.getByTestId('composer-input')).toBeDisabled();
    await telegramPost(request, customer('unblock'));
    await expect(notice).toHaveCount(0, SLOW);
    await expect(page.getByTestId('composer-input')).toBeEnabled();
  });
});
