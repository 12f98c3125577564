// Playwright setup for Messio's browser tests. `end2end/run.sh` starts the server (and the
// fake Graph API) and sets MESSIO_URL; the browser is Debian's Chromium, never a downloaded one.
import { defineConfig, devices } from '@playwright/test';

const baseURL = process.env.MESSIO_URL ?? 'http://127.0.0.1:3900';

export default defineConfig({
  testDir: './tests',
  testMatch: '**/*.spec.ts',
  // Two cores build and serve the app while the browser runs: be generous.
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  outputDir: './test-results',
  use: {
    baseURL,
    headless: true,
    actionTimeout: 20_000,
    navigationTimeout: 45_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'],
        },
      },
    },
  ],
});
