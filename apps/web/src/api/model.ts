// The dashboard's view of the API's data: every type comes from the client generated from the
// OpenAPI document (packages/client), so a change in the API shows up here as a compile error.
import type { components, paths } from '@glidepath/client';

type Schemas = components['schemas'];
/** The JSON body of a 200 reply of `method path`. */
type Reply<P extends keyof paths, M extends 'get' | 'post'> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer T } } } }
  ? T
  : never;

export type AuditEvent = Schemas['AuditEvent'];
export type AuditPage = Reply<'/api/v1/audit', 'get'>;
export type ChainVerification = Reply<'/api/v1/audit/verify', 'get'>;
export type Readiness = Reply<'/readyz', 'get'>;
export type DependencyCheck = Readiness['checks']['postgres'];

export type Release = Schemas['Release'];
export type ReleaseDetail = Schemas['ReleaseDetail'];
export type ReleasePage = Reply<'/api/v1/releases', 'get'>;
export type Phase = Release['phase'];
export type ReleaseStep = Release['steps'][number];
export type StepStatus = ReleaseStep['status'];
/** The compiled plan's step: durations in ms, defaults filled in. */
export type StepSpec = Schemas['CompiledStep'];
export type Measurement = ReleaseDetail['measurements'][number];
export type Transition = ReleaseDetail['history'][number];
export type Verdict = Schemas['Verdict'];
export type MetricVerdict = Schemas['MetricVerdict'];
export type TestEvidence = MetricVerdict['tests'][number];
export type SideCounts = TestEvidence['canary'];
export type Outcome = Verdict['outcome'];
export type MetricKind = MetricVerdict['kind'];

/** Live stream messages (GET /api/v1/stream): `{ type, data }`. */
export interface StreamMessage {
  type: string;
  data: unknown;
}
export type ReleaseUpdate = Schemas['ReleaseUpdate'];
export type AnalysisMeasured = Schemas['AnalysisMeasured'];

export const PHASES = [
  'pending',
  'queued',
  'awaiting-approval',
  'progressing',
  'paused',
  'succeeded',
  'failed',
  'rolled-back',
  'aborted',
] as const satisfies readonly Phase[];
/** Phases whose release has ended: its finishedAt is set. (`failed` is not one: its traffic split still stands.) */
export const TERMINAL_PHASES: readonly Phase[] = ['succeeded', 'rolled-back', 'aborted'];

export type Service = Schemas['Service'];
export type Environment = Schemas['Environment'];
export type Drill = Schemas['Drill'];
export type EnvironmentPolicy = Schemas['EnvironmentPolicy'];
export type Artifact = Schemas['Artifact'];
export type Plan = Schemas['Plan'];
export type PlanVersion = Reply<'/api/v1/plans/{name}/versions', 'get'>['items'][number];
export type BoardService = Reply<'/api/v1/board', 'get'>['items'][number];
export type BoardEnvironment = BoardService['environments'][number];
export type InboxItem = Reply<'/api/v1/approvals', 'get'>['items'][number];
export type Me = Reply<'/api/v1/me', 'get'>;
export type ScopedRole = Me['roles'][number];
export type SsoStatus = Reply<'/auth/status', 'get'>;
export type ControlResult = Reply<'/api/v1/releases/{id}/pause', 'post'>;
export type DoraReply = Reply<'/api/v1/dora', 'get'>;
export type ApiToken = Schemas['ApiToken'];
