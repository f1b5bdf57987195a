-- Outbound event webhooks: subscriptions (secrets encrypted), one delivery per subscription and
-- audit event, every attempt logged, and the outbox's place in the audit log.

CREATE TABLE "webhook_subscription" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[] NOT NULL,
    "service_id" UUID,
    "environment_id" UUID,
    "secret_ciphertext" TEXT NOT NULL,
    "previous_ciphertext" TEXT,
    "previous_expires_at" TIMESTAMPTZ(3),
    "active" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_subscription_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "webhook_delivery" (
    "id" UUID NOT NULL,
    "subscription_id" UUID NOT NULL,
    "audit_seq" BIGINT NOT NULL,
    "event_type" TEXT NOT NULL,
    "ordering_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_delivery_status_known" CHECK ("status" IN ('pending', 'delivered', 'failed')),
    CONSTRAINT "webhook_delivery_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscription"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "webhook_delivery_subscription_id_audit_seq_key" ON "webhook_delivery"("subscription_id", "audit_seq");
CREATE INDEX "webhook_delivery_status_next_attempt_at_idx" ON "webhook_delivery"("status", "next_attempt_at");
CREATE INDEX "webhook_delivery_subscription_id_ordering_key_audit_seq_idx" ON "webhook_delivery"("subscription_id", "ordering_key", "audit_seq");

CREATE TABLE "webhook_attempt" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "status_code" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "error" TEXT,
    "manual" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "webhook_attempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_attempt_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_delivery"("id") ON DELETE CASCADE
);
CREATE INDEX "webhook_attempt_delivery_id_idx" ON "webhook_attempt"("delivery_id");

-- Subscriptions made later hear only what happens after them: the outbox starts at the log's end.
CREATE TABLE "webhook_cursor" (
    "id" INTEGER NOT NULL,
    "last_seq" BIGINT NOT NULL,
    CONSTRAINT "webhook_cursor_pkey" PRIMARY KEY ("id")
);
INSERT INTO "webhook_cursor" ("id", "last_seq") SELECT 1, COALESCE(MAX("seq"), 0) FROM "audit_event";
