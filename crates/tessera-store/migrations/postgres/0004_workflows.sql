-- workflows, their runs, and the budget of each chain of runs.

-- the definition is kept as written (json): trigger_event is split out so that matching an
-- event is one indexed lookup. the secret signs http-request steps, so it is kept as is.
create table workflows (
    seq bigint generated always as identity primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    name text,
    status text not null check (status in ('active', 'inactive')),
    trigger_event text not null,
    trigger_conditions text not null,
    steps text not null,
    secret text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index workflows_by_environment on workflows (environment_id, seq);
create index workflows_triggered on workflows (environment_id, trigger_event) where status = 'active';

-- one row per run, made in the transaction of its trigger event. steps is the snapshot of the
-- workflow's steps; step_records says how far each got. the object is only named (the run reads
-- it when it acts), so redaction never has to look here.
create table workflow_runs (
    seq bigint generated always as identity primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    workflow_id text not null references workflows (id),
    status text not null check (status in ('pending', 'running', 'completed', 'failed')),
    steps text not null,
    step_records text not null,
    object_type text not null,
    object_id text not null,
    trigger_event_id text references events (id),
    chain_id text not null,
    depth bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    completed_at bigint
);
create index workflow_runs_by_environment on workflow_runs (environment_id, seq);
create index workflow_runs_by_workflow on workflow_runs (workflow_id, seq);

-- how many runs each chain (everything that follows from one event no run caused) has made.
create table workflow_chains (
    id text primary key,
    runs bigint not null,
    created_at bigint not null
);
create index workflow_chains_by_age on workflow_chains (created_at);
