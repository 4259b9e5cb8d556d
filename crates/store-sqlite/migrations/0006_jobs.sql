-- Jobs, their runs (task runs point to their parent run), run outputs and task values.

CREATE TABLE jobs (
    job_id           INTEGER PRIMARY KEY,
    creator_name     TEXT    NOT NULL,
    run_as_name      TEXT    NOT NULL,
    settings         TEXT    NOT NULL,
    created_time_ms  INTEGER NOT NULL
);

CREATE TABLE job_runs (
    run_id             INTEGER PRIMARY KEY,
    job_id             INTEGER,
    parent_run_id      INTEGER REFERENCES job_runs (run_id) ON DELETE CASCADE,
    task_key           TEXT,
    life_cycle_state   TEXT    NOT NULL,
    start_time_ms      INTEGER NOT NULL,
    end_time_ms        INTEGER NOT NULL,
    idempotency_token  TEXT,
    doc                TEXT    NOT NULL
);
CREATE INDEX job_runs_by_job ON job_runs (job_id, start_time_ms);
CREATE INDEX job_runs_by_parent ON job_runs (parent_run_id);
CREATE INDEX job_runs_by_start ON job_runs (start_time_ms);

CREATE TABLE job_run_outputs (
    run_id  INTEGER PRIMARY KEY REFERENCES job_runs (run_id) ON DELETE CASCADE,
    output  TEXT    NOT NULL
);

CREATE TABLE job_task_values (
    run_id    INTEGER NOT NULL REFERENCES job_runs (run_id) ON DELETE CASCADE,
    task_key  TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (run_id, task_key, key)
);
