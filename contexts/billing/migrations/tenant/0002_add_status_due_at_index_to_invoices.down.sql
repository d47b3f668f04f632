-- Remove the status/due date index from invoices.
DROP INDEX invoices_status_due_at_idx;
