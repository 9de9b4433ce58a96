import path from 'node:path';
import { test, expect, signIn, waitForHydration } from './fixtures';
import { apiComment, apiCreateTicket, apiTicket, apiToken } from './api';

// The desk's triage tools on the ticket page: escalation, merging by number,
// and the audit trail that records it all.

const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');

test('an agent escalates a ticket with a reason and sees it on the ticket', async ({ page, request, pageErrors }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customer, `Office offline ${Date.now()}`, 'Nobody in the office can get online.');

  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  await page.goto(`/desk/tickets/${ticket.id}`);
  await expect(page.getByRole('heading', { level: 1, name: ticket.subject })).toBeVisible();
  await waitForHydration(page);

  // A blank reason is refused on the field itself.
  pageErrors.allow(/status of 422/, { url: /\/api\/escalate_ticket/ });
  await page.getByLabel('Reason').fill('   ');
  await page.getByRole('button', { name: 'Escalate', exact: true }).click();
  await expect(page.getByLabel('Reason')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Say why this needs a manager')).toBeVisible();

  const reason = 'Key account, whole office down for two hours.';
  await page.getByLabel('Reason').fill(reason);
  await page.getByRole('button', { name: 'Escalate', exact: true }).click();
  await expect(page.getByText('Escalated', { exact: true })).toBeVisible();
  // In the ticket's header, and in its history.
  await expect(page.getByRole('paragraph').filter({ hasText: `Escalation reason: ${reason}` })).toBeVisible();
  await expect(page.getByRole('region', { name: 'History' })).toContainText(`Escalation reason: ${reason}`);
  // Escalating happens once: the form gives way to a note.
  await expect(page.getByRole('button', { name: 'Escalate', exact: true })).toHaveCount(0);
  await expect(page.getByText('Already escalated to the managers.')).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'desk-escalated.png'), fullPage: true });

  // Stored, and the ticket is in the managers' queue.
  await page.reload();
  await expect(page.getByRole('paragraph').filter({ hasText: `Escalation reason: ${reason}` })).toBeVisible();
  await page.goto('/desk?queue=escalated');
  await expect(page.getByRole('link', { name: ticket.subject })).toBeVisible();
});

test('an agent merges a duplicate by its number and lands on the target with both conversations', async ({ page, request, pageErrors }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const stamp = Date.now();
  const original = await apiCreateTicket(request, customer, `Wi-Fi drops ${stamp}`, 'The office Wi-Fi drops every hour.');
  await apiComment(request, customer, original.id, 'Mostly in the meeting room.');
  const duplicate = await apiCreateTicket(request, customer, `Wi-Fi gone again ${stamp}`, 'Second report: Wi-Fi gone again.');
  await apiComment(request, customer, duplicate.id, 'It happened at 10:15 and 11:15.');

  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  await page.goto(`/desk/tickets/${duplicate.id}`);
  await expect(page.getByRole('heading', { level: 1, name: duplicate.subject })).toBeVisible();
  await waitForHydration(page);

  // An unknown number is an error on the input; nothing is merged.
  pageErrors.allow(/status of 422/, { url: /\/api\/merge_ticket/ });
  await page.getByLabel('Merge into ticket').fill('TCK-999999');
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await expect(page.getByText('There is no ticket with this number')).toBeVisible();
  await expect(page.getByLabel('Merge into ticket')).toHaveAttribute('aria-invalid', 'true');
  expect((await apiTicket(request, customer, duplicate.id)).status).toBe('new');

  await page.getByLabel('Merge into ticket').fill(original.display_number);
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/desk/tickets/${original.id}$`));
  await expect(page.getByRole('heading', { level: 1, name: original.subject })).toBeVisible();
  const conversation = page.getByRole('list', { name: 'Conversation' });
  await expect(conversation).toContainText('The office Wi-Fi drops every hour.');
  await expect(conversation).toContainText('Mostly in the meeting room.');
  await expect(conversation).toContainText('It happened at 10:15 and 11:15.');
  // The duplicate's own request text is kept as an internal note.
  await expect(conversation).toContainText(`Merged ${duplicate.display_number}`);
  await expect(conversation).toContainText('Second report: Wi-Fi gone again.');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'desk-merged-target.png'), fullPage: true });

  // The duplicate is closed and links to where its conversation went.
  await page.goto(`/desk/tickets/${duplicate.id}`);
  await expect(page.getByText('This ticket is closed.')).toBeVisible();
  await expect(page.getByText(`Merged into ${original.display_number}`)).toBeVisible();
  expect((await apiTicket(request, customer, duplicate.id)).status).toBe('closed');
  await page.getByRole('link', { name: original.display_number }).click();
  await expect(page.getByRole('heading', { level: 1, name: original.subject })).toBeVisible();
});

test('the history lists who changed what, when and from where, newest last', async ({ page, request }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customer, `Laptop fan loud ${Date.now()}`, 'The fan never stops.');

  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  await page.goto(`/desk/tickets/${ticket.id}`);
  await expect(page.getByRole('heading', { level: 1, name: ticket.subject })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Assign to me' }).click();
  await expect(page.getByText('Assignee: Alex Agent')).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('Status').selectOption('pending');
  await page.getByLabel('Priority').selectOption('urgent');
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.getByText('Priority: Urgent')).toBeVisible();

  const history = page.getByRole('region', { name: 'History' });
  const entries = history.getByRole('listitem');
  await expect(entries).toHaveCount(4);
  await expect(entries.first()).toContainText('Ticket: created');
  await expect(entries.first()).toContainText('Chris Customer');
  await expect(entries.first()).toContainText('via API');
  const assigned = entries.filter({ hasText: 'Assignee: Unassigned → Alex Agent' });
  await expect(assigned).toContainText('Alex Agent ·');
  await expect(assigned).toContainText('via web app');
  await expect(entries.filter({ hasText: 'Status: New → Pending' })).toContainText('via web app');
  await expect(entries.filter({ hasText: 'Priority: Medium → Urgent' })).toContainText('Alex Agent');
  // Oldest first: creation, then the assignment, then the update.
  const texts = await entries.allTextContents();
  const at = (needle: string) => texts.findIndex((t) => t.includes(needle));
  expect(at('Ticket: created')).toBe(0);
  expect(at('Assignee:')).toBe(1);
  expect(at('Status: New → Pending')).toBeGreaterThan(1);
  expect(at('Priority: Medium → Urgent')).toBeGreaterThan(1);
  await history.screenshot({ path: path.join(SCREENSHOT_DIR, 'desk-history.png') });

  // On a phone the panel stacks under the conversation.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'desk-ticket-phone.png'), fullPage: true });
});
