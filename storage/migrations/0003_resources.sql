-- Resources: what readers borrow, read and play (e-books now; audiobooks and video later), with
-- their authors, renditions (files under DATA/media/<id>/) and passages (text for search).

-- The kiosk's twelve categories (specs/lending.md); colour paints generated covers.
CREATE TABLE category (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  position INTEGER NOT NULL,
  quota INTEGER NOT NULL DEFAULT 25 CHECK (quota >= 0),
  colour TEXT NOT NULL CHECK (length(colour) = 7 AND colour GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]')
);
INSERT INTO category (code, name, position, quota, colour) VALUES
  ('fiction', '小说', 1, 25, '#8c2f39'),
  ('classics', '名著', 2, 25, '#5b3a29'),
  ('humanities', '社科人文', 3, 25, '#2f4858'),
  ('children', '少儿', 4, 25, '#e07a1f'),
  ('history', '历史', 5, 25, '#6b4226'),
  ('business', '经管', 6, 25, '#1f5f8b'),
  ('inspiration', '励志', 7, 25, '#c0392b'),
  ('living', '生活', 8, 25, '#3a7d44'),
  ('science', '科普', 9, 25, '#17607a'),
  ('art', '艺术', 10, 25, '#7b3f8c'),
  ('culture_video', '文化视频', 11, 25, '#34495e'),
  ('audiobook', '有声读物', 12, 25, '#4a5d23');

CREATE TABLE resource (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('ebook', 'audiobook', 'video')),
  format TEXT NOT NULL CHECK (format IN ('epub', 'txt', 'pdf', 'audio', 'video')),
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  subtitle TEXT,
  publisher TEXT,
  pub_date TEXT,
  language TEXT,
  isbn TEXT CHECK (isbn IS NULL OR (length(isbn) = 13 AND isbn NOT GLOB '*[^0-9]*')),
  clc TEXT,
  category_id INTEGER REFERENCES category(id),
  description TEXT,
  series TEXT,
  series_index TEXT,
  licence_model TEXT NOT NULL DEFAULT 'open'
    CHECK (licence_model IN ('open', 'copies', 'concurrent', 'metered')),
  licence_count INTEGER CHECK (licence_count IS NULL OR licence_count >= 0),
  licence_loan_days INTEGER CHECK (licence_loan_days IS NULL OR licence_loan_days BETWEEN 1 AND 365),
  kiosk_month TEXT CHECK (kiosk_month IS NULL OR kiosk_month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
  source_blob TEXT NOT NULL UNIQUE,
  source_name TEXT NOT NULL,
  source_bytes INTEGER NOT NULL,
  cover_width INTEGER,
  cover_height INTEGER,
  thumb_width INTEGER,
  thumb_height INTEGER,
  cover_generated INTEGER NOT NULL DEFAULT 0,
  pages INTEGER,
  chapters INTEGER,
  duration_ms INTEGER,
  job_id INTEGER REFERENCES job(id) ON DELETE SET NULL,
  created_by INTEGER REFERENCES account(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX resource_kind ON resource(kind, id);
CREATE INDEX resource_category ON resource(category_id, id);
CREATE INDEX resource_isbn ON resource(isbn);

-- Creators in order, with MARC relator roles (aut, trl, edt, ill, nrt …).
CREATE TABLE resource_author (
  resource_id INTEGER NOT NULL REFERENCES resource(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role TEXT NOT NULL DEFAULT 'aut',
  PRIMARY KEY (resource_id, position)
) WITHOUT ROWID;

CREATE TABLE resource_subject (
  resource_id INTEGER NOT NULL REFERENCES resource(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  subject TEXT NOT NULL,
  PRIMARY KEY (resource_id, position)
) WITHOUT ROWID;

-- Files made at ingest: 'epub' (unpacked book), 'pdf', 'cover' …; path is relative to DATA/media.
CREATE TABLE rendition (
  resource_id INTEGER NOT NULL REFERENCES resource(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (resource_id, name)
) WITHOUT ROWID;

-- Text inside a book, 1–2 KB per row on paragraph boundaries: where (chapter href or PDF page)
-- and the character offset in that chapter. The search issue indexes these rows.
-- A rowid table: WITHOUT ROWID rows of ~1 KB spill into an overflow page each (measured: 6 MB
-- of database per 1.7 MB of text), rowid rows fill their pages.
CREATE TABLE passage (
  id INTEGER PRIMARY KEY,
  resource_id INTEGER NOT NULL REFERENCES resource(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  href TEXT NOT NULL,
  offset INTEGER NOT NULL,
  text TEXT NOT NULL,
  UNIQUE (resource_id, seq)
);
