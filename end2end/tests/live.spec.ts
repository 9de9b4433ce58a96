import { type Browser, type Page, type WebSocketRoute } from '@playwright/test';
import { test, expect, signIn, waitForHydration, type PageErrors } from './fixtures';
import { apiComment, apiCreateTicket, apiSetStatus, apiToken } from './api';

// Live updates in the browser: every signed-in tab keeps one WebSocket, and
// the queues and ticket pages change in place when someone else acts. Each
// page waits for "Live" (its subscriptions confirmed) before the other side
// acts, so nothing here depends on timing beyond Playwright's own waiting.

const liveIndicator = (page: Page) => page.getByRole('status', { name: 'Live updates' });

async function signedInPage(
  browser: Browser,
  pageErrors: PageErrors,
  email: string,
  path: string,
  viewport?: { width: number; height: number },
): Promise<Page> {
  const context = await browser.newContext(viewport ? { viewport } : {});
  pageErrors.watchContext(context);
  const page = await context.newPage();
  await signIn(page, email);
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto(path);
  await waitForHydration(page);
  await expect(liveIndicator(page)).toHaveText('Live');
  return page;
}

test('agents see a colleague assign, view, reply and change a ticket without reloading, and are warned before answering twice', async ({
  browser,
  request,
  pageErrors,
}) => {
  const stamp = `${Date.now()}`;
  const subject = `Printer on fire ${stamp}`;
  const customer = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customer, subject, 'Smoke everywhere.');

  // Jordan watches the unassigned queue; Alex takes the ticket.
  const jordan = await signedInPage(browser, pageErrors, 'agent2@acme.test', `/desk?queue=unassigned&q=${stamp}`);
  const row = jordan.getByRole('row').filter({ hasText: subject });
  await expect(row).toHaveCount(1);
  const alex = await signedInPage(browser, pageErrors, 'agent@acme.test', `/desk/tickets/${ticket.id}`);
  await alex.getByRole('button', { name: 'Assign to me' }).click();
  await expect(alex.getByText('Assignee: Alex Agent')).toBeVisible();
  await expect(row).toHaveCount(0);
  await expect(jordan.getByText('No tickets here.')).toBeVisible();

  // Jordan opens the ticket: Alex sees who is there and what they are doing.
  await jordan.goto(`/desk/tickets/${ticket.id}`);
  await waitForHydration(jordan);
  await expect(liveIndicator(jordan)).toHaveText('Live');
  const presence = alex.getByLabel('Also on this ticket');
  await expect(presence).toHaveText('Jordan Agent is viewing');
  await jordan.getByLabel('Reply or note').fill('Have you tried the extinguisher?');
  await expect(presence).toHaveText('Jordan Agent is replying…');

  // Alex starts an answer too; Jordan's reply arrives first.
  await alex.getByLabel('Reply or note').fill('Please unplug it.');
  await jordan.getByRole('button', { name: 'Send' }).click();
  const conversation = alex.getByRole('list', { name: 'Conversation' });
  await expect(conversation).toContainText('Have you tried the extinguisher?');
  await expect(presence).toHaveText('Jordan Agent is viewing');

  // Sending now warns Alex, with the reply shown; "Send anyway" sends it.
  await alex.getByRole('button', { name: 'Send', exact: true }).click();
  const warning = alex.getByRole('alert').filter({ hasText: 'replied since you opened this ticket' });
  await expect(warning).toContainText('Jordan Agent replied since you opened this ticket:');
  await expect(warning).toContainText('Have you tried the extinguisher?');
  await expect(conversation).not.toContainText('Please unplug it.');
  await warning.getByRole('button', { name: 'Send anyway' }).click();
  await expect(conversation).toContainText('Please unplug it.');
  await expect(warning).toHaveCount(0);

  // Jordan raises the priority: Alex's header follows, with who changed what.
  await jordan.getByLabel('Priority', { exact: true }).selectOption('urgent');
  await jordan.getByRole('button', { name: 'Update' }).click();
  await expect(alex.locator('.ticket-facts')).toContainText('Priority: Urgent');
  const changed = alex.getByRole('status', { name: 'Changed meanwhile' });
  await expect(changed).toContainText('Jordan Agent changed Priority');
  await changed.getByRole('button', { name: 'Show the latest' }).click();
  await expect(changed).toHaveCount(0);
  await expect(alex.locator('.ticket-facts')).toContainText('Priority: Urgent');
});

test('a customer sees the agent typing and the reply arrive, never an internal note', async ({ browser, request, pageErrors }) => {
  const stamp = `${Date.now()}`;
  const subject = `Invoice question ${stamp}`;
  const customerToken = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customerToken, subject, 'Why was I charged twice?');

  const customer = await signedInPage(browser, pageErrors, 'customer@acme.test', `/portal/tickets/${ticket.id}`);
  const agent = await signedInPage(browser, pageErrors, 'agent@acme.test', `/desk/tickets/${ticket.id}`);
  const presence = customer.getByLabel('Also on this ticket');
  await expect(presence).toHaveText('Alex Agent is viewing');

  // An internal note first: it must never reach the customer.
  const note = `Refund approved internally ${stamp}`;
  await agent.getByLabel('Reply or note').fill(note);
  await agent.getByLabel('Internal note (only staff can see it)').check();
  await agent.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(agent.getByRole('list', { name: 'Conversation' })).toContainText(note);

  await agent.getByLabel('Reply or note').fill('We are refunding the second charge.');
  await expect(presence).toHaveText('Alex Agent is replying…');
  await agent.getByRole('button', { name: 'Send', exact: true }).click();
  const conversation = customer.getByRole('list', { name: 'Conversation' });
  await expect(conversation).toContainText('We are refunding the second charge.');
  // Events arrive in order: had the note been sent, it would be here already.
  await expect(customer.getByText(note)).toHaveCount(0);

  // The status changes on the requester's page and in their list.
  const agentToken = await apiToken(request, 'agent@acme.test');
  await apiSetStatus(request, agentToken, ticket.id, 'pending');
  await expect(customer.locator('.ticket-facts')).toContainText('Pending');
  await customer.goto('/portal');
  await waitForHydration(customer);
  await expect(liveIndicator(customer)).toHaveText('Live');
  const row = customer.getByRole('row').filter({ hasText: subject });
  await expect(row).toContainText('Pending');
  await apiSetStatus(request, agentToken, ticket.id, 'resolved');
  await expect(row).toContainText('Resolved');
});

test('queues stack their rows at phone width, with the subject on screen', async ({ browser, request, pageErrors }) => {
  const stamp = `${Date.now()}`;
  const subject = `Phone width ${stamp}`;
  const customerToken = await apiToken(request, 'customer@acme.test');
  await apiCreateTicket(request, customerToken, subject, 'Checking the stacked rows.');
  for (const [email, path] of [
    ['customer@acme.test', '/portal'],
    ['agent@acme.test', `/desk?queue=unassigned&q=${stamp}`],
  ]) {
    const page = await signedInPage(browser, pageErrors, email, path, { width: 390, height: 844 });
    const link = page.getByRole('link', { name: subject });
    await expect(link).toBeVisible();
    const box = await link.boundingBox();
    expect(box, `${path}: the subject has a box`).not.toBeNull();
    expect(box!.x + box!.width, `${path}: the subject ends on screen`).toBeLessThanOrEqual(390);
    // No sideways scrolling.
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `${path}: the page is no wider than the phone`).toBeLessThanOrEqual(390);
    await page.context().close();
  }
});

test('a tab whose session ended in another tab says so instead of retrying', async ({ page, context }) => {
  await signIn(page, 'agent@acme.test');
  await expect(page).toHaveURL(/\/desk/);
  await waitForHydration(page);
  await expect(liveIndicator(page)).toHaveText('Live');

  const other = await context.newPage();
  await other.goto('/profile');
  await waitForHydration(other);
  await other.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(other).toHaveURL(/\/login/);

  // The server re-checks sessions every few seconds and closes the socket.
  await expect(liveIndicator(page)).toContainText('Signed out', { timeout: 20_000 });
  await expect(liveIndicator(page).getByRole('link', { name: 'Sign in' })).toBeVisible();
});

test('the desk tabs count their tickets and count a new one without reloading', async ({ browser, request, pageErrors }) => {
  const stamp = `${Date.now()}`;
  const customerToken = await apiToken(request, 'customer@acme.test');
  const jordan = await signedInPage(browser, pageErrors, 'agent2@acme.test', '/desk?queue=unassigned');
  const tab = jordan.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: /^Unassigned/ });
  await expect(tab).toHaveText(/^Unassigned\s*\d+$/);
  const before = Number((await tab.textContent())!.replace(/\D/g, ''));
  await apiCreateTicket(request, customerToken, `Counted ${stamp}`, 'One more for the unassigned tab.');
  await expect(tab).toHaveText(new RegExp(`^Unassigned\\s*${before + 1}$`));
  await jordan.context().close();
});

test('a dropped connection is shown, comes back by itself and catches up on what it missed, once', async ({
  browser,
  request,
  pageErrors,
}) => {
  const stamp = `${Date.now()}`;
  const customerToken = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customerToken, `Reconnect ${stamp}`, 'Are you still there?');

  // The tab's connections go through the test, which can drop the open one
  // (as a restarting server does) and refuse new ones for a while.
  const context = await browser.newContext();
  pageErrors.watchContext(context);
  let refusing = false;
  const connections: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await context.routeWebSocket(/\/ws\?/, (socket) => {
    if (refusing) {
      void socket.close({ code: 1001, reason: 'test: server away' });
      return;
    }
    connections.push({ page: socket, server: socket.connectToServer() });
  });
  const page = await context.newPage();
  await signIn(page, 'agent@acme.test');
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto(`/desk/tickets/${ticket.id}`);
  await waitForHydration(page);
  await expect(liveIndicator(page)).toHaveText('Live');

  refusing = true;
  expect(connections.length, 'the tab connected through the test').toBeGreaterThan(0);
  for (const { page: tab, server } of connections) {
    await server.close({ code: 1001, reason: 'test: server restarting' });
    await tab.close({ code: 1001, reason: 'test: server restarting' });
  }
  await expect(liveIndicator(page)).toContainText('Offline, retrying in');

  // The customer writes while the tab is offline.
  const missed = `Written while you were offline ${stamp}`;
  await apiComment(request, customerToken, ticket.id, missed);
  const conversation = page.getByRole('list', { name: 'Conversation' });
  await expect(liveIndicator(page)).toContainText('Offline, retrying in');
  await expect(conversation).not.toContainText(missed);

  refusing = false;
  await expect(liveIndicator(page)).toHaveText('Live', { timeout: 40_000 });
  await expect(conversation.getByText(missed)).toHaveCount(1);
  // And live again afterwards, still once each.
  const after = `After the reconnect ${stamp}`;
  await apiComment(request, customerToken, ticket.id, after);
  await expect(conversation.getByText(after)).toHaveCount(1);
  await expect(conversation.getByText(missed)).toHaveCount(1);
  await context.close();
});
