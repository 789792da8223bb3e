-- Foundation: branches, the one account table (readers, staff, devices), reader profile and
-- cards as circulation will extend them, sessions, login throttling, and the operation log.
-- Times are UTC epoch seconds; money is integer fen.

CREATE TABLE branch (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  parent_id INTEGER REFERENCES branch(id),
  is_24h INTEGER NOT NULL DEFAULT 0,
  union_member_code TEXT,
  active INTEGER NOT NULL DEFAULT 1
);

-- One row per principal. Readers sign in by card barcode or phone (see patron, card), staff by
-- login, devices by a bearer secret (see device). password_hash is an argon2id string of the
-- peppered password; NULL means no password sign-in.
CREATE TABLE account (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('reader', 'staff', 'device')),
  login TEXT UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL DEFAULT '',
  password_hash TEXT,
  password_changed_at INTEGER,
  phone TEXT,
  phone_verified INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE staff (
  account_id INTEGER PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'cataloguer', 'circulation', 'content')),
  home_branch_id INTEGER REFERENCES branch(id)
);

-- Kiosks, self-check terminals and lobby screens. The secret is stored only as a keyed hash.
CREATE TABLE device (
  account_id INTEGER PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('kiosk', 'selfcheck', 'screen')),
  branch_id INTEGER NOT NULL REFERENCES branch(id),
  secret_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE patron_category (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  is_network INTEGER NOT NULL DEFAULT 0,
  validity_months INTEGER NOT NULL DEFAULT 60,
  card_fee_fen INTEGER NOT NULL DEFAULT 0,
  deposit_required_fen INTEGER NOT NULL DEFAULT 0,
  periodic_fee_fen INTEGER NOT NULL DEFAULT 0,
  periodic_period_months INTEGER NOT NULL DEFAULT 0,
  max_total_loans INTEGER NOT NULL DEFAULT 10,
  max_holds INTEGER NOT NULL DEFAULT 5,
  overdue_block_count INTEGER NOT NULL DEFAULT 0,
  fine_block_fen INTEGER NOT NULL DEFAULT 0,
  suspension_per_overdue_day_ratio REAL,
  min_age INTEGER,
  max_age INTEGER,
  opac_renew_allowed INTEGER NOT NULL DEFAULT 1,
  digital_loan_days INTEGER NOT NULL DEFAULT 21,
  digital_max_loans INTEGER NOT NULL DEFAULT 10,
  digital_max_holds INTEGER NOT NULL DEFAULT 5
);

INSERT INTO patron_category (code, name) VALUES ('GEN', '普通读者');

-- The reader: one row shared by digital lending and physical circulation.
CREATE TABLE patron (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL UNIQUE REFERENCES account(id),
  name TEXT NOT NULL DEFAULT '',
  gender TEXT CHECK (gender IN ('m', 'f', 'x')),
  birth_date TEXT,
  id_type TEXT CHECK (id_type IN ('ric18', 'ric15', 'passport', 'other')),
  id_number_enc BLOB,
  id_number_hash BLOB UNIQUE,
  phone TEXT,
  address TEXT,
  home_branch_id INTEGER REFERENCES branch(id),
  category_id INTEGER NOT NULL REFERENCES patron_category(id),
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'cancelled', 'deleted')),
  expires_on TEXT,
  deposit_balance_fen INTEGER NOT NULL DEFAULT 0,
  periodic_paid_until TEXT,
  keep_history INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX patron_phone ON patron(phone);

CREATE TABLE card (
  id INTEGER PRIMARY KEY,
  patron_id INTEGER NOT NULL REFERENCES patron(id),
  barcode TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL DEFAULT 'library_card' CHECK (kind IN ('library_card', 'id_card', 'virtual')),
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'lost', 'replaced', 'cancelled')),
  issued_at INTEGER NOT NULL,
  issued_branch_id INTEGER REFERENCES branch(id),
  lost_at INTEGER,
  closed_at INTEGER
);
CREATE UNIQUE INDEX card_one_active ON card(patron_id) WHERE status = 'active';

-- Sessions: only a keyed hash of the 128-bit id is stored.
CREATE TABLE session (
  id INTEGER PRIMARY KEY,
  token_hash BLOB NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_seconds INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  client_addr TEXT
);
CREATE INDEX session_account ON session(account_id);

-- Failed sign-ins per login name (whether or not it exists) and per client address.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_age ON login_throttle(last_failure_at);

-- No foreign keys: the log outlives what it mentions, and anonymisation rewrites ids.
CREATE TABLE op_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  op_code TEXT NOT NULL,
  branch_id INTEGER,
  terminal_id INTEGER,
  staff_id INTEGER,
  patron_id INTEGER,
  account_id INTEGER,
  item_id INTEGER,
  bib_id INTEGER,
  resource_id INTEGER,
  detail TEXT
);
CREATE INDEX op_log_code_at ON op_log(op_code, at);
