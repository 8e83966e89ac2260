#!/bin/sh
# make bench: sluice against anchors measured in the same run. Not a test:
# prints numbers and ratios, asserts nothing.
set -eu
bin=${1:?usage: bench/run.sh SLUICE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
work=${SLUICE_BENCH_DIR:-$(pwd)/bench-work}
for p in "$work/proj" "$work/loadproj" "$work/models_views" "$work/reportproj" "$work/sqlproj"; do
	[ -d "$p/.sluice" ] && { "$bin" -q -C "$p" runner --stop >/dev/null 2>&1; "$bin" -q -C "$p" down >/dev/null 2>&1; }
done
only=${SLUICE_BENCH_ONLY:-all} # models | reports | backfill | runner | loads | sql | tables | backup | extract | all
rm -rf "$work"
mkdir -p "$work/proj/pipelines"
cat >"$work/proj/sluice.yml" <<YML
name: bench
runner:
  workers: 2
YML
now() { date +%s.%N; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# ---- sql ---------------------------------------------------------------------
# One query's 1,000,000 rows (4 columns) written out: psql --csv (the anchor)
# against sluice sql --csv, --json and its aligned table. Best of 3
# interleaved wall-clock times; peak RSS of the client (both hold the whole
# result, as psql does without FETCH_COUNT).
bench_sql() {
	echo
	echo "== sql: 1,000,000 rows x 4 columns out of the embedded warehouse"
	sp=$work/sqlproj
	mkdir -p "$sp/pipelines"
	printf 'name: sqlbench\n' >"$sp/sluice.yml"
	"$bin" -q -C "$sp" up >/dev/null
	swh=$("$bin" -q -C "$sp" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
	q="select g, g * 1.5 as x, md5(g::text) as h, timestamptz '2026-01-01' + g * interval '1 s' as t from generate_series(1, 1000000) g"
	for i in 1 2 3; do
		for w in psql csv json table; do
			case $w in
			psql) set -- psql "$swh" -XAq --csv -c "$q" ;;
			table) set -- "$bin" -q -C "$sp" sql --timeout 600 "$q" ;;
			*) set -- "$bin" -q -C "$sp" sql --timeout 600 "--$w" "$q" ;;
			esac
			/usr/bin/time -f "%e %M" -o "$work/sql_time.out" "$@" >/dev/null 2>"$work/sql_$w.err" || { echo "sql $w failed:" >&2; tail -n 3 "$work/sql_$w.err" >&2; }
			new=$(tail -n 1 "$work/sql_time.out")
			if [ ! -s "$work/sql_$w.best" ] || [ "$(echo "${new% *} < $(cut -d' ' -f1 "$work/sql_$w.best")" | bc -l)" -eq 1 ]; then
				echo "$new" >"$work/sql_$w.best"
			fi
		done
	done
	anchor=$(cut -d' ' -f1 "$work/sql_psql.best")
	for w in psql csv json table; do
		r=$(cat "$work/sql_$w.best")
		printf '%-30s %7.2f s %6.2f x psql  %7.1f MB RSS\n' "$(case $w in psql) echo "psql --csv (anchor)";; table) echo "sluice sql (table)";; *) echo "sluice sql --$w";; esac)" \
			"${r% *}" "$(echo "$anchor / ${r% *}" | bc -l)" "$(echo "${r#* } / 1024" | bc -l)"
	done
	"$bin" -q -C "$sp" down >/dev/null 2>&1 || true
}
[ "$only" = sql ] && { bench_sql; exit 0; }
[ "$only" = tables ] && { sh "$here/tables.sh" "$bin" "$work"; exit 0; }
# ---- backup ------------------------------------------------------------------
# sluice backup / restore of the loads' table beside pg_dump / pg_restore
# (bench/backup.sh).
[ "$only" = backup ] && { sh "$here/backup.sh" "$bin" "$work"; exit 0; }
# ---- extract: 100,000 records over 1,000 pages beside a Python requests loop
[ "$only" = extract ] && { sh "$here/extract.sh" "$bin" "$work"; exit 0; }

# ---- models ------------------------------------------------------------------
# A generated project of 2,000 models (bench/gen_models.py) read, checked and
# compiled with no server: what dbt calls parsing. The anchors are dbt-core's
# published numbers; dbt is not run here.
if [ "$only" = models ] || [ "$only" = all ]; then
	echo "== models: 2,000 generated models (10 layers x 200, 3 refs each; views, every tenth a table), 4,000 checks"
	m="$work/models"
	python3 "$here/gen_models.py" "$m"
	mruns=${SLUICE_BENCH_RUNS:-5}
	# mtime NAME ARGS...: the median wall time of sluice ARGS in the project
	mtime() {
		mt_name=$1; shift
		: >"$work/$mt_name.times"
		for i in $(seq "$mruns"); do
			t0=$(now); "$bin" -q -C "$m" "$@" >/dev/null; t1=$(now)
			echo "$t1 - $t0" | bc -l >>"$work/$mt_name.times"
		done
		median <"$work/$mt_name.times"
	}
	v_s=$(mtime validate validate)
	c_s=$(mtime compile compile m_09_100)
	l_s=$(mtime models models --json)
	o_s=$(mtime one models m_09_100)
	summary=$("$bin" -C "$m" validate)
	rss=-
	[ -x /usr/bin/time ] && rss=$(/usr/bin/time -f %M "$bin" -q -C "$m" validate 2>&1 >/dev/null | tail -n1)
	printf '%-34s %8.3f s   (%s; budget 0.5 s)\n' "sluice validate" "$v_s" "${summary#ok: }"
	printf '%-34s %8.3f s   (one model of the last layer)\n' "sluice compile MODEL" "$c_s"
	printf '%-34s %8.3f s   (all 2,000 with schema, upstream, downstream)\n' "sluice models --json" "$l_s"
	printf '%-34s %8.3f s\n' "sluice models MODEL (select one)" "$o_s"
	printf '%-34s %8s KB\n' "peak RSS of validate" "$rss"
	echo "anchor (published): dbt-core 1.9 parsed 1,599 models, 694 snapshots and 5,000 tests in ~174 s"
	echo "                    (dbt-core #11421); a one-model 'dbt run -s' took 20.7 s (#12944)"
	printf '%-34s %8.0f x\n' "dbt parse / sluice validate" "$(echo "174 / $v_s" | bc -l)"

	# sluice build of the 2,000 as views (no checks) on the embedded
	# default, beside the same statements through one `psql -f` (each
	# model's transaction, from the run's task specs: bench/views_ddl.py),
	# both over views that exist; then one model of the 2,000 selected and
	# built, beside its statements alone through psql -f.
	echo
	echo "== sluice build: the 2,000 as views, the runner's workers (one per core), beside one psql -f"
	mv="$work/models_views"
	python3 "$here/gen_models.py" "$mv" 10 200 views
	"$bin" -q -C "$mv" up >/dev/null
	addr() { "$bin" -q -C "$mv" --json up | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['address'])"; }
	wh=$(addr warehouse)
	st=$(addr state)
	python3 -c "
print('create schema if not exists lake;')
for i in range(200):
    print('create table if not exists lake.raw_%d (id bigint, amount numeric, updated_at timestamptz);' % i)" |
		psql "$wh" -Xq
	"$bin" -q -C "$mv" runner --no-schedule >/dev/null
	# the first build creates every view; the ones measured replace them
	"$bin" -q -C "$mv" build >/dev/null
	bruns=${SLUICE_BENCH_BUILD_RUNS:-3}
	: >"$work/build.times"
	for i in $(seq "$bruns"); do
		t0=$(now); "$bin" -q -C "$mv" build >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/build.times"
	done
	b_s=$(median <"$work/build.times")
	last=$(psql "$st" -XAtc "select max(id) from sluice.runs where pipeline = 'build'")
	psql "$st" -XAtc "select spec from sluice.task_instances where run_id = $last order by id" |
		python3 "$here/views_ddl.py" >"$work/build.sql"
	: >"$work/psql.times"
	for i in $(seq "$bruns"); do
		t0=$(now); psql "$wh" -Xq -v ON_ERROR_STOP=1 -f "$work/build.sql" >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/psql.times"
	done
	p_s=$(median <"$work/psql.times")
	per=$(psql "$st" -XAtc "select round(avg(extract(epoch from ended_at - started_at)) * 1000, 1)
		from sluice.task_instances where run_id = $last")
	# one model of the 2,000
	: >"$work/one.times"
	for i in $(seq "$mruns"); do
		t0=$(now); "$bin" -q -C "$mv" build m_09_100 >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/one.times"
	done
	one_s=$(median <"$work/one.times")
	last=$(psql "$st" -XAtc "select max(id) from sluice.runs where pipeline = 'build'")
	psql "$st" -XAtc "select spec from sluice.task_instances where run_id = $last" |
		python3 "$here/views_ddl.py" >"$work/one.sql"
	: >"$work/onepsql.times"
	for i in $(seq "$mruns"); do
		t0=$(now); psql "$wh" -Xq -v ON_ERROR_STOP=1 -f "$work/one.sql" >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/onepsql.times"
	done
	onep_s=$(median <"$work/onepsql.times")
	"$bin" -q -C "$mv" runner --stop >/dev/null 2>&1 || true
	"$bin" -q -C "$mv" down >/dev/null 2>&1 || true
	printf '%-34s %8.3f s   (median of %d: %s)\n' "sluice build (2,000 views)" "$b_s" "$bruns" \
		"$(sort -n "$work/build.times" | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}')"
	printf '%-34s %8.3f s   (the same statements, one connection)\n' "psql -f" "$p_s"
	printf '%-34s %8.2f ms  (budget 5 ms; a task, claim to end: %s ms)\n' "sluice per-model overhead" \
		"$(echo "($b_s - $p_s) * 1000 / 2000" | bc -l)" "$per"
	printf '%-34s %8.3f s\n' "sluice build MODEL (one of 2,000)" "$one_s"
	printf '%-34s %8.3f s   (psql starting and connecting included)\n' "its statements, psql -f" "$onep_s"
	printf '%-34s %8.3f s   (budget 0.3 s)\n' "sluice build MODEL beyond its SQL" "$(echo "$one_s - $onep_s" | bc -l)"
	[ "$only" = models ] && exit 0
	echo
fi

# ---- reports -------------------------------------------------------------------
# The seed's pivot (examples/hr's hires_by_quarter: 2021 hires per department
# and job, by quarter) over 1,000,000 employees: the time to its stored
# result (`sluice run --wait` of a report task, the runner up) and to the
# HTML file, beside the same query through psql (the anchor).
if [ "$only" = reports ] || [ "$only" = all ]; then
	echo "== reports: examples/hr's hires_by_quarter over 1,000,000 employees (14 departments, 20 jobs)"
	rp="$work/reportproj"
	mkdir -p "$rp/pipelines"
	cp -r "$here/../examples/hr/reports" "$rp/reports"
	printf 'name: reportbench\n' >"$rp/sluice.yml"
	printf 'tasks:\n  pivot: { kind: report, report: hires_by_quarter }\n' >"$rp/pipelines/pivot.yml"
	"$bin" -q -C "$rp" up >/dev/null
	rwh=$("$bin" -q -C "$rp" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
	# every department with every job; the dates spread over 2020-2022 by a
	# multiplicative hash: deterministic, about a third in 2021
	psql "$rwh" -XqAt -c "set client_min_messages = warning;
	  drop table if exists employees, departments, jobs;
	  create table departments (department_id int primary key, department_name text not null);
	  create table jobs (job_id int primary key, job_name text not null);
	  insert into departments select g, 'Department ' || g from generate_series(1, 14) g;
	  insert into jobs select g, 'Job ' || g from generate_series(1, 20) g;
	  create table employees (employee_id int primary key, employee_name text not null,
	    hiring_date timestamptz not null, department_id int not null references departments,
	    job_id int not null references jobs);
	  insert into employees select g, 'Employee ' || g,
	    timestamptz '2020-01-01 00:00:00+00' + ((g::bigint * 2654435761) % (3 * 365 * 86400)) * interval '1 second',
	    1 + g % 14, 1 + (g / 14) % 20 from generate_series(1, 1000000) g" -c "vacuum analyze employees"
	"$bin" -q -C "$rp" runner --no-schedule >/dev/null
	rruns=${SLUICE_BENCH_RUNS:-5}
	"$bin" -q -C "$rp" run pivot --wait >/dev/null # warm: the table in the cache
	: >"$work/rpsql.times"; : >"$work/rrun.times"; : >"$work/rhtml.times"
	for i in $(seq "$rruns"); do
		t0=$(now); psql "$rwh" -XAtq -f "$rp/reports/hires_by_quarter.sql" >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/rpsql.times"
		t0=$(now); "$bin" -q -C "$rp" run pivot --wait >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/rrun.times"
		t0=$(now); "$bin" -q -C "$rp" report hires_by_quarter --html "$work/pivot.html"; t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$work/rhtml.times"
	done
	rpsql_s=$(median <"$work/rpsql.times"); rrun_s=$(median <"$work/rrun.times"); rhtml_s=$(median <"$work/rhtml.times")
	rq=$("$bin" -q -C "$rp" --json report hires_by_quarter |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.3f %d" % (j["duration_s"], j["n_rows"]))')
	hsize=$(wc -c <"$work/pivot.html")
	"$bin" -q -C "$rp" runner --stop >/dev/null 2>&1 || true
	"$bin" -q -C "$rp" down >/dev/null 2>&1 || true
	printf '%-34s %8.3f s   (the anchor: psql starting and connecting included)\n' "psql -f hires_by_quarter.sql" "$rpsql_s"
	printf '%-34s %8.3f s   (%.2f x psql; median of %d; the query in the task %s s, %s rows kept)\n' \
		"sluice run --wait (stored result)" "$rrun_s" "$(echo "$rrun_s / $rpsql_s" | bc -l)" "$rruns" \
		"${rq% *}" "${rq#* }"
	printf '%-34s %8.3f s   (%.2f x psql; %s bytes, from the stored result)\n' "sluice report --html FILE" \
		"$rhtml_s" "$(echo "$rhtml_s / $rpsql_s" | bc -l)" "$hsize"
	printf '%-34s %8.3f s   (%.2f x psql)\n' "stored result + HTML" "$(echo "$rrun_s + $rhtml_s" | bc -l)" \
		"$(echo "($rrun_s + $rhtml_s) / $rpsql_s" | bc -l)"
	[ "$only" = reports ] && exit 0
	echo
fi

# ---- backfill ----------------------------------------------------------------
# A 365-day backfill of a 5-task no-op chain with max-parallel 4 (the runner
# starts the next date when one of the backfill's runs ends), beside the
# same 365 runs created by 365 `sluice run --date` calls one after another
# with the runner taking them as they come (the anchor). Same project, same
# runner, 4 workers; each side's wall time runs until its last run ended.
if [ "$only" = backfill ] || [ "$only" = all ]; then
	echo "== backfill: 365 dates of a 5-task chain (shell true), max-parallel 4, 4 workers"
	bp="$work/backfill"
	for d in "$bp"; do [ -d "$d/.sluice" ] && { "$bin" -q -C "$d" runner --stop; "$bin" -q -C "$d" down; } >/dev/null 2>&1; done
	rm -rf "$bp"
	mkdir -p "$bp/pipelines"
	printf 'name: bench_backfill\nrunner:\n  workers: 4\n' >"$bp/sluice.yml"
	for pl in bf runs; do
		{
			echo "tasks:"
			echo "  t1: { kind: shell, command: \"true\" }"
			for k in 2 3 4 5; do echo "  t$k: { kind: shell, command: \"true\", depends_on: [t$((k - 1))] }"; done
		} >"$bp/pipelines/$pl.yml"
	done
	"$bin" -q -C "$bp" up >/dev/null
	bsql() { psql "$("$bin" -q -C "$bp" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["address"])')" -XAtqc "$1"; }
	"$bin" -q -C "$bp" runner --no-schedule >/dev/null
	"$bin" -q -C "$bp" run bf --date 2024-01-01 --wait >/dev/null # warm-up
	t0=$(now)
	"$bin" -q -C "$bp" backfill bf --from 2025-01-01 --to 2025-12-31 --max-parallel 4 --wait >/dev/null 2>&1
	t1=$(now)
	bf_s=$(echo "$t1 - $t0" | bc -l)
	bf_state=$(bsql "SELECT state || ', ' || (SELECT count(*) FROM sluice.runs WHERE backfill_id = b.id AND state = 'success') || ' runs succeeded' FROM sluice.backfills b ORDER BY id DESC LIMIT 1")
	# the most runs of the backfill that overlapped, from their start and end times
	bf_peak=$(bsql "SELECT max(s) FROM (SELECT sum(d) OVER (ORDER BY t, d) AS s FROM (
		SELECT created_at AS t, 1 AS d FROM sluice.runs WHERE trigger = 'backfill' UNION ALL
		SELECT ended_at, -1 FROM sluice.runs WHERE trigger = 'backfill') e) x")
	t0=$(now)
	day=$(date -u -d 2025-01-01 +%s)
	for i in $(seq 0 364); do
		"$bin" -q -C "$bp" run runs --date "$(date -u -d "@$((day + i * 86400))" +%F)" --no-runner >/dev/null
	done
	t1=$(now)
	created_s=$(echo "$t1 - $t0" | bc -l)
	all_ended() { [ "$(bsql "SELECT count(*) FROM sluice.runs WHERE pipeline = 'runs' AND state IN ('queued','running')")" = 0 ]; }
	while ! all_ended; do sleep 0.05; done
	t2=$(now)
	runs_s=$(echo "$t2 - $t0" | bc -l)
	runs_state=$(bsql "SELECT count(*) FILTER (WHERE state = 'success') || ' of ' || count(*) || ' succeeded' FROM sluice.runs WHERE pipeline = 'runs'")
	"$bin" -q -C "$bp" runner --stop >/dev/null 2>&1 || true
	"$bin" -q -C "$bp" down >/dev/null 2>&1 || true
	printf '%-34s %8.2f s   %6.1f runs/s  (%s; at most %s at once)\n' "sluice backfill, max-parallel 4" "$bf_s" \
		"$(echo "365 / $bf_s" | bc -l)" "$bf_state" "$bf_peak"
	printf '%-34s %8.2f s   %6.1f runs/s  (%s; the calls alone %.2f s)\n' "365 x sluice run --date" "$runs_s" \
		"$(echo "365 / $runs_s" | bc -l)" "$runs_state" "$created_s"
	printf '%-34s %8.2f x\n' "backfill / sluice run calls" "$(echo "$bf_s / $runs_s" | bc -l)"
	[ "$only" = backfill ] && exit 0
	echo
fi

if [ "$only" = runner ] || [ "$only" = all ]; then
python3 "$here/gen_dag.py" "$work/proj" "$work/Makefile"

echo "== runner: 1000-task no-op DAG (10 layers x 100, 3 upstreams each), 2 workers"
# The machine may be busy: the times are the median of $runs runs of each;
# the statement and round-trip counts are what to compare between versions.
runs=${SLUICE_BENCH_RUNS:-5}
: >"$work/make.times"
for i in $(seq "$runs"); do
	t0=$(now); make -s -j2 -f "$work/Makefile" >/dev/null; t1=$(now)
	echo "$t1 - $t0" | bc -l >>"$work/make.times"
done
make_s=$(median <"$work/make.times")

p="$work/proj"
"$bin" -q -C "$p" up >/dev/null
state_db=$("$bin" -q -C "$p" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["address"])')
broker=$("$bin" -q -C "$p" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["broker"]["address"])')
rsock=${broker#unix:}
# Statement counts come from pg_stat_statements (a server restart to load it).
counts=no
if [ -n "$(ls /usr/lib/postgresql/*/lib/pg_stat_statements.so 2>/dev/null)" ]; then
	psql "$state_db" -XqAt -c "alter system set shared_preload_libraries = 'pg_stat_statements'"
	"$bin" -q -C "$p" down >/dev/null
	"$bin" -q -C "$p" up >/dev/null
	psql "$state_db" -XqAt -c "create extension if not exists pg_stat_statements" \
		-c "alter system set pg_stat_statements.track = 'all'" -c "select pg_reload_conf()" >/dev/null && counts=yes
fi
# pg_counts: "client_statements nested_statements" so far (this query excluded)
pg_counts() {
	psql "$state_db" -XAt -F' ' -c "select coalesce(sum(calls) filter (where toplevel), 0),
		coalesce(sum(calls) filter (where not toplevel), 0) from pg_stat_statements
		where query not like '%pg_stat_statements%'"
}
# redis_counts: "commands reads" so far; a read is one round trip (pipelined
# commands arrive together)
redis_counts() {
	redis-cli -s "$rsock" info stats | tr -d '\r' | awk -F: '/^total_commands_processed/ {c = $2}
		/^total_reads_processed/ {r = $2} END {print c, r}'
}
"$bin" -q -C "$p" runner --workers 2 --no-schedule >/dev/null
# a warm-up run of a tiny pipeline: connections and caches are hot
printf 'tasks:\n  a: { kind: shell, command: "true" }\n  b: { kind: shell, command: "true", depends_on: [a] }\n' \
	>"$p/pipelines/warmup.yml"
"$bin" -q -C "$p" run warmup --wait >/dev/null
: >"$work/sluice.times"
[ "$counts" = yes ] && { pg0=$(pg_counts); r0=$(redis_counts); }
for i in $(seq "$runs"); do
	t0=$(now)
	"$bin" -q -C "$p" run bench --wait >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l >>"$work/sluice.times"
done
if [ "$counts" = yes ]; then
	pg1=$(pg_counts); r1=$(redis_counts)
	tasks=$((runs * 1000))
	# the second INFO is one command and one read of its own
	per_task() { echo "$1" | awk -v n=$tasks '{printf "%.2f", $1 / n}'; }
	pg_top=$(per_task "$(( ${pg1% *} - ${pg0% *} ))")
	pg_nested=$(per_task "$(( ${pg1#* } - ${pg0#* } ))")
	r_cmds=$(per_task "$(( ${r1% *} - ${r0% *} - 1 ))")
	r_reads=$(per_task "$(( ${r1#* } - ${r0#* } - 1 ))")
fi
sl_s=$(median <"$work/sluice.times")
state=$("$bin" -C "$p" --json status bench | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], sum(t["state"]=="success" for t in j["tasks"]))')
"$bin" -q -C "$p" runner --stop >/dev/null 2>&1 || true
"$bin" -q -C "$p" down >/dev/null 2>&1 || true

printf '%-34s %8.3f s\n' "make -j2 (recipe true)" "$make_s"
printf '%-34s %8.3f s   (%s; median of %d: %s)\n' "sluice run --wait, 2 workers" "$sl_s" "$state" "$runs" \
	"$(sort -n "$work/sluice.times" | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}')"
printf '%-34s %8.3f ms  (budget 2 ms)\n' "sluice per-task overhead" "$(echo "$sl_s * 1000 / 1000" | bc -l)"
printf '%-34s %8.1f x\n' "sluice / make" "$(echo "$sl_s / $make_s" | bc -l)"
if [ "$counts" = yes ]; then
	# per task: everything the runner, its workers and `run --wait` sent
	printf '%-34s %8s   (+ %s run inside its functions)\n' "state store statements / task" "$pg_top" "$pg_nested"
	printf '%-34s %8s   (one statement per round trip)\n' "state store round trips / task" "$pg_top"
	printf '%-34s %8s\n' "broker commands / task" "$r_cmds"
	printf '%-34s %8s\n' "broker round trips / task" "$r_reads"
else
	echo "statement counts                   skipped: pg_stat_statements not installed"
fi
[ "$only" = runner ] && exit 0
fi

# ---- loads -------------------------------------------------------------------
# The same 1,000,000-row CSV (~100 MB) into the same table, emptied before
# each load: psql \copy (the anchor, no checks), sluice with its contract
# (every row checked, COPY in binary), the same load with SLUICE_LOAD_TEXT=1
# (COPY in text, as before binary), sluice on a 1%-dirty copy (every reject
# kept), and pgloader when installed. Interleaved runs (psql, then each
# sluice load, SLUICE_BENCH_LOAD_RUNS times): the median time, the median of
# the ratios to the psql run of the same round (paired, so a busy moment of
# the machine moves both sides), the largest peak RSS of the client.
if [ "$only" = loads ] || [ "$only" = all ]; then
echo
echo "== loads: 1,000,000-row transactions CSV (~100 MB), contract bench/transactions.yml"
rows=1000000
python3 "$here/gen_transactions.py" $rows 0 "$work/tx_clean.csv"
python3 "$here/gen_transactions.py" $rows 1 "$work/tx_dirty.csv"
mkdir -p "$work/loadproj/pipelines"
printf 'name: loadbench\n' >"$work/loadproj/sluice.yml"
"$bin" -q -C "$work/loadproj" up >/dev/null
wh=$("$bin" -q -C "$work/loadproj" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
sock=$(echo "$wh" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
user=$(echo "$wh" | sed -n "s/.*user=\([^ ]*\).*/\1/p")
psql "$wh" -XqAt -c "set client_min_messages = warning; drop table if exists tx; create table tx (transaction_id bigint, reference text,
  customer_id int, product text, quantity int, price numeric(12,2), tax numeric(12,2), currency text,
  transaction_date timestamptz)"

# run NAME COMMAND...: one run of COMMAND into the emptied table; appends
# "seconds kb" to $work/NAME.runs
run() {
	name=$1; shift
	psql "$wh" -XqAt -c "truncate tx; checkpoint"
	if ! /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >"$work/$name.log" 2>&1; then
		echo "$name failed (see $work/$name.log):" >&2
		tail -n 3 "$work/$name.log" >&2
		return 0
	fi
	tail -n 1 "$work/time.out" >>"$work/$name.runs"
}
contract="$here/transactions.yml"
lruns=${SLUICE_BENCH_LOAD_RUNS:-5}
uptime >"$work/load.uptime"
for i in $(seq "$lruns"); do
	run psql psql "$wh" -Xq -c "\\copy tx from '$work/tx_clean.csv' csv header"
	run sluice_clean "$bin" -q -C "$work/loadproj" load "$work/tx_clean.csv" --into tx --contract "$contract"
	clean_rows=$(psql "$wh" -XAt -c "select count(*) from tx")
	run sluice_text env SLUICE_LOAD_TEXT=1 "$bin" -q -C "$work/loadproj" load "$work/tx_clean.csv" --into tx --contract "$contract"
	run sluice_dirty "$bin" -q -C "$work/loadproj" load "$work/tx_dirty.csv" --into tx --contract "$contract"
	dirty_rows=$(psql "$wh" -XAt -c "select count(*) from tx")
done
uptime >>"$work/load.uptime"
state=$("$bin" -q -C "$work/loadproj" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["address"])')
kept=$(psql "$state" -XAt -c "select count(*) from sluice.rejects where load_id = (select max(id) from sluice.loads)")
have_pgl=no
if command -v pgloader >/dev/null 2>&1; then
	cat >"$work/tx.load" <<PGL
LOAD CSV FROM '$work/tx_clean.csv'
  INTO postgresql://$user@unix:$sock:5432/warehouse?tx
  WITH skip header = 1, fields terminated by ',', fields optionally enclosed by '"'
  SET client_encoding to 'utf8';
PGL
	run pgloader pgloader -q "$work/tx.load"
	have_pgl=yes
fi
"$bin" -q -C "$work/loadproj" down >/dev/null 2>&1 || true

# line NAME RUNS NOTE: median time, rows/s, the median paired ratio to psql
# (psql time / this time, round by round), the largest peak RSS
line() {
	if [ ! -s "$work/$2.runs" ]; then printf '%-30s %s\n' "$1" "failed"; return; fi
	s=$(cut -d' ' -f1 "$work/$2.runs" | median)
	m=$(cut -d' ' -f2 "$work/$2.runs" | sort -n | tail -n 1)
	r=$(paste -d' ' "$work/psql.runs" "$work/$2.runs" | awk '$3 > 0 {print $1 / $3}' | median)
	printf '%-30s %7.2f s %10.0f rows/s %6.2f x psql  %7.1f MB RSS  %s\n' "$1" "$s" "$(echo "$rows / $s" | bc -l)" \
		"$r" "$(echo "$m / 1024" | bc -l)" "$3"
}
echo "median of $lruns interleaved rounds; x psql: the median of each round's psql time / this time"
line "psql \\copy (no checks)" psql ""
line "sluice load, contract" sluice_clean "($clean_rows rows; COPY binary)"
line "sluice load, COPY text" sluice_text "(SLUICE_LOAD_TEXT=1)"
line "sluice load, 1% dirty" sluice_dirty "($dirty_rows rows, $kept rejects kept)"
if [ "$have_pgl" = yes ]; then
	line "pgloader" pgloader ""
else
	echo "pgloader                       skipped: not installed (apt-get install pgloader)"
fi
printf '%-30s %7.2f   (budget: clean and dirty >= 1.2 x psql, dirty within 15%% of clean, RSS <= 64 MB)\n' \
	"dirty / clean time" "$(echo "$(cut -d' ' -f1 "$work/sluice_dirty.runs" | median) / $(cut -d' ' -f1 "$work/sluice_clean.runs" | median)" | bc -l)"
echo "machine load before and after: $(sed 's/.*load average: //' "$work/load.uptime" | tr '\n' ' ')"
[ "$only" = loads ] && exit 0
fi
[ "$only" = all ] && bench_sql
[ "$only" = all ] && sh "$here/tables.sh" "$bin" "$work"
[ "$only" = all ] && sh "$here/backup.sh" "$bin" "$work"
sh "$here/console.sh" "$bin" "$work"
[ "$only" = all ] && sh "$here/extract.sh" "$bin" "$work"
