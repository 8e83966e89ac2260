#!/usr/bin/env python3
"""Deterministic headerless HR files like the historical ones of the migration:
data/jobs.csv, data/departments.csv, data/employees.csv. About 1% of the rows
are bad: a missing name, a date that is not ISO 8601, an id that is not a
number, a short row, a department that does not exist."""
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "data"
os.makedirs(out, exist_ok=True)
rnd = random.Random(3)

DEPARTMENTS = ["Product Management", "Sales", "Research and Development", "Business Development",
               "Engineering", "Human Resources", "Services", "Support", "Marketing", "Training",
               "Legal", "Accounting", "Supply chain", "Staff"]
JOBS = ["Data engineer", "Recruiter", "Manager", "Marketing Assistant", "Account Executive",
        "Software Engineer", "Support Specialist", "Sales Representative", "Accountant",
        "Legal Assistant", "Research Nurse", "Business Analyst", "VP Sales", "Trainer",
        "Quality Engineer", "Web Designer", "Payment Adjustment Coordinator", "Tax Accountant",
        "Chief Design Engineer", "Staff Scientist"]
FIRST = ["Marcelo", "Ana", "Lucia", "John", "Wei", "Fatima", "Olga", "Pedro", "Sara", "Ken",
         "Amara", "Luis", "Ingrid", "Omar", "Chloe", "Ravi", "Mei", "Tom", "Nadia", "Hugo"]
LAST = ["Gonzalez", "Smith", "Chen", "Okafor", "Ivanova", "Silva", "Haddad", "Kowalski",
        "Nakamura", "Dubois", "O'Brien", "Larsen", "Rossi", "Mensah", "Patel", "Garcia"]

with open(os.path.join(out, "departments.csv"), "w") as f:
    for i, d in enumerate(DEPARTMENTS, 1):
        f.write("%d,%s\n" % (i, d))
with open(os.path.join(out, "jobs.csv"), "w") as f:
    for i, j in enumerate(JOBS, 1):
        f.write("%d,%s\n" % (i, j) if i != 7 else "seven,%s\n" % j)  # one bad id
with open(os.path.join(out, "employees.csv"), "w") as f:
    for i in range(1, 2001):
        name = "%s %s" % (rnd.choice(FIRST), rnd.choice(LAST))
        when = "%d-%02d-%02dT%02d:%02d:%02dZ" % (rnd.choice([2020, 2021, 2021, 2022]), rnd.randint(1, 12),
                                                rnd.randint(1, 28), rnd.randint(8, 18), rnd.randint(0, 59),
                                                rnd.randint(0, 59))
        dept, job = rnd.randint(1, len(DEPARTMENTS)), rnd.randint(1, len(JOBS))
        if job == 7:
            job = 8  # job 7 is the bad row of jobs.csv
        row = [str(i), '"%s"' % name if "," in name else name, when, str(dept), str(job)]
        bad = i % 100 == 37
        kind = (i // 100) % 5
        if bad and kind == 0:
            row[1] = ""                                   # name missing
        elif bad and kind == 1:
            row[2] = when[:10].replace("-", "/")          # not ISO 8601
        elif bad and kind == 2:
            row[3] = "n/a"                                # not a number
        elif bad and kind == 3:
            row = row[:4]                                 # a field short
        elif bad and kind == 4:
            row[3] = "99"                                 # no such department
        f.write(",".join(row) + "\n")
