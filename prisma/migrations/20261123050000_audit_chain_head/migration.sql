-- The end of the audit chain, in one row that a trigger keeps equal to the newest event. An
-- appender takes its turn by locking this row, and the same statement gives it the seq and hash
-- to link to: one round trip where the advisory lock needed two (lock, then read the newest
-- event), and the chain lock is what every audited change in every process waits on.
CREATE TABLE "audit_chain_head" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "seq" BIGINT NOT NULL,
    "hash" CHAR(64) NOT NULL,
    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_chain_head_one_row" CHECK ("id")
);

INSERT INTO "audit_chain_head" ("id", "seq", "hash")
SELECT true, coalesce(max("seq"), 0),
       coalesce((SELECT "hash" FROM "audit_event" ORDER BY "seq" DESC LIMIT 1), repeat('0', 64))
  FROM "audit_event";

-- In the database rather than in the appender, so the head follows every insert whatever made it.
CREATE FUNCTION "audit_chain_head_follow"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "audit_chain_head" SET "seq" = NEW."seq", "hash" = NEW."hash";
    RETURN NULL;
END;
$$;

CREATE TRIGGER "audit_event_moves_chain_head"
    AFTER INSERT ON "audit_event"
    FOR EACH ROW EXECUTE FUNCTION "audit_chain_head_follow"();
