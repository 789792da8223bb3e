-- Search (issue 5; specs/search.md). Both tables use our tokenizer 'sx' (storage/fts.c): CJK
-- runs as overlapping bigrams with each single character at the same position, traditional
-- folded to simplified, Latin lower-cased without diacritics.

-- One row per resource (rowid = resource.id), written by services/catalog/search.c in the
-- transaction that creates or edits the resource. pinyin holds the full readings of the
-- title, series and authors ("li bai libai", every combination of a polyphone's readings up to
-- a cap), initials their first letters ("lb"); prefix indexes serve typing as you go.
CREATE VIRTUAL TABLE resource_fts USING fts5(
  title, authors, subjects, description, series, pinyin, initials,
  tokenize = 'sx', prefix = '1 2 3'
);
CREATE TRIGGER resource_fts_ad AFTER DELETE ON resource BEGIN
  DELETE FROM resource_fts WHERE rowid = old.id;
END;

-- The text inside books: external content (the passage table keeps the text once), kept in
-- step by triggers in the transaction that writes the passages.
CREATE VIRTUAL TABLE passage_fts USING fts5(
  text, content = 'passage', content_rowid = 'id', tokenize = 'sx'
);
CREATE TRIGGER passage_fts_ai AFTER INSERT ON passage BEGIN
  INSERT INTO passage_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER passage_fts_ad AFTER DELETE ON passage BEGIN
  INSERT INTO passage_fts (passage_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER passage_fts_au AFTER UPDATE OF text ON passage BEGIN
  INSERT INTO passage_fts (passage_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO passage_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Books ingested before this migration: their passages now; their resource rows are indexed
-- by `serve` at start (pinyin needs C).
INSERT INTO passage_fts (passage_fts) VALUES ('rebuild');
