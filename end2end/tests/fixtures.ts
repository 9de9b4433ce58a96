import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

/**
 * Shared Playwright fixtures for Fieldesk.
 *
 * Every test automatically fails if any page in its browser context raised an
 * uncaught exception (`pageerror`) or logged a `console.error`. Tests that
 * expect an error on purpose (e.g. the browser's "Failed to load resource: ...
 * 404" line for a page that is meant to answer 404) declare it with
 * `pageErrors.allow(/pattern/)`.
 */

declare global {
  interface Window {
    /** Set to true by the app once the WASM bundle has hydrated the page. */
    __fieldeskHydrated?: boolean;
  }
}

export const DEMO_PASSWORD = 'fieldesk-demo';

/** Collects page errors and console errors of every page the test opens. */
export interface PageErrors {
  /** What has been collected so far. */
  readonly errors: string[];
  /**
   * Let console errors whose text matches `pattern` pass (e.g. the browser's log line
   * for an expected 403/404 response). With `url`, only when the message's source
   * URL (for a failed load: the resource's URL) also matches it.
   */
  allow(pattern: RegExp, options?: { url?: RegExp }): void;
  /** Also watch a browser context the test created itself with `browser.newContext()`. */
  watchContext(context: BrowserContext): void;
}

export const test = base.extend<{ pageErrors: PageErrors }>({
  pageErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      const allowed: { pattern: RegExp; url?: RegExp }[] = [];
      const watchPage = (page: Page) => {
        page.on('pageerror', (e) => errors.push(`pageerror on ${page.url()}: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() !== 'error') return;
          const text = m.text();
          const source = m.location().url;
          if (allowed.some((a) => a.pattern.test(text) && (!a.url || a.url.test(source)))) return;
          errors.push(`console.error on ${page.url()}: ${text}`);
        });
      };
      const watchContext = (ctx: BrowserContext) => {
        ctx.pages().forEach(watchPage);
        ctx.on('page', watchPage);
      };
      watchContext(context);

      await use({ errors, allow: (pattern, options) => allowed.push({ pattern, url: options?.url }), watchContext });

      expect(errors, 'uncaught page errors / console errors during the test').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Wait until the WASM bundle has hydrated the current page. */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__fieldeskHydrated === true);
}

/**
 * Sign in through the login form. With JavaScript enabled (the default) this
 * waits for hydration first, so the test exercises the hydrated form.
 */
export async function signIn(
  page: Page,
  email: string,
  password: string = DEMO_PASSWORD,
  { hydrated = true }: { hydrated?: boolean } = {},
): Promise<void> {
  await page.goto('/login');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  if (hydrated) await waitForHydration(page);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}
