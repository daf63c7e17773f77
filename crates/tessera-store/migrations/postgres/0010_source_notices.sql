-- notices after redemption (trust at redemption, section 3).
-- source_status: what the source organization did to a redeemed copy's source since the copy was
-- made, set by the notify_source_change job: 'redacted' or 'revoked' (null until then: the copy is
-- 'current'; inquiries that are no copies show none). source_status_changed_at: when the source
-- changed.
alter table inquiries add column source_status text check (source_status in ('current', 'redacted', 'revoked'));
alter table inquiries add column source_status_changed_at bigint;

-- the destination's policy for a copy whose source was redacted: keep it, or redact it too.
alter table inquiry_templates add column on_source_redaction text not null default 'keep'
    check (on_source_redaction in ('keep', 'redact'));

-- a verification or document redacted on its own (persona's "redact a verification", tessera's
-- document redaction) or with its inquiry: when. redacting again changes nothing.
alter table verifications add column redacted_at bigint;
alter table documents add column redacted_at bigint;

-- a redaction or a deactivation finds the tokens whose destinations must be told.
create index share_tokens_by_source_inquiry on share_tokens (source_inquiry_id) where status in ('pending', 'redeemed');
