-- persona 2025-12-08 inquiry attributes.
-- creator: who made the inquiry (an api key id, a dashboard user's email, creator-email-address,
-- or the share token whose redemption cloned it). existing rows: 'api'.
alter table inquiries add column creator text not null default 'api';
alter table inquiries add column reviewer_comment text;
alter table inquiries add column started_at integer;
alter table inquiries add column expires_at integer;
alter table inquiries add column failed_at integer;
alter table inquiries add column marked_for_review_at integer;
alter table inquiries add column redirect_uri text;

-- started: the first verification moved a created inquiry to pending; inquiries that left
-- created without one (completed, failed) started then.
update inquiries set started_at = (select min(v.created_at) from verifications v where v.inquiry_id = inquiries.id)
    where status <> 'created';
update inquiries set started_at = coalesce(completed_at, updated_at)
    where started_at is null and status in ('pending', 'completed', 'approved', 'declined', 'needs_review', 'failed');
update inquiries set failed_at = updated_at where status = 'failed';
update inquiries set marked_for_review_at = updated_at where status = 'needs_review';

-- the expiry sweep looks for open inquiries whose expires-at has passed.
create index inquiries_expiring on inquiries (expires_at) where expires_at is not null and status in ('created', 'pending');
