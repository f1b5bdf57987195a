import type { StepSpec } from '../api/model.ts';
import { formatDuration } from '../format.ts';

/** One line for a plan step ("setWeight 10%", "pause 10s"), and its settings in words when it has some. */
export function summarizeStep(spec: StepSpec): { title: string; detail: string | null } {
  switch (spec.type) {
    case 'setWeight':
      return { title: `setWeight ${spec.weight}%`, detail: null };
    case 'pause':
      return {
        title: spec.durationMs === null ? 'pause' : `pause ${formatDuration(spec.durationMs)}`,
        detail: spec.durationMs === null ? 'until resumed' : null,
      };
    case 'hold':
      return { title: `hold ${formatDuration(spec.durationMs)}`, detail: 'the old version stays up for an instant rollback' };
    case 'approval':
      return {
        title: 'approval',
        detail: [
          `${spec.count} approval${spec.count === 1 ? '' : 's'}`,
          spec.group && `from ${spec.group}`,
          spec.expiresAfterMs !== null && `expires after ${formatDuration(spec.expiresAfterMs)}`,
        ]
          .filter(Boolean)
          .join(' '),
      };
    case 'analysis':
      return {
        title: spec.watch ? 'analysis (watch)' : 'analysis',
        detail: [
          spec.metrics
            .map((m) => (m.direction === 'lower-is-worse' ? `${m.name} ≥ baseline ÷ ${m.tolerance}` : `${m.name} ≤ ${m.tolerance}× baseline`))
            .join(', '),
          `every ${formatDuration(spec.intervalMs)}`,
          `${formatDuration(spec.minDurationMs)}–${formatDuration(spec.maxDurationMs)}`,
          `α ${spec.alpha}`,
        ]
          .filter(Boolean)
          .join(' · '),
      };
    case 'smoke':
      return {
        title: `smoke ${spec.checks.length} check${spec.checks.length === 1 ? '' : 's'}`,
        detail: spec.checks.map((c) => `${c.path} → ${c.expectStatus}`).join(', '),
      };
    case 'webhook':
      return { title: 'webhook', detail: hostOf(spec.url) };
    case 'shadow': {
      const differences = spec.metrics.find((m) => m.name === 'differences');
      return {
        title: 'shadow',
        detail: [
          `copies ${spec.methods.join(', ')} via ${hostOf(spec.mirrorUrl)}`,
          differences && `differences ≤ ${differences.tolerance}× live's own`,
          `every ${formatDuration(spec.intervalMs)}`,
          `${formatDuration(spec.minDurationMs)}–${formatDuration(spec.maxDurationMs)}`,
        ]
          .filter(Boolean)
          .join(' · '),
      };
    }
    default:
      return { title: (spec as { type: string }).type, detail: null };
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
