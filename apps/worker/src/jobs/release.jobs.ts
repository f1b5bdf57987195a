import { JOB } from '@glidepath/core';
import { Type } from 'typebox';
import { reconcileRelease } from '../releases/release-reconciler.ts';
import { runDeploy } from '../releases/run-deploy.ts';
import { runGate } from '../releases/run-gate.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import { defineJob } from './job-catalogue.ts';

export const reconcileReleaseJob = defineJob<ReturnType<typeof payloadOfReconcile>, WorkerDeps>({
  name: JOB.reconcileRelease,
  payload: payloadOfReconcile(),
  handle: ({ releaseId }, { deps, log }) => reconcileRelease({ ...deps, log }, releaseId),
});

export const runGateJob = defineJob<ReturnType<typeof payloadOfGate>, WorkerDeps>({
  name: JOB.runGate,
  payload: payloadOfGate(),
  handle: (payload, { deps, log }) => runGate({ ...deps, log }, payload),
});

export const runDeployJob = defineJob<ReturnType<typeof payloadOfDeploy>, WorkerDeps>({
  name: JOB.runDeploy,
  payload: payloadOfDeploy(),
  handle: (payload, { deps, log }) => runDeploy({ ...deps, log }, payload),
});

function payloadOfDeploy() {
  return Type.Object(
    {
      releaseId: Type.String({ format: 'uuid' }),
      attempt: Type.Integer({ minimum: 1 }),
      /** A rolling release's instance; absent for a deploy onto the idle slot. */
      instance: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    },
    { additionalProperties: false },
  );
}
function payloadOfReconcile() {
  return Type.Object({ releaseId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
}
function payloadOfGate() {
  return Type.Object(
    { releaseId: Type.String(), stepIndex: Type.Integer({ minimum: 0 }), attempt: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false },
  );
}
