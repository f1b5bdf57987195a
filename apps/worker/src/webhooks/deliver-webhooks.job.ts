import { JOB } from '@glidepath/core';
import { Type } from 'typebox';
import { defineJob } from '../jobs/job-catalogue.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import { sendDueWebhooks } from './webhook-sender.ts';

const Payload = Type.Object({ subscriptionId: Type.String({ minLength: 1 }), orderingKey: Type.String({ minLength: 1 }) }, { additionalProperties: false });

export const deliverWebhooksJob = defineJob<typeof Payload, WorkerDeps>({
  name: JOB.deliverWebhooks,
  payload: Payload,
  handle: (payload, { deps, log }) => sendDueWebhooks({ ...deps, log, config: deps.webhookConfig }, payload.subscriptionId, payload.orderingKey),
});
