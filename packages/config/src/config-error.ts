/**
 * Everything wrong with the environment, one line per problem (each names the variable,
 * what it got and what is allowed), so an operator fixes them all in one go.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Thrown by a value type: `got` says what was wrong without echoing a secret. */
export class Refusal extends Error {
  constructor(readonly got: string) {
    super(got);
  }
}
