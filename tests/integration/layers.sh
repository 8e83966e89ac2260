#!/bin/sh
# The layers point down only: base/ includes nothing of sluice, connectors/
# only base/, core/ never a face (tui/, cli/), tui/ never cli/. Each upward
# #include is a failure naming file:line and the header. And one door to
# each server: only connectors/ includes or calls libpq, hiredis or libcurl.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

cd "$SLUICE_SRCDIR" || exit 1

# layer DIR ALLOWED...: every quoted include of DIR's files is under an allowed dir
layer() {
	dir=$1; shift
	allowed=$*
	bad=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$dir"/*.[ch] "$dir"/*/*.[ch] 2>/dev/null |
		while IFS= read -r line; do
			hdr=$(printf '%s\n' "$line" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
			top=${hdr%%/*}
			[ "$top" = "$hdr" ] && top=.
			case " $allowed " in *" $top "*) ;; *) printf '%s\n' "${line%%:#*}: includes $hdr" ;; esac
		done)
	[ -z "$bad" ]
	ok $? "$dir/ includes only {$allowed}"
	[ -z "$bad" ] || printf '%s\n' "$bad" | diag
}

# The other folders, which must reach the servers through connectors/.
OUTSIDE="base core tui cli"

# sources DIR...: the C files of the folders, one level of subfolders deep
sources() {
	for d in "$@"; do
		for f in "$d"/*.[ch] "$d"/*/*.[ch]; do
			[ -f "$f" ] && printf '%s\n' "$f"
		done
	done
}

# no_client_libs: no file outside connectors/ includes a client library's
# header, nor calls one of its functions (each hit named file:line)
no_client_libs() {
	files=$(sources $OUTSIDE)
	bad=$(printf '%s\n' "$files" | xargs grep -nE \
		'^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](libpq-fe\.h|libpq/|hiredis|curl/)' /dev/null |
		sed 's/^\([^:]*:[0-9]*\):.*include[[:space:]]*\([^[:space:]]*\).*/\1: includes \2/')
	[ -z "$bad" ]
	ok $? "only connectors/ includes libpq, hiredis or libcurl headers (checked: $OUTSIDE)" ||
		{ printf '%s\n' "$bad" "servers are reached through connectors/ (pg.h, pgasync.h, redis.h): use or extend those" | diag; }
	bad=$(printf '%s\n' "$files" | xargs grep -noE \
		'(^|[^A-Za-z0-9_])(PQ[a-zA-Z]+|redis[A-Z][a-zA-Z]*|freeReplyObject|curl_[a-z_]+)[[:space:]]*\(' /dev/null |
		sed 's/^\([^:]*:[0-9]*\):[^A-Za-z]*\([A-Za-z_]*\).*/\1: calls \2()/')
	[ -z "$bad" ]
	ok $? "only connectors/ calls libpq, hiredis or libcurl (checked: $OUTSIDE)" ||
		{ printf '%s\n' "$bad" "add what is missing to connectors/ and call that" | diag; }
}

echo "1..7"
layer base base .
layer connectors connectors base .
layer core core connectors base .
layer tui tui core connectors base .
# the batch face may open the console, never the other way round
layer cli cli tui core connectors base .
no_client_libs
exit $tap_failed
