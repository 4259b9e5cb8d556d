-- Saved Databricks SQL queries, which sql_task runs.

CREATE TABLE saved_queries (
    id          TEXT    PRIMARY KEY,
    owner_name  TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
