-- Slots that alternate: an environment with a deployer deploys each release to its idle slot, and
-- the succeeded release's slot becomes live; the previous version stays on the other one for a while.
ALTER TABLE "environment" ADD COLUMN "deployer" JSONB;
ALTER TABLE "environment" ADD COLUMN "slots" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "environment" ADD COLUMN "keep_previous_for_ms" INTEGER;

CREATE TABLE "environment_slot_state" (
    "environment_id" UUID NOT NULL,
    "live_slot" TEXT NOT NULL,
    "live_release_id" UUID,
    "previous_release_id" UUID,
    "previous_kept_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "environment_slot_state_pkey" PRIMARY KEY ("environment_id")
);

-- A rollback that could no longer switch back starts a release of the previous version: it names the release it undoes.
ALTER TABLE "release" ADD COLUMN "undoes_release_id" UUID;
