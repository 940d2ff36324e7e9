-- Kizuna addition (not in Nakama's schema): group name search (`ListGroups` with a name pattern)
-- matches case-insensitively with a prefix; this index lets a pattern like 'heroes%' seek instead
-- of scanning every group. Harmless to a database Nakama also uses.
CREATE INDEX IF NOT EXISTS groups_lower_name_idx ON groups (lower(name) text_pattern_ops);
