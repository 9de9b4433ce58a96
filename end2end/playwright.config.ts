import path from 'node:path';
import { defineConfig, devices } from '@playwright/test';

// End-to-end tests for Fieldesk. Run from end2end/ with `npx playwright test`
// (or `make test-e2e` from the repo root) after `make build`.
//
// The server is the release binary built by `make build` (scripts/build.sh),
// started fresh for every run on port 3100 with an empty data directory.

const repoRoot = path.resolve(__dirname, '..');
const serverBin = process.env.FIELDESK_E2E_BIN ?? path.join(repoRoot, 'target/release/fieldesk');
const dataDir = path.join(repoRoot, 'target/e2e-data');
const port = 3100;
const baseURL = `http://127.0.0.1:${port}`;

const q = (s: string) => JSON.stringify(s); // shell-quote a path

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1, // 2-core machine: the server, the browser and the test runner share it
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          // Debian's Chromium; Playwright's own browser download is not used.
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-quic',
            '--no-first-run',
          ],
        },
      },
    },
  ],
  webServer: {
    // A fresh, empty data directory per run, then the server itself.
    command: `rm -rf ${q(dataDir)} && mkdir -p ${q(dataDir)} && exec ${q(serverBin)}`,
    cwd: repoRoot,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    env: {
      FIELDESK_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(repoRoot, 'target/site'),
      FIELDESK_DATA_DIR: dataDir,
      FIELDESK_DEMO_PASSWORD: 'fieldesk-demo',
      FIELDESK_LOGIN_RATE_PER_MINUTE: '1000',
      // The SMTP listener of tests/magic-link.spec.ts (tests/smtp-sink.ts).
      FIELDESK_SMTP_URL: 'smtp://127.0.0.1:3125',
    },
  },
});
