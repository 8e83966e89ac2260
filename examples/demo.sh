#!/bin/sh
# ./bootstrap demo: run the example project on the embedded default and show it.
set -eu
bin=${1:?usage: demo.sh SLUICE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
proj=$here/demo
echo "== sluice validate"
"$bin" -C "$proj" validate
echo "== sluice up   (embedded PostgreSQL and Redis under $proj/.sluice)"
"$bin" -C "$proj" up
echo "== sluice run daily_sales --wait   (reconcile fails for good, so this run fails)"
"$bin" -C "$proj" run daily_sales --wait || true
echo
echo "== sluice status"
"$bin" -C "$proj" status
echo
echo "== sluice logs latest flaky_api --try 1"
"$bin" -C "$proj" logs latest flaky_api --try 1
echo "== sluice logs latest reconcile"
"$bin" -C "$proj" logs latest reconcile
cat <<MSG

Next:
  $bin -C $proj clear latest reconcile --downstream --dry-run
  $bin -C $proj retry latest reconcile
  $bin -C $proj down      # stops the runner, then the services
MSG
