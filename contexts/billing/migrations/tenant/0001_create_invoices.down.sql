-- Drop the invoices table.
DROP INDEX invoices_customer_user_id_idx;

DROP INDEX invoices_number_idx;

DROP TABLE invoices;
