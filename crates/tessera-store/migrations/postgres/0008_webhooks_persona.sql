-- Persona 2025-12-08 webhook settings. JSON is text, as everywhere. Webhooks made before have no
-- name (null, which Persona's schema allows) and Persona's defaults for the rest.
alter table webhooks add column name text;
alter table webhooks add column description text;
alter table webhooks add column api_version text not null default '2025-12-08';
alter table webhooks add column api_attributes_blocklist text not null default '[]';
alter table webhooks add column file_access_token_expires_in bigint not null default 21600;
alter table webhooks add column payload_filter text;
alter table webhooks add column included_allowlist text default '{"state":"include_none"}';
alter table webhooks add column relationship_allowlist text not null default '{"state":"include_all"}';
alter table webhooks add column custom_http_headers text not null default '{}';
