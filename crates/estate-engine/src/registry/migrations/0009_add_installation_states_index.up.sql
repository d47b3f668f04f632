-- What the installation matrix reads of every installation (the console's first frame, and
-- `estate status`), in an index of its own: a scan of these four columns reads a fifth of the
-- pages of the table, whose rows carry timestamps, a version, an error and a digest, and
-- comes in tenant order.
CREATE INDEX estate_tenant_modules_states_idx
    ON estate_tenant_modules (tenant, module, state, applied_version);
