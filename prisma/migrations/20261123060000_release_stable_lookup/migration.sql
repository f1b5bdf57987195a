-- Every reconcile looks up what last succeeded in the release's environment (the stable version
-- traffic falls back to). Without this index that is a scan of all releases, each time.
-- Partial, which Prisma's schema cannot express: the drift test checks tables and columns only.
CREATE INDEX "release_environment_id_succeeded_idx" ON "release"("environment_id", "finished_at" DESC NULLS LAST)
    WHERE "phase" = 'succeeded';
