-- A sign-in started to prove a recent authentication (an approval in a protected environment)
-- asks the provider for max_age, and the callback checks auth_time against it.
ALTER TABLE "oidc_login" ADD COLUMN "max_age" INTEGER;

-- A person's email beside their id on release controls, so the worker's audit events name them.
ALTER TABLE "release_inbox" ADD COLUMN "actor_name" TEXT;
