#!/bin/sh
# ./bootstrap demo: run the example project on the embedded default, then open
# the console on it (or, without a terminal, print its state).
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
if [ -t 0 ] && [ -t 1 ] && [ -z "${SLUICE_DEMO_NO_CONSOLE:-}" ]; then
	echo "== the console: Enter opens, Esc goes back, ? helps, Q quits"
	sleep 2
	"$bin" -C "$proj" || true
else
	echo "== sluice status"
	"$bin" -C "$proj" status
	echo
	echo "== sluice logs latest flaky_api --try 1"
	"$bin" -C "$proj" logs latest flaky_api --try 1
	echo "== sluice logs latest reconcile"
	"$bin" -C "$proj" logs latest reconcile
fi
cat <<MSG

Next:
  $bin -C $proj      # the console
  $bin -C $proj clear latest reconcile --downstream --dry-run
  $bin -C $proj retry latest reconcile
  $bin -C $proj down      # stops the runner, then the services
MSG
