-- Audio and video resources (issue 4).

-- The upright picture size of a video (its HLS ladder is at most this).
ALTER TABLE resource ADD COLUMN width INTEGER;
ALTER TABLE resource ADD COLUMN height INTEGER;

-- Pictures among the renditions (cover, poster, scrub thumbnails, the largest HLS variant)
-- carry their pixel size, so pages lay them out before they load.
ALTER TABLE rendition ADD COLUMN width INTEGER;
ALTER TABLE rendition ADD COLUMN height INTEGER;

-- Chapters with their start in the HLS timeline: the marks inside an audiobook or video file,
-- or one per file of an audiobook uploaded as a folder (source_blob then names that file).
CREATE TABLE resource_chapter (
  resource_id INTEGER NOT NULL REFERENCES resource(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  title TEXT NOT NULL,
  start_ms INTEGER NOT NULL CHECK (start_ms >= 0),
  source_blob TEXT,
  source_name TEXT,
  PRIMARY KEY (resource_id, seq)
) WITHOUT ROWID;
