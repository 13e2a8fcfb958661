-- Version 4: the agent desk's word on a call. An interaction carries the
-- wrap-up's disposition code ([crm.dispositions]). The desk speaks while the call
-- is on or in wrap-up, before the call's record (the interaction row) is
-- written at the end of the wrap-up: what it says then waits in call_marks
-- (the disposition, and the case the agent opened for the call) and is applied
-- when the record comes.

ALTER TABLE interactions ADD COLUMN disposition TEXT;

CREATE TABLE call_marks (
    uniqueid TEXT PRIMARY KEY,
    case_id INTEGER REFERENCES cases(id),
    disposition TEXT,
    at REAL NOT NULL
);
