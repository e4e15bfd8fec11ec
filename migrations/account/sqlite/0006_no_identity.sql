-- PostgreSQL-only change (identity columns become sequence defaults, for Citus); SQLite
-- has no identity columns. Kept so both backends share version numbers.
SELECT 1;
