-- Agents' access policies, every revision kept: a decision names the revision that made it,
-- so past revisions stay readable. A revision whose policy is NULL removed the policy; the
-- numbering goes on from it, so a revision number is never reused for another policy.

CREATE TABLE agent_policies (
    principal_id   INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    revision       INTEGER NOT NULL,
    policy         TEXT,
    changed_at_ms  INTEGER NOT NULL,
    changed_by     TEXT    NOT NULL,
    PRIMARY KEY (principal_id, revision)
);
