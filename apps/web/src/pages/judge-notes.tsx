import type { MetricVerdict, TestEvidence } from '../api/model.ts';
import { formatDuration } from '../format.ts';

/**
 * Per test, in words: the noise the judge measured and allowed for, how long a regression of the
 * plan's size should take to catch at this traffic, and how far it is from ruling one out (what a
 * pass needs). Verdicts stored before these fields existed show nothing here.
 */
export function JudgeNotes({ metrics }: { metrics: readonly MetricVerdict[] }) {
  const rows = metrics.flatMap((metric) => metric.tests.map((test) => ({ metric, test, notes: notesOf(test) }))).filter((r) => r.notes.length > 0);
  if (rows.length === 0) return null;
  return (
    <ul className="judge-notes" data-testid="judge-notes">
      {rows.map(({ metric, test, notes }) => (
        <li key={`${metric.name}-${test.label}`}>
          <strong>{metric.name}</strong>
          {test.label !== metric.name && <span className="muted"> · {test.label}</span>}: {notes.join('; ')}
        </li>
      ))}
    </ul>
  );
}

function notesOf(test: TestEvidence): string[] {
  const notes: string[] = [];
  const lower = test.direction === 'lower-is-worse';
  const size = (ratio: number) => (lower ? `the baseline ÷ ${round(ratio)}` : `${round(ratio)}× the baseline`);
  const pass = test.passTest;
  if (pass && test.outcome !== 'fail') {
    const share = Math.max(0, Math.min(1, pass.logEValue / pass.logThreshold));
    notes.push(
      test.outcome === 'pass'
        ? `${size(pass.rateRatio)} ruled out`
        : `${Math.round(share * 100)}% of the evidence needed to rule out ${size(pass.rateRatio)} (a pass needs it)`,
    );
  }
  const detection = test.expectedDetection;
  if (detection)
    notes.push(
      detection.seconds === null
        ? `no detection time yet: ${detection.reason ?? 'too little traffic measured'}`
        : `${size(detection.rateRatio)} would take about ${formatDuration(detection.seconds * 1000)} to catch at this traffic`,
    );
  const d = test.dispersion;
  if (d) {
    const allowed = `cv ${Math.round(d.allowedCv * 100)}%`;
    notes.push(
      d.basis === 'prior'
        ? `noise not measured yet (under two ${d.blockSeconds} s blocks): allowing for ${allowed}, each event counting 1/${round(d.varianceFactor)}`
        : d.varianceFactor > 1.005
          ? `noise measured cv ${Math.round((d.measuredCv ?? 0) * 100)}% over ${d.blocks} blocks, allowing for ${allowed}: each event counts 1/${round(d.varianceFactor)}`
          : `no noise beyond chance over ${d.blocks} blocks`,
    );
  }
  return notes;
}

const round = (x: number) => Number(x.toPrecision(3)).toString();
