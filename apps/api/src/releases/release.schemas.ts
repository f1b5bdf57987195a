import { Type } from 'typebox';
import { documentedAs, OutcomeSchema, PhaseSchema, StepStatusSchema } from '../openapi/document-schemas.ts';

const Step = Type.Object({
  index: Type.Integer(),
  status: StepStatusSchema,
  attempt: Type.Integer(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  wakeAt: Type.Union([Type.String(), Type.Null()]),
  evidence: Type.Unknown({ description: "the gate's evidence: for analysis the latest Verdict, for smoke and webhook gates their attempts" }),
  approvals: Type.Array(
    Type.Object({
      actorId: Type.String({ description: 'user:<id>, or token:<id> for a service account' }),
      display: Type.Optional(Type.String({ description: 'email or token name' })),
      comment: Type.Union([Type.String(), Type.Null()]),
      at: Type.String(),
      binding: Type.Optional(
        Type.Object(
          { digest: Type.String(), environmentId: Type.String(), planVersion: Type.Integer(), evidenceHash: Type.String() },
          { description: 'what was approved' },
        ),
      ),
    }),
  ),
  spec: documentedAs('CompiledStep'),
});
const ReleaseProps = {
  id: Type.String(),
  service: Type.Object({ id: Type.String(), name: Type.String() }),
  environment: Type.Object({ id: Type.String(), name: Type.String() }),
  artifact: Type.Object({
    id: Type.String(),
    version: Type.String(),
    digest: Type.String(),
    model: Type.Union(
      [
        Type.Object({
          modelVersion: Type.Union([Type.String(), Type.Null()]),
          dataset: Type.Union([Type.String(), Type.Null()], { description: 'data set or training run reference' }),
          modelCard: Type.Union([Type.String(), Type.Null()], { description: "http(s) link to the model's card" }),
        }),
        Type.Null(),
      ],
      { description: "an ML model's release: from the artifact's metadata; null when it names no model" },
    ),
  }),
  plan: Type.Object({ id: Type.String(), name: Type.String(), version: Type.Integer(), strategy: Type.String(), automaticRollback: Type.Boolean() }),
  phase: PhaseSchema,
  stepIndex: Type.Integer(),
  canaryWeight: Type.Number(),
  reason: Type.Union([Type.String(), Type.Null()]),
  opensAt: Type.Union([Type.String(), Type.Null()], { description: 'queued: when the environment opens (deploy windows and freezes)' }),
  breakGlass: Type.Union([Type.Object({ by: Type.String(), display: Type.String(), reason: Type.String(), at: Type.String() }), Type.Null()], {
    description: 'the release runs under break-glass: windows and freezes do not hold it, approvals are skipped',
  }),
  slots: Type.Union(
    [
      Type.Object({
        live: Type.String({ description: 'the slot that served traffic when the release was created; it keeps the previous version' }),
        idle: Type.String({ description: 'the slot the release deploys to; live once it succeeds' }),
        previousReleaseId: Type.Union([Type.String(), Type.Null()], { description: 'the release whose version is on the live slot' }),
        keepPreviousUntil: Type.Union([Type.String(), Type.Null()], {
          description: 'succeeded: until when rollback switches back to the previous version at once',
        }),
        deployment: Type.Union([
          Type.Object({
            status: Type.String({ description: 'pending, running, ready or failed' }),
            attempt: Type.Integer(),
            digest: Type.Union([Type.String(), Type.Null()], { description: 'what the deployer reports on the slot' }),
            reason: Type.Union([Type.String(), Type.Null()]),
          }),
          Type.Null(),
        ]),
        switchedBack: Type.Union([Type.Object({ at: Type.String(), by: Type.String(), reason: Type.String() }), Type.Null()], {
          description: 'the release succeeded, then all traffic went back to the previous version on the other slot',
        }),
      }),
      Type.Null(),
    ],
    { description: 'slots that alternate (an environment with a deployer); null otherwise' },
  ),
  rolling: Type.Union(
    [
      Type.Object({
        batch: Type.Integer({ description: 'the batch under way or last entered, from 1 (0 before the first)' }),
        batches: Type.Integer(),
        replaced: Type.Integer({ description: "how many instances run the release's digest" }),
        instances: Type.Array(
          Type.Object({
            name: Type.String(),
            batch: Type.Integer({ description: 'the batch that replaces it, from 1' }),
            digest: Type.Union([Type.String(), Type.Null()], { description: 'what it runs as far as Glidepath knows (null: unknown, after a failed deploy)' }),
            previousDigest: Type.Union([Type.String(), Type.Null()], { description: 'what it ran before the release; a rollback puts it back' }),
            inRotation: Type.Boolean(),
            deploy: Type.Union([
              Type.Object({
                direction: Type.String({ description: "forward (the release's digest) or back (a rollback)" }),
                attempt: Type.Integer(),
                status: Type.String({ description: 'running, ready or failed' }),
                reason: Type.Union([Type.String(), Type.Null()]),
              }),
              Type.Null(),
            ]),
          }),
        ),
        rollback: Type.Union([
          Type.Object({
            reason: Type.String(),
            done: Type.Boolean(),
            notRestored: Type.Array(Type.Object({ instance: Type.String(), reason: Type.String() }), {
              description: 'instances left as they are, and why',
            }),
          }),
          Type.Null(),
        ]),
      }),
      Type.Null(),
    ],
    { description: 'instances replaced in place, batch by batch (a rolling plan on an environment with instances); null otherwise' },
  ),
  undoes: Type.Union([Type.String(), Type.Null()], { description: 'the succeeded release this one rolls back, by deploying the version before it again' }),
  undoneBy: Type.Union([Type.String(), Type.Null()], {
    description: 'the release that rolls this one back by deploying the version before it again (the newest, if several were started)',
  }),
  drill: Type.Union([Type.String(), Type.Null()], {
    description: 'the rollback drill this release carries (GET /environments/{id}/drills): it only ever rolls back, and is no deployment',
  }),
  requestedBy: Type.String(),
  version: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(Step),
};
export const Release = Type.Object(ReleaseProps, { $id: 'Release' });
export const ReleaseDetail = Type.Object(
  {
    ...ReleaseProps,
    measurements: Type.Array(
      Type.Object({
        stepIndex: Type.Integer(),
        attempt: Type.Integer(),
        seq: Type.Integer(),
        elapsedSeconds: Type.Number(),
        outcome: OutcomeSchema,
        verdict: documentedAs('Verdict'),
        measuredAt: Type.String(),
      }),
      { description: 'every look of every analysis step: the judge verdict with counts, rates, statistic, threshold and alpha' },
    ),
    history: Type.Array(
      Type.Object({
        version: Type.Integer(),
        event: documentedAs('ReleaseEvent'),
        fromPhase: PhaseSchema,
        toPhase: PhaseSchema,
        fromStep: Type.Integer(),
        toStep: Type.Integer(),
        effects: documentedAs('Effects'),
        at: Type.String(),
      }),
    ),
  },
  { $id: 'ReleaseDetail' },
);

/** Controls wait for the worker to apply them, up to `wait` ms. */
export const ControlQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, default: 5000, description: 'ms to wait for the worker to apply it' })),
});
export const ControlReply = Type.Object({
  accepted: Type.Boolean({ description: 'true: queued, not applied yet within wait' }),
  release: Type.Ref('Release'),
  requestId: Type.String({ description: 'GET /audit?requestId= lists the audit events this control caused' }),
  auditEvents: Type.Array(Type.Object({ seq: Type.String(), id: Type.String(), action: Type.String() }), {
    description: 'the audit events recorded so far for this control (none while it is only accepted)',
  }),
  rollbackRelease: Type.Optional(
    Type.Ref('Release', {
      description:
        'rollback of a succeeded release whose previous version is no longer kept on the other slot: the release that deploys that version again (its undoes names this one)',
    }),
  ),
});
