-- Version 2: full-text search over case text (FTS5, trigram: works for Chinese
-- and English alike) and the notification outbox.

CREATE VIRTUAL TABLE case_fts USING fts5(
    title, text, content='cases', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO case_fts(case_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, text ON cases BEGIN
    INSERT INTO case_fts(case_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO case_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
-- Cases written by version 1 become searchable too.
INSERT INTO case_fts(case_fts) VALUES ('rebuild');

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    sent_at REAL,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL;

-- Unknown callers still get their earlier calls on the screen-pop.
CREATE INDEX interactions_caller ON interactions(caller, started_at);

-- The KPI reports count cases dispatched or closed in a period.
CREATE INDEX cases_dispatched ON cases(dispatched_at) WHERE dispatched_at IS NOT NULL;
CREATE INDEX cases_closed ON cases(closed_at) WHERE closed_at IS NOT NULL;
