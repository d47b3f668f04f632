DROP TABLE estate_job_tenants;
