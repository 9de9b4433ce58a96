import { test, expect, signIn, waitForHydration } from './fixtures';
import { apiCreateTicket, apiToken } from './api';

// Service levels: an administrator sets up a calendar and a policy and tries
// the policy on the simulator; an agent reads a ticket's SLA.

test('an admin creates a calendar and a policy, and the simulator shows the due times', async ({ page, pageErrors }) => {
  const stamp = Date.now();
  const calendarName = `New York weekdays ${stamp}`;
  const policyName = `VIP ${stamp}`;

  await signIn(page, 'admin@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toBeVisible();
  await page.getByRole('link', { name: 'Service levels' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Service levels' })).toBeVisible();
  await waitForHydration(page);
  // The seeded calendar and policies are listed.
  await expect(page.getByRole('row').filter({ hasText: 'Business hours' }).first()).toBeVisible();

  // A calendar with an unknown zone is refused, naming the field.
  pageErrors.allow(/status of 422/, { url: /\/api\/save_sla_calendar/ });
  await page.getByRole('button', { name: 'New calendar' }).click();
  const calendarForm = page.getByRole('form', { name: 'New calendar' });
  await calendarForm.getByLabel('Calendar name').fill(calendarName);
  await calendarForm.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await calendarForm.getByLabel('Monday hours').fill('08:00-12:00, 13:00-18:00');
  await calendarForm.getByLabel('Holidays').fill('12-25\n2026-12-31');
  await calendarForm.getByRole('button', { name: 'Save calendar' }).click();
  await expect(calendarForm.getByRole('alert').filter({ hasText: 'timezone' })).toBeVisible();

  await calendarForm.getByLabel('Time zone').fill('America/New_York');
  await calendarForm.getByRole('button', { name: 'Save calendar' }).click();
  const calendarRow = page.getByRole('row').filter({ hasText: calendarName });
  await expect(calendarRow).toContainText('America/New_York');
  await expect(calendarRow).toContainText('Mon 08:00-12:00, 13:00-18:00');

  // A policy on that calendar, tried on the simulator before it is saved.
  await page.getByRole('button', { name: 'New policy' }).click();
  const policyForm = page.getByRole('form', { name: 'New policy' });
  await policyForm.getByLabel('Policy name').fill(policyName);
  await policyForm.getByLabel('Calendar').selectOption({ label: calendarName });
  await policyForm.getByRole('checkbox', { name: 'Urgent' }).check();
  await policyForm.getByLabel('First response').fill('120');
  await policyForm.getByLabel('Resolution').fill('480');
  await policyForm.getByRole('button', { name: 'Simulate a ticket created now' }).click();
  const simulation = policyForm.getByRole('region', { name: 'Simulation' });
  await expect(simulation).toContainText('A ticket created');
  await expect(simulation.getByRole('definition').first()).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  await expect(simulation.getByRole('definition').nth(1)).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

  await policyForm.getByRole('button', { name: 'Save policy' }).click();
  const policyRow = page.getByRole('row').filter({ hasText: policyName });
  await expect(policyRow).toContainText('priority: urgent');
  await expect(policyRow).toContainText('first response 2 h');
  await expect(policyRow).toContainText(calendarName);

  // Reordered: the new policy (last) moves up one place.
  const lastPosition = await policyRow.getByRole('cell').first().textContent();
  await page.getByRole('button', { name: `Move ${policyName} up` }).click();
  await expect(page.getByRole('row').filter({ hasText: policyName }).getByRole('cell').first())
    .toHaveText(String(Number(lastPosition) - 1));
});

test('an agent sees the SLA badge and timeline on a ticket', async ({ page, request }) => {
  const customer = await apiToken(request, 'customer@acme.test');
  const ticket = await apiCreateTicket(request, customer, `Printer jam ${Date.now()}`, 'The printer jams on every page.');

  await signIn(page, 'agent@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
  await page.goto(`/desk/tickets/${ticket.id}`);
  await expect(page.getByRole('heading', { level: 1, name: ticket.subject })).toBeVisible();
  await waitForHydration(page);
  const sla = page.getByRole('region', { name: 'SLA' });
  await expect(sla).toContainText('On track');
  await expect(sla).toContainText('Policy: Default');
  await expect(sla).toContainText(/First response: due \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  await expect(sla.getByRole('heading', { name: 'Timeline' })).toBeVisible();
  await expect(sla.getByRole('listitem').filter({ hasText: /started/i }).first()).toBeVisible();
});
