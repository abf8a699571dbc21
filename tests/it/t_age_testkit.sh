#!/usr/bin/env bash
# The age format against its own test vectors (C2SP CCTV testkit, from the
# Go module proxy by tests/age-testkit.sh): every vector through our
# decrypting stage (tests/it/age_testkit.py says what each must do), plus
# edge cases of our encrypter read back by the age CLI (empty payload, a
# last chunk of exactly 64 KiB, many chunks) and the reverse.
# san: yes
source "$(dirname "$0")/../lib.sh"
AGT=$TOP/build/${EB_FLAVOUR:-rel}/tools/agetool
CASE=testkit
TK=$("$TOP/tests/age-testkit.sh") || die "cannot fetch the age testkit"
mkdir -p "$T/tk"
python3 "$TOP/tests/it/age_testkit.py" "$AGT" "$TK" "$T/tk"
expect_eq testkit_vectors_seen "$(ls "$T/tk" | wc -l)" "$(ls "$TK" | wc -l)"

CASE=roundtrip
age-keygen -o "$T/k.txt" 2>/dev/null; R=$(age-keygen -y "$T/k.txt")
for n in 0 1 65535 65536 65537 131072 200000; do
	head -c $n /dev/urandom >"$T/p$n"
	"$AGT" encrypt -r "$R" "$T/p$n" "$T/o$n.age" || fail "encrypt_$n" "agetool encrypt failed"
	age -d -i "$T/k.txt" "$T/o$n.age" >"$T/d$n" && check "age_cli_reads_ours_$n" cmp "$T/p$n" "$T/d$n"
	age -r "$R" -o "$T/a$n.age" "$T/p$n"
	"$AGT" decrypt -i "$T/k.txt" "$T/a$n.age" "$T/e$n" && check "we_read_age_cli_$n" cmp "$T/p$n" "$T/e$n"
done
expect_eq last_chunk_full_size "$(stat -c %s "$T/o65536.age")" "$(( $(stat -c %s "$T/o0.age") + 65536 ))"
# a chunk swapped with its neighbour: each still authenticates alone, but
# not at the other's position
python3 - "$T/o200000.age" "$T/swap.age" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
h = d.index(b"\n", d.index(b"\n--- ") + 1) + 1 + 16
c = 65536 + 16
open(sys.argv[2], "wb").write(d[:h] + d[h + c:h + 2 * c] + d[h:h + c] + d[h + 2 * c:])
PY
out=$("$AGT" decrypt -i "$T/k.txt" "$T/swap.age" "$T/swap.out" 2>&1); rc=$?
expect_eq swapped_chunk_exit_5 "$rc" 5
expect_match swapped_chunk_says "$out" 'chunk 0 does not authenticate'
check swapped_chunk_no_output test ! -e "$T/swap.out"
# the header MAC covers the stanzas: a changed share is caught
sed '2s/^-> X25519 ./-> X25519 A/' "$T/o1.age" >"$T/hdr.age"
out=$("$AGT" decrypt -i "$T/k.txt" "$T/hdr.age" "$T/hdr.out" 2>&1); rc=$?
expect_eq altered_header_exit_5 "$rc" 5
check altered_header_no_output test ! -e "$T/hdr.out"
exit 0
