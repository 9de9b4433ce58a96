import path from 'node:path';
import { test, expect, signIn, waitForHydration } from './fixtures';
import { apiCreateTicket, apiSetStatus, apiTicket, apiToken } from './api';

// The customer side: signing up, and reopening a request that was resolved
// too early.

const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');

test('a customer reopens a resolved request', async ({ page, request }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const agent = await apiToken(request, 'agent@acme.test');
  const ticket = await apiCreateTicket(request, customer, `Scanner offline ${Date.now()}`, 'The scanner says offline.');
  await apiSetStatus(request, agent, ticket.id, 'resolved');

  await signIn(page, 'customer@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Customer portal' })).toBeVisible();
  await page.goto(`/portal/tickets/${ticket.id}`);
  await expect(page.getByRole('heading', { level: 1, name: ticket.subject })).toBeVisible();
  await expect(page.getByText('Resolved', { exact: true })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Reopen' }).click();

  await expect(page.getByText('Open', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Reopen' })).toHaveCount(0);
  expect((await apiTicket(request, customer, ticket.id)).status).toBe('open');
  await page.reload();
  await expect(page.getByText('Open', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'My tickets' }).click();
  await expect(page.getByRole('row').filter({ hasText: ticket.subject })).toContainText('Open');
});

test('a new customer signs up and lands on the portal', async ({ page, pageErrors }) => {
  const email = `new-customer-${Date.now()}@example.test`;
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Create an account' })).toBeVisible();
  await expect(page).toHaveURL(/\/register$/);

  // An email that already has an account: the 409 message, on the field.
  pageErrors.allow(/status of 409/, { url: /\/api\/register/ });
  await page.getByLabel('Organization').fill('acme');
  await page.getByLabel('Name', { exact: true }).fill('Nina Newcomer');
  await page.getByLabel('Email', { exact: true }).fill('customer@acme.test');
  await page.getByLabel('Password', { exact: true }).fill('a-long-enough-password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByLabel('Email', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Email', { exact: true })).toHaveAccessibleDescription(
    'An account with this email address already exists',
  );
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'register-taken.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'register-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 720 });

  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Customer portal' })).toBeVisible();
  await expect(page.getByText('Nina Newcomer', { exact: true })).toBeVisible();

  // The session is real: the new account signs in again with its password.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await signIn(page, email, 'a-long-enough-password');
  await expect(page.getByRole('heading', { level: 1, name: 'Customer portal' })).toBeVisible();
});
