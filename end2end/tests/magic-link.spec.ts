import { test, expect, waitForHydration } from './fixtures';
import { apiToken } from './api';
import { SmtpSink, magicLinkPath } from './smtp-sink';

// URL-based access: a customer without an account follows their ticket
// through the link mailed to them. The server delivers to a real SMTP
// listener started here (FIELDESK_SMTP_URL in playwright.config.ts).

let sink: SmtpSink;
test.beforeAll(async () => {
  sink = await SmtpSink.start();
});
test.afterAll(async () => {
  await sink.stop();
});

test('a contact replies through the mailed link and never sees internal notes', async ({ page, request }) => {
  const agent = await apiToken(request, 'agent@acme.test');
  const auth = { Authorization: `Bearer ${agent}` };
  const email = `contact-${Date.now()}@example.test`;
  const subject = `Heating broken ${Date.now()}`;
  const created = await request.post('/api/v1/tickets', {
    headers: auth,
    data: { subject, description: 'Reported by phone.', requester_email: email },
  });
  expect(created.status()).toBe(201);
  const ticket = await created.json();
  for (const [body, isPublic] of [
    ['A technician comes on Monday.', true],
    ['Internal: customer was rude on the phone', false],
  ] as const) {
    const res = await request.post(`/api/v1/tickets/${ticket.id}/comments`, {
      headers: auth,
      data: { body, public: isPublic },
    });
    expect(res.status()).toBe(201);
  }

  const mail = await sink.mailTo(email);
  await page.goto(magicLinkPath(mail));
  await expect(page.getByRole('heading', { level: 1, name: subject })).toBeVisible();
  await expect(page.getByText('A technician comes on Monday.')).toBeVisible();
  await expect(page.getByText('customer was rude')).toHaveCount(0);

  await waitForHydration(page);
  await page.getByLabel('Your reply').fill('Monday morning works for me.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('list', { name: 'Conversation' })).toContainText('Monday morning works for me.');
  await expect(page.getByLabel('Your reply')).toHaveValue('');
  await page.reload();
  await expect(page.getByRole('list', { name: 'Conversation' })).toContainText('Monday morning works for me.');
  await expect(page.getByText('customer was rude')).toHaveCount(0);
});

test('a dead link explains itself and offers a new one', async ({ page, pageErrors }) => {
  pageErrors.allow(/status of 404/);
  const res = await page.goto('/access/not-a-valid-token');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('This link has expired or is not valid');
  await waitForHydration(page);
  await page.getByLabel('Organization').fill('acme');
  await page.getByLabel('Email', { exact: true }).fill('customer@acme.test');
  await page.getByRole('button', { name: 'Email me a link' }).click();
  await expect(page.getByRole('status')).toContainText('a link is on its way');
  const mail = await sink.mailTo('customer@acme.test', 'Your requests with');
  expect(magicLinkPath(mail)).toMatch(/^\/access\//);
});

test('the sign-in page leads to the link request form', async ({ page }) => {
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Email me a link to my requests' }).click();
  await expect(page).toHaveURL(/\/access$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Email me a link to my requests' })).toBeVisible();
});
