/**
 * The docs page in a real browser (Debian's headless Chromium driven by
 * playwright-core) against `npm start`'s script: it loads without console
 * errors, shows every route of the OpenAPI document, and a request sent from
 * the page creates a cat. `npm run test:browser`; CI installs Chromium.
 */
import { type Browser, chromium } from 'playwright-core';
import { localClient, localClientSecret } from '../../scripts/local-issuer.js';
import { request, useApi } from '../support/api-process.js';

const e2e = useApi('cats_browser');
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // As root, without a GPU, and with no network beyond loopback.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120000);

afterAll(async () => {
  await browser?.close();
}, 60000);

it('loads without console errors, shows every route, and creates a cat from the page once authorized with the local client credentials', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const outside: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(e2e.api.baseUrl) && !req.url().startsWith('data:')) outside.push(req.url());
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().includes('/cats'))
      errors.push(`${response.status()} ${response.url()}`);
  });

  await page.goto(`${e2e.api.baseUrl}/docs`);
  await page.waitForSelector('.opblock', { timeout: 30000 });

  const document = (await request(e2e.api.baseUrl, 'GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations = Object.values(document.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
  expect(await page.locator('.opblock').count()).toBe(operations);
  for (const path of Object.keys(document.paths)) {
    expect(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count()).toBeGreaterThan(0);
  }

  // "Try it out" on POST /cats with a body typed into the page: refused
  // (401) until a token is given with "Authorize", then created.
  const create = page.locator('#operations-cats-createCat');
  await create.locator('.opblock-summary').click();
  await create.locator('.try-out__btn').click();
  const name = `From the docs page ${Date.now()}`;
  await create.locator('textarea.body-param__text').fill(JSON.stringify({ name, price: 1234, breed: 'browser' }));
  const status = create.locator('.live-responses-table tr.response .response-col_status').first();
  await create.locator('.execute').click();
  await status.waitFor({ timeout: 30000 });
  expect((await status.innerText()).trim()).toBe('401');

  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.dialog-ux');
  // The oauth2 scheme's client-credentials flow: the page asks npm start's
  // token endpoint (POST /oauth2/token) for a token with the local client's
  // id and secret, as it would ask the stage's Cognito domain.
  await dialog.locator('input[data-name="clientId"]').fill(localClient);
  await dialog.locator('input[data-name="clientSecret"]').fill(localClientSecret);
  await dialog.locator('.auth-btn-wrapper button.authorize').click();
  await dialog.locator('button.btn-done').click();
  await create.locator('.btn-clear').click();
  await create.locator('.execute').click();
  // The 401 row is replaced by the new answer's.
  const deadline = Date.now() + 30000;
  let shown = '';
  while (Date.now() < deadline) {
    shown = (await status.innerText()).trim();
    if (shown !== '401') break;
    await new Promise((done) => setTimeout(done, 100));
  }
  expect(shown).toBe('201');

  const listed = await request(e2e.api.baseUrl, 'GET', '/cats?breed=browser');
  expect(listed.body.items).toEqual([expect.objectContaining({ name, price: 1234 })]);
  // The browser reports the deliberate 401 (before "Authorize") in the console; nothing else.
  const unauthorized = /status of 401 \(Unauthorized\)/;
  expect(errors.filter((error) => unauthorized.test(error))).toHaveLength(1);
  expect(errors.filter((error) => !unauthorized.test(error))).toEqual([]);
  expect(outside).toEqual([]);
}, 120000);
