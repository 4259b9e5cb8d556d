-- The workspace tree (bytes live in files keyed by object_id), clusters and their events.

CREATE TABLE workspace_objects (
    object_id       INTEGER PRIMARY KEY,
    path            TEXT    NOT NULL UNIQUE,
    parent_path     TEXT,
    kind            TEXT    NOT NULL,
    language        TEXT,
    size            INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    modified_at_ms  INTEGER NOT NULL
);
CREATE INDEX workspace_objects_by_parent ON workspace_objects (parent_path, path);

CREATE TABLE clusters (
    cluster_id              TEXT    PRIMARY KEY,
    state                   TEXT    NOT NULL,
    state_message           TEXT    NOT NULL,
    spec                    TEXT    NOT NULL,
    creator_name            TEXT    NOT NULL,
    cluster_source          TEXT    NOT NULL,
    pinned                  INTEGER NOT NULL,
    created_at_ms           INTEGER NOT NULL,
    start_time_ms           INTEGER NOT NULL,
    terminated_time_ms      INTEGER,
    last_restarted_time_ms  INTEGER,
    last_activity_ms        INTEGER NOT NULL,
    termination_reason      TEXT
);

CREATE TABLE cluster_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id    TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    timestamp_ms  INTEGER NOT NULL,
    event_type    TEXT    NOT NULL,
    details       TEXT    NOT NULL
);
CREATE INDEX cluster_events_by_cluster ON cluster_events (cluster_id, timestamp_ms);
