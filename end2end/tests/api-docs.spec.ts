import { test, expect } from './fixtures';
import { apiToken } from './api';

// The browsable API page (/api/v1/docs/): Swagger UI served by Fieldesk
// itself, under its own strict CSP (a violation is a console error, which
// the pageErrors fixture turns into a failure).

test('the API docs list the Fieldesk operations without leaving this server', async ({ page, request, baseURL }) => {
  const ours = new URL(baseURL!).host;
  const foreign: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'data:' && url.host !== ours) foreign.push(r.url());
  });

  await page.goto('/api/v1/docs');
  await expect(page).toHaveURL(/\/api\/v1\/docs\/$/);
  await expect(page.getByRole('heading', { level: 2, name: /Fieldesk API/ })).toBeVisible();
  await expect(page.getByRole('heading', { level: 3, name: /^tickets/ })).toBeVisible();
  // Swagger UI puts zero-width spaces between path segments: match loosely.
  await expect(page.getByRole('button', { name: /^GET\W*tickets\W*\{id\}\W*comments/ })).toBeVisible();
  await expect(page.getByRole('button', { name: /^POST\W*tickets\W*\{id\}\W*attachments/ })).toBeVisible();

  // Try it out with a bearer token: the call goes to this server.
  const token = await apiToken(request, 'agent@acme.test');
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
  await page.getByRole('textbox', { name: 'auth-bearer-value' }).fill(token);
  await page.getByRole('button', { name: 'Apply credentials' }).click();
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await page.getByRole('button', { name: /^GET\W*users\W*me/ }).click();
  await page.getByRole('button', { name: 'Try it out' }).click();
  await page.getByRole('button', { name: 'Execute' }).click();
  await expect(page.getByText('"email": "agent@acme.test"').first()).toBeVisible();

  expect(foreign, 'requests to other hosts').toEqual([]);
});
