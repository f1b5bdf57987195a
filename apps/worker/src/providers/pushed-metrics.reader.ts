import type { Histogram, RatioCounts, SideMeasurement } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import type { PushedMetricsReader } from '@glidepath/providers';

/** Sums pushed samples that lie wholly inside the window, canary version against the rest. */
export function createPushedMetricsReader(prisma: PrismaClient): PushedMetricsReader {
  return {
    async sum({ environmentId, canaryVersion, from, to }) {
      const rows = await prisma.metricSample.findMany({
        where: { environmentId, intervalStart: { gte: from }, intervalEnd: { lte: to } },
        select: { version: true, requests: true, errors: true, latencyBuckets: true, ratios: true },
      });
      const canary = rows.filter((r) => r.version === canaryVersion);
      const baseline = rows.filter((r) => r.version !== canaryVersion);
      if (canary.length === 0 || baseline.length === 0) return null;
      return { canary: total(canary), baseline: total(baseline) };
    },
  };
}

type Row = { requests: bigint; errors: bigint; latencyBuckets: unknown; ratios: unknown };

function total(rows: Row[]): SideMeasurement {
  const requests = rows.reduce((n, r) => n + Number(r.requests), 0);
  const errors = rows.reduce((n, r) => n + Number(r.errors), 0);
  // Latency only when every sample carries the same buckets; otherwise the sums would mislead.
  const bucketed = rows.map((r) => r.latencyBuckets as Array<{ le: number | null; count: number }> | null);
  let latency: Histogram | null = null;
  const first = bucketed[0];
  if (first && bucketed.every((b) => b && b.length === first.length && b.every((x, i) => x.le === first[i]!.le))) {
    latency = { buckets: first.map((b, i) => ({ le: b.le ?? Infinity, count: bucketed.reduce((n, r) => n + r![i]!.count, 0) })) };
  }
  const ratios = sumRatios(rows);
  return { requests, errors, latency, ...(Object.keys(ratios).length > 0 ? { ratios } : {}) };
}

/**
 * Each ratio summed over the samples that carry it (a sample may carry requests only, or one
 * ratio only: labelled feedback often arrives apart from the traffic it judges). A ratio no
 * sample of a side carries is absent, which the measurement checks name as no data.
 */
function sumRatios(rows: Row[]): Record<string, RatioCounts> {
  const sums = new Map<string, RatioCounts>();
  for (const row of rows) {
    for (const [name, counts] of Object.entries((row.ratios as Record<string, RatioCounts> | null) ?? {})) {
      const sum = sums.get(name) ?? { numerator: 0, denominator: 0 };
      sums.set(name, { numerator: sum.numerator + counts.numerator, denominator: sum.denominator + counts.denominator });
    }
  }
  return Object.fromEntries(sums);
}
