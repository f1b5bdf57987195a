/** What a pipeline can branch on. Documented in the README and in `glidepath --help`. */
export const EXIT = {
  /** The release succeeded (or the command did what it was asked). */
  ok: 0,
  /** The release failed or was rolled back. */
  failed: 1,
  /** Unknown command or flag, or missing configuration (GLIDEPATH_URL, GLIDEPATH_TOKEN). */
  usage: 2,
  /** The release was aborted. */
  aborted: 3,
  /** --wait gave up after --timeout; the release goes on. */
  timedOut: 4,
  /** Glidepath refused the request (4xx): the message says why. */
  refused: 5,
  /** Glidepath could not be reached, or failed (5xx). */
  unreachable: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a given exit code and message. */
export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    /** The HTTP status Glidepath answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}
