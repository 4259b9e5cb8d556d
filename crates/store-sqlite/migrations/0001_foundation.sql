-- Identities, tokens, OAuth secrets, object ACLs, audit log and settings.

CREATE TABLE principals (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('user', 'service_principal', 'group')),
    name           TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    external_id    TEXT,
    active         INTEGER NOT NULL,
    entitlements   TEXT    NOT NULL, -- JSON array of strings
    roles          TEXT    NOT NULL, -- JSON array of strings
    attributes     TEXT    NOT NULL, -- JSON object of wire attributes kept as given
    created_at_ms  INTEGER NOT NULL
);
CREATE UNIQUE INDEX principals_kind_name ON principals (kind, name COLLATE NOCASE);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);

CREATE TABLE tokens (
    token_id          TEXT    PRIMARY KEY,
    secret_hash       TEXT    NOT NULL UNIQUE,
    owner_id          INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_by_id     INTEGER NOT NULL,
    comment           TEXT,
    creation_time_ms  INTEGER NOT NULL,
    expiry_time_ms    INTEGER,
    scopes            TEXT -- JSON array, NULL when unrestricted
);
CREATE INDEX tokens_owner ON tokens (owner_id);

CREATE TABLE oauth_secrets (
    id              TEXT    PRIMARY KEY,
    principal_id    INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    secret_phc      TEXT    NOT NULL,
    secret_hash     TEXT    NOT NULL,
    create_time_ms  INTEGER NOT NULL,
    expire_time_ms  INTEGER NOT NULL,
    scopes          TEXT
);
CREATE INDEX oauth_secrets_principal ON oauth_secrets (principal_id);

CREATE TABLE acl_objects (
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    parent_type  TEXT,
    parent_id    TEXT,
    PRIMARY KEY (object_type, object_id)
);

CREATE TABLE acl_entries (
    object_type   TEXT    NOT NULL,
    object_id     TEXT    NOT NULL,
    principal_id  INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    level         TEXT    NOT NULL,
    PRIMARY KEY (object_type, object_id, principal_id),
    FOREIGN KEY (object_type, object_id) REFERENCES acl_objects (object_type, object_id) ON DELETE CASCADE
);

CREATE TABLE audit_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms         INTEGER NOT NULL,
    request_id      TEXT    NOT NULL,
    principal_id    INTEGER,
    principal_name  TEXT,
    action          TEXT    NOT NULL,
    object          TEXT    NOT NULL,
    decision        TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    status          INTEGER
);
CREATE INDEX audit_events_request ON audit_events (request_id);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
