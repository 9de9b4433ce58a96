import path from 'node:path';
import { test, expect, signIn, waitForHydration, DEMO_PASSWORD } from './fixtures';

// Authentication, role homes and access control.
// Selectors use roles and labels only (no CSS classes).

const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');

const ROLES = [
  { role: 'customer', email: 'customer@acme.test', home: '/portal', heading: 'Customer portal' },
  { role: 'agent', email: 'agent@acme.test', home: '/desk', heading: 'Agent desk' },
  { role: 'manager', email: 'manager@acme.test', home: '/manager', heading: 'Manager dashboard' },
  { role: 'ceo', email: 'ceo@acme.test', home: '/exec', heading: 'Executive dashboard' },
  { role: 'admin', email: 'admin@acme.test', home: '/admin', heading: 'Administration' },
  { role: 'tech', email: 'tech@acme.test', home: '/field', heading: 'Field service' },
] as const;

/** Matches `/login`, optionally with a query such as `?next=/desk`. */
const LOGIN_URL = /\/login(\?.*)?$/;
const urlFor = (p: string) => new RegExp(`${p.replace(/\//g, '\\/')}(\\?.*)?$`);

// Expected 4xx responses make Chromium log "Failed to load resource: ... status of 4xx".
const STATUS_LOG = (status: number) => new RegExp(`status of ${status}\\b`);

test.describe('login page', () => {
  test('shows the sign-in form', async ({ page }) => {
    await page.goto('/login');
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await expect(page.getByLabel('Email', { exact: true })).toBeVisible();
    await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  });

  test('rejects a wrong password with an alert', async ({ page, pageErrors }) => {
    pageErrors.allow(STATUS_LOG(401));
    await signIn(page, 'agent@acme.test', 'definitely-not-the-password');
    await expect(page.getByRole('alert').filter({ hasText: 'Invalid email or password' })).toBeVisible();
    await expect(page).toHaveURL(LOGIN_URL);
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  });

  test('hydrates, then signs in through the hydrated form', async ({ page }) => {
    await page.goto('/login');
    await waitForHydration(page);
    await page.getByLabel('Email', { exact: true }).fill('agent@acme.test');
    await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(urlFor('/desk'));
    await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the login form still works', async ({ page }) => {
    await signIn(page, 'agent@acme.test', DEMO_PASSWORD, { hydrated: false });
    await expect(page).toHaveURL(urlFor('/desk'));
    await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  });
});

test.describe('role homes', () => {
  for (const r of ROLES) {
    test(`${r.role} signs in to ${r.home} and signs out`, async ({ page }) => {
      await signIn(page, r.email);
      await expect(page).toHaveURL(urlFor(r.home));
      await expect(page.getByRole('heading', { level: 1, name: r.heading })).toBeVisible();
      await expect(page.getByRole('navigation').first()).toBeVisible();

      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${r.role}.png`), fullPage: true });

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await expect(page).toHaveURL(LOGIN_URL);
      await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();

      // The session is really gone: the role's home sends us back to the login page.
      await page.goto(r.home);
      await expect(page).toHaveURL(LOGIN_URL);
    });
  }
});

test.describe('access control', () => {
  test('a signed-out visitor to /desk is sent to /login', async ({ page }) => {
    await page.goto('/desk');
    await expect(page).toHaveURL(LOGIN_URL);
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  });

  test('a customer visiting /admin sees "Access denied"', async ({ page, pageErrors }) => {
    pageErrors.allow(STATUS_LOG(403), { url: /\/admin$/ });
    await signIn(page, 'customer@acme.test');
    await expect(page).toHaveURL(urlFor('/portal'));

    await page.goto('/admin');
    await expect(page.getByRole('heading', { level: 1, name: 'Access denied' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toHaveCount(0);
  });

  test('an unknown URL answers 404 with "Page not found"', async ({ page, pageErrors }) => {
    pageErrors.allow(STATUS_LOG(404), { url: /\/no-such-page$/ });
    const response = await page.goto('/no-such-page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  });
});

test.describe('profile', () => {
  test('agent opens the profile; a mismatched confirmation is rejected', async ({ page, pageErrors }) => {
    pageErrors.allow(STATUS_LOG(400));
    pageErrors.allow(STATUS_LOG(422));
    await signIn(page, 'agent@acme.test');
    await expect(page).toHaveURL(urlFor('/desk'));

    await page.getByRole('navigation').getByRole('link', { name: 'Profile', exact: true }).click();
    await expect(page).toHaveURL(urlFor('/profile'));
    await expect(page.getByRole('heading', { level: 1, name: 'Your profile' })).toBeVisible();

    // Never actually changes the shared demo password: the confirmation differs.
    await page.getByLabel('Current password', { exact: true }).fill(DEMO_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('a-new-password-123');
    await page.getByLabel('Confirm new password', { exact: true }).fill('a-different-password-456');
    await page.getByRole('button', { name: 'Change password', exact: true }).click();

    await expect(page.getByRole('alert').filter({ hasText: 'do not match' })).toBeVisible();
    await expect(page).toHaveURL(urlFor('/profile'));
  });
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('the technician home fits the screen without sideways scrolling', async ({ page }) => {
    await signIn(page, 'tech@acme.test');
    await expect(page).toHaveURL(urlFor('/field'));
    await expect(page.getByRole('heading', { level: 1, name: 'Field service' })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'tech-phone.png'), fullPage: true });
  });
});
