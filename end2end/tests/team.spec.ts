// The team inbox with two people in two browsers: an admin (Tess) and an agent (Lea). The
// admin makes a team on Settings → Teams and routes a Telegram bot to it; a customer writes;
// each sees the other's avatar while both view the conversation (and no longer once one
// leaves), and "Lea is typing a reply…" while she types; a note's @ autocomplete mentions Lea,
// who is told live and finds it in her mentions; Tess claims the conversation and it leaves
// Lea's Unassigned view at once; Lea, who opened the thread before Tess replied, is asked
// before her own reply goes out; ticked conversations are assigned in bulk; the team's
// workload shows who carries what.
//
// The steps share one organization and build on each other, so they run in order.
import { test, expect, type Browser, type BrowserContext, type Page, type APIRequestContext } from '@playwright/test';
import { SLOW, bubble, conversationItem, expectLive, scriptErrors, signUp, watchForScriptErrors } from './support';

const TELEGRAM = process.env.FAKE_TELEGRAM_URL ?? 'http://127.0.0.1:3902';
const BOT = { id: 7000000002, token: '7000000002:AAFakeTokenForAcmeSalesBot000000000' };
const LINUS = { id: 5550002, name: 'Linus' };
const run = `${Date.now()}`;
const owner = {
  organization: `Team Org ${run}`,
  name: 'Tess Admin',
  email: `team-owner-${run}@example.test`,
  password: 'correct horse battery staple',
};
const lea = { name: 'Lea Martin', email: `team-lea-${run}@example.test`, password: 'lea-password-1' };

test.describe.configure({ mode: 'serial' });

async function bearer(request: APIRequestContext, who: { email: string; password: string }) {
  const response = await request.post('/api/auth/login', { data: { email: who.email, password: who.password } });
  expect(response.ok(), await response.text()).toBeTruthy();
  return (await response.json()).token as string;
}

test.describe('Team inbox, two agents', () => {
  let browser: Browser;
  let tessContext: BrowserContext;
  let leaContext: BrowserContext;
  let tess: Page;
  let leaPage: Page;
  let leaId = 0;
  let conversationId = 0;

  test.beforeAll(async ({ browser: b }) => {
    browser = b;
    tessContext = await browser.newContext();
    leaContext = await browser.newContext();
    tess = await tessContext.newPage();
    leaPage = await leaContext.newPage();
    watchForScriptErrors(tess, 'tess');
    watchForScriptErrors(leaPage, 'lea');
  });

  test.afterAll(async () => {
    await tessContext?.close();
    await leaContext?.close();
  });

  test('an admin adds an agent, makes a team and routes a channel to it', async ({ request }) => {
    await signUp(tess, owner);
    await tess.goto('/settings/team');
    await expectLive(tess);
    await tess.locator('#member-name').fill(lea.name);
    await tess.locator('#member-email').fill(lea.email);
    await tess.locator('#member-password').fill(lea.password);
    await tess.locator('#member-role').selectOption('agent');
    await tess.getByTestId('add-member').click();
    await expect(tess.getByTestId('team-member').filter({ hasText: lea.name })).toBeVisible(SLOW);

    const token = await bearer(request, owner);
    const connected = await request.post('/api/channels/telegram', {
      data: { botToken: BOT.token },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(connected.status(), await connected.text()).toBe(201);
    const channel = await connected.json();
    const members = await (await request.get('/api/inbox/agents', { headers: { authorization: `Bearer ${token}` } })).json();
    leaId = members.find((m: { name: string }) => m.name === lea.name).userId;

    await tess.getByTestId('nav-teams').click();
    await expect(tess).toHaveURL(/\/settings\/teams$/);
    await expectLive(tess);
    const form = tess.getByTestId('new-team');
    await form.getByTestId('team-name-input').fill('Sales');
    // Agents claim what arrives: nothing is handed out automatically in this scenario.
    await form.getByTestId('team-strategy').selectOption('manual');
    await form.getByTestId(`team-member-${leaId}`).check();
    await form.getByTestId('team-save').click();
    const card = tess.getByTestId('team-card').filter({ hasText: 'Sales' });
    await expect(card).toBeVisible(SLOW);
    await expect(card).toContainText(lea.name);

    await tess.getByTestId(`channel-routing-${channel.id}`).selectOption({ label: 'Sales' });
    await tess.getByTestId(`channel-routing-save-${channel.id}`).click();
    await expect
      .poll(async () => {
        const routing = await request.get(`/api/channels/${channel.id}/routing`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return (await routing.json()).teamId;
      }, SLOW)
      .not.toBeNull();
  });

  test('both see who else is viewing, and who is typing', async ({ request }) => {
    await leaPage.goto('/login');
    await leaPage.locator('#email').fill(lea.email);
    await leaPage.locator('#password').fill(lea.password);
    await leaPage.locator('#password').press('Enter');
    await expect(leaPage).toHaveURL(/\/inbox/, SLOW);
    await expectLive(leaPage);
    await tess.goto('/inbox?view=unassigned');
    await expectLive(tess);

    const question = `Do you ship to Helsinki? ${run}`;
    const delivered = await request.post(`${TELEGRAM}/_fake/telegram/${BOT.id}/customers/${LINUS.id}/text`, {
      data: { text: question },
    });
    expect(delivered.ok(), await delivered.text()).toBeTruthy();
    const tessItem = conversationItem(tess, LINUS.name);
    await expect(tessItem).toBeVisible(SLOW);
    await expect(tessItem.getByText('Waiting')).toBeVisible();
    conversationId = Number(await tessItem.getAttribute('data-conversation-id'));

    await tessItem.click();
    await expect(bubble(tess, question)).toBeVisible(SLOW);
    await expect(tess.getByTestId('queue-info')).toContainText('Sales', SLOW);
    await leaPage.goto(`/inbox/${conversationId}`);
    await expectLive(leaPage);
    await expect(bubble(leaPage, question)).toBeVisible(SLOW);

    const leaOnTess = tess.locator(`.thread-head [data-testid="viewer"][data-user-id="${leaId}"]`);
    await expect(leaOnTess).toBeVisible(SLOW);
    await expect(leaPage.locator('.thread-head [data-testid="viewer"]')).toHaveCount(1, SLOW);

    await leaPage.getByTestId('composer-input').pressSequentially('Hi Linus', { delay: 30 });
    await expect(tess.getByTestId('typing-indicator')).toHaveText(`${lea.name} is typing a reply…`, SLOW);
    await leaPage.getByTestId('composer-input').fill('');
    await leaPage.getByTestId('composer-input').blur();
    await expect(tess.getByTestId('typing-indicator')).toHaveText('', SLOW);

    // Lea leaves the conversation: her avatar goes from Tess's header.
    await leaPage.goto('/inbox?view=unassigned');
    await expectLive(leaPage);
    await expect(leaOnTess).toHaveCount(0, SLOW);
  });

  test("a note's @ autocomplete mentions Lea, who is told live", async () => {
    await expect(leaPage.getByTestId('mentions-unread')).toHaveCount(0);
    const notes = tess.getByTestId('notes');
    const input = notes.getByTestId('note-input');
    await input.pressSequentially('Can you check this @Le', { delay: 20 });
    const suggestions = notes.getByTestId('mention-suggestions');
    await expect(suggestions.getByTestId('mention-option').first()).toHaveText(`@${lea.name}`);
    await input.press('Enter');
    await expect(input).toHaveValue(`Can you check this @${lea.name} `);
    await input.pressSequentially('please', { delay: 10 });
    await input.press('Enter');
    await expect(notes.getByTestId('note').filter({ hasText: 'please' })).toBeVisible(SLOW);

    await expect(leaPage.getByTestId('mentions-unread')).toHaveText('1', SLOW);
    await leaPage.getByTestId('nav-mentions').click();
    await expect(leaPage.getByTestId('mention').filter({ hasText: 'Can you check this' })).toBeVisible(SLOW);
  });

  test("a claim takes the conversation out of the other's Unassigned view at once", async () => {
    await leaPage.goto('/inbox?view=unassigned');
    await expectLive(leaPage);
    const leaItem = conversationItem(leaPage, LINUS.name);
    await expect(leaItem).toBeVisible(SLOW);

    await tess.getByTestId('claim').click();
    await expect(tess.getByTestId('assignee-name')).toContainText('Assigned to you', SLOW);
    await expect(tess.getByTestId('claim')).toHaveCount(0);
    await expect(leaItem).toHaveCount(0, SLOW);
  });

  test('a reply after a teammate answered asks first', async () => {
    await leaPage.goto(`/inbox/${conversationId}`);
    await expectLive(leaPage);
    await expect(leaPage.getByTestId('thread')).toBeVisible(SLOW);

    const tessReply = `Yes, we ship to Finland. ${run}`;
    await tess.getByTestId('composer-input').fill(tessReply);
    await tess.getByTestId('composer-input').press('Enter');
    await expect(bubble(leaPage, tessReply)).toBeVisible(SLOW);

    const leaReply = `Hi Linus, we do! ${run}`;
    await leaPage.getByTestId('composer-input').fill(leaReply);
    await leaPage.getByTestId('composer-input').press('Enter');
    const warning = leaPage.getByTestId('collision-warning');
    await expect(warning).toBeVisible(SLOW);
    await expect(warning).toContainText(`${owner.name} replied`);
    await expect(warning).toContainText('send anyway?');
    await expect(bubble(leaPage, leaReply)).toHaveCount(0);
    await warning.getByTestId('send-anyway').click();
    await expect(warning).toHaveCount(0);
    await expect(bubble(leaPage, leaReply)).toBeVisible(SLOW);
  });

  test('ticked conversations are assigned in bulk', async () => {
    await tess.goto('/inbox');
    await expectLive(tess);
    const row = tess.getByTestId('conversation-list').locator('li.conv-item').filter({ hasText: LINUS.name });
    await row.hover();
    await row.getByTestId('conv-pick').check();
    const bar = tess.getByTestId('bulk-bar');
    await expect(bar).toContainText('1 selected');
    await bar.getByTestId('bulk-assignee').selectOption({ label: lea.name });
    await bar.getByTestId('bulk-assign').click();
    await expect(bar).toHaveCount(0, SLOW);
    await expect(leaPage.getByTestId('assignee-name')).toContainText('Assigned to you', SLOW);
  });

  test("the team's workload shows each agent's load against capacity and who is online", async () => {
    await tess.getByTestId('nav-workload').click();
    await expect(tess).toHaveURL(/\/workload/);
    await expectLive(tess);
    const leaRow = tess.getByTestId(`workload-agent-${leaId}`);
    await expect(leaRow).toBeVisible(SLOW);
    await expect(leaRow).toContainText('Online');
    await expect(tess.getByTestId(`workload-open-${leaId}`)).toHaveText('1 / 10');
    await expect(tess.getByTestId('workload-queue')).toContainText('Nobody is waiting');
  });

  test('no script errors or panics along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
