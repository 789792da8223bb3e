-- The durable job queue: ingest, transcodes and other work that must not run on an HTTP thread.
-- A job is claimed atomically by one worker; a restart puts running jobs back in the queue.
CREATE TABLE job (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  lane TEXT NOT NULL DEFAULT 'default',
  state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  payload TEXT NOT NULL DEFAULT '{}',
  result TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  error TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  parent_id INTEGER REFERENCES job(id),
  created_by INTEGER REFERENCES account(id),
  run_after INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX job_claim ON job(lane, state, priority DESC, id);
CREATE INDEX job_parent ON job(parent_id);
