#!/usr/bin/env bash
# tests/check/run.sh [TOP]: the shape of the C tree, checked (make check;
# make test runs it first).  TOP is the tree to check (default: this one).
# Fails, naming each offender and the fix, on:
#   1. a function over 120 lines or with a complexity over 40 (pmccabe's
#      modified McCabe: a switch counts once), unless tests/check/allow.txt
#      lists it with figures it does not exceed; the list may only shrink:
#      an entry that is no longer needed, or no longer exists, fails too;
#   2. a header that does not compile on its own (each .h, alone in a unit);
#   3. an include that points up the stack: each folder uses only itself and
#      the folders below it:  common < crypt < storage < storage/s3 < restore
#      < agent  (tests/ and the generated protobuf code are outside it);
#   4. a circle between the modules of a folder (a.c or a.h including b.h
#      while b.c or b.h includes a.h).
# Prints "PASS check_<what>" / "FAIL check_<what>: ..." lines (tests/run.sh
# counts them).  EB_CHECKS="functions headers layers circles" (a subset)
# runs only those (tests/it/t_check.sh, which plants one fault at a time).
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
MAX_LINES=120 MAX_CC=40
allow=tests/check/allow.txt
dirs="common crypt storage storage/s3 storage/azure restore agent"
srcs=$(for d in $dirs; do ls "$d"/*.c 2>/dev/null; done)
hdrs=$(for d in $dirs; do ls "$d"/*.h 2>/dev/null; done)
bad=0
fail() { echo "FAIL $1: $2"; bad=1; }
want() { [ -z "${EB_CHECKS:-}" ] || [[ " $EB_CHECKS " == *" $1 "* ]]; }

# 1. size and complexity
if ! want functions; then
	:
elif ! command -v pmccabe >/dev/null; then
	fail check_functions "pmccabe is not installed (make deps installs it)"
else
	# "file function lines cc" for every function over a limit
	over=$(pmccabe $srcs 2>/dev/null | awk -v L=$MAX_LINES -v C=$MAX_CC '
		{ split($6, a, "("); f = a[1]; fn = $7;
		  if ($5 > L || $1 > C) print f, fn, $5, $1 }' | sort)
	n=0
	while read -r f fn lines cc; do
		[ -n "$f" ] || continue
		entry=$(awk -v f="$f" -v fn="$fn" '!/^#/ && $1 == f && $2 == fn' "$allow" 2>/dev/null)
		if [ -z "$entry" ]; then
			fail check_functions "$f: $fn has $lines lines and complexity $cc (limits $MAX_LINES and $MAX_CC): split it into named steps"
			n=$((n + 1)); continue
		fi
		read -r _ _ al ac <<<"$entry"
		if [ "$lines" -gt "$al" ] || [ "$cc" -gt "$ac" ]; then
			fail check_functions "$f: $fn grew to $lines lines, complexity $cc (allowed until split: $al, $ac): split it, do not raise the figures"
			n=$((n + 1))
		fi
	done <<<"$over"
	# the list only shrinks: an entry no longer over a limit goes
	while read -r f fn al ac; do
		case "$f" in ''|'#'*) continue ;; esac
		grep -q "^$f $fn " <<<"$over" ||
			{ fail check_functions "$allow lists $f: $fn, which is now within the limits (or gone): remove the line"; n=$((n + 1)); }
	done <"$allow"
	[ "$n" -eq 0 ] && echo "PASS check_functions: no function over $MAX_LINES lines or complexity $MAX_CC beyond the $(grep -vc '^#' "$allow") allowed in $allow"
fi

# 2. every header compiles alone
n=0; cc=${CC:-cc}
want headers || hdrs_checked=""
gen=$(ls -d build/rel/gen 2>/dev/null || true)
for h in ${hdrs_checked-$hdrs}; do
	if ! out=$(printf '#include "%s"\n' "$h" | $cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. ${gen:+-I$gen} \
		$(pkg-config --cflags libprotobuf-c libzstd libcurl openssl 2>/dev/null) -fsyntax-only -x c - 2>&1); then
		fail check_headers "$h does not compile on its own (include what it uses): $(echo "$out" | grep -m1 error)"
		n=$((n + 1))
	fi
done
want headers && [ "$n" -eq 0 ] && echo "PASS check_headers: $(echo $hdrs | wc -w) headers compile on their own"

# 3. includes point down the stack
rank() { case "$1" in common) echo 0;; crypt) echo 1;; storage) echo 2;; storage/s3|storage/azure) echo 3;; restore) echo 4;; agent) echo 5;; *) echo -1;; esac; }
if want layers; then
	n=0
	for f in $srcs $hdrs; do
		d=$(dirname "$f"); rd=$(rank "$d")
		while IFS=: read -r ln inc; do
			id=$(dirname "$inc"); [ "$id" = . ] && continue
			ri=$(rank "$id"); [ "$ri" -lt 0 ] && continue
			if [ "$ri" -gt "$rd" ]; then
				fail check_layers "$f:$ln includes $inc: $d may use only the folders below it (common < crypt < storage < storage/s3 < restore < agent); move what both need down"
				n=$((n + 1))
			fi
		done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
	done
	[ "$n" -eq 0 ] && echo "PASS check_layers: every include points down the stack"
fi

# 4. no circle between the modules of a folder
if want circles; then
	n=0
	for d in $dirs; do
		pairs=$(for f in "$d"/*.[ch]; do
			m=$(basename "${f%.*}")
			grep -h '^#include "'"$d"'/[^/"]*\.h"' "$f" | sed 's#^\#include "'"$d"'/\([^"]*\)\.h".*#\1#' |
				while read -r to; do [ "$to" != "$m" ] && echo "$m $to"; done
		done | sort -u)
		[ -n "$pairs" ] || continue
		if ! out=$(tsort <<<"$pairs" 2>&1 >/dev/null) || [ -n "$out" ]; then
			fail check_circles "$d: modules include each other: $(echo "$out" | grep -v 'input contains a loop' | sed 's/^tsort: //' | tr '\n' ' ')"
			n=$((n + 1))
		fi
	done
	[ "$n" -eq 0 ] && echo "PASS check_circles: no two modules of a folder include each other"
fi
exit $bad
