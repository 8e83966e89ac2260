#!/usr/bin/env python3
"""The statements a build of each view model runs (the plan `sluice compile`
prints for a view that exists, with the catalog reads it names in comments
written out; its schema exists, so it is looked up, not created), one
transaction per model, from the task specs of a run
(JSON, one per line, in the run's order): what `make bench` runs with one
`psql -f` beside `sluice build`.

usage: views_ddl.py < specs.jsonl > build.sql"""
import json
import sys


def ident(s):
    return '"' + s.replace('"', '""') + '"'


def lit(s):
    return "'" + s.replace("'", "''") + "'"


for line in sys.stdin:
    if not line.strip():
        continue
    j = json.loads(line)
    if j.get("materialized") != "view":
        continue
    schema, name, sel = j["schema"], j["model"], j["sql"]
    rel = ident(schema) + "." + ident(name)
    print("BEGIN;")
    print("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0));" % lit("sluice.model:" + rel))
    print("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s;" % lit(schema))
    print("SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE n.nspname = %s AND c.relname = %s;" % (lit(schema), lit(name)))
    if j.get("columns"):
        print("CREATE TEMP VIEW sluice_probe AS\n%s;" % sel)
        print("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
              "WHERE a.attrelid = 'pg_temp.sluice_probe'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
              "ORDER BY a.attnum;")
        print("DROP VIEW pg_temp.sluice_probe;")
    print("SAVEPOINT sluice_view;")
    print("CREATE OR REPLACE VIEW %s AS\n%s;" % (rel, sel))
    print("RELEASE SAVEPOINT sluice_view;")
    print("COMMIT;")
