#!/usr/bin/env bash
# t_check.sh - make check on this tree passes, and it fails on what it is
# there to catch, planted in a copy of the tree: a 200-line function, an
# allowed function that grew, a stale allow-list entry, a header that does
# not compile alone, an include up the stack, a circle between modules.
source "$(dirname "$0")/../lib.sh"

out=$(bash "$TOP/tests/check/run.sh" 2>&1); rc=$?
echo "$out" | grep -E '^(PASS|FAIL) ' | sed 's/^\(PASS\|FAIL\) /\1 tree_/'
expect_eq tree_check_exit_0 "$rc" 0

# plant NAME CMD: copy the tree, run CMD in it, make check must fail with
# a line matching the regex in $want
copy_tree() {
	rm -rf "$T/tree"; mkdir -p "$T/tree"
	(cd "$TOP" && tar cf - common crypt storage restore agent tests/check build/rel/gen 2>/dev/null) | (cd "$T/tree" && tar xf -)
}
planted() { # name regex [check]: only that check runs (each plants one fault)
	local out rc
	out=$(EB_CHECKS=${3:-} bash "$TOP/tests/check/run.sh" "$T/tree" 2>&1); rc=$?
	expect_eq "${1}_fails" "$rc" 1
	expect_match "${1}_named" "$(grep '^FAIL' <<<"$out")" "$2"
}

copy_tree
{ echo 'int planted_long(int x);'; echo 'int planted_long(int x)'; echo '{'
  for i in $(seq 200); do echo "	x += $i;"; done; echo '	return x;'; echo '}'; } >"$T/tree/common/planted.c"
planted long_function "common/planted.c: planted_long has 20[0-9] lines .*split it" functions

copy_tree
{ echo 'int planted_cc(int x);'; echo 'int planted_cc(int x)'; echo '{'
  for i in $(seq 45); do echo "	if (x == $i) x++;"; done; echo '	return x;'; echo '}'; } >"$T/tree/common/planted.c"
planted complex_function "planted_cc has .* complexity 4[0-9]" functions

# EB_CHECKS runs what it names, nothing else: a tree with a fault of each
# kind fails only the check asked for
copy_tree
printf '#ifndef P_H\n#define P_H\nstatic inline size_t p(void) { return 0; }\n#endif\n' >"$T/tree/common/planted.h"
out=$(EB_CHECKS=functions bash "$TOP/tests/check/run.sh" "$T/tree" 2>&1); rc=$?
expect_eq only_named_check_runs "$rc $(grep -c '^PASS' <<<"$out") $(grep -c '^FAIL' <<<"$out")" "0 1 0"

# an allowed function: passes at its figures, fails once it grows past them
plant_130() {
	{ echo 'int planted_allowed(int x);'; echo 'int planted_allowed(int x)'; echo '{'
	  for i in $(seq 130); do echo "	x += $i;"; done; echo '	return x;'; echo '}'; } >"$T/tree/common/planted.c"
}
copy_tree; plant_130
lines=$(pmccabe "$T/tree/common/planted.c" | awk '{print $5}')
echo "common/planted.c planted_allowed $lines 1" >>"$T/tree/tests/check/allow.txt"
out=$(EB_CHECKS=functions bash "$TOP/tests/check/run.sh" "$T/tree" 2>&1); rc=$?
expect_eq allowed_function_passes "$rc $(grep -c '^FAIL' <<<"$out")" "0 0"
sed -i "s/^common\/planted.c planted_allowed $lines 1\$/common\/planted.c planted_allowed $((lines - 5)) 1/" "$T/tree/tests/check/allow.txt"
planted allowed_grew "planted_allowed grew to $lines lines" functions

copy_tree
echo "common/err.c no_such_function 130 10" >>"$T/tree/tests/check/allow.txt"
planted stale_allow_entry "lists common/err.c: no_such_function, which is now within the limits" functions

copy_tree
printf '#ifndef P_H\n#define P_H\nstatic inline size_t p(void) { return 0; }\n#endif\n' >"$T/tree/common/planted.h"
planted header_alone "common/planted.h does not compile on its own" headers

copy_tree
sed -i '0,/#include "/s//#include "storage\/catalog.h"\n#include "/' "$T/tree/crypt/age.c"
planted include_up "crypt/age.c:[0-9]+ includes storage/catalog.h: crypt may use only the folders below it" layers

copy_tree
sed -i '0,/#include "/s//#include "storage\/catalog.h"\n#include "/' "$T/tree/storage/chain.c"
planted module_circle "storage: modules include each other" circles
exit $((_NFAIL > 0))
