-- The release list is newest first, (created_at, id) as its cursor: walking this index gives a page
-- in order and stops after it, where the list used to read every release and sort them all.
CREATE INDEX "release_created_at_id_idx" ON "release"("created_at" DESC, "id" DESC);
