-- The strategy of the plan a release runs, as a column: a shadow release that succeeded served no traffic, and the
-- reads that mean "took the traffic" (what is live, the version to roll back to, upstream success, DORA) leave it out.
-- Filled from the plan each release keeps in its state; a state without one (none in practice) reads as canary.
ALTER TABLE "release" ADD COLUMN "strategy" TEXT NOT NULL DEFAULT 'canary';
UPDATE "release" SET "strategy" = COALESCE("state" #>> '{plan,strategy}', 'canary');
