-- Pseudonymization and subject rights (issue 5).
-- Orders still holding personal data, by id: the sweep and the privacy summary walk only
-- these (a month or so of orders), never the pseudonymized history.
CREATE INDEX orders_not_pseudonymized ON orders (id) WHERE pseudonymized_at IS NULL;
-- Subject export and erasure find a customer's pseudonymized orders by pseudonym.
CREATE INDEX orders_by_pseudonym ON orders (pseudonym) WHERE pseudonym IS NOT NULL;
