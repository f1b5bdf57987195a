-- Instances replaced in place by rolling releases: an environment names its instances (the router's
-- servers), and each instance's digest is recorded as deploys onto it succeed, so that a rollback
-- knows what to put back on it.
ALTER TABLE "environment" ADD COLUMN "instances" TEXT[] NOT NULL DEFAULT '{}';

CREATE TABLE "environment_instance" (
    "environment_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "release_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "environment_instance_pkey" PRIMARY KEY ("environment_id", "name")
);
