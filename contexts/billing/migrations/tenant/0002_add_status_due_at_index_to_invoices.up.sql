-- Index invoices by status and due date to find overdue ones quickly.
CREATE INDEX invoices_status_due_at_idx ON invoices (status, due_at);
