// Helpers the browser scenarios share: the fake Graph API's control API, waiting for the
// live connection, finding list items and bubbles, and watching for script errors.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';

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

