-- Create the invoices table.
CREATE TABLE invoices (
    id VARCHAR(36) PRIMARY KEY,
    number VARCHAR(50) NOT NULL,
    customer_user_id VARCHAR(36) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency CHAR(3) NOT NULL,
    amount_cents BIGINT NOT NULL DEFAULT 0,
    issued_at TIMESTAMP,
    due_at TIMESTAMP,
    paid_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX invoices_number_idx ON invoices (number);

CREATE INDEX invoices_customer_user_id_idx ON invoices (customer_user_id);
