import { createHash } from 'node:crypto';
import { JOB, QUEUE_NAME, deployJobId, gateJobId, reconcileJobId } from '@glidepath/core';
import { Queue } from 'bullmq';

export interface JobQueueOptions {
  redisUrl: string;
  /** Redis key prefix: separate installations (or test runs) sharing one Redis. */
  prefix: string;
  /**
   * Give up on an enqueue after this many ms and report it instead of throwing. For the API:
   * the change is already committed in PostgreSQL and the workers' sweeper will find it, so
   * a request must not hang while Redis is away.
   */
  bestEffortMs?: number;
  onEnqueueError?: (error: Error) => void;
}

/**
 * BullMQ runs jobs without a priority before any prioritised one. Starts get one, so a burst of
 * new releases from CI never delays a running release's next step or an operator's rollback.
 */
export const START_PRIORITY = 10;

/**
 * Enqueues the release jobs. Ids are deterministic so that a repeated trigger is a no-op;
 * finished jobs are kept for an hour, long enough for that de-duplication to matter.
 */
export function createJobQueue(options: JobQueueOptions) {
  const queue = new Queue(QUEUE_NAME, {
    connection: { url: options.redisUrl, maxRetriesPerRequest: null },
    prefix: options.prefix,
    defaultJobOptions: {
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
      attempts: 20,
      backoff: { type: 'exponential', delay: 200 },
    },
  });
  queue.on('error', (error) => options.onEnqueueError?.(error));
  const enqueue = async (add: () => Promise<unknown>): Promise<void> => {
    if (!options.bestEffortMs) {
      await add();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not take the job within ${options.bestEffortMs} ms`)), options.bestEffortMs);
    });
    try {
      await Promise.race([add(), timeout]);
    } catch (error) {
      options.onEnqueueError?.(error as Error);
    } finally {
      clearTimeout(timer);
    }
  };
  const addReconcile = (releaseId: string, trigger: string, options: { delay?: number; priority?: number }) =>
    enqueue(() => queue.add(JOB.reconcileRelease, { releaseId }, { jobId: reconcileJobId(releaseId, trigger), ...options }));
  return {
    queue,
    reconcile(releaseId: string, trigger: string, delayMs = 0) {
      return addReconcile(releaseId, trigger, { delay: Math.max(0, delayMs) });
    },
    /** The first reconcile of a new release: it waits behind timers, verdicts and controls of releases already running. */
    startRelease(releaseId: string, trigger: string) {
      return addReconcile(releaseId, trigger, { priority: START_PRIORITY });
    },
    /** `round` tells repeated runs of one gate apart: an analysis' next look, a lease that ran out. */
    runGate(releaseId: string, stepIndex: number, attempt: number, round?: string, delayMs = 0) {
      const jobId = gateJobId(releaseId, stepIndex, attempt) + (round ? `.${round}` : '');
      return enqueue(() => queue.add(JOB.runGate, { releaseId, stepIndex, attempt }, { jobId, attempts: 3, delay: Math.max(0, delayMs) }));
    },
    /**
     * Puts a release's artifact on its idle slot (attempt = the deploy attempt). `round` tells a re-ask
     * after a lease apart; the deployer answers every ask of one attempt for the same deployment.
     * Not retried by BullMQ on an error: the reconciler's lease asks again.
     */
    runDeploy(releaseId: string, attempt: number, round?: string) {
      const jobId = deployJobId(releaseId, attempt) + (round ? `.${round}` : '');
      return enqueue(() => queue.add(JOB.runDeploy, { releaseId, attempt }, { jobId, attempts: 3 }));
    },
    /** Puts a digest on one instance of a rolling release (attempt = that instance's deploy attempt); like runDeploy otherwise. */
    runInstanceDeploy(releaseId: string, instance: string, attempt: number, round?: string) {
      const jobId = `${deployJobId(releaseId, attempt)}.${instance}` + (round ? `.${round}` : '');
      return enqueue(() => queue.add(JOB.runDeploy, { releaseId, attempt, instance }, { jobId, attempts: 3 }));
    },
    /**
     * Sends what is due for one subscription and ordering key (webhooks). `trigger` makes the
     * id: one job per poll round or per scheduled retry, never a pile of them.
     */
    deliverWebhooks(subscriptionId: string, orderingKey: string, trigger: string, delayMs = 0) {
      const key = createHash('sha1').update(orderingKey).digest('hex').slice(0, 16);
      return enqueue(() =>
        queue.add(
          JOB.deliverWebhooks,
          { subscriptionId, orderingKey },
          { jobId: `webhook.${subscriptionId}.${key}.${trigger}`, attempts: 3, delay: Math.max(0, delayMs) },
        ),
      );
    },
    /** Waits for pending adds, but not forever: with Redis unreachable BullMQ's close never settles. */
    async close() {
      await Promise.race([queue.close(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}
export type JobQueue = ReturnType<typeof createJobQueue>;
