-- Audit log and services. The audit log is append-only: a trigger refuses UPDATE, DELETE
-- and TRUNCATE, so even a compromised application role cannot rewrite history quietly.

CREATE TYPE "ActorType" AS ENUM ('user', 'token', 'system');

CREATE TABLE "audit_event" (
    "seq" BIGINT NOT NULL,
    "id" UUID NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "environment_id" TEXT,
    "before" JSONB,
    "after" JSONB,
    "payload" JSONB,
    "reason" TEXT,
    "request_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "prev_hash" CHAR(64) NOT NULL,
    "hash" CHAR(64) NOT NULL,
    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("seq")
);

CREATE UNIQUE INDEX "audit_event_id_key" ON "audit_event"("id");
CREATE UNIQUE INDEX "audit_event_hash_key" ON "audit_event"("hash");
CREATE INDEX "audit_event_action_idx" ON "audit_event"("action");
CREATE INDEX "audit_event_subject_type_subject_id_idx" ON "audit_event"("subject_type", "subject_id");
CREATE INDEX "audit_event_environment_id_idx" ON "audit_event"("environment_id");
CREATE INDEX "audit_event_created_at_idx" ON "audit_event"("created_at");

CREATE FUNCTION "audit_event_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_event_append_only"
    BEFORE UPDATE OR DELETE ON "audit_event"
    FOR EACH ROW EXECUTE FUNCTION "audit_event_refuse_change"();

CREATE TRIGGER "audit_event_no_truncate"
    BEFORE TRUNCATE ON "audit_event"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_refuse_change"();

CREATE TABLE "service" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "owners" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "service_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "service_name_key" ON "service"("name");
