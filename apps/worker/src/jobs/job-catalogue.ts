import type { Job } from 'bullmq';
import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import type { Logger } from 'pino';

export const QUEUE_NAME = 'glidepath';

/** A job: its payload schema, checked before the handler runs, and the handler. */
export interface JobDefinition<S extends TSchema, D> {
  name: string;
  payload: S;
  handle(payload: Static<S>, context: { job: Job; log: Logger; deps: D }): Promise<unknown>;
}

export function defineJob<S extends TSchema, D>(definition: JobDefinition<S, D>): JobDefinition<S, D> {
  return definition;
}

export class UnknownJobError extends Error {}

/** Dispatches a BullMQ job to its definition, rejecting unknown names and bad payloads. */
export function createDispatcher<D>(definitions: JobDefinition<TSchema, D>[], deps: D, log: Logger) {
  const byName = new Map(definitions.map((d) => [d.name, { definition: d, validator: Compile(d.payload) }]));
  return async (job: Job) => {
    const entry = byName.get(job.name);
    if (!entry) throw new UnknownJobError(`no job named "${job.name}" in the catalogue`);
    if (!entry.validator.Check(job.data)) {
      const problems = [...entry.validator.Errors(job.data)].map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new UnknownJobError(`job ${job.name} has an invalid payload: ${problems}`);
    }
    return entry.definition.handle(job.data as never, { job, log: log.child({ jobId: job.id, job: job.name }), deps });
  };
}
