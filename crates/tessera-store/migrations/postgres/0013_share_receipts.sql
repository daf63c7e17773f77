-- signed share receipts (issue 17, item 6).
-- receipt: once redeemed, the compact JWS the instance signed over what the redemption copied
-- (tokens redeemed before this migration have none); copy_data: the document the receipt's
-- data-digest is taken of (exactly the data copied), removed when the destination's copy is
-- redacted.
alter table share_tokens add column receipt text;
alter table share_tokens add column copy_data text;
