// Live latency of the dashboard: from the worker's commit of a release change to the changed
// element in a real Chromium page, over many changes, first on a page showing one page of
// releases (the baseline) and then on the same page with 500+ releases loaded.
//   node_modules/.bin/tsx bench/live/live-latency.bench.ts [--changes 60]
//
// Each change is a pause or resume of one of five held releases, applied by the real worker.
// t0 is the release's updated_at, which the worker sets just before its transaction commits
// (so the figure includes the commit); t1 is when a MutationObserver in the page sees the row's
// phase badge change. Both clocks are this machine's. The page also records its long tasks and
// every request it makes for the release list, which should stay at zero while events arrive.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createPrismaClient, createSession, upsertUserFromSignIn } from '@glidepath/db';
import { startGlidepath } from '@glidepath/demo/glidepath-process';
import { createApiClient, demoDigest, expectReply } from '@glidepath/demo/run-demo';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '60' } } });
const changes = Number(values.changes);
const HISTORY = 500;
const ACTIVE = 5;
const watchdog = setTimeout(() => {
  console.error('live-latency bench: watchdog after 6 minutes');
  process.exit(1);
}, 6 * 60_000);

const glidepath = await startGlidepath({ GLIDEPATH_WEB_DIST: fileURLToPath(new URL('../../apps/web/dist', import.meta.url)) });
const { api } = createApiClient(glidepath.api, glidepath.token);
const prisma = createPrismaClient(glidepath.databaseUrl, 2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});

type Release = { id: string; phase: string; updatedAt: string };
async function until(id: string, phases: string[]) {
  for (let i = 0; i < 600; i++) {
    const { data } = await expectReply(api.GET('/api/v1/releases/{id}', { params: { path: { id } } }), 'release');
    if (phases.includes(data.phase)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`release ${id} never reached ${phases.join('/')}`);
}

try {
  // A service with one environment per held release (one active release per environment).
  await expectReply(api.POST('/api/v1/services', { body: { name: 'bench' } }), 'service');
  for (let i = 0; i < ACTIVE; i++)
    await expectReply(
      api.POST('/api/v1/environments', {
        body: { service: 'bench', name: `e${i}`, position: i, requireUpstreamSuccess: false, target: { type: 'recording', config: {} } },
      }),
      'environment',
    );
  await expectReply(api.POST('/api/v1/artifacts', { body: { service: 'bench', version: '1.0.0', digest: demoDigest('1.0.0') } }), 'artifact');
  await expectReply(api.POST('/api/v1/plans', { body: { name: 'quick', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } } }), 'plan');
  const hold = [
    { type: 'setWeight' as const, weight: 10 },
    { type: 'pause' as const, duration: '1h' },
    { type: 'setWeight' as const, weight: 100 },
  ];
  await expectReply(api.POST('/api/v1/plans', { body: { name: 'hold', spec: { strategy: 'canary', steps: hold } } }), 'plan');
  const start = async (environment: string, plan: string) =>
    (await expectReply(api.POST('/api/v1/releases', { body: { service: 'bench', environment, version: '1.0.0', plan } }), 'release')).data;

  // 500 releases of history: one real release, copied with earlier creation times.
  const first = await start('e0', 'quick');
  await until(first.id, ['succeeded']);
  await prisma.$executeRaw`
    INSERT INTO release (id, service_id, environment_id, artifact_id, plan_id, phase, step_index, state, version, requested_by, reason,
                         created_at, updated_at, started_at, finished_at)
    SELECT gen_random_uuid(), service_id, environment_id, artifact_id, plan_id, phase, step_index, state, version, requested_by, reason,
           created_at - n * interval '1 minute', updated_at - n * interval '1 minute', started_at - n * interval '1 minute', finished_at - n * interval '1 minute'
      FROM release, generate_series(1, ${HISTORY - 1}) AS n
     WHERE id = ${first.id}::uuid`;
  const active: Release[] = [];
  for (let i = 0; i < ACTIVE; i++) {
    const r = await start(`e${i}`, 'hold');
    await until(r.id, ['progressing']);
    active.push({ ...r, phase: 'progressing' });
  }

  // A person with the viewer role, signed in by a session made the way sign-in makes one.
  const { user } = await prisma.$transaction((tx) =>
    upsertUserFromSignIn(tx, { issuer: 'bench', subject: 'viewer', email: 'viewer@bench.test', name: 'Bench Viewer', groups: [] }),
  );
  await expectReply(api.POST('/api/v1/role-bindings', { body: { subject: { type: 'user', id: user.id }, role: 'viewer' } }), 'role');
  const { secret } = await prisma.$transaction((tx) => createSession(tx, { userId: user.id, authTime: new Date(), absoluteMs: 3_600_000 }));
  const context = await browser.newContext({ baseURL: glidepath.api });
  await context.addCookies([{ name: 'glidepath_session', value: secret, url: glidepath.api }]);
  const page = await context.newPage();
  // tsx names inner functions with a helper the page does not have: give it one.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(watchBadges);
  let listRequests = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/v1/releases') listRequests++;
  });
  const loadStart = performance.now();
  await page.goto('/releases');
  await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor();
  await page.locator(`[data-release-id="${active[0]!.id}"]`).waitFor();
  const firstPageMs = performance.now() - loadStart;

  const measure = async (count: number) => {
    const latencies: number[] = [];
    const requestsBefore = listRequests;
    await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
    for (let i = 0; i < count; i++) {
      const release = active[i % ACTIVE]!;
      const control = release.phase === 'paused' ? 'resume' : 'pause';
      const reply = (
        await expectReply(api.POST(`/api/v1/releases/{id}/${control}`, { params: { path: { id: release.id }, query: { wait: 5000 } }, body: {} }), control)
      ).data;
      release.phase = reply.release.phase;
      const committedAt = Date.parse(reply.release.updatedAt);
      const seenAt = await page.evaluate(
        ({ id, phase, after }) =>
          new Promise<number>((resolve, reject) => {
            const seen = (window as unknown as { __seen: Array<{ id: string; phase: string; t: number }> }).__seen;
            const started = performance.now();
            const check = () => {
              const hit = seen.find((s) => s.id === id && s.phase === phase && s.t >= after - 5);
              if (hit) return resolve(hit.t);
              if (performance.now() - started > 10_000) return reject(new Error(`row ${id} never showed ${phase}`));
              setTimeout(check, 5);
            };
            check();
          }),
        { id: release.id, phase: release.phase, after: committedAt },
      );
      latencies.push(seenAt - committedAt);
      await new Promise((r) => setTimeout(r, 30));
    }
    const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks.slice());
    return { latencies, listRequests: listRequests - requestsBefore, longTasks };
  };

  const baseline = await measure(Math.ceil(changes / 2));
  const rowsBefore = await page.getByTestId('release-row').count();

  // Now the whole history on the page: "Load more" until it is all there.
  const moreStart = performance.now();
  while ((await page.getByRole('button', { name: 'Load more' }).count()) > 0) {
    const rows = await page.getByTestId('release-row').count();
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=release-row]').length > n, rows);
  }
  const allRowsMs = performance.now() - moreStart;
  const rows = await page.getByTestId('release-row').count();
  const large = await measure(changes);

  const fmt = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
    return { p50: q(0.5), p95: q(0.95), max: sorted.at(-1)! };
  };
  const a = fmt(baseline.latencies);
  const b = fmt(large.latencies);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`\nlive latency: commit → element in Chromium (${ACTIVE} held releases, pause/resume by the real worker)`);
  console.log(
    `  first page (${rowsBefore} rows, loaded in ${ms(firstPageMs)}): ${baseline.latencies.length} changes  p50 ${ms(a.p50)}  p95 ${ms(a.p95)}  max ${ms(a.max)}`,
  );
  console.log(
    `  ${rows} rows (loaded in ${ms(allRowsMs)}):             ${large.latencies.length} changes  p50 ${ms(b.p50)}  p95 ${ms(b.p95)}  max ${ms(b.max)}`,
  );
  console.log(`  p95 ratio, ${rows} rows ÷ first page: ${(b.p95 / a.p95).toFixed(2)}  (goal: p95 ≤ 250 ms)`);
  console.log(`  release-list requests while events arrived: ${baseline.listRequests} (first page), ${large.listRequests} (${rows} rows)`);
  console.log(
    `  long tasks (> 50 ms) while events arrived: ${baseline.longTasks.length} (first page), ${large.longTasks.length} (${rows} rows), longest ${ms(Math.max(0, ...large.longTasks, ...baseline.longTasks))}`,
  );
} finally {
  clearTimeout(watchdog);
  await browser.close();
  await prisma.$disconnect();
  await glidepath.stop();
}

/** Runs in the page before its scripts: timestamps every phase badge change in a release row, and long tasks. */
function watchBadges() {
  const w = window as unknown as { __seen: Array<{ id: string; phase: string; t: number }>; __longTasks: number[] };
  w.__seen = [];
  w.__longTasks = [];
  const record = (badge: Element, t: number) => {
    const row = badge.closest('[data-release-id]');
    if (row) w.__seen.push({ id: row.getAttribute('data-release-id')!, phase: badge.getAttribute('data-phase')!, t });
  };
  const start = () =>
    new MutationObserver((mutations) => {
      const t = performance.timeOrigin + performance.now();
      for (const m of mutations) {
        const nodes = m.type === 'attributes' ? [m.target] : Array.from(m.addedNodes);
        for (const node of nodes) {
          if (!(node instanceof Element)) continue;
          if (node.matches('[data-testid=phase-badge]')) record(node, t);
          node.querySelectorAll('[data-testid=phase-badge]').forEach((badge) => record(badge, t));
        }
      }
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start);
  new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
}
