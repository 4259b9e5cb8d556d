-- SQL warehouses and the query history of their statements.

CREATE TABLE sql_warehouses (
    id                TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    spec              TEXT    NOT NULL, -- JSON: create/edit fields
    creator_name      TEXT    NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    last_activity_ms  INTEGER NOT NULL
);
CREATE UNIQUE INDEX sql_warehouses_name ON sql_warehouses (name COLLATE NOCASE);

CREATE TABLE sql_queries (
    query_id        TEXT    PRIMARY KEY,
    warehouse_id    TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    user_name       TEXT    NOT NULL,
    query_text      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    statement_type  TEXT    NOT NULL,
    error_message   TEXT,
    start_time_ms   INTEGER NOT NULL,
    end_time_ms     INTEGER,
    rows_produced   INTEGER
);
CREATE INDEX sql_queries_start ON sql_queries (start_time_ms DESC);
