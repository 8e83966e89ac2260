#!/bin/sh
# The s3 and ftp connectors against real servers on loopback: s3rver (npm,
# installed by bootstrap into build/npm) and Debian's pyftpdlib, driven by
# tests/tools/objtool from a connections file. S3: put, a listing over many
# pages (continuation tokens), a streamed get with the same bytes, head,
# a missing key, delete; the same requests against tests/servers/sigv4d.py,
# which checks each one's SigV4 signature from the bytes it got. FTP: an MLSD listing with sizes and times, the
# LIST fallback, a streamed get, SIZE/MDTM, a missing file, a wrong
# password; FTPS (explicit TLS) with the server's CA, without it, and
# against a server without TLS. No secret in any output.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..41"

OBJTOOL=$(dirname "$SLUICE_BIN")/tests/tools/objtool
S3RVER=${S3RVER:-$SLUICE_SRCDIR/build/npm/node_modules/.bin/s3rver}
D=$SLUICE_TESTDIR/objstore
rm -rf "$D"
mkdir -p "$D/s3" "$D/ftp/sub" "$D/out"
S3PID= FTPPID= FTP2PID= FTP3PID= SIGPID=
trap 'for p in $S3PID $FTPPID $FTP2PID $FTP3PID $SIGPID; do is_pid "$p" && kill "$p"; done' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SECRET='sEcr3t/KEY+zz9Q'
FTPPASS='pw$Ftp-s3cr3t'
export OBJ_TEST_SECRET=$SECRET

# ---- S3 ----
S3PORT=$(free_port)
if [ -x "$S3RVER" ]; then
	# s3rver makes its continuation tokens with DES, which node's OpenSSL 3
	# keeps in its legacy provider
	NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$D/s3" -a 127.0.0.1 -p "$S3PORT" -s --configure-bucket lake >"$D/s3rver.log" 2>&1 &
	S3PID=$!
	wait_for 15 sh -c "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $S3PORT), 1)'"
	ok $? "s3rver listens on 127.0.0.1:$S3PORT"
else
	ok 1 "s3rver is installed ($S3RVER; ./bootstrap deps installs it)"
fi

# the signature checker, with the same secret
python3 "$SLUICE_SRCDIR/tests/servers/sigv4d.py" --port-file "$D/sig.port" --access-key AKIDOBJTEST \
	--secret-key "$SECRET" --region eu-west-3 >"$D/sigv4d.log" 2>&1 &
SIGPID=$!

# a Debian python with pyftpdlib (another python3 may come first on PATH)
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import pyftpdlib' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ]
ok $? "pyftpdlib is installed (python3-pyftpdlib)"

printf '%s\n' "$FTPPASS" >"$D/ftp.pass"
chmod 600 "$D/ftp.pass"

# files to serve and to upload
printf 'hello\n' >"$D/ftp/a.txt"
head -c 1500000 /dev/urandom >"$D/ftp/big.bin"
printf 'x,y\n1,2\n' >"$D/ftp/sub/nested file.csv"
touch -d '2024-01-31 12:34:56 UTC' "$D/ftp/a.txt"

"$PY" "$SLUICE_SRCDIR/tests/servers/ftpd.py" --port-file "$D/ftp.port" --root "$D/ftp" --user loader \
	--password "$FTPPASS" >"$D/ftpd.log" 2>&1 &
FTPPID=$!
"$PY" "$SLUICE_SRCDIR/tests/servers/ftpd.py" --port-file "$D/ftp2.port" --root "$D/ftp" --user loader \
	--password "$FTPPASS" --no-mlsd >"$D/ftpd2.log" 2>&1 &
FTP2PID=$!
# FTPS: a certificate for 127.0.0.1 of its own
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >"$D/openssl.log" 2>&1
"$PY" "$SLUICE_SRCDIR/tests/servers/ftpd.py" --port-file "$D/ftp3.port" --root "$D/ftp" --user loader \
	--password "$FTPPASS" --tls "$D/cert.pem" "$D/key.pem" >"$D/ftpd3.log" 2>&1 &
FTP3PID=$!
wait_for 10 test -s "$D/ftp.port" && wait_for 10 test -s "$D/ftp2.port" && wait_for 10 test -s "$D/ftp3.port" &&
	wait_for 10 test -s "$D/sig.port"
ok $? "the FTP servers and the signature checker listen" || cat "$D/ftpd.log" "$D/ftpd3.log" "$D/openssl.log" "$D/sigv4d.log" | diag
SIGPORT=$(cat "$D/sig.port" 2>/dev/null)
FTPPORT=$(cat "$D/ftp.port" 2>/dev/null)
FTP2PORT=$(cat "$D/ftp2.port" 2>/dev/null)
FTP3PORT=$(cat "$D/ftp3.port" 2>/dev/null)

CONNS=$D/connections.yml
cat >"$CONNS" <<YML
connections:
  lake:
    type: s3
    endpoint: "http://127.0.0.1:$S3PORT"
    region: us-east-1
    bucket: lake
    access_key_id: S3RVER
    secret_access_key: "\${OBJ_TEST_SECRET}"
  nobucket: { type: s3, endpoint: "http://127.0.0.1:$S3PORT", bucket: nosuchbucket, access_key_id: S3RVER, secret_access_key: "\${OBJ_TEST_SECRET}" }
  badkey: { type: s3, endpoint: "http://127.0.0.1:$S3PORT", bucket: lake, access_key_id: NOTAKEY, secret_access_key: "\${OBJ_TEST_SECRET}" }
  signed: { type: s3, endpoint: "http://127.0.0.1:${SIGPORT:-1}", region: eu-west-3, bucket: lake, access_key_id: AKIDOBJTEST, secret_access_key: "\${OBJ_TEST_SECRET}" }
  vhost: { type: s3, endpoint: "http://localhost:${SIGPORT:-1}", path_style: false, region: eu-west-3, bucket: lake, access_key_id: AKIDOBJTEST, secret_access_key: "\${OBJ_TEST_SECRET}" }
  badsig: { type: s3, endpoint: "http://127.0.0.1:${SIGPORT:-1}", region: eu-west-3, bucket: lake, access_key_id: AKIDOBJTEST, secret_access_key: "WrongSecret-99z" }
  files: { type: ftp, host: 127.0.0.1, port: ${FTPPORT:-1}, user: loader, password_file: ftp.pass }
  oldftp: { type: ftp, host: 127.0.0.1, port: ${FTP2PORT:-1}, user: loader, password_file: ftp.pass }
  badftp: { type: ftp, host: 127.0.0.1, port: ${FTPPORT:-1}, user: loader, password: "WrongPass-77x" }
  secure: { type: ftp, host: 127.0.0.1, port: ${FTP3PORT:-1}, user: loader, password_file: ftp.pass, ftps: true, ca_file: cert.pem }
  unverified: { type: ftp, host: 127.0.0.1, port: ${FTP3PORT:-1}, user: loader, password_file: ftp.pass, ftps: true }
  plaintls: { type: ftp, host: 127.0.0.1, port: ${FTPPORT:-1}, user: loader, password_file: ftp.pass, ftps: true, ca_file: cert.pem }
  cleartext: { type: ftp, host: 127.0.0.1, port: ${FTP3PORT:-1}, user: loader, password_file: ftp.pass }
YML
chmod 600 "$CONNS"
# OBJTOOL_WRAPPER: a command to run it under (valgrind ...), by hand
obj() { ${OBJTOOL_WRAPPER:-} "$OBJTOOL" "$CONNS" "$@"; }
ALL=$D/all.out
: >"$ALL"
# run NAME CONN VERB ARGS...: objtool's output in $D/NAME.out (stdout and stderr), and in $ALL
run() {
	n=$1; shift
	obj "$@" >"$D/$n.out" 2>&1
	rc=$?
	cat "$D/$n.out" >>"$ALL"
	return $rc
}

# ---- S3: put, list over pages, get, head, missing, delete ----
fails=0
for i in 01 02 03 04 05 06 07 08 09 10 11; do
	printf 'object %s\n' "$i" >"$D/o$i.txt"
	run put$i lake put "$D/o$i.txt" "raw/2024-01-0$((1 + ${i#0} % 3))/part $i.txt" || fails=$((fails + 1))
done
[ $fails -eq 0 ]
ok $? "11 objects put, keys with spaces (signed, encoded paths)" || diag <"$D/put01.out"
run putbig lake put "$D/ftp/big.bin" "raw/big+file (1).bin"
ok $? "a 1.5 MB object put" || diag <"$D/putbig.out"
run other lake put "$D/o01.txt" "other/x.txt"

run ls lake ls raw/ 4
ok $? "list raw/ with 4 keys a page" || diag <"$D/ls.out"
is "the listing has the 12 objects under raw/, none other" "$(grep -c '^raw/' "$D/ls.out"):$(grep -c '^other/' "$D/ls.out"):$(tail -n1 "$D/ls.out")" "12:0:# 12 objects"
grep -q "^raw/big+file (1).bin	1500000	" "$D/ls.out"
ok $? "the listing gives key and size" || diag <"$D/ls.out"
ETAG=$(md5sum "$D/ftp/big.bin" | cut -d' ' -f1)
grep "^raw/big+file (1).bin" "$D/ls.out" | cut -f3 | grep -qx "$ETAG"
ok $? "and the ETag (the MD5 of a single PUT), unquoted" || diag <"$D/ls.out"
grep -q "^raw/.*	20[0-9][0-9]-[01][0-9]-[0-3][0-9]T" "$D/ls.out"
ok $? "and the last-modified time" || diag <"$D/ls.out"
# sorted like S3 keeps them
cut -f1 "$D/ls.out" | grep '^raw/' >"$D/keys"
[ "$(wc -l <"$D/keys")" -eq 12 ] && LC_ALL=C sort -c "$D/keys"
ok $? "keys come in order across pages"

run get lake get "raw/big+file (1).bin" "$D/out/big.bin"
ok $? "get streams the object to a file" || diag <"$D/get.out"
[ "$(sha256sum <"$D/out/big.bin")" = "$(sha256sum <"$D/ftp/big.bin")" ]
ok $? "the same bytes (sha256)"

run head lake head "raw/big+file (1).bin"
is "head: size and ETag" "$(sed -n 's/^size //p; s/^etag //p' "$D/head.out" | tr '\n' ' ')" "1500000 $ETAG "

run missing lake get "raw/no such key.txt" "$D/out/x"
rc=$?
[ $rc -eq 3 ] && grep -q "s3: GET lake/raw/no such key.txt: 404 NoSuchKey" "$D/missing.out"
ok $? "a missing key is a clear not-found error" || diag <"$D/missing.out"
run nobucket nobucket ls
[ $? -eq 3 ] && grep -q "NoSuchBucket" "$D/nobucket.out"
ok $? "a missing bucket too" || diag <"$D/nobucket.out"
run badkey badkey ls
[ $? -eq 1 ] && grep -q "403 InvalidAccessKeyId" "$D/badkey.out"
ok $? "an unknown access key is refused, in one line" || diag <"$D/badkey.out"

run rm lake rm "raw/2024-01-02/part 01.txt"
ok $? "delete" || diag <"$D/rm.out"
run head2 lake head "raw/2024-01-02/part 01.txt"
[ $? -eq 3 ]
ok $? "the deleted key is gone"

# ---- S3 signatures, checked ----
K1='in/été 2024/a+b (1)~x_y-z.csv'
K2='in/it'"'"'s!*$&,;=:@.txt'
run sput1 signed put "$D/ftp/big.bin" "$K1" && run sput2 signed put "$D/o02.txt" "$K2"
ok $? "signed PUTs (the body's sha256) of keys with every kind of byte, accepted" || cat "$D/sput1.out" "$D/sput2.out" | diag
run sls2 signed ls "in/été 2024/"
[ $? -eq 0 ] && grep -q "^$K1	1500000	" "$D/sls2.out" && [ "$(grep -c '^in/' "$D/sls2.out")" -eq 1 ]
ok $? "a signed listing with an encoded prefix" || diag <"$D/sls2.out"
run sget2 signed get "$K1" "$D/out/sig.bin" && run shead2 signed head "$K2" && run srm2 signed rm "$K2"
[ $? -eq 0 ] && [ "$(sha256sum <"$D/out/sig.bin")" = "$(sha256sum <"$D/ftp/big.bin")" ]
ok $? "signed GET, HEAD and DELETE" || cat "$D/sget2.out" "$D/shead2.out" "$D/srm2.out" | diag
is "the checker verified each of the 6 requests" "$(grep -c '^signed ' "$D/sigv4d.log")" 6
: >"$D/empty"
run eput signed put "$D/empty" "in/empty" && run ehead signed head "in/empty" && run eget signed get "in/empty" "$D/out/empty"
[ $? -eq 0 ] && grep -qx "size 0" "$D/ehead.out" && [ -f "$D/out/empty" ] && [ ! -s "$D/out/empty" ]
ok $? "an empty object: put, head, get" || cat "$D/eput.out" "$D/ehead.out" "$D/eget.out" | diag
run vput vhost put "$D/o03.txt" "v/one two.txt" && run vls vhost ls v/ && run vget vhost get "v/one two.txt" "$D/out/v.txt"
[ $? -eq 0 ] && grep -q "^v/one two.txt	10	" "$D/vls.out" && cmp -s "$D/out/v.txt" "$D/o03.txt" &&
	grep -q "^signed GET /v/one%20two.txt$" "$D/sigv4d.log"
ok $? "virtual-host addressing (the bucket in the host), signed" || cat "$D/vput.out" "$D/vls.out" "$D/vget.out" "$D/sigv4d.log" | diag
run sbad badsig ls
[ $? -eq 1 ] && [ "$(wc -l <"$D/sbad.out")" -eq 1 ] && grep -q "s3: list lake: 403 SignatureDoesNotMatch: The request signature" "$D/sbad.out"
ok $? "a wrong secret key: 403 SignatureDoesNotMatch, in one line" || diag <"$D/sbad.out"

# ---- FTP ----
run fls files ls ""
ok $? "ftp: list the login directory" || diag <"$D/fls.out"
grep -q "(MLSD)" "$D/fls.out"
ok $? "with MLSD" || diag <"$D/fls.out"
is "entries with type, size and the modification time (UTC)" \
	"$(grep -E '^(a.txt|big.bin|sub)	' "$D/fls.out" | sort | tr '\t' ' ' | tr '\n' '|')" \
	"a.txt f 6 2024-01-31T12:34:56Z|big.bin f 1500000 $(date -u -r "$D/ftp/big.bin" +%Y-%m-%dT%H:%M:%SZ)|sub d $(grep '^sub	' "$D/fls.out" | cut -f3) $(date -u -r "$D/ftp/sub" +%Y-%m-%dT%H:%M:%SZ)|"
run fls2 files ls sub
grep -q "^nested file.csv	f	8	" "$D/fls2.out"
ok $? "a subdirectory, a name with a space" || diag <"$D/fls2.out"
run fold oldftp ls ""
grep -q "(LIST)" "$D/fold.out" && grep -q "^big.bin	f	1500000	" "$D/fold.out" && grep -q "^sub	d	" "$D/fold.out"
ok $? "a server without MLSD: LIST parsed" || diag <"$D/fold.out"

run fget files get big.bin "$D/out/fbig.bin"
[ $? -eq 0 ] && [ "$(sha256sum <"$D/out/fbig.bin")" = "$(sha256sum <"$D/ftp/big.bin")" ]
ok $? "ftp: get streams the same bytes" || diag <"$D/fget.out"
run fhead files head a.txt
is "ftp: SIZE and MDTM" "$(tr '\n' ' ' <"$D/fhead.out")" "size 6 mtime $(date -u -d '2024-01-31 12:34:56 UTC' +%s) "
run fmissing files get nope.txt "$D/out/x"
[ $? -eq 3 ] && grep -q "ftp: get 127.0.0.1:$FTPPORT/nope.txt: no such file" "$D/fmissing.out"
ok $? "ftp: a missing file is a clear not-found error" || diag <"$D/fmissing.out"
run fbad badftp ls ""
[ $? -eq 1 ] && grep -q "login denied for user 'loader'" "$D/fbad.out"
ok $? "a wrong password is an error" || diag <"$D/fbad.out"

# ---- FTPS ----
run sls secure ls ""
[ $? -eq 0 ] && grep -q "^big.bin	f	1500000	" "$D/sls.out"
ok $? "ftps: list over explicit TLS, the server's CA given" || diag <"$D/sls.out"
run sget secure get big.bin "$D/out/sbig.bin"
[ $? -eq 0 ] && [ "$(sha256sum <"$D/out/sbig.bin")" = "$(sha256sum <"$D/ftp/big.bin")" ]
ok $? "ftps: get the same bytes" || diag <"$D/sget.out"
run sunv unverified ls ""
[ $? -eq 1 ] && [ "$(wc -l <"$D/sunv.out")" -eq 1 ] && grep -qi "certificate" "$D/sunv.out"
ok $? "ftps: a certificate no CA vouches for is refused, in one line" || diag <"$D/sunv.out"
run splain plaintls ls ""
[ $? -eq 1 ] && grep -q "does not offer TLS" "$D/splain.out"
ok $? "ftps: a server without TLS is refused" || diag <"$D/splain.out"
run sclear cleartext ls ""
[ $? -eq 1 ]
ok $? "a server that requires TLS refuses a login in clear" || diag <"$D/sclear.out"

# ---- secrets ----
! grep -qF -e "$SECRET" -e "$FTPPASS" -e "WrongPass-77x" -e "WrongSecret-99z" "$ALL"
ok $? "no secret key or password in any output" ||
	grep -F -e "$SECRET" -e "$FTPPASS" -e "WrongPass-77x" -e "WrongSecret-99z" "$ALL" | diag

done_testing
