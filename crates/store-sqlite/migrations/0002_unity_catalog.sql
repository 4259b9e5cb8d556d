-- Unity Catalog: one tree of securables rooted at the metastore, and grants on them.

CREATE TABLE uc_securables (
    id             TEXT    PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('metastore', 'catalog', 'schema', 'table', 'volume', 'function')),
    parent_id      TEXT    REFERENCES uc_securables (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    comment        TEXT,
    properties     TEXT    NOT NULL, -- JSON object of strings
    spec           TEXT    NOT NULL, -- JSON, kind-specific
    created_at_ms  INTEGER NOT NULL,
    created_by     TEXT    NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL
);
-- The metastore has no parent; '' stands in so the uniqueness rule covers it too.
CREATE UNIQUE INDEX uc_securables_sibling_name ON uc_securables (COALESCE(parent_id, ''), kind, name COLLATE NOCASE);

CREATE TABLE uc_grants (
    securable_id  TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    principal     TEXT NOT NULL COLLATE NOCASE,
    privilege     TEXT NOT NULL,
    PRIMARY KEY (securable_id, principal, privilege)
);
