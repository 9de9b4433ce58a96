import { test, expect, waitForHydration } from './fixtures';

// The compiled site's layout, as `make build` (scripts/build.sh) lays it out
// and as cargo-leptos would: Leptos's HydrationScripts asks for
// /pkg/<output-name>.js and /pkg/<output-name>.wasm (not wasm-bindgen's
// <name>_bg.wasm), the stylesheet is /pkg/fieldesk.css and public/ is served
// from the site root. A wrong name shows up here as a 404 and no hydration.

test('the page loads /pkg/fieldesk.js, .wasm and .css under their names and hydrates', async ({ page }) => {
  const pkg = new Map<string, { status: number; type: string }>();
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/pkg/')) pkg.set(p, { status: r.status(), type: r.headers()['content-type'] ?? '' });
  });

  const path = (r: { url(): string }) => new URL(r.url()).pathname;
  const js = page.waitForResponse((r) => path(r) === '/pkg/fieldesk.js');
  const wasm = page.waitForResponse((r) => path(r) === '/pkg/fieldesk.wasm');
  await page.goto('/login');
  // Fail at once, with the status, when a file is missing (rather than at the hydration timeout).
  expect((await js).status(), '/pkg/fieldesk.js').toBe(200);
  expect((await wasm).status(), '/pkg/fieldesk.wasm').toBe(200);
  await waitForHydration(page);

  expect(pkg.get('/pkg/fieldesk.js'), '/pkg/fieldesk.js').toEqual({
    status: 200,
    type: expect.stringMatching(/javascript/),
  });
  expect(pkg.get('/pkg/fieldesk.wasm'), '/pkg/fieldesk.wasm').toEqual({
    status: 200,
    type: 'application/wasm',
  });
  expect(pkg.get('/pkg/fieldesk.css'), '/pkg/fieldesk.css').toEqual({
    status: 200,
    type: expect.stringMatching(/^text\/css/),
  });
  // Nothing else under /pkg/ was asked for (no fieldesk_bg.wasm), and nothing failed:
  // besides wasm-split's loader, which fieldesk.js imports, no chunk of the lazy
  // routes (desk, admin, dashboards, portal) is fetched for the sign-in page.
  expect([...pkg.keys()].sort()).toEqual([
    '/pkg/__wasm_split.js',
    '/pkg/fieldesk.css',
    '/pkg/fieldesk.js',
    '/pkg/fieldesk.wasm',
  ]);

  // The shell points at the same names.
  await expect(page.locator('link[rel="modulepreload"]')).toHaveAttribute('href', '/pkg/fieldesk.js');
  await expect(page.locator('link[rel="preload"][as="fetch"]')).toHaveAttribute('href', '/pkg/fieldesk.wasm');
});

test('public/ is served from the site root', async ({ request }) => {
  const favicon = await request.get('/favicon.svg');
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()['content-type']).toMatch(/^image\/svg\+xml/);
});
