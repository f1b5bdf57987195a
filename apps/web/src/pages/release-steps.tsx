import { TERMINAL_PHASES, type Release, type ReleaseStep } from '../api/model.ts';
import { StepStatusBadge } from '../components/phase-badge.tsx';
import { Actor } from '../components/short-id.tsx';
import { durationBetween, formatDateTime, formatWhen } from '../format.ts';
import { summarizeStep } from './step-summary.ts';

export function ReleaseSteps({ release }: { release: Release }) {
  const active = !TERMINAL_PHASES.includes(release.phase);
  return (
    <section className="card">
      <h2>Steps</h2>
      <ol className="steps" data-testid="release-steps">
        {release.steps.map((step) => (
          <StepItem
            key={step.index}
            step={step}
            current={active && step.index === release.stepIndex}
            batch={release.rolling ? release.steps.slice(0, step.index + 1).filter((s) => s.spec.type === 'setWeight').length : null}
          />
        ))}
      </ol>
    </section>
  );
}

/** `batch`: on instances (a rolling release), a setWeight step replaces a batch: its number from 1. */
function StepItem({ step, current, batch }: { step: ReleaseStep; current: boolean; batch: number | null }) {
  const summary = summarizeStep(step.spec);
  const { title, detail } =
    batch !== null && step.spec.type === 'setWeight' ? { title: `batch ${batch}: ${step.spec.weight}% of instances`, detail: summary.detail } : summary;
  const note = evidenceNote(step.evidence);
  return (
    <li className={`step step-${step.status}${current ? ' current' : ''}`} data-testid="release-step" aria-current={current ? 'step' : undefined}>
      <span className="step-marker">{step.index + 1}</span>
      <div className="step-body">
        <div className="step-line">
          <code className="step-title">{title}</code>
          <StepStatusBadge status={step.status} />
          {step.attempt > 1 && <span className="muted">attempt {step.attempt}</span>}
        </div>
        {detail && <div className="muted step-detail">{detail}</div>}
        {note && <div className="step-detail">{note}</div>}
        {step.approvals.length > 0 && (
          <ul className="approvals">
            {step.approvals.map((approval) => (
              <li key={`${approval.actorId}-${approval.at}`}>
                approved by {approval.display ? <span title={approval.actorId}>{approval.display}</span> : <Actor actorId={approval.actorId} />}{' '}
                <span className="muted">at {formatWhen(approval.at)}</span>
                {approval.comment && <span className="muted">: “{approval.comment}”</span>}
                {approval.comment && <span>: “{approval.comment}”</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <StepTiming step={step} />
    </li>
  );
}

function StepTiming({ step }: { step: ReleaseStep }) {
  if (!step.startedAt) return <span className="step-timing muted">—</span>;
  return (
    <span className="step-timing" title={`started ${formatDateTime(step.startedAt)}${step.finishedAt ? `, finished ${formatDateTime(step.finishedAt)}` : ''}`}>
      <span>{formatWhen(step.startedAt)}</span>
      {step.finishedAt ? (
        <span className="muted">took {durationBetween(step.startedAt, step.finishedAt)}</span>
      ) : step.wakeAt ? (
        <span className="muted">until {formatWhen(step.wakeAt)}</span>
      ) : (
        <span className="muted">running</span>
      )}
    </span>
  );
}

/** Gates store their evidence on the step; show its one-line reason when it has one. */
function evidenceNote(evidence: unknown): string | null {
  if (!evidence || typeof evidence !== 'object') return null;
  const { reason, summary } = evidence as { reason?: unknown; summary?: unknown };
  const text = typeof summary === 'string' ? summary : typeof reason === 'string' ? reason : null;
  return text;
}
