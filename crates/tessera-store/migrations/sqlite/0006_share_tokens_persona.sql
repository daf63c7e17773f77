-- share tokens as Persona 2025-12-08 describes them.
-- redeem_mode: 'clone' or 'hydrate' from the redeem call on (null before). Tokens redeemed before
-- this migration get it from the destination-id they were redeemed with.
alter table share_tokens add column redeem_mode text check (redeem_mode in ('clone', 'hydrate'));
update share_tokens set redeem_mode = case
    when redeem_params like '%"destination-id":"%' then 'hydrate'
    else 'clone'
end
where redeem_params is not null;
-- a token may share one verification instead of a whole inquiry: source_inquiry_id then holds the
-- verification's inquiry, source_verification_id the verification and source_verification_kind
-- its kind; destination_verification_id the copy the destination got (in the inquiry named by
-- destination_inquiry_id).
alter table share_tokens add column source_verification_id text references verifications (id);
alter table share_tokens add column source_verification_kind text;
alter table share_tokens add column destination_verification_id text references verifications (id);
