import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';
import { digest, documentOperations, requestFor, seedOperationFixtures, type OpenApiDocument, type Operation } from '../testing/operation-requests.ts';
import { closeFingerprints, databaseFingerprint } from '@glidepath/db/testing';
import { BODY_VALUES, HEADER_VARIANTS, PATH_VALUES, QUERY_VALUES, WHOLE_BODIES, bodyMutations } from './bad-input-values.ts';

/**
 * A bad-input campaign generated from the API's own OpenAPI document: every operation, with
 * malformed path parameters, query parameters, bodies (whole and field by field, typed against
 * the document's schemas) and headers; as an admin, as a read-only token and anonymously.
 * It fails on any 5xx, on any refused request that changed the database, and on any body the
 * document calls invalid that the API accepted.
 */
let t: Awaited<ReturnType<typeof createTestApp>>;
let ids: Record<string, string>;
let doc: OpenApiDocument;
let operations: Operation[];
let viewer: string;

beforeAll(async () => {
  t = await createTestApp();
  ids = await seedOperationFixtures(t);
  ({ doc, operations } = await documentOperations(t));
  viewer = await t.tokenWith('campaign-viewer', 'viewer');
}, 120_000);
afterAll(async () => {
  await closeFingerprints();
  await t.close();
});

interface Attempt {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The document's own schema says this body is invalid: the API must refuse it. */
  invalidByDocument?: boolean;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Fuller valid bodies for the documents with most fields (plans, policies, metadata): each of their fields is mutated too. */
const RICH_PLAN = {
  strategy: 'canary',
  rollback: { automatic: true },
  steps: [
    { type: 'setWeight', weight: 10 },
    { type: 'pause', duration: '1m' },
    {
      type: 'analysis',
      interval: '1m',
      minDuration: '2m',
      maxDuration: '10m',
      alpha: 0.01,
      metrics: [
        { name: 'errors', kind: 'errors', tolerance: 0.01 },
        { name: 'p99', kind: 'latency', thresholdMs: 50 },
      ],
      onInconclusive: 'pause',
    },
    { type: 'smoke', checks: [{ path: '/health', expectStatus: 200, maxLatency: '2s', bodyContains: 'ok' }], retries: 2, retryDelay: '5s' },
    { type: 'webhook', url: 'https://gate.example.com/check', timeout: '5s', retries: 1 },
    { type: 'approval', count: 1, expiresAfter: '1h' },
    { type: 'setWeight', weight: 100 },
  ],
  watch: { duration: '5m' },
};
const RICH_POLICY = {
  protected: true,
  requiredApprovals: 1,
  approverGroup: 'ops',
  approvalExpiresAfter: '24h',
  serviceAccountApprovers: ['ci'],
  windows: [{ days: ['mon', 'tue'], start: '09:00', end: '17:00', timeZone: 'Europe/Paris' }],
  freezes: [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', reason: 'holidays' }],
  breakGlass: true,
};
const richBodies = (): Record<string, unknown[]> => ({
  'POST /api/v1/plans': [{ name: 'rich', spec: RICH_PLAN }],
  'PUT /api/v1/plans/{name}': [{ spec: { strategy: 'rolling', batches: [25, 50, 100], interval: '1m', check: { type: 'smoke', checks: [{ path: '/' }] } } }],
  'PATCH /api/v1/environments/{id}': [{ reason: 'campaign', policy: RICH_POLICY, smokeBaseUrl: 'http://127.0.0.1:9/' }],
  'POST /api/v1/artifacts': [
    {
      service: 'alpha',
      version: '2.0.0',
      digest: digest('b'),
      buildUrl: 'https://ci.example.com/build/1',
      metadata: { modelVersion: 'm-2', dataset: 'ds-1', modelCard: 'https://models.example.com/card' },
    },
  ],
});

function fillPath(path: string, concrete: string, replace?: { name: string; value: string }): string {
  // The concrete URL of the fixture request gives the value of every parameter; one is replaced.
  const template = path.split('/');
  const actual = concrete.split('?')[0]!.split('/');
  return template.map((part, i) => (replace && part === `{${replace.name}}` ? replace.value : actual[i])).join('/');
}

function withQuery(url: string, query: string): string {
  return url.includes('?') ? `${url}&${query}` : `${url}?${query}`;
}

/** Resolves `#/components/schemas/…` against the document; `$id`s go, so one Ajv can compile them all. */
function compileAgainstDocument(ajv: Ajv, schema: unknown) {
  const strip = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(strip)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([k]) => k !== '$id')
              .map(([k, v]) => [k, strip(v)]),
          )
        : value;
  return ajv.compile({ ...(strip(schema) as object), components: strip(doc.components) });
}

function attemptsFor(op: Operation, validate: ((body: unknown) => boolean) | undefined): Attempt[] {
  const call = requestFor(op, ids)!;
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const base = { method: op.method, headers: admin };
  const json = { ...admin, 'content-type': 'application/json' };
  const validBody = call.payload === undefined ? undefined : JSON.stringify(call.payload);
  const attempts: Attempt[] = [];
  const send = (a: Omit<Attempt, 'method'> & { method?: string }) => attempts.push({ method: op.method, ...a });

  for (const param of (op.parameters ?? []).filter((p) => p.in === 'path'))
    for (const value of PATH_VALUES)
      send({
        ...base,
        what: `path ${param.name}=${value.slice(0, 40)}`,
        url: fillPath(op.path, call.url, { name: param.name, value }),
        body: validBody,
        headers: validBody ? json : admin,
      });

  for (const param of (op.parameters ?? []).filter((p) => p.in === 'query')) {
    for (const value of QUERY_VALUES)
      send({
        ...base,
        what: `query ${param.name}=${value.slice(0, 40)}`,
        url: withQuery(call.url, `${param.name}=${value}`),
        body: validBody,
        headers: validBody ? json : admin,
      });
    send({
      ...base,
      what: `query ${param.name} twice`,
      url: withQuery(call.url, `${param.name}=1&${param.name}=2`),
      body: validBody,
      headers: validBody ? json : admin,
    });
  }
  send({ ...base, what: 'unknown query parameter', url: withQuery(call.url, 'surprise=%00'), body: validBody, headers: validBody ? json : admin });

  if (MUTATING.has(op.method)) {
    for (const [what, text] of WHOLE_BODIES) send({ what: `body ${what}`, url: call.url, headers: json, body: text });
    const bases = [call.payload, ...(richBodies()[`${op.method} ${op.path}`] ?? [])].filter((b) => b && typeof b === 'object');
    for (const valid of bases)
      for (const mutation of bodyMutations(valid as Record<string, unknown>, BODY_VALUES)) {
        const text = mutation.text ?? JSON.stringify(mutation.body);
        send({
          what: `body ${mutation.what}`,
          url: call.url,
          headers: json,
          body: text,
          invalidByDocument: mutation.body !== undefined && validate ? !validate(mutation.body) : undefined,
        });
      }
  }
  for (const [what, headers] of HEADER_VARIANTS)
    send({ what: `header ${what}`, url: call.url, headers: { ...(validBody ? json : admin), ...headers }, body: validBody });
  return attempts;
}

describe('bad-input campaign generated from the OpenAPI document', () => {
  it('never answers 5xx, never changes the database on a refusal, never accepts what the document refuses', async () => {
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv);
    const problems: string[] = [];
    const tally = { requests: 0, refused: 0, accepted: 0 };
    let fingerprint = await databaseFingerprint(t.databaseUrl);

    for (const op of operations) {
      if (op.path === '/api/v1/stream') continue; // a websocket: bad-input.test.ts covers its plain GET
      const name = `${op.method} ${op.path}`;
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const validate = bodySchema ? compileAgainstDocument(ajv, bodySchema) : undefined;
      const attempts = attemptsFor(op, validate);
      // The same malformed requests with a read-only token and with none: refused before or after
      // validation, never a 5xx, never a change.
      const asOthers = attempts
        .filter((_, i) => i % 4 === 0)
        .flatMap((a) => [
          { ...a, what: `${a.what} (viewer)`, headers: { ...a.headers, authorization: `Bearer ${viewer}` }, invalidByDocument: undefined },
          {
            ...a,
            what: `${a.what} (anonymous)`,
            headers: Object.fromEntries(Object.entries(a.headers).filter(([k]) => k !== 'authorization')),
            invalidByDocument: undefined,
          },
        ]);
      for (const attempt of [...attempts, ...asOthers]) {
        tally.requests += 1;
        const res = await t.app.inject({ method: attempt.method as 'GET', url: attempt.url, headers: attempt.headers, payload: attempt.body });
        const label = `${name} ${attempt.what}`;
        if (res.statusCode >= 500) {
          problems.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        if (res.statusCode >= 400) {
          tally.refused += 1;
          const error = (res.json() as { error?: { code?: string; message?: string } }).error;
          if (!error?.code || !error.message) problems.push(`${label}: ${res.statusCode} outside the error model: ${res.body.slice(0, 200)}`);
        } else {
          tally.accepted += 1;
          if (attempt.invalidByDocument) problems.push(`${label}: accepted (${res.statusCode}) a body the document says is invalid`);
        }
        if (!MUTATING.has(op.method)) continue;
        const after = await databaseFingerprint(t.databaseUrl);
        if (res.statusCode >= 400 && after !== fingerprint) problems.push(`${label}: refused with ${res.statusCode} but changed the database`);
        fingerprint = after;
      }
      // Reads change nothing, whatever they are sent.
      if (!MUTATING.has(op.method)) {
        const after = await databaseFingerprint(t.databaseUrl);
        if (after !== fingerprint) problems.push(`${name}: a read changed the database`);
        fingerprint = after;
      }
    }
    console.log(`bad-input campaign: ${operations.length} operations, ${tally.requests} requests, ${tally.refused} refused, ${tally.accepted} accepted`);
    expect(problems).toEqual([]);
    expect(tally.requests).toBeGreaterThan(5000);
  }, 600_000);
});
