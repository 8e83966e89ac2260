#!/usr/bin/env python3
"""A generated models project for `make bench`: LAYERS x WIDTH models in
layered folders (each model reads 3 of the layer before it; the first layer
reads a source), views with every tenth a table, and two checks per model
(not_null and unique on its key) declared in one YAML file per folder.

With `views` after WIDTH every model is a view and no model has checks:
the project `make bench` builds to measure sluice build's per-model cost.

usage: gen_models.py DIR [LAYERS WIDTH [views]]"""
import os
import random
import sys

d = sys.argv[1]
layers = int(sys.argv[2]) if len(sys.argv) > 2 else 10
width = int(sys.argv[3]) if len(sys.argv) > 3 else 200
views = len(sys.argv) > 4 and sys.argv[4] == "views"
rng = random.Random(42)

os.makedirs(os.path.join(d, "models"), exist_ok=True)
with open(os.path.join(d, "sluice.yml"), "w") as f:
    f.write("name: modelbench\n"
            "target: dev\n"
            "targets:\n"
            "  dev:\n"
            "    connection: default\n"
            "    schema: \"{{ env_var('USER', 'bench') }}_{{ model.folder }}\"\n"
            "  pro:\n"
            "    connection: default\n"
            "    schema: \"{{ model.folder }}\"\n")
with open(os.path.join(d, "models", "sources.yml"), "w") as f:
    f.write("sources:\n  - name: lake\n    tables:\n")
    for i in range(width):
        f.write("      - name: raw_%d\n" % i)


def name(layer, i):
    return "m_%02d_%03d" % (layer, i)


for layer in range(layers):
    folder = os.path.join(d, "models", "layer_%02d" % layer)
    os.makedirs(folder, exist_ok=True)
    yml = ["config:\n  materialized: view\n  tags: [layer_%02d]\n" % layer, "models:\n"]
    for i in range(width):
        n = name(layer, i)
        if layer == 0:
            body = "select id, amount, updated_at\nfrom {{ source('lake', 'raw_%d') }}\n" % i
        else:
            ups = rng.sample(range(width), 3)
            a, b, c = (name(layer - 1, u) for u in ups)
            body = ("select a.id, a.amount + b.amount + c.amount as amount, a.updated_at\n"
                    "from {{ ref('%s') }} a\n"
                    "join {{ ref('%s') }} b using (id)\n"
                    "join {{ ref('%s') }} c using (id)\n"
                    "{%% if target.name == 'dev' %%}where a.updated_at > now() - interval '7 days'{%% endif %%}\n"
                    % (a, b, c))
        cfg = "{{ config(materialized='table') }}\n" if i % 10 == 0 and not views else ""
        with open(os.path.join(folder, n + ".sql"), "w") as f:
            f.write(cfg + body)
        tests = "" if views else "        tests: [not_null, unique]\n"
        yml.append("  - name: %s\n"
                   "    description: model %d of layer %d\n"
                   "    columns:\n"
                   "      - name: id\n"
                   "        type: bigint\n"
                   "%s"
                   "      - name: amount\n"
                   "        type: numeric\n"
                   "      - name: updated_at\n"
                   "        type: timestamptz\n" % (n, i, layer, tests))
    with open(os.path.join(folder, "_layer.yml"), "w") as f:
        f.write("".join(yml))
