-- People and what they may do: users from OpenID Connect sign-in, groups, server-side sessions,
-- pending sign-ins, and role bindings for users, groups and service-account tokens.

CREATE TABLE "app_user" (
    "id" UUID NOT NULL,
    "issuer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "email" TEXT,
    "name" TEXT,
    "idp_groups" TEXT[] NOT NULL DEFAULT '{}',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMPTZ(3),
    "deactivated_at" TIMESTAMPTZ(3),
    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "app_user_issuer_subject_key" ON "app_user"("issuer", "subject");

-- Groups assigned in Glidepath, beside those the identity provider sends.
CREATE TABLE "group_member" (
    "group_name" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "added_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "group_member_pkey" PRIMARY KEY ("group_name", "user_id"),
    CONSTRAINT "group_member_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE
);
CREATE INDEX "group_member_user_id_idx" ON "group_member"("user_id");

-- Only the sha256 of the cookie's secret is kept, so a leaked table opens no session.
CREATE TABLE "user_session" (
    "id" UUID NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "user_id" UUID NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "auth_time" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_reason" TEXT,
    "user_agent" TEXT,
    CONSTRAINT "user_session_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "user_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "user_session_token_hash_key" ON "user_session"("token_hash");
CREATE INDEX "user_session_user_id_idx" ON "user_session"("user_id");

-- A sign-in under way: state, nonce and PKCE verifier, found by the hash of a cookie the
-- browser that started it holds, and deleted when used (a replayed callback finds nothing).
CREATE TABLE "oidc_login" (
    "id" CHAR(64) NOT NULL,
    "state" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "return_to" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "oidc_login_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "oidc_login_created_at_idx" ON "oidc_login"("created_at");

-- subject_type user: subject_id is a user id; group: a group name; token: an api_token id.
-- No service and no environment: global; a service: all its environments; both: one environment.
CREATE TABLE "role_binding" (
    "id" UUID NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "service_id" UUID,
    "environment_id" UUID,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "role_binding_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "role_binding_subject_type_known" CHECK ("subject_type" IN ('user', 'group', 'token')),
    CONSTRAINT "role_binding_role_known" CHECK ("role" IN ('viewer', 'deployer', 'approver', 'admin')),
    CONSTRAINT "role_binding_environment_needs_service" CHECK ("environment_id" IS NULL OR "service_id" IS NOT NULL),
    CONSTRAINT "role_binding_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE,
    CONSTRAINT "role_binding_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "role_binding_grant_key" ON "role_binding"("subject_type", "subject_id", "role", "service_id", "environment_id") NULLS NOT DISTINCT;
CREATE INDEX "role_binding_subject_idx" ON "role_binding"("subject_type", "subject_id");

-- Tokens become service accounts: their rights are role bindings, they may expire, and a token
-- a person created stops with that person.
ALTER TABLE "api_token" ADD COLUMN "expires_at" TIMESTAMPTZ(3);
ALTER TABLE "api_token" ADD COLUMN "created_by" TEXT NOT NULL DEFAULT 'system';
ALTER TABLE "api_token" ADD COLUMN "owner_user_id" UUID REFERENCES "app_user"("id");
INSERT INTO "role_binding" ("id", "subject_type", "subject_id", "role", "created_by")
    SELECT gen_random_uuid(), 'token', "id"::text, "role", 'migration' FROM "api_token";
ALTER TABLE "api_token" DROP COLUMN "role";

-- A person in the audit log is their user id (stable) and their email (readable); hashed only
-- when present, so events written before this column still verify.
ALTER TABLE "audit_event" ADD COLUMN "actor_name" TEXT;
