import { PHASES, type Phase } from '@glidepath/core';
import { Type, type TSchema } from 'typebox';

// Plan and policy documents, described for the OpenAPI document and the generated client.
// Core validates them (validate-plan.ts, environment-policy.ts) with messages that name each
// field; these schemas only tell editors and clients their shape, so they are attached to the
// document (withDocumentSchema), not to request validation.

// The bounds core enforces (packages/core/src/plan/plan-limits.ts): counts and sizes are stated
// in the schemas; a duration's range, which a pattern cannot state, in its description.
const Duration = (range?: string) =>
  Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h)$' }), Type.Number({ minimum: 0 })], {
    description: `"500ms", "30s", "10m", "2h", or seconds as a number${range ? `; ${range}` : ''}`,
  });
const MetricDirection = Type.Union([Type.Literal('higher-is-worse'), Type.Literal('lower-is-worse')], {
  description:
    "ratio metrics only (default higher-is-worse): higher-is-worse fails when the canary's numerator ÷ denominator exceeds tolerance × the baseline's (declined payments, wrong predictions); lower-is-worse when it falls below the baseline's ÷ tolerance (conversion, accuracy)",
});
const AnalysisMetric = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.Union([Type.Literal('errors'), Type.Literal('latency'), Type.Literal('ratio')]),
    tolerance: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: 'fail when the canary is worse than tolerance × the baseline' })),
    thresholdMs: Type.Optional(
      Type.Number({ minimum: 1, maximum: 60_000, description: 'latency metrics only: the share of requests slower than this is compared' }),
    ),
    direction: Type.Optional(MetricDirection),
  },
  { additionalProperties: false },
);
const AnalysisFields = {
  interval: Type.Optional(Duration('1s to 1h, at most maxDuration')),
  minDuration: Type.Optional(Duration('0 to maxDuration')),
  maxDuration: Type.Optional(Duration('1s to 24h')),
  alpha: Type.Optional(Type.Number({ minimum: 0.000001, maximum: 0.2 })),
  metrics: Type.Optional(Type.Array(AnalysisMetric, { minItems: 1, maxItems: 10 })),
  onInconclusive: Type.Optional(Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('pause')])),
};
const GateStep = Type.Union([
  Type.Object({ type: Type.Literal('analysis'), ...AnalysisFields }, { additionalProperties: false, description: 'the canary judge against the baseline' }),
  Type.Object(
    {
      type: Type.Literal('smoke'),
      checks: Type.Array(
        Type.Object(
          {
            path: Type.String({ pattern: '^/', maxLength: 2000 }),
            expectStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
            maxLatency: Type.Optional(Duration('more than 0, at most 60s; also the timeout')),
            bodyContains: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 20 },
      ),
      retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
      retryDelay: Type.Optional(Duration('0 to 5m')),
    },
    {
      additionalProperties: false,
      description: "HTTP checks against the environment's smokeBaseUrl; every round timing out, with the delays between, must fit in 10m",
    },
  ),
  Type.Object(
    {
      type: Type.Literal('webhook'),
      url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 }),
      timeout: Type.Optional(Duration('100ms to 60s')),
      retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    },
    {
      additionalProperties: false,
      description: 'asks an external system; requests are signed (Standard Webhooks); timeout × (retries + 1) with backoff must fit in 10m',
    },
  ),
  Type.Object(
    {
      type: Type.Literal('approval'),
      group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
      expiresAfter: Type.Optional(Duration('1m to 720h')),
    },
    { additionalProperties: false, description: 'waits for people to approve' },
  ),
]);
const Step = Type.Union([
  Type.Object({ type: Type.Literal('setWeight'), weight: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('pause'), duration: Type.Optional(Duration('more than 0, at most 720h')) },
    { additionalProperties: false, description: 'no duration: until resumed' },
  ),
  ...GateStep.anyOf,
]);
const Common = {
  rollback: Type.Optional(Type.Object({ automatic: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  windows: Type.Optional(
    Type.Object({ onClose: Type.Optional(Type.Union([Type.Literal('hold'), Type.Literal('continue')])) }, { additionalProperties: false }),
  ),
  traffic: Type.Optional(
    Type.Object(
      {
        requestsPerSecond: Type.Number({ minimum: 0.001, maximum: 10_000_000, description: 'what the service serves, both versions together' }),
        errorRate: Type.Optional(Type.Number({ minimum: 0.000001, maximum: 0.999, description: 'the share of its requests that fail; default 0.01' })),
      },
      {
        additionalProperties: false,
        description:
          "the traffic the plan expects (where it runs in several environments, the least of them): only validation reads it, to warn when an analysis' maxDuration is too short for a verdict at that traffic",
      },
    ),
  ),
  watch: Type.Optional(
    Type.Object(
      {
        duration: Duration('1s to 24h, at least the interval'),
        analysis: Type.Optional(
          Type.Object({ interval: AnalysisFields.interval, alpha: AnalysisFields.alpha, metrics: AnalysisFields.metrics }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false },
    ),
  ),
};

export const PlanSpec = Type.Union(
  [
    Type.Object({ strategy: Type.Literal('canary'), steps: Type.Array(Step, { minItems: 1, maxItems: 100 }), ...Common }, { additionalProperties: false }),
    Type.Object(
      {
        strategy: Type.Literal('blue-green'),
        checks: Type.Optional(Type.Array(GateStep, { maxItems: 20 })),
        keepOldFor: Type.Optional(Duration('0 to 720h')),
        ...Common,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        strategy: Type.Literal('rolling'),
        batches: Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 100 }),
        check: Type.Optional(GateStep),
        interval: Type.Optional(Duration('0 to 720h')),
        ...Common,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        strategy: Type.Literal('shadow'),
        mirror: Type.Object(
          { url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000, description: "the mirroring proxy's control API" }) },
          { additionalProperties: false },
        ),
        analysis: Type.Optional(
          Type.Object(
            {
              interval: AnalysisFields.interval,
              minDuration: AnalysisFields.minDuration,
              maxDuration: AnalysisFields.maxDuration,
              alpha: AnalysisFields.alpha,
              onInconclusive: AnalysisFields.onInconclusive,
            },
            {
              additionalProperties: false,
              description: 'how long the shadow runs and how the judge looks; its metrics are fixed: differences, error-rate, latency',
            },
          ),
        ),
        compare: Type.Optional(
          Type.Object(
            {
              methods: Type.Optional(
                Type.Array(Type.Union(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m))), {
                  minItems: 1,
                  maxItems: 7,
                  uniqueItems: true,
                  description: 'methods copied to the shadow; default GET, HEAD, OPTIONS (idempotent only)',
                }),
              ),
              ignoreFields: Type.Optional(
                Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
                  maxItems: 50,
                  description: 'JSON fields left out of the comparison: a key anywhere (timestamp) or a path ($.meta.*, $.items[*].id)',
                }),
              ),
              sampleRate: Type.Optional(Type.Number({ minimum: 0.0001, maximum: 1, description: 'share of eligible requests copied; default 1' })),
              baselineShare: Type.Optional(
                Type.Number({
                  minimum: 0.01,
                  maximum: 1,
                  description: 'share of copied requests sent to the live version again, to measure its own noise; default 0.5',
                }),
              ),
              tolerance: Type.Optional(
                Type.Number({
                  minimum: 1,
                  maximum: 100,
                  description: "fail when the shadow differs more than tolerance × the live version's own rate; default 1.5",
                }),
              ),
              latencyTolerance: Type.Optional(Type.Number({ minimum: 1, maximum: 100, description: 'default 1.5' })),
              latencyThresholdMs: Type.Optional(Type.Number({ minimum: 1, maximum: 60_000 })),
            },
            { additionalProperties: false },
          ),
        ),
        rollback: Common.rollback,
        windows: Common.windows,
        traffic: Common.traffic,
      },
      {
        additionalProperties: false,
        description:
          'the new version, on the idle slot, gets copies of real requests from the mirroring proxy and serves nothing; the release ends at the verdict (succeeded: the shadow passed), never promoted',
      },
    ),
  ],
  { $id: 'PlanSpec', description: 'a release plan: every strategy compiles to steps the state machine runs' },
);

const Weekday = Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d)));
export const EnvironmentPolicy = Type.Object(
  {
    protected: Type.Optional(Type.Boolean({ description: 'releases need approvals from signed-in people' })),
    requiredApprovals: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    approverGroup: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
    approvalExpiresAfter: Type.Optional(Type.Union([Type.String({ description: '"4h": 1m to 720h' }), Type.Null()])),
    serviceAccountApprovers: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), { maxItems: 50, uniqueItems: true, description: 'token names that may approve here' }),
    ),
    windows: Type.Optional(
      Type.Array(
        Type.Object(
          {
            days: Type.Array(Weekday, { minItems: 1 }),
            start: Type.String({ pattern: '^\\d{2}:\\d{2}$' }),
            end: Type.String({ pattern: '^\\d{2}:\\d{2}$' }),
            timeZone: Type.String(),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50, description: 'recurring windows in which releases may move; none: always' },
      ),
    ),
    freezes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            from: Type.String({ format: 'date-time', description: 'a full ISO date-time with a zone, such as 2026-12-24T00:00:00Z' }),
            to: Type.String({ format: 'date-time', description: 'after from, at most 366 days later' }),
            reason: Type.String({ minLength: 1, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 200 },
      ),
    ),
    breakGlass: Type.Optional(Type.Boolean()),
  },
  { $id: 'EnvironmentPolicy', additionalProperties: false },
);

const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const MetricKind = Type.Union([Type.Literal('errors'), Type.Literal('latency'), Type.Literal('ratio')]);
const Outcome = Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('inconclusive')]);

/** How an analysis is judged: the fields an analysis step and a shadow step share (core's AnalysisJudging). */
const AnalysisJudging = {
  intervalMs: Type.Number(),
  minDurationMs: Type.Number(),
  maxDurationMs: Type.Number(),
  alpha: Type.Number(),
  metrics: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: MetricKind,
      tolerance: Type.Number(),
      thresholdMs: Nullable(Type.Number()),
      direction: Type.Optional(MetricDirection),
    }),
  ),
  onInconclusive: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('pause')]),
};

/** A step as the state machine runs it: durations in ms, defaults filled in. */
export const CompiledStep = Type.Union(
  [
    Type.Object({ type: Type.Literal('setWeight'), weight: Type.Number() }),
    Type.Object({ type: Type.Literal('pause'), durationMs: Nullable(Type.Number()) }),
    Type.Object({ type: Type.Literal('approval'), group: Nullable(Type.String()), count: Type.Integer(), expiresAfterMs: Nullable(Type.Number()) }),
    Type.Object({ type: Type.Literal('hold'), durationMs: Type.Number() }),
    Type.Object({
      type: Type.Literal('analysis'),
      ...AnalysisJudging,
      watch: Type.Boolean(),
    }),
    Type.Object({
      type: Type.Literal('smoke'),
      checks: Type.Array(
        Type.Object({ path: Type.String(), expectStatus: Type.Integer(), maxLatencyMs: Nullable(Type.Number()), bodyContains: Nullable(Type.String()) }),
      ),
      retries: Type.Integer(),
    }),
    Type.Object({ type: Type.Literal('webhook'), url: Type.String(), timeoutMs: Type.Number(), retries: Type.Integer() }),
    Type.Object({
      type: Type.Literal('shadow'),
      mirrorUrl: Type.String(),
      methods: Type.Array(Type.String()),
      ignoreFields: Type.Array(Type.String()),
      sampleRate: Type.Number(),
      baselineShare: Type.Number(),
      ...AnalysisJudging,
    }),
  ],
  { $id: 'CompiledStep' },
);

/** The judge's over-dispersion allowance (packages/core/src/judge/dispersion.ts); null when it is off. Absent on verdicts stored before it. */
const DispersionEvidence = Type.Object(
  {
    blockSeconds: Type.Number({ description: 'rates may fluctuate independently from one block of this many seconds to the next' }),
    blocks: Type.Integer({ description: 'completed blocks the measurement rests on' }),
    basis: Type.Union([Type.Literal('prior'), Type.Literal('measured')], {
      description:
        'prior: fewer than two blocks, a coefficient of variation of 60% is assumed (an event counting at least 0.3 of one); measured: from the blocks',
    }),
    measuredCv: Nullable(
      Type.Number({
        description:
          "coefficient of variation of a block's event rate beyond Poisson, measured on the arm with more events (on both when the canary has a quarter of the baseline's events or more)",
      }),
    ),
    allowedCv: Type.Number({ description: 'the coefficient of variation the test allows for: the upper bound of the measurement, or the prior' }),
    varianceFactor: Type.Number({ description: '≥ 1: how much less an observed event counts than under Poisson (the widening of the verdict)' }),
    poissonLogEValue: Nullable(Type.Number({ description: 'ln of the e-value now if the counts were Poisson: the verdict without the allowance' })),
  },
  { description: 'over-dispersion seen by the test and how much it widened the verdict' },
);
/** Time to a decision, said in advance (packages/core/src/judge/expected-detection.ts). Absent on verdicts stored before it. */
const ExpectedDetection = Type.Object(
  {
    rateRatio: Type.Number({ description: "the regression the figure is for: the canary's rate at this multiple of the baseline's (2 × tolerance)" }),
    seconds: Nullable(
      Type.Number({ description: "expected seconds to detect it at the traffic measured so far: JUDGE.md's bound × the variance factor (null: see reason)" }),
    ),
    canaryRequestsPerSecond: Nullable(Type.Number()),
    baselineRequestsPerSecond: Nullable(Type.Number()),
    baselineEventRate: Nullable(Type.Number()),
    reason: Nullable(Type.String({ description: 'why there is no figure yet' })),
  },
  { description: 'the expected time to detect a regression of the size the plan is written for' },
);

const PassTest = Type.Object(
  {
    rateRatio: Type.Number({
      description: "the regression a pass rules out: the canary's rate at this multiple of the baseline's (lower-is-worse: the baseline's ÷ it)",
    }),
    beta: Type.Number({ description: 'a canary that bad passes with probability at most beta' }),
    logEValue: Type.Number({ description: 'ln of the evidence that the canary is better than that, with the over-dispersion allowance' }),
    logThreshold: Type.Number({ description: 'ln(1/beta): the test may pass once logEValue reaches it' }),
  },
  { description: 'what a pass needs: evidence that the canary is not as bad as rateRatio × the baseline; too little data stays inconclusive' },
);

/** Counts since the analysis step started; a rate is null while its total is 0. */
const SideCounts = Type.Object({ total: Type.Number(), events: Type.Number(), rate: Nullable(Type.Number()) });
const MetricVerdict = Type.Object(
  {
    name: Type.String(),
    kind: MetricKind,
    outcome: Outcome,
    reason: Type.String(),
    alpha: Type.Number(),
    tests: Type.Array(
      Type.Object(
        {
          label: Type.String(),
          thresholdMs: Type.Optional(Nullable(Type.Number())),
          canary: SideCounts,
          baseline: SideCounts,
          rateRatio: Nullable(Type.Number()),
          tolerance: Type.Number(),
          direction: Type.Optional(
            Type.Literal('lower-is-worse', { description: 'a ratio where lower is worse: the test fails when rateRatio falls below 1 / tolerance' }),
          ),
          alpha: Type.Number(),
          logEValue: Nullable(Type.Number({ description: 'ln of the e-value now (null: infinite)' })),
          maxLogEValue: Nullable(Type.Number({ description: 'its running maximum: the test fails once it reaches logThreshold' })),
          logThreshold: Nullable(Type.Number({ description: 'ln(1/alpha)' })),
          outcome: Outcome,
          dispersion: Type.Optional(Nullable(DispersionEvidence)),
          expectedDetection: Type.Optional(ExpectedDetection),
          passTest: Type.Optional(PassTest),
        },
        { description: 'one sequential test of the canary judge' },
      ),
    ),
  },
  { $id: 'MetricVerdict' },
);
const ArmCounts = Type.Object({
  compared: Type.Integer({ description: 'answers compared with the live one (a copy that got none counts, as differing and as an error)' }),
  differing: Type.Integer(),
  statusDiffering: Type.Integer(),
  bodyDiffering: Type.Integer(),
  errors: Type.Integer({ description: '5xx answers, and copies that got none' }),
  noAnswer: Type.Integer(),
});
/** A shadow step's comparison as the mirroring proxy counted it (packages/core/src/shadow/shadow-tally.ts). */
const ShadowComparison = Type.Object(
  {
    rates: Type.Object(
      {
        shadow: Nullable(Type.Number({ description: "share of the shadow's answers that differ from the live version's" })),
        secondary: Nullable(Type.Number({ description: "share of the live version's second answers that differ from its first: its own noise" })),
      },
      { description: 'the difference rates (null before any comparison); the judge tests shadow against secondary' },
    ),
    shadow: ArmCounts,
    secondary: ArmCounts,
    primary: Type.Object({ answered: Type.Integer(), errors: Type.Integer() }, { description: "the live version's answers to the copied requests" }),
    skipped: Type.Object(
      { method: Type.Integer(), sample: Type.Integer(), overloaded: Type.Integer(), bodyTooLarge: Type.Integer() },
      { description: 'requests not copied, by why' },
    ),
    fields: Type.Array(
      Type.Object({ path: Type.String({ description: '$.items[*].score: indexes generalised' }), shadow: Type.Integer(), secondary: Type.Integer() }),
      { description: 'the fields that differ most (at most 20), with how often per arm' },
    ),
    fieldsDropped: Type.Integer(),
    samples: Type.Array(
      Type.Object({
        arm: Type.Union([Type.Literal('shadow'), Type.Literal('secondary')]),
        method: Type.String(),
        url: Type.String(),
        primaryStatus: Type.Integer(),
        otherStatus: Type.Integer({ description: '0: no answer (see error)' }),
        primaryLatencyMs: Type.Number(),
        otherLatencyMs: Nullable(Type.Number()),
        comparedAs: Type.Union([Type.Literal('json'), Type.Literal('bytes'), Type.Literal('none')]),
        paths: Type.Array(Type.String(), { description: 'differing field paths, at most 10' }),
        error: Nullable(Type.String()),
      }),
      { description: 'the first differing answers (at most 10 per arm): paths and statuses, never bodies' },
    ),
    methods: Type.Array(Type.String()),
    ignoreFields: Type.Array(Type.String()),
  },
  { description: 'mirror: what the shadow comparison counted' },
);

/** The canary judge's verdict at one look, with the evidence behind it. */
export const Verdict = Type.Object(
  {
    outcome: Outcome,
    reason: Type.String(),
    elapsedSeconds: Type.Number(),
    at: Nullable(Type.String()),
    alpha: Type.Number(),
    metrics: Type.Array(MetricVerdict),
    source: Type.Optional(
      Nullable(
        Type.Object({
          type: Type.String(),
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
          url: Type.Optional(Type.String()),
          preset: Type.Optional(Type.String({ description: "haproxy: read from HAProxy's own per-server metrics" })),
          session: Type.Optional(Type.String({ description: "mirror: the mirroring proxy's session of this step attempt" })),
          slot: Type.Optional(Type.String({ description: 'mirror: the slot the shadow version runs on' })),
          startedAt: Type.Optional(Type.String()),
          shadow: Type.Optional(ShadowComparison),
          restarts: Type.Optional(
            Type.Integer({ description: 'mirror: times the proxy lost the session (it restarted) since the step began; what it had counted was carried' }),
          ),
          window: Type.Optional(Type.String()),
          at: Type.Optional(Type.String()),
          queries: Type.Optional(
            Type.Record(Type.String(), Type.Record(Type.String(), Type.String()), {
              description: 'the PromQL this look ran, per side (canary, baseline) and query',
            }),
          ),
        }),
      ),
    ),
    noData: Type.Optional(Type.Boolean({ description: 'this look fed the judge nothing' })),
    noDataReason: Type.Optional(
      Nullable(
        Type.String({
          description:
            'why: no series yet, several series where one is expected, NaN, a negative count or one that went down since the last look (a restart), a source that timed out or refused the query',
        }),
      ),
    ),
    lastCounts: Type.Optional(
      Nullable(
        Type.Object(
          {
            canary: Type.Object({ requests: Type.Number(), errors: Type.Number(), latencyTotal: Nullable(Type.Number()) }),
            baseline: Type.Object({ requests: Type.Number(), errors: Type.Number(), latencyTotal: Nullable(Type.Number()) }),
          },
          { description: 'the cumulative counts this look read, or when it read none the last ones before: the next look must not read fewer' },
        ),
      ),
    ),
    look: Type.Optional(Type.Integer()),
  },
  { $id: 'Verdict' },
);

/** What moved a release: a control, a verdict, the clock. */
export const ReleaseEvent = Type.Object(
  {
    type: Type.String({ description: 'start, timer, gate-verdict, pause, resume, promote, abort, rollback, retry, approve, reject, break-glass' }),
    actorId: Type.Optional(Type.String()),
    reason: Type.Optional(Nullable(Type.String())),
    comment: Type.Optional(Nullable(Type.String())),
    stepIndex: Type.Optional(Type.Integer()),
    outcome: Type.Optional(Type.String()),
    summary: Type.Optional(Type.String()),
    fromStep: Type.Optional(Type.Integer()),
  },
  { $id: 'ReleaseEvent' },
);
/** What a transition asked of the router and the gates. */
export const Effects = Type.Union(
  [
    Type.Array(
      Type.Object({ type: Type.String(), weight: Type.Optional(Type.Number()), gate: Type.Optional(Type.String()), stepIndex: Type.Optional(Type.Integer()) }),
    ),
    Type.Null(),
  ],
  { $id: 'Effects' },
);

/** A string with the known phases as its enum: serialised as a plain string, typed as their union. */
export const PhaseSchema = Type.Unsafe<Phase>({ type: 'string', enum: [...PHASES] });
export const StepStatusSchema = Type.Unsafe<'pending' | 'running' | 'succeeded' | 'failed' | 'skipped'>({
  type: 'string',
  enum: ['pending', 'running', 'succeeded', 'failed', 'skipped'],
});
export const OutcomeSchema = Type.Unsafe<'pass' | 'fail' | 'inconclusive'>({ type: 'string', enum: ['pass', 'fail', 'inconclusive'] });

/** Messages of the live stream (GET /api/v1/stream, a websocket): `{ type, data }`. */
export const ReleaseUpdate = Type.Object(
  {
    id: Type.String(),
    serviceId: Type.String(),
    environmentId: Type.String(),
    version: Type.Integer(),
    phase: PhaseSchema,
    stepIndex: Type.Integer(),
    canaryWeight: Type.Number(),
    reason: Nullable(Type.String()),
  },
  { $id: 'ReleaseUpdate', description: 'stream message "release.updated": the small form of a release after every change' },
);
export const AnalysisMeasured = Type.Object(
  {
    releaseId: Type.String(),
    stepIndex: Type.Integer(),
    attempt: Type.Integer(),
    seq: Type.Integer(),
    elapsedSeconds: Type.Number(),
    outcome: Outcome,
    metrics: Type.Array(MetricVerdict),
  },
  { $id: 'AnalysisMeasured', description: 'stream message "analysis.measured": an analysis step looked at the canary again' },
);

const DOCUMENTED: Record<string, TSchema> = {
  PlanSpec,
  EnvironmentPolicy,
  CompiledStep,
  MetricVerdict,
  Verdict,
  ReleaseEvent,
  Effects,
  ReleaseUpdate,
  AnalysisMeasured,
};

/** A free-form field (validated by core) that the document describes with one of the schemas above. */
export function documentedAs(name: keyof typeof DOCUMENTED, description?: string) {
  return Type.Unknown({ 'x-document-as': name, ...(description ? { description } : {}) });
}

/**
 * @fastify/swagger's transformObject: puts the schemas into components and replaces every field
 * marked with documentedAs by a reference to one, so clients know plans and policies.
 */
export function withDocumentSchemas({ openapiObject }: { openapiObject: Record<string, unknown> }) {
  const components = ((openapiObject.components ??= {}) as { schemas?: Record<string, unknown> }).schemas ?? {};
  for (const [name, schema] of Object.entries(DOCUMENTED)) components[name] = stripIds(schema);
  (openapiObject.components as { schemas: Record<string, unknown> }).schemas = components;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    const target = record['x-document-as'];
    if (typeof target === 'string') return { $ref: `#/components/schemas/${target}`, ...(record.description ? { description: record.description } : {}) };
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, walk(v)]));
  };
  openapiObject.paths = walk(openapiObject.paths);
  openapiObject.components = walk(openapiObject.components);
  return openapiObject;
}

function stripIds(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === '$id' ? undefined : value)));
}
