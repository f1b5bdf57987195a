import type { ConfigCheck } from '@glidepath/core';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** Validates provider config against its TypeBox schema, naming each field at fault. */
export function configChecker<S extends TSchema>(schema: S) {
  const validator = Compile(schema);
  return (config: unknown): ConfigCheck<Static<S>> => {
    if (validator.Check(config)) return { ok: true, config: config as Static<S> };
    const problems = [...validator.Errors(config)].map((e) => {
      const missing = (e.params as { requiredProperties?: string[] } | undefined)?.requiredProperties;
      const path = e.instancePath.split('/').filter(Boolean).join('.');
      return { path: missing?.length ? [path, missing.join(', ')].filter(Boolean).join('.') : path || '(config)', message: e.message };
    });
    return { ok: false, problems };
  };
}
