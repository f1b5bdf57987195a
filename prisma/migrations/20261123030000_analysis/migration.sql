-- Analysis: pushed metric samples, per-environment ingest keys, and every look of the judge.

ALTER TABLE "environment" ADD COLUMN "ingest_key_hash" CHAR(64);

CREATE TABLE "metric_sample" (
    "id" BIGSERIAL NOT NULL,
    "environment_id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "interval_start" TIMESTAMPTZ(3) NOT NULL,
    "interval_end" TIMESTAMPTZ(3) NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "latency_buckets" JSONB,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "metric_sample_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "metric_sample_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "metric_sample_counts" CHECK ("requests" >= 0 AND "errors" >= 0 AND "errors" <= "requests" AND "interval_end" > "interval_start")
);
CREATE INDEX "metric_sample_environment_id_interval_start_idx" ON "metric_sample"("environment_id", "interval_start");

CREATE TABLE "analysis_measurement" (
    "id" BIGSERIAL NOT NULL,
    "release_id" UUID NOT NULL,
    "step_index" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "elapsed_seconds" DOUBLE PRECISION NOT NULL,
    "outcome" TEXT NOT NULL,
    "verdict" JSONB NOT NULL,
    "judge_state" JSONB NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "analysis_measurement_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "analysis_measurement_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "release"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "analysis_measurement_release_id_step_index_attempt_seq_key" ON "analysis_measurement"("release_id", "step_index", "attempt", "seq");
