-- Shoka schema, version 6: the staff patron search finds a name by prefix without reading every patron
-- (shoka.patrons.search: family + given name, spaces ignored, case-folded), as it already does for readings
-- and phone numbers.
CREATE INDEX patron_personal_name ON patron_personal
    ((lower(replace(family_name || given_name, ' ', ''))) text_pattern_ops);
