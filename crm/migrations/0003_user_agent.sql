-- Version 3: a CRM user may be an ACD agent (the seat id in the hotline config,
-- e.g. '2001'), set by an admin, so that a repeat caller's open case can be
-- routed to the agent who owns it (sticky routing). One seat, at most one user.

ALTER TABLE users ADD COLUMN agent_id TEXT;
CREATE UNIQUE INDEX users_agent ON users(agent_id) WHERE agent_id IS NOT NULL;
