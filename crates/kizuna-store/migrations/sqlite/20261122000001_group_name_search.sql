-- Group name search (`ListGroups` with a name pattern) uses LIKE, which SQLite matches
-- case-insensitively (ASCII); with a NOCASE index a prefix pattern seeks instead of scanning.
CREATE INDEX IF NOT EXISTS groups_name_nocase_idx ON groups (name COLLATE NOCASE);
