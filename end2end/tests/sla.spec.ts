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

test('an admin imports holidays from an iCal file into a calendar', async ({ page, request, pageErrors }) => {
  const name = `Lisbon office ${Date.now()}`;
  const admin = await apiToken(request, 'admin@acme.test');
  const created = await request.post('/api/v1/sla/calendars', {
    headers: { Authorization: `Bearer ${admin}` },
    data: { name, timezone: 'Europe/Lisbon', hours: { mon: [['09:00', '17:00']] } },
  });
  expect(created.status()).toBe(201);

  await signIn(page, 'admin@acme.test');
  await page.waitForURL(/\/admin$/);
  await page.goto('/admin/sla');
  await expect(page.getByRole('heading', { level: 1, name: 'Service levels' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: `Edit calendar ${name}` }).click();
  const form = page.getByRole('form', { name: 'Edit calendar' });
  const file = form.getByLabel('Import holidays from an iCal file (.ics)');
  const importButton = form.getByRole('button', { name: 'Import holidays', exact: true });

  // Bounded in the browser: a file over 256 KiB is not sent.
  await file.setInputFiles({ name: 'huge.ics', mimeType: 'text/calendar', buffer: Buffer.alloc(256 * 1024 + 1, 'x') });
  await importButton.click();
  await expect(form.getByText('The file is larger than 256 KiB')).toBeVisible();

  // Not a calendar: the server's message on `ical`.
  pageErrors.allow(/status of 422/, { url: /\/api\/import_sla_holidays/ });
  await file.setInputFiles({ name: 'notes.ics', mimeType: 'text/calendar', buffer: Buffer.from('just some notes') });
  await importButton.click();
  await expect(form.getByText(/Send an iCalendar file/)).toBeVisible();

  const ics = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//fieldesk e2e//EN',
    'BEGIN:VEVENT', 'UID:eve@e2e', 'DTSTART;VALUE=DATE:20261224', 'DTEND;VALUE=DATE:20261225', 'SUMMARY:Christmas Eve', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:nye@e2e', 'DTSTART;VALUE=DATE:20261231', 'SUMMARY:New Year\'s Eve', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\r\n');
  await file.setInputFiles({ name: 'holidays.ics', mimeType: 'text/calendar', buffer: Buffer.from(ics) });
  await importButton.click();
  await expect(form.getByRole('status')).toContainText('Added 2 holidays: 2026-12-24, 2026-12-31.');
  await expect(form.getByLabel('Holidays', { exact: true })).toHaveValue('2026-12-24\n2026-12-31');
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row.getByRole('cell').nth(2)).toHaveText('2');

  // Stored: after a reload the calendar lists them.
  await page.reload();
  await waitForHydration(page);
  await page.getByRole('button', { name: `Edit calendar ${name}` }).click();
  await expect(page.getByRole('form', { name: 'Edit calendar' }).getByLabel('Holidays', { exact: true }))
    .toHaveValue('2026-12-24\n2026-12-31');
});

test('a policy keeps its category, team and company conditions and its breach team', async ({ page, request }) => {
  const stamp = Date.now();
  const policyName = `Hardware support ${stamp}`;
  // More companies than the list shows at once, so it offers a search.
  const admin = await apiToken(request, 'admin@acme.test');
  for (let i = 1; i <= 14; i++) {
    const res = await request.post('/api/v1/companies', {
      headers: { Authorization: `Bearer ${admin}` },
      data: { name: `Client ${stamp}-${String(i).padStart(2, '0')}` },
    });
    expect(res.status()).toBe(201);
  }
  const company = `Client ${stamp}-14`;

  await signIn(page, 'manager@acme.test');
  await page.waitForURL(/\/manager$/);
  await page.goto('/manager/sla');
  await expect(page.getByRole('heading', { level: 1, name: 'Service levels' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'New policy' }).click();
  const form = page.getByRole('form', { name: 'New policy' });
  await form.getByLabel('Policy name').fill(policyName);
  await form.getByRole('group', { name: /^Category/ }).getByRole('checkbox', { name: 'Hardware' }).check();
  await form.getByRole('group', { name: /^Team/ }).getByRole('checkbox', { name: 'Support' }).check();
  const companies = form.getByRole('group', { name: /^Customer company/ });
  await expect(companies.getByRole('checkbox', { name: company })).toHaveCount(0);
  await companies.getByLabel('Find companies').fill(`${stamp}-14`);
  await companies.getByRole('checkbox', { name: company }).check();
  await form.getByLabel('On breach, reassign to team').selectOption({ label: 'Billing' });
  await form.getByLabel('First response').fill('60');
  await form.getByRole('button', { name: 'Save policy' }).click();

  const row = page.getByRole('row').filter({ hasText: policyName });
  await expect(row).toContainText('category: Hardware');
  await expect(row).toContainText('team: Support');
  await expect(row).toContainText(`company: ${company}`);

  await page.reload();
  await waitForHydration(page);
  const stored = page.getByRole('row').filter({ hasText: policyName });
  await expect(stored).toContainText('category: Hardware; team: Support');
  await page.getByRole('button', { name: `Edit policy ${policyName}` }).click();
  const edit = page.getByRole('form', { name: 'Edit policy' });
  await expect(edit.getByRole('group', { name: /^Category/ }).getByRole('checkbox', { name: 'Hardware' })).toBeChecked();
  await expect(edit.getByRole('group', { name: /^Team/ }).getByRole('checkbox', { name: 'Support' })).toBeChecked();
  // A chosen company stays listed whatever the search shows.
  await expect(edit.getByRole('group', { name: /^Customer company/ }).getByRole('checkbox', { name: company })).toBeChecked();
  await expect(edit.getByLabel('On breach, reassign to team').getByRole('option', { name: 'Billing', selected: true }))
    .toHaveCount(1);
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
