import { Type, type TSchema } from 'typebox';

// Plan and policy documents, described for the OpenAPI document and the generated client.
// Core validates them (validate-plan.ts, environment-policy.ts) with messages that name each
// field; these schemas only tell editors and clients their shape, so they are attached to the
// document (withDocumentSchema), not to request validation.

const Duration = Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h)$' }), Type.Number({ minimum: 0 })], {
  description: '"500ms", "30s", "10m", "2h", or seconds as a number',
});
const AnalysisMetric = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('errors'), Type.Literal('latency'), Type.Literal('ratio')]),
    tolerance: Type.Optional(Type.Number({ exclusiveMinimum: 1, description: 'fail when the canary is worse than tolerance × the baseline' })),
    thresholdMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'latency: the share of requests slower than this is compared' })),
  },
  { additionalProperties: false },
);
const AnalysisFields = {
  interval: Type.Optional(Duration),
  minDuration: Type.Optional(Duration),
  maxDuration: Type.Optional(Duration),
  alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.2 })),
  metrics: Type.Optional(Type.Array(AnalysisMetric)),
  onInconclusive: Type.Optional(Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('pause')])),
};
const GateStep = Type.Union([
  Type.Object({ type: Type.Literal('analysis'), ...AnalysisFields }, { additionalProperties: false, description: 'the canary judge against the baseline' }),
  Type.Object(
    {
      type: Type.Literal('smoke'),
      checks: Type.Array(
        Type.Object(
          { path: Type.String(), expectStatus: Type.Optional(Type.Integer()), maxLatency: Type.Optional(Duration), bodyContains: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
      retries: Type.Optional(Type.Integer({ minimum: 0 })),
      retryDelay: Type.Optional(Duration),
    },
    { additionalProperties: false, description: "HTTP checks against the environment's smokeBaseUrl" },
  ),
  Type.Object(
    {
      type: Type.Literal('webhook'),
      url: Type.String({ format: 'uri' }),
      timeout: Type.Optional(Duration),
      retries: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    { additionalProperties: false, description: 'asks an external system; requests are signed (Standard Webhooks)' },
  ),
  Type.Object(
    {
      type: Type.Literal('approval'),
      group: Type.Optional(Type.String()),
      count: Type.Optional(Type.Integer({ minimum: 1 })),
      expiresAfter: Type.Optional(Duration),
    },
    { additionalProperties: false, description: 'waits for people to approve' },
  ),
]);
const Step = Type.Union([
  Type.Object({ type: Type.Literal('setWeight'), weight: Type.Number({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('pause'), duration: Type.Optional(Duration) }, { additionalProperties: false, description: 'no duration: until resumed' }),
  ...GateStep.anyOf,
]);
const Common = {
  rollback: Type.Optional(Type.Object({ automatic: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  windows: Type.Optional(
    Type.Object({ onClose: Type.Optional(Type.Union([Type.Literal('hold'), Type.Literal('continue')])) }, { additionalProperties: false }),
  ),
  watch: Type.Optional(
    Type.Object({ duration: Duration, analysis: Type.Optional(Type.Object(AnalysisFields, { additionalProperties: false })) }, { additionalProperties: false }),
  ),
};

export const PlanSpec = Type.Union(
  [
    Type.Object({ strategy: Type.Literal('canary'), steps: Type.Array(Step, { minItems: 1 }), ...Common }, { additionalProperties: false }),
    Type.Object(
      { strategy: Type.Literal('blue-green'), checks: Type.Optional(Type.Array(GateStep)), keepOldFor: Type.Optional(Duration), ...Common },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        strategy: Type.Literal('rolling'),
        batches: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1 }),
        check: Type.Optional(GateStep),
        interval: Type.Optional(Duration),
        ...Common,
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'PlanSpec', description: 'a release plan: every strategy compiles to steps the state machine runs' },
);

const Weekday = Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d)));
export const EnvironmentPolicy = Type.Object(
  {
    protected: Type.Optional(Type.Boolean({ description: 'releases need approvals from signed-in people' })),
    requiredApprovals: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    approverGroup: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    approvalExpiresAfter: Type.Optional(Type.Union([Type.String({ description: '"4h": 1m to 720h' }), Type.Null()])),
    serviceAccountApprovers: Type.Optional(Type.Array(Type.String(), { description: 'token names that may approve here' })),
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
        { description: 'recurring windows in which releases may move; none: always' },
      ),
    ),
    freezes: Type.Optional(
      Type.Array(
        Type.Object(
          { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), reason: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    breakGlass: Type.Optional(Type.Boolean()),
  },
  { $id: 'EnvironmentPolicy', additionalProperties: false },
);

const DOCUMENTED: Record<string, TSchema> = { PlanSpec, EnvironmentPolicy };

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
