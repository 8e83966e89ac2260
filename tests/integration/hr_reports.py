#!/usr/bin/env python3
"""The seed's two reports computed from examples/hr's generated files, apart
from the SQL the reports run: the rows the contracts (and the server's
foreign keys) reject are skipped by the rules of the contracts themselves.
Prints {"pivot": [[Department, Job, Q1..Q4], ...], "above": [[id,
department, hired], ...], "hires_2021": N} with every value as text."""
import csv
import datetime
import json
import sys

data = sys.argv[1]


def rows(name):
    with open("%s/%s.csv" % (data, name), newline="") as f:
        return list(csv.reader(f))


def as_int(s):
    try:
        return int(s)
    except ValueError:
        return None


def names(name):
    out = {}
    for r in rows(name):
        i = as_int(r[0]) if r else None
        if len(r) != 2 or i is None or i < 1 or not r[1].strip():
            continue
        out[i] = r[1].strip()
    return out


deps, jobs = names("departments"), names("jobs")
emps = {}
for r in rows("employees"):
    if len(r) != 5:
        continue
    eid, dep, job = as_int(r[0]), as_int(r[3]), as_int(r[4])
    if eid is None or dep is None or job is None or eid < 1 or not r[1].strip():
        continue
    try:
        when = datetime.datetime.strptime(r[2], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        continue
    if dep not in deps or job not in jobs:
        continue
    emps[eid] = (when, dep, job)

extra = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
for eid, when, dep, job in extra:
    emps[eid] = (datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ"), dep, job)

pivot, per_dep = {}, {d: 0 for d in deps}
for when, dep, job in emps.values():
    if when.year != 2021:
        continue
    q = pivot.setdefault((deps[dep], jobs[job]), [0, 0, 0, 0])
    q[(when.month - 1) // 3] += 1
    per_dep[dep] += 1
total = sum(per_dep.values())
above = [d for d in per_dep if per_dep[d] * len(per_dep) > total]
above.sort(key=lambda d: (-per_dep[d], d))
print(json.dumps({
    "pivot": [[d, j] + [str(n) for n in pivot[(d, j)]] for d, j in sorted(pivot)],
    "above": [[str(d), deps[d], str(per_dep[d])] for d in above],
    "hires_2021": total,
}))
