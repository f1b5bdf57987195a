/**
 * A call the network policy refused, before any connection was made. An outcome to report
 * (gate evidence, a delivery's error, a router's failure), never worth retrying unchanged:
 * only a change of GLIDEPATH_EGRESS_* or of the registered URL makes it go.
 */
export class EgressDeniedError extends Error {
  readonly code = 'EGRESS_DENIED';
  constructor(readonly reason: string) {
    super(`refused by the network policy: ${reason}`);
    this.name = 'EgressDeniedError';
  }
}

export function isEgressDenied(error: unknown): error is EgressDeniedError {
  return error instanceof Error && (error as { code?: unknown }).code === 'EGRESS_DENIED';
}
