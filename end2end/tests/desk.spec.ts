import { test, expect, signIn, waitForHydration } from './fixtures';
import { apiCreateTicket, apiTicket, apiToken } from './api';

// The desk's routing and queue tools: categories and custom fields on the
// portal form, the routing panel with auto-assignment and canned responses,
// keyboard shortcuts, filters, saved views and bulk changes.

test('a customer picks a category and fills in a custom field; the desk routes and answers it', async ({ page, request }) => {
  const subject = `Laptop will not boot ${Date.now()}`;
  await signIn(page, 'customer@acme.test');
  await expect(page).toHaveURL(/\/portal$/);
  await page.goto('/portal/new');
  await waitForHydration(page);
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Description').fill('Black screen after the update.');
  await page.getByLabel('Category').selectOption({ label: 'Hardware' });
  await page.getByLabel('Order number').fill('ORD-4711');
  await page.getByLabel('Device').selectOption('Laptop');
  // Staff-only fields are not offered to customers.
  await expect(page.getByLabel('Churn risk')).toHaveCount(0);
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('heading', { level: 1, name: subject })).toBeVisible();
  const ticketId = page.url().split('/').pop()!;

  // The category routed it to its team; the values were stored.
  const agentToken = await apiToken(request, 'agent@acme.test');
  const stored = (await apiTicket(request, agentToken, ticketId)) as unknown as {
    team_id: string;
    custom_fields: Record<string, unknown>;
  };
  expect(stored.custom_fields).toEqual({ order_number: 'ORD-4711', device: 'Laptop' });
  expect(stored.team_id).toBeTruthy();

  // The agent sees team and category, sets severity and an internal field, auto-assigns.
  await page.context().clearCookies();
  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  await page.goto(`/desk/tickets/${ticketId}`);
  await waitForHydration(page);
  const facts = page.locator('.ticket-facts');
  await expect(facts).toContainText('Team: Support');
  await expect(facts).toContainText('Category: Hardware');
  const routing = page.getByRole('complementary', { name: 'Routing' });
  await routing.getByLabel('Severity').selectOption('major');
  await routing.getByLabel('Churn risk').selectOption('High');
  await routing.getByRole('button', { name: 'Save fields' }).click();
  await expect(facts).toContainText('Severity: Major');
  await routing.getByRole('button', { name: 'Auto-assign' }).click();
  await expect(facts).not.toContainText('Assignee: Unassigned');
  await expect(page.getByRole('region', { name: 'History' })).toContainText('Churn risk');

  // A canned response is filled in for this ticket; `n` makes it an internal note.
  await page.getByLabel('Canned response').selectOption({ label: 'Greeting' });
  await expect(page.getByLabel('Reply or note')).toHaveValue(/Hi Chris,\n\nthanks for contacting us about TCK-\d{6}\. /);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('n');
  await expect(page.getByLabel('Reply or note')).toBeFocused();
  await expect(page.getByLabel('Internal note (only staff can see it)')).toBeChecked();
});

test('an agent filters a queue, saves the view, and changes tickets in bulk', async ({ page, request, pageErrors }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const stamp = Date.now();
  const one = await apiCreateTicket(request, customer, `Bulk one ${stamp}`, 'First');
  const two = await apiCreateTicket(request, customer, `Bulk two ${stamp}`, 'Second');
  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();

  await page.goto(`/desk?queue=all-open&q=${stamp}`);
  await waitForHydration(page);
  await expect(page.getByRole('link', { name: one.subject })).toBeVisible();
  await expect(page.getByRole('link', { name: two.subject })).toBeVisible();
  const filters = page.getByRole('form', { name: 'Filters' });
  await filters.getByLabel('Channel').selectOption('phone');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/channel=phone/);
  await expect(page.getByText('No tickets here.')).toBeVisible();
  await filters.getByLabel('Channel').selectOption('portal');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByRole('link', { name: one.subject })).toBeVisible();

  // Saved views keep the filters.
  await waitForHydration(page);
  await page.getByLabel('Save these filters as').fill(`Portal ${stamp}`);
  await page.getByRole('button', { name: 'Save view' }).click();
  await page.reload();
  await page.getByRole('link', { name: `Portal ${stamp}` }).click();
  await expect(page).toHaveURL(/channel=portal/);
  await expect(page.getByRole('link', { name: two.subject })).toBeVisible();

  // Bulk: tick both, set priority and a tag.
  await waitForHydration(page);
  await page.getByLabel(`Select ${one.display_number}`).check();
  await page.getByLabel(`Select ${two.display_number}`).check();
  const bar = page.locator('.bulk-bar');
  await bar.getByLabel('Priority').selectOption('urgent');
  await bar.getByLabel('Add tag').fill('batch');
  await bar.getByRole('button', { name: 'Apply to ticked' }).click();
  await expect(page.getByText('Tickets updated.')).toBeVisible();
  for (const t of [one, two]) {
    const now = (await apiTicket(request, customer, t.id)) as unknown as { priority: string; tags: string[] };
    expect(now.priority).toBe('urgent');
    expect(now.tags).toEqual(['batch']);
  }

  // Nothing ticked: a clear error, nothing changes.
  pageErrors.allow(/status of 422/, { url: /\/api\/bulk_update/ });
  await page.reload();
  await waitForHydration(page);
  await page.locator('.bulk-bar').getByLabel('Priority').selectOption('low');
  await page.locator('.bulk-bar').getByRole('button', { name: 'Apply to ticked' }).click();
  await expect(page.getByText('Choose the tickets to change')).toBeVisible();
});

test('a manager rates how the agent handled a ticket', async ({ page, request }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customer, `Rate handling ${Date.now()}`, 'Please help');
  const manager = await apiToken(request, 'manager@acme.test');
  const users = await (await request.get('/api/v1/users', { headers: { Authorization: `Bearer ${manager}` } })).json();
  const alex = users.items.find((u: { email: string }) => u.email === 'agent@acme.test').id;
  const res = await request.post(`/api/v1/tickets/${ticket.id}/assign`, {
    headers: { Authorization: `Bearer ${manager}` },
    data: { assignee_id: alex },
  });
  expect(res.status()).toBe(200);

  await signIn(page, 'manager@acme.test');
  await page.waitForURL(/\/manager$/);
  await page.goto(`/desk/tickets/${ticket.id}`);
  await waitForHydration(page);
  const form = page.getByRole('region', { name: 'Rate the handling' });
  await form.getByLabel('Score (1–5)').selectOption('4');
  await form.getByLabel('Comment').fill('Quick and friendly.');
  await form.getByRole('button', { name: 'Save rating' }).click();
  await expect(form.getByText('Rating saved.')).toBeVisible();
  const ratings = await (
    await request.get(`/api/v1/tickets/${ticket.id}/agent-ratings`, { headers: { Authorization: `Bearer ${manager}` } })
  ).json();
  expect(ratings.items).toMatchObject([{ agent_id: alex, score: 4, comment: 'Quick and friendly.' }]);
});
