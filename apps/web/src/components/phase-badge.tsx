import type { Outcome, Phase, StepStatus } from '../api/model.ts';

const phaseLabel: Record<Phase, string> = {
  pending: 'pending',
  queued: 'queued',
  'awaiting-approval': 'awaiting approval',
  progressing: 'progressing',
  paused: 'paused',
  succeeded: 'succeeded',
  failed: 'failed',
  'rolled-back': 'rolled back',
  aborted: 'aborted',
};

/** A release's phase as a coloured badge; the colours are in styles.css (.badge-<phase>). */
export function PhaseBadge({ phase }: { phase: Phase }) {
  return (
    <span className={`badge badge-${phase}`} data-testid="phase-badge" data-phase={phase}>
      {phaseLabel[phase] ?? phase}
    </span>
  );
}

export function StepStatusBadge({ status }: { status: StepStatus }) {
  return <span className={`badge badge-step-${status}`}>{status}</span>;
}

export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return <span className={`badge badge-outcome-${outcome}`}>{outcome}</span>;
}
