#!/bin/sh
# A small soak in the suite: 10 tasks, 3 runs, 3 random kills (seeded, the
# seed printed); `make soak` runs the big one (tests/soak/soak.sh).
: "${SLUICE_SOAK_TASKS:=10}" "${SLUICE_SOAK_RUNS:=3}" "${SLUICE_SOAK_KILLS:=3}"
export SLUICE_SOAK_TASKS SLUICE_SOAK_RUNS SLUICE_SOAK_KILLS
exec sh "$SLUICE_SRCDIR/tests/soak/soak.sh"
