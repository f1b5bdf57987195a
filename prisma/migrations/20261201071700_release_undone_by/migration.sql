-- A release undone by a glidepath:rollback release names it (undoneBy in its JSON): the reads look
-- the rollback release up by the release it undoes, for every release of a page.
CREATE INDEX "release_undoes_release_id_idx" ON "release"("undoes_release_id");
