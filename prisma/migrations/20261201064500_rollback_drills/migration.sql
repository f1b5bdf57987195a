-- Rollback drills: an environment may say how often a rollback is rehearsed and how fast it must be
-- ({ "everyMs", "objectiveMs", "holdMs", "since" }); null runs drills on demand only.
ALTER TABLE "environment" ADD COLUMN "drills" JSONB;

-- One rehearsal of a rollback: the current version deployed to the idle slot, a small weight, then
-- all traffic back; carried by a release of its own (release_id) so that deploys, routing, audit
-- and crash safety are the release engine's.
CREATE TABLE "drill" (
    "id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "release_id" UUID,
    "trigger" TEXT NOT NULL,
    "due_at" TIMESTAMPTZ(3),
    "requested_by" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "digest" TEXT,
    "version" TEXT,
    "slot" TEXT,
    "weight" INTEGER NOT NULL,
    "hold_ms" INTEGER NOT NULL,
    "objective_ms" INTEGER NOT NULL,
    "time_to_rollback_ms" INTEGER,
    "slow" BOOLEAN NOT NULL DEFAULT false,
    "router_verified" TEXT,
    "rollback_decided_at" TIMESTAMPTZ(3),
    "rolled_back_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "drill_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "drill_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "drill_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "release"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "drill_release_id_key" ON "drill"("release_id");
CREATE INDEX "drill_environment_id_created_at_idx" ON "drill"("environment_id", "created_at" DESC);
-- A scheduled drill is made once per due time, however many workers sweep at once.
CREATE UNIQUE INDEX "drill_environment_id_due_at_key" ON "drill"("environment_id", "due_at");
-- At most one drill waits or runs per environment (Prisma cannot express a partial index).
CREATE UNIQUE INDEX "drill_one_open_per_environment" ON "drill"("environment_id") WHERE "status" IN ('waiting', 'running');

-- The built-in plan a drill's release names; its steps are the drill's own (weight and hold) in the release's state.
INSERT INTO "release_plan" ("id", "name", "version", "spec", "compiled", "created_by")
VALUES (gen_random_uuid(), 'glidepath:drill', 1,
        '{"strategy":"canary","steps":[{"type":"setWeight","weight":5},{"type":"pause","duration":"10s"}]}',
        '{"strategy":"canary","steps":[{"type":"setWeight","weight":5},{"type":"pause","durationMs":10000}],"rollback":{"automatic":true},"onWindowClose":"continue"}',
        'system:drill')
ON CONFLICT DO NOTHING;
