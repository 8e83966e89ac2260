# The console in tmux, for tests that drive the real binary: source after
# lib.sh, with PROJ set to the project the console opens (it may be set
# later, before the first `console`).
#
#   console_plan N           the TAP plan; every test skipped without tmux
#   console NAME [VAR=VALUE...] [-- SLUICE-ARGS...]
#                            a console in its own 120x40 tmux session (UTF-8
#                            unless VARs say otherwise); when it exits the
#                            pane says CONSOLE-EXITED <status>
#   screen NAME              the screen as text
#   shot NAME                the same, also kept in $SHOT so a failed check
#                            can show what it looked at:
#                            shot main | grep -q X; ok $? "..." || diag <"$SHOT"
#   keys NAME KEY...         tmux send-keys
#   wait_screen NAME REGEX   up to 10 s for the screen to show REGEX
#   console_pid NAME         the pid of the console in session NAME
#
# $TM is the tmux command of this test's own server; the EXIT trap kills
# it and runs lib.sh's cleanup.

console_plan() {
	echo "1..$1"
	command -v tmux >/dev/null 2>&1 && return 0
	for i in $(seq 1 "$1"); do echo "ok $i # SKIP tmux is not installed"; done
	exit 0
}

CONSOLE_TAG=$(basename "$0" .sh)
TMUXCONF=$SLUICE_TESTDIR/$CONSOLE_TAG.tmux.conf
mkdir -p "$SLUICE_TESTDIR"
echo 'set -g default-terminal "tmux-256color"' >"$TMUXCONF"
TM="tmux -L sluice-$CONSOLE_TAG-$$ -f $TMUXCONF"
console_finish() {
	$TM kill-server >/dev/null 2>&1 || true
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/sluice-$CONSOLE_TAG-$$"
	cleanup
}
trap console_finish EXIT

console() {
	name=$1
	shift
	envs="LANG=C.UTF-8 LC_ALL="
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	[ "${1:-}" = "--" ] && shift
	$TM new-session -d -s "$name" -x 120 -y 40 \
		"env $envs '$SLUICE_BIN' -C '$PROJ' $* 2>'$SLUICE_TESTDIR/$CONSOLE_TAG-$name.err'; echo CONSOLE-EXITED \$?; sleep 600"
}
screen() { $TM capture-pane -p -t "$1"; }
SHOT=$SLUICE_TESTDIR/$CONSOLE_TAG-shot.txt
shot() { screen "$1" >"$SHOT"; cat "$SHOT"; }
keys() { n=$1; shift; $TM send-keys -t "$n" "$@"; }
wait_screen() {
	end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -lt "$end" ]; do
		if screen "$1" | grep -Eq "$2"; then return 0; fi
		sleep 0.1
	done
	screen "$1" | diag
	return 1
}
console_pid() { pgrep -P "$($TM display-message -p -t "$1" '#{pane_pid}')" -x sluice | head -n1; }
