-- The request rates a marketplace announced to a connection (JSON: operation name →
-- requests per second; Amazon's x-amzn-RateLimit-Limit), so a restarted process paces at
-- them instead of the documented defaults. Not personal data, not secret. NULL: none yet.
ALTER TABLE connections ADD COLUMN announced_rates TEXT;
