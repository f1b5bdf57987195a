-- Smoke steps check the environment over HTTP at this address.
ALTER TABLE "environment" ADD COLUMN "smoke_base_url" TEXT;
