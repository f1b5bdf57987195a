-- A sign-in started to prove a recent authentication (an approval in a protected environment)
-- asks the provider for max_age, and the callback checks auth_time against it.
ALTER TABLE "oidc_login" ADD COLUMN "max_age" INTEGER;
