-- Hotline CRM schema, version 1: places, residents, phones, cases, history,
-- interactions, users, sessions, audit log.

CREATE TABLE places (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES places(id),
    level TEXT NOT NULL CHECK (level IN
        ('district', 'street', 'community', 'grid', 'building', 'unit', 'household')),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    UNIQUE (parent_id, name)
);

CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    household_id INTEGER REFERENCES places(id),
    id_card TEXT UNIQUE,
    elderly_alone INTEGER NOT NULL DEFAULT 0,
    disability INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT 'zh',
    notes TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX residents_household ON residents(household_id);

CREATE TABLE phones (
    number TEXT NOT NULL,
    resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'mobile',
    PRIMARY KEY (number, resident_id)
) WITHOUT ROWID;
CREATE INDEX phones_resident ON phones(resident_id);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    resident_id INTEGER REFERENCES residents(id),
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    owner TEXT NOT NULL,
    department TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    respond_by REAL,
    due_at REAL NOT NULL,
    dispatched_at REAL,
    signed_at REAL,
    closed_at REAL,
    returns INTEGER NOT NULL DEFAULT 0,
    supervised INTEGER NOT NULL DEFAULT 0,
    reply TEXT,
    resolved INTEGER,
    satisfaction INTEGER,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_resident ON cases(resident_id, created_at);
CREATE INDEX cases_resident_open ON cases(resident_id, created_at)
    WHERE status IN ('accepted', 'dispatched', 'signed', 'returned', 'in_progress', 'replied');
CREATE INDEX cases_due_open ON cases(due_at)
    WHERE status IN ('accepted', 'dispatched', 'signed', 'returned', 'in_progress', 'replied');
CREATE INDEX cases_department ON cases(department, status, created_at);
CREATE INDEX cases_created ON cases(created_at);

CREATE TABLE case_history (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX case_history_case ON case_history(case_id, id);

CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    uniqueid TEXT NOT NULL UNIQUE,
    resident_id INTEGER REFERENCES residents(id),
    case_id INTEGER REFERENCES cases(id),
    caller TEXT NOT NULL,
    queue TEXT NOT NULL,
    agent TEXT,
    started_at REAL NOT NULL,
    wait_s REAL NOT NULL,
    talk_s REAL NOT NULL,
    outcome TEXT NOT NULL,
    survey_score INTEGER
);
CREATE INDEX interactions_resident ON interactions(resident_id, started_at);
CREATE INDEX interactions_case ON interactions(case_id);
CREATE INDEX interactions_started ON interactions(started_at);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    department TEXT,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    expires_at REAL NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    resident_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_resident ON audit_log(resident_id, at);
