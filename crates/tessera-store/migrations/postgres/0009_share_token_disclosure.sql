-- trust at redemption (selective disclosure, preview manifest).
-- disclosure: what of its source a token shares, as JSON {"fields"?, "verifications"?,
-- "documents"?} (a member left out: everything of its kind); null (every token before this
-- migration): everything.
alter table share_tokens add column disclosure text;
-- copy_digest: once redeemed, sha256 of the RFC 8785 canonical form of the data copied.
alter table share_tokens add column copy_digest text;
-- manifest_matched: once redeemed, 1 when the copy was exactly the data of the manifest whose
-- digest the redeem call sent, 0 when not; null when it sent none.
alter table share_tokens add column manifest_matched bigint check (manifest_matched in (0, 1));
