-- Version 6: recordings and voicemails on the call and its case. One row per file
-- Asterisk wrote for a call: kind 'recording' (MixMonitor, the agent's conversation)
-- or 'voicemail' (Record at the queue's exit or after hours). ``uniqueid`` is the
-- call's Asterisk unique id, the key of its interaction (the row may come before
-- the interaction does: the call's record is written at the end of the wrap-up);
-- the case is the interaction's. ``path`` is relative to Asterisk's spool folder
-- (monitor/hotline-<call>.wav, hotline-voicemail/<call>.wav). Rows are deleted with
-- their file, by the retention sweep or by a supervisor; both are audited.

CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    uniqueid TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('recording', 'voicemail')),
    path TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (uniqueid, kind)
);
CREATE INDEX recordings_created ON recordings(created_at);
