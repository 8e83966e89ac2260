#!/bin/sh
# The layers point down only: base/ includes nothing of sluice, connectors/
# only base/, core/ never a face (tui/, cli/), tui/ never cli/. Each upward
# #include (quoted, or <dir/...>, which -I$(top_srcdir) lets compile too) is
# a failure naming file:line and the header, in every subfolder. And one door
# to each server: only connectors/ includes or uses libpq, hiredis or libcurl,
# and connectors/' own headers do not include them (that would hand their
# types to every file that includes a connector).
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

# LAYERS_ROOT: the tree to check (default the source tree; the checks are
# tried on a planted copy that way).
cd "${LAYERS_ROOT:-$SLUICE_SRCDIR}" || exit 1

# The top folders of sluice's own headers: <dir/x.h> of one of these is a
# sluice include, whatever the brackets.
SLUICE_DIRS="base connectors core tui cli tests bench"

# sources DIR...: the C files under the folders, every level deep, sorted
sources() {
	find "$@" -type f -name '*.[ch]' 2>/dev/null | LC_ALL=C sort
}

# includes FILE...: "file:line:header" for each include of a sluice header
# (quoted: any; <...>: those under SLUICE_DIRS)
includes() {
	[ $# -gt 0 ] || return 0
	awk -v dirs=" $SLUICE_DIRS " '
		/^[ \t]*#[ \t]*include[ \t]*["<]/ {
			s = $0
			sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s)
			q = substr(s, 1, 1)
			close_c = q == "\"" ? "\"" : ">"
			s = substr(s, 2)
			n = index(s, close_c)
			if (n == 0)
				next
			h = substr(s, 1, n - 1)
			if (q == "<") {
				top = h
				sub(/\/.*/, "", top)
				if (top == h || index(dirs, " " top " ") == 0)
					next
			}
			print FILENAME ":" FNR ":" q h close_c
		}' "$@"
}

# layer DIR ALLOWED...: every sluice include of DIR's files is under an
# allowed dir ("." for a header beside the file, e.g. "themes.inc")
layer() {
	dir=$1; shift
	allowed=$*
	bad=$(includes $(sources "$dir") |
		while IFS= read -r line; do
			hdr=${line#*:*:}
			where=${line%:"$hdr"}
			name=$(printf '%s\n' "$hdr" | sed 's/^.\(.*\).$/\1/')
			top=${name%%/*}
			[ "$top" = "$name" ] && top=.
			case " $allowed " in
			*" $top "*) ;;
			*) printf '%s: includes %s: %s/ may include only {%s}\n' "$where" "$hdr" "$dir" "$allowed" ;;
			esac
		done)
	[ -z "$bad" ]
	ok $? "$dir/ includes only {$allowed}" || printf '%s\n' "$bad" | diag
}

# The other folders, which must reach the servers through connectors/.
OUTSIDE="base core tui cli"

# The client libraries' headers, as an ERE after "include <" or "include \"".
CLIENT_HDRS='libpq-fe\.h|libpq/|hiredis|curl/'
# Their functions, as identifiers: a call, or a name passed as a function
# pointer (PQclear as a destructor). libpq: PQ*, the large objects lo_*, the
# encodings pg_encoding_*; hiredis: redis*, redisv*, freeReplyObject;
# libcurl: curl_*.
CLIENT_FUNCS='PQ[a-z][A-Za-z0-9]*|lo_(open|close|read|write|lseek|lseek64|creat|create|tell|tell64|truncate|truncate64|unlink|import|import_with_oid|export)|pg_encoding_[a-z_]+|pg_char_to_encoding|redisv?[A-Z][A-Za-z]*|freeReplyObject|curl_[a-z_]+'

# code FILE...: "file:line:text" of each line with comments and string
# literals blanked, so a comment naming PQclear is not a use of it
code() {
	[ $# -gt 0 ] || return 0
	awk '
		FNR == 1 { in_c = 0 }
		{
			s = $0; out = ""; i = 1; n = length(s)
			while (i <= n) {
				c = substr(s, i, 1); c2 = substr(s, i, 2)
				if (in_c) {
					if (c2 == "*/") { in_c = 0; i += 2 } else i++
					out = out " "
					continue
				}
				if (c2 == "/*") { in_c = 1; i += 2; out = out "  "; continue }
				if (c2 == "//") break
				if (c == "\"" || c == "\047") {
					q = c; out = out q; i++
					while (i <= n && substr(s, i, 1) != q) {
						if (substr(s, i, 1) == "\\") i++
						i++
						out = out " "
					}
					out = out q; i++
					continue
				}
				out = out c; i++
			}
			print FILENAME ":" FNR ":" out
		}' "$@"
}

# no_client_libs: no file outside connectors/ includes a client library's
# header or uses one of its functions (each hit named file:line)
no_client_libs() {
	files=$(sources $OUTSIDE)
	bad=$(printf '%s\n' "$files" | xargs grep -nE \
		"^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($CLIENT_HDRS)" /dev/null |
		sed 's/^\([^:]*:[0-9]*\):.*include[[:space:]]*\([^[:space:]]*\).*/\1: includes \2/')
	[ -z "$bad" ]
	ok $? "only connectors/ includes libpq, hiredis or libcurl headers (checked: $OUTSIDE)" ||
		{ printf '%s\n' "$bad" "servers are reached through connectors/ (pg.h, pgasync.h, redis.h): use or extend those" | diag; }
	bad=$(code $files | grep -E "^[^:]*:[0-9]+:.*(^|[^A-Za-z0-9_])($CLIENT_FUNCS)([^A-Za-z0-9_]|\$)" |
		while IFS= read -r line; do
			text=${line#*:*:}
			where=${line%:"$text"}
			for f in $(printf '%s\n' "$text" | grep -oE "(^|[^A-Za-z0-9_])($CLIENT_FUNCS)([^A-Za-z0-9_]|\$)" |
				   grep -oE "($CLIENT_FUNCS)"); do
				printf '%s: uses %s\n' "$where" "$f"
			done
		done)
	[ -z "$bad" ]
	ok $? "only connectors/ calls libpq, hiredis or libcurl (checked: $OUTSIDE)" ||
		{ printf '%s\n' "$bad" "add what is missing to connectors/ and call that" | diag; }
}

# opaque_connectors: connectors/' headers do not include the client
# libraries' headers; their types stay inside the .c files
opaque_connectors() {
	bad=$(find connectors -type f -name '*.h' | LC_ALL=C sort | xargs grep -nE \
		"^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($CLIENT_HDRS)" /dev/null |
		sed 's/^\([^:]*:[0-9]*\):.*include[[:space:]]*\([^[:space:]]*\).*/\1: includes \2/')
	[ -z "$bad" ]
	ok $? "connectors/ headers include no libpq, hiredis or libcurl header" ||
		{ printf '%s\n' "$bad" "a connectors/ header would hand that library's types to every includer: include it in the .c, name the types as opaque structs (struct pg_conn) in the header" | diag; }
}

# below DIR HEADER...: no file under DIR includes one of the headers (core's
# upper floors: the loader, the runner, the operator's actions), which sit
# above it and use it
below() {
	dir=$1; shift
	bad=$(includes $(sources "$dir") |
		while IFS= read -r line; do
			hdr=${line#*:*:}
			where=${line%:"$hdr"}
			name=$(printf '%s\n' "$hdr" | sed 's/^.\(.*\).$/\1/')
			for h in "$@"; do
				[ "$name" = "$h" ] && printf '%s: includes %s, which is above %s/\n' "$where" "$hdr" "$dir"
			done
		done)
	[ -z "$bad" ]
	ok $? "$dir/ includes none of {$*}" ||
		{ printf '%s\n' "$bad" "read the project through core/projdef.h and a task's environment through core/taskenv.h" | diag; }
}

UPPER_CORE="core/project.h core/ctx.h core/actions.h core/scheduler.h core/worker.h core/taskexec.h core/services.h"

echo "1..11"
layer base base .
layer connectors connectors base .
layer core core connectors base .
layer tui tui core connectors base .
# the batch face may open the console, never the other way round
layer cli cli tui core connectors base .
# the kinds, the models and the loads are what the loader and the runner use
below core/kinds $UPPER_CORE
below core/models $UPPER_CORE core/kinds/kind.h
below core/load $UPPER_CORE core/kinds/kind.h
no_client_libs
opaque_connectors
done_testing
