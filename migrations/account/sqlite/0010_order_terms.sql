-- Issue 14: the order model grows. Existing rows keep every value; the new columns start
-- empty (NULL) and fill on the next update from the marketplace.
-- Who ships the order: 'seller' or 'marketplace' (FBB/AFN orders must not be shipped by
-- the seller); business data in clear.
ALTER TABLE orders ADD COLUMN fulfilment_method TEXT;
-- Business terms as JSON (pickup-point flag, delivery window, cancellation request,
-- customer reference, payment status, money breakdown); no personal data.
ALTER TABLE orders ADD COLUMN terms TEXT;
-- New personal fields, each its own AES-SIV ciphertext bound to the row: billing email,
-- buyer username, pickup point (name and address).
ALTER TABLE orders ADD COLUMN billing_email_ct BLOB;
ALTER TABLE orders ADD COLUMN buyer_ct BLOB;
ALTER TABLE orders ADD COLUMN pickup_ct BLOB;
