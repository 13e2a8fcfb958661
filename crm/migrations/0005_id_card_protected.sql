-- Version 5: identity-card numbers are no longer stored in clear. residents.id_card
-- now holds a keyed hash of the number ("hmac-sha256:<hex>", unique: a second
-- resident with the same number is still refused) and id_card_masked the masked
-- form shown everywhere (110105********002X). The key is crm.key beside the
-- database (0600). Rows written in clear before this version are converted by
-- crm.id_key.protect_existing right after this script, in one transaction.

ALTER TABLE residents ADD COLUMN id_card_masked TEXT;
