import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, ok, test } from '../fixtures.ts';

const screenshot = fileURLToPath(new URL('../test-results/overview.png', import.meta.url));
const serviceBody = () => ({ name: `checkout-api-${randomBytes(4).toString('hex')}`, description: 'e2e', owners: ['team-a'] });

test('dashboard shows audit events arriving live', async ({ page, api }) => {
  const auditLoaded = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/audit' && response.ok());
  await page.goto('/');
  await auditLoaded;

  await expect(page.getByTestId('check-postgres')).toContainText('ok');
  await expect(page.getByTestId('check-redis')).toContainText('ok');
  await expect(page.getByTestId('stream-status')).toHaveText('Live');

  const auditRequests: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/v1/audit')) auditRequests.push(request.url());
  });
  const rows = page.getByTestId('audit-row');
  const before = await rows.count();

  const serviceId = (await ok(api.POST('/api/v1/services', { body: serviceBody() }), 'service')).id;

  await expect(rows).toHaveCount(before + 1);
  const newest = rows.first();
  await expect(newest.getByRole('cell', { name: 'service.created', exact: true })).toBeVisible();
  await expect(newest.getByTitle(serviceId)).toContainText('service');
  expect(auditRequests, 'the page must not poll or refetch the audit log').toEqual([]);

  await page.screenshot({ path: screenshot, fullPage: true });
});

test('Verify chain reports an intact chain', async ({ page, api }) => {
  await ok(api.POST('/api/v1/services', { body: serviceBody() }), 'service');
  await page.goto('/');
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await expect(page.getByTestId('chain-status')).toContainText(/intact\s+\d+ events checked/);
});
