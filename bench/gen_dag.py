#!/usr/bin/env python3
"""Writes the benchmark DAG twice: as a sluice pipeline and as a Makefile.
10 layers of 100 no-op tasks; every task past the first layer depends on 3
tasks of the previous layer. Deterministic."""
import sys

layers, width, fan_in = 10, 100, 3
proj, mk = sys.argv[1], sys.argv[2]

def name(l, i):
    return f"t{l:02d}_{i:03d}"

def ups(l, i):
    return [name(l - 1, (i + k * 37) % width) for k in range(fan_in)] if l else []

with open(f"{proj}/pipelines/bench.yml", "w") as f:
    f.write("description: 1000 no-op tasks, 10 layers of 100, 3 upstreams each\ntasks:\n")
    for l in range(layers):
        for i in range(width):
            u = ups(l, i)
            dep = f", depends_on: [{', '.join(u)}]" if u else ""
            f.write(f"  {name(l, i)}: {{ kind: shell, command: \"true\"{dep} }}\n")

with open(mk, "w") as f:
    f.write(".PHONY: all\nall: " + " ".join(name(layers - 1, i) for i in range(width)) + "\n")
    for l in range(layers):
        for i in range(width):
            f.write(f".PHONY: {name(l, i)}\n{name(l, i)}: {' '.join(ups(l, i))}\n\t@true\n")
