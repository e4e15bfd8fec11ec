-- Account creation is a resumable state machine: the row is written first as 'creating'
-- (with its wrapped key), the store is made and migrated, then the row becomes 'active'.
-- Start-up migrates only the stores of 'active' and 'creating' accounts.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('creating', 'active', 'closing', 'closed'));
CREATE INDEX accounts_by_status ON accounts (status, name);
