-- A release outside its environment's deploy windows, or during a freeze, is queued: accepted,
-- holding its environment like any active release, and started when the environment opens.
ALTER TABLE "release" DROP CONSTRAINT "release_phase_known";
ALTER TABLE "release" ADD CONSTRAINT "release_phase_known"
    CHECK ("phase" IN ('pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'succeeded', 'failed', 'rolled-back', 'aborted'));
DROP INDEX "release_one_active_per_environment";
CREATE UNIQUE INDEX "release_one_active_per_environment" ON "release"("environment_id")
    WHERE "phase" IN ('pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'failed');
