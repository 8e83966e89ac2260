#!/bin/sh
# The layers point down only: base/ includes nothing of sluice, connectors/
# only base/, core/ never a face (tui/, cli/), tui/ never cli/. Each upward
# #include is a failure naming file:line and the header.
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

echo "1..5"
layer base base .
layer connectors connectors base .
layer core core connectors base .
layer tui tui core connectors base .
# the batch face may open the console, never the other way round
layer cli cli tui core connectors base .
exit $tap_failed
