-- The modules a running job may install or upgrade (comma-separated; NULL for a rollback).
-- A rollback about to revert a module's landlord scope reads it: a job that may still put the
-- module on a tenant keeps that landlord scope in place (see jobs/landlord.rs).
ALTER TABLE estate_jobs ADD COLUMN installing TEXT;
