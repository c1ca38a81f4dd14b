-- Source of pbx-cdr.dump (synthetic PBX call records). Regenerate with make-pgdump.sh.
CREATE TABLE extensions (number text PRIMARY KEY, name text NOT NULL);
CREATE TABLE cdr (id serial PRIMARY KEY, caller text REFERENCES extensions(number), callee text NOT NULL,
                  started timestamptz NOT NULL, seconds integer NOT NULL);
INSERT INTO extensions VALUES ('100', 'Reception'), ('101', 'Sales'), ('102', 'Support');
INSERT INTO cdr (caller, callee, started, seconds)
  SELECT (ARRAY['100','101','102'])[1 + g % 3], '+4930' || (1000000 + g), '2026-01-01'::timestamptz + g * interval '7 minutes', g % 600
  FROM generate_series(1, 250) g;
