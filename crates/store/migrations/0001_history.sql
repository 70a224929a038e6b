-- The first schema: conversations, their messages, the speculation trace behind every
-- answer, and app settings. Times are Unix milliseconds (UTC).

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The pair and settings of the latest answer (NULL before the first one).
    target     TEXT,
    draft      TEXT,
    drafter    TEXT,
    -- JSON object: sampling and draft-length settings.
    settings   TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    body            TEXT    NOT NULL,
    -- 'streaming' only while a live process is writing the answer.
    status          TEXT    NOT NULL CHECK (status IN ('streaming', 'complete', 'cancelled', 'interrupted')),
    -- JSON object with the answer's totals; NULL for messages nobody generated.
    stats           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';

-- The steps of one answer in batches: rows of a message cover steps 0.. without gaps,
-- each row `steps` consecutive steps starting at `first_step`, packed into `data`.
CREATE TABLE trace_batches (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    first_step INTEGER NOT NULL CHECK (first_step >= 0),
    steps      INTEGER NOT NULL CHECK (steps > 0),
    data       BLOB    NOT NULL,
    PRIMARY KEY (message_id, first_step)
) WITHOUT ROWID;

CREATE TABLE app_settings (
    key        TEXT    PRIMARY KEY,
    -- JSON value.
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
