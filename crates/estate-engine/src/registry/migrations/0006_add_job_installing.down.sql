ALTER TABLE estate_jobs DROP COLUMN installing;
