-- Secret scopes and their secrets, encrypted by the service (AES-256-GCM) before storage.

CREATE TABLE secret_scopes (
    name           TEXT    PRIMARY KEY,
    created_at_ms  INTEGER NOT NULL,
    created_by     TEXT    NOT NULL
);

CREATE TABLE secrets (
    scope          TEXT    NOT NULL REFERENCES secret_scopes (name) ON DELETE CASCADE,
    key            TEXT    NOT NULL,
    nonce          BLOB    NOT NULL,
    ciphertext     BLOB    NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
