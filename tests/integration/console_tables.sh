#!/bin/sh
# The console's table browser, the real binary in tmux: 9 lists the
# warehouse's schemas, Enter a schema's tables with estimated rows, size and
# last writer, Enter a table's rows a screen at a time by keyset: the first
# screen starts at row 1, PgDn goes on, G shows the last id, g the first; a
# WHERE filter shows only what matches, s sorts by the column under the
# cursor, a bad expression is an error on the status line and the console
# goes on (:where EXPR too); p profiles a column (null share, min, max); x exports the view as
# CSV, every row of it. Memory stays flat while paging a 1,000,000-row table
# (the peak RSS grows by less than 16 MB, and stays under 64 MB in a build
# without ASan: an ASan build's own overhead is larger than the table's
# pages). A table without a primary key pages by ctid.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 27

ROWS=1000000
PROJ=$(mkproj console_tables_it)
OUT=$SLUICE_TESTDIR/console_tables-out
rm -rf "$OUT"
mkdir -p "$OUT"
sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
psql "$WH" -XAtq -v ON_ERROR_STOP=1 >"$OUT/setup.out" 2>&1 <<SQL
create table public.big (id bigint primary key, grp int, val text);
insert into public.big select g, (g::bigint * 7919 % 1000)::int, case when g % 4 = 0 then null else 'v' || (g % 50) end
  from generate_series(1, $ROWS) g;
analyze public.big;
create table public.nokey as select g as a, 'n' || g as b from generate_series(1, 3000) g;
SQL
ok $? "a table of $ROWS rows and one without a primary key" || diag <"$OUT/setup.out"

# ids IDS: the first column of the rows on the screen (the cursor's arrow dropped)
# (the body's rows: from line 5 to before the hint, status and key lines)
body() { screen main | sed -n '5,$p' | head -n -3 | sed 's/^▶/ /'; }
ids() { body | awk '$1 ~ /^[0-9]+$/ {print $1}'; }
first_id() { ids | head -n 1; }
last_id() { ids | tail -n 1; }
wait_first() {
	_end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -lt "$_end" ]; do
		[ "$(first_id)" = "$1" ] && return 0
		sleep 0.1
	done
	screen main | diag
	return 1
}
vmhwm() { awk '/^VmHWM:/ {print $2}' "/proc/$(console_pid main)/status"; }

console main
wait_screen main "PIPELINE .*SCHEDULE"
keys main 8
wait_screen main "^▶ default +postgres"
keys main Enter
wait_screen main "SCHEMA +TABLES" && wait_screen main "public +[0-9]+"
ok $? "Enter on a postgres connection of the connections view: its schemas"
keys main q q 9
wait_screen main "SCHEMA +TABLES" && wait_screen main "public +[0-9]+"
ok $? "9 lists the warehouse's schemas"

keys main ':tables default public' Enter
wait_screen main "TABLE +KIND +EST\. ROWS +SIZE +LAST WRITTEN BY" &&
	wait_screen main "big +table +$ROWS +[0-9]+ MB"
ok $? "a schema's tables: kind, estimated rows, size"
wait_screen main "nokey +table"
ok $? "... every one of them"

keys main '/' '^big$' Enter
wait_screen main "▶ big"
keys main Enter
wait_screen main "public\.big +~$ROWS rows +key: id" && wait_first 1
ok $? "Enter opens the table: the first screen starts at row 1"
N=$(ids | wc -l)
[ "$N" -gt 10 ]
ok $? "... a screen of rows ($N)"
H0=$(vmhwm)

keys main NPage
wait_first $((N + 1))
ok $? "PgDn: the next screen"
keys main NPage NPage
wait_first $((3 * N + 1))
ok $? "... and the one after"
keys main PPage
wait_first $((2 * N + 1))
ok $? "PgUp goes back a screen"

keys main G
wait_screen main "^▶ $ROWS " && [ "$(last_id)" = "$ROWS" ]
ok $? "G: the last screen, with the last id"
keys main g
wait_first 1
ok $? "g: back to the first"

keys main ':where id = 4242' Enter
wait_first 4242 && [ "$(ids | wc -l)" = 1 ]
ok $? ":where EXPR filters too: one row"
keys main '/' C-u 'id % 7 = 0' Enter
wait_first 7
ok $? "a WHERE filter: id % 7 = 0"
bad=$(ids | awk '$1 % 7 != 0' | wc -l)
is "... shows only multiples of 7" "$bad" 0
keys main NPage
wait_first $(( (N + 1) * 7 ))
ok $? "... and pages through them"

# the cursor to grp, sort by it
keys main l s
wait_screen main "grp↑" && wait_screen main "^▶ [0-9]+ +0 "
ok $? "s sorts by the column under the cursor"
body | awk '$1 ~ /^[0-9]+$/ {print $2}' >"$OUT/grp"
sort -n -c "$OUT/grp" 2>/dev/null && [ -s "$OUT/grp" ]
ok $? "... in order" || diag <"$OUT/grp"

keys main '/' C-u 'id % = 7 (' Enter
wait_screen main "where: ERROR: +syntax error"
ok $? "a bad WHERE expression: the server's error on the status line"
keys main s
wait_screen main "grp↓"
ok $? "... and the console goes on (s again: the other way)"
screen main | grep -q "CONSOLE-EXITED"
is "... it did not exit" "$?" 1

keys main l p
wait_screen main "column val \(text\) of public\.big" && wait_screen main "null share: +2[45]\.[0-9]+%" &&
	wait_screen main "min: +v[0-9]+" && wait_screen main "max: +v[0-9]+"
ok $? "p profiles the column: null share, min, max" || screen main | diag

keys main Escape x C-u "$OUT/big7.csv" Enter
wait_screen main "wrote [0-9]+ rows to $OUT/big7.csv"
n=$(screen main | sed -n 's/.*wrote \([0-9]*\) rows to.*/\1/p')
is "x exports the filtered view, every row of it" "$n $(($(wc -l <"$OUT/big7.csv") - 1)) $(head -n 1 "$OUT/big7.csv" | tr -d '\r')" \
	"$((ROWS / 7)) $((ROWS / 7)) id,grp,val"

# memory while paging the whole filter off and back: one screen at a time
keys main Escape
wait_screen main "public\.big +~$ROWS rows +key: id +sort: grp desc *$"
for i in $(seq 1 40); do keys main NPage; sleep 0.05; done
keys main G
wait_screen main "^▶ [0-9]+ +0 "
H1=$(vmhwm)
asan=$(nm -D "$SLUICE_BIN" 2>/dev/null | grep -c __asan_init)
[ $((H1 - H0)) -lt 16384 ] && { [ "$asan" -gt 0 ] || [ "$H1" -lt 65536 ]; }
ok $? "paging a $ROWS-row table: peak RSS $((H1 / 1024)) MB, grew $(((H1 - H0) / 1024)) MB (asan: $asan)"

keys main q q ':table public.nokey' Enter
wait_screen main "public\.nokey +~?[0-9?]* *rows +key: ctid" && wait_first 1
ok $? "a table without a primary key pages by ctid"
keys main NPage
N2=$(ids | wc -l)
wait_first $((N2 + 1))
ok $? "... PgDn" 
keys main G
wait_screen main "^▶ 3000 "
ok $? "... G: its last row"

done_testing
