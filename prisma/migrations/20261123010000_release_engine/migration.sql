-- Release engine: environments, artifacts, plans, releases and their history.

CREATE TABLE "environment" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "require_upstream_success" BOOLEAN NOT NULL,
    "target" JSONB NOT NULL,
    "metrics" JSONB,
    "policy" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "environment_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "environment_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "environment_service_id_name_key" ON "environment"("service_id", "name");
CREATE UNIQUE INDEX "environment_service_id_position_key" ON "environment"("service_id", "position");

CREATE TABLE "artifact" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "commit_sha" TEXT,
    "build_url" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "artifact_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "artifact_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "artifact_digest_format" CHECK ("digest" ~ '^sha256:[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX "artifact_service_id_version_key" ON "artifact"("service_id", "version");
CREATE INDEX "artifact_digest_idx" ON "artifact"("digest");

CREATE TABLE "release_plan" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "compiled" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "release_plan_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "release_plan_name_version_key" ON "release_plan"("name", "version");

CREATE TABLE "release" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "artifact_id" UUID NOT NULL,
    "plan_id" UUID NOT NULL,
    "phase" TEXT NOT NULL,
    "step_index" INTEGER NOT NULL,
    "state" JSONB NOT NULL,
    "version" INTEGER NOT NULL,
    "requested_by" TEXT NOT NULL,
    "reason" TEXT,
    "wake_at" TIMESTAMPTZ(3),
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "release_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "release_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "release_plan"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_phase_known" CHECK ("phase" IN ('pending', 'awaiting-approval', 'progressing', 'paused', 'succeeded', 'failed', 'rolled-back', 'aborted'))
);
CREATE UNIQUE INDEX "release_idempotency_key_key" ON "release"("idempotency_key");
CREATE INDEX "release_service_id_environment_id_created_at_idx" ON "release"("service_id", "environment_id", "created_at");
CREATE INDEX "release_phase_wake_at_idx" ON "release"("phase", "wake_at");
-- One active release per environment, enforced by the database itself (Prisma cannot express a partial index).
CREATE UNIQUE INDEX "release_one_active_per_environment" ON "release"("environment_id")
    WHERE "phase" IN ('pending', 'awaiting-approval', 'progressing', 'paused', 'failed');

CREATE TABLE "release_inbox" (
    "id" BIGSERIAL NOT NULL,
    "release_id" UUID NOT NULL,
    "event" JSONB NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "request_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    "outcome" TEXT,
    CONSTRAINT "release_inbox_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "release_inbox_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "release"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "release_inbox_release_id_processed_at_idx" ON "release_inbox"("release_id", "processed_at");

CREATE TABLE "release_transition" (
    "id" BIGSERIAL NOT NULL,
    "release_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "event" JSONB NOT NULL,
    "from_phase" TEXT NOT NULL,
    "to_phase" TEXT NOT NULL,
    "from_step" INTEGER NOT NULL,
    "to_step" INTEGER NOT NULL,
    "effects" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "release_transition_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "release_transition_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "release"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "release_transition_release_id_version_key" ON "release_transition"("release_id", "version");

CREATE TABLE "recorded_effect" (
    "id" BIGSERIAL NOT NULL,
    "router_key" TEXT NOT NULL,
    "release_id" TEXT NOT NULL,
    "effect_key" TEXT NOT NULL,
    "effect" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "recorded_effect_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "recorded_effect_release_id_idx" ON "recorded_effect"("release_id");
