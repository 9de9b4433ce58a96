import { test, expect, signIn, waitForHydration } from './fixtures';
import { apiCreateTicket, apiToken } from './api';

// The notification centre: the header's bell counts what is unread, the
// list links to the ticket, and "Mark all read" empties the count.

test('an agent sees the bell count after an assignment and marks all read', async ({ page, request }) => {
  const agent = await apiToken(request, 'agent2@acme.test');
  const manager = await apiToken(request, 'manager@acme.test');
  const customer = await apiToken(request, 'customer@acme.test');
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  // A clean slate, whatever earlier tests left.
  let res = await request.post('/api/v1/notifications/read', { headers: auth(agent), data: { all: true } });
  expect(res.status()).toBe(200);
  const me = await (await request.get('/api/v1/users/me', { headers: auth(agent) })).json();

  const ticket = await apiCreateTicket(request, customer, `Scanner jams ${Date.now()}`, 'Every third page.');
  res = await request.post(`/api/v1/tickets/${ticket.id}/assign`, {
    headers: auth(manager),
    data: { assignee_id: me.id },
  });
  expect(res.ok()).toBeTruthy();
  await expect
    .poll(async () => (await (await request.get('/api/v1/notifications', { headers: auth(agent) })).json()).unread_count)
    .toBeGreaterThan(0);

  await signIn(page, 'agent2@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  const bell = page.getByRole('link', { name: /^Notifications, \d+ unread$/ });
  await expect(bell).toBeVisible();
  await bell.click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByRole('link', { name: `${ticket.display_number} assigned to you` })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'By email' }).first()).toBeVisible();

  await page.getByRole('button', { name: 'Mark all read' }).click();
  await expect(page.getByRole('heading', { level: 2, name: '0 unread' })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Mark read:/ })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('link', { name: 'Notifications, none unread' })).toBeVisible();
});
