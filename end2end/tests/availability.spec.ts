import { test, expect, signIn, waitForHydration } from './fixtures';

// Staff availability: the manager's home shows which agents are online,
// away or offline, and reloads it every ten seconds; an agent says they
// are away with the top bar's "Away" button.

test('the manager sees an agent online, then away once they say so, then back', async ({
  page,
  browser,
  pageErrors,
}) => {
  test.setTimeout(120_000);
  const agentContext = await browser.newContext();
  pageErrors.watchContext(agentContext);
  const agent = await agentContext.newPage();
  await signIn(agent, 'agent@acme.test');
  await expect(agent.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();

  await signIn(page, 'manager@acme.test');
  await expect(page.getByRole('heading', { level: 1, name: 'Manager dashboard' })).toBeVisible();
  const panel = page.getByRole('region', { name: 'The desk now' });
  await expect(panel.getByText('Agents online')).toBeVisible();
  const alex = panel.getByRole('row').filter({ hasText: 'Alex Agent' });
  await expect(alex).toContainText('Online');
  await waitForHydration(page);

  await waitForHydration(agent);
  const away = agent.getByRole('button', { name: 'Away' });
  await expect(away).toHaveAttribute('aria-pressed', 'false');
  await away.click();
  await expect(away).toHaveAttribute('aria-pressed', 'true');
  // The manager's panel reloads every ten seconds.
  await expect(alex).toContainText('Away', { timeout: 25_000 });

  await away.click();
  await expect(away).toHaveAttribute('aria-pressed', 'false');
  await expect(alex).toContainText('Online', { timeout: 25_000 });
  await agentContext.close();
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('the pulse fits the screen and the agent reaches the Away button', async ({ page, browser, pageErrors }) => {
    await signIn(page, 'manager@acme.test');
    await expect(page.getByRole('heading', { level: 1, name: 'Manager dashboard' })).toBeVisible();
    const panel = page.getByRole('region', { name: 'The desk now' });
    await expect(panel.getByRole('row').filter({ hasText: 'Morgan Manager' })).toContainText('Online');
    const table = await panel.getByRole('table').boundingBox();
    expect(table!.x + table!.width).toBeLessThanOrEqual(390);

    const agentContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    pageErrors.watchContext(agentContext);
    const agent = await agentContext.newPage();
    await signIn(agent, 'agent2@acme.test');
    await expect(agent.getByRole('heading', { level: 1, name: 'Agent desk' })).toBeVisible();
    await expect(agent.getByRole('button', { name: 'Away' })).toBeVisible();
    await agentContext.close();
  });
});
