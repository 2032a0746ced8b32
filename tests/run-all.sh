#!/bin/sh
# Build and run the whole test suite in every configuration CI checks:
# the default (signalfd on Linux) with -Werror, the self-pipe signal source,
# AddressSanitizer+UndefinedBehaviorSanitizer, ThreadSanitizer, and
# `make distcheck`, and 60 s of the control protocol's libFuzzer target.
# Each build lives in build-<name>/ under the source tree.
# The last line is "N passed, N failed", summed over the runs.
#
# usage: tests/run-all.sh [NAME...]
#        (names: default selfpipe asan tsan distcheck fuzz)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
runs=${*:-"default selfpipe asan tsan distcheck fuzz"}
passed=0
failed=0
summary=""

[ -x configure ] || autoreconf -fi || exit 1

# Add the counts of one build's test-suite.log to the totals.
count() {
	log=$1/test-suite.log
	if [ ! -f "$log" ]; then
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log")
	f=$(sed -n 's/^# FAIL: *//p' "$log")
	e=$(sed -n 's/^# ERROR: *//p' "$log")
	x=$(sed -n 's/^# XPASS: *//p' "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
}

# build NAME STRESS CONFIGURE-ARGS...: configure, build, make check.
build() {
	name=$1 stress=$2
	shift 2
	dir=$top/build-$name
	rm -rf "$dir"
	mkdir -p "$dir"
	start=$(date +%s)
	echo "=== $name: configure $*"
	if ! (cd "$dir" && "$top/configure" -q "$@" >configure.out 2>&1); then
		cat "$dir/configure.out"
		failed=$((failed + 1))
		summary="$summary$name: configure failed\n"
		return
	fi
	if ! (cd "$dir" && make -j"$jobs" >make.out 2>&1); then
		tail -50 "$dir/make.out"
		failed=$((failed + 1))
		summary="$summary$name: build failed\n"
		return
	fi
	(cd "$dir" && VIGIL_STRESS=$stress make -j"$jobs" check >check.out 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		# One second chance for timing-sensitive tests on a loaded
		# machine; what needed it is printed, so a flake stays visible.
		echo "--- $name: failed first time:"
		grep -E '^(FAIL|ERROR|XPASS):' "$dir/check.out"
		(cd "$dir" && VIGIL_STRESS=$stress make -j"$jobs" recheck \
		    >recheck.out 2>&1)
		rc=$?
		summary="${summary}$name: rechecked $(grep -cE '^(FAIL|ERROR):' "$dir/check.out") failing result(s)\n"
		grep -E '^(FAIL|ERROR|XPASS):' "$dir/recheck.out"
	fi
	[ $rc -eq 0 ] || head -300 "$dir/test-suite.log"
	before_p=$passed before_f=$failed
	count "$dir"
	summary="$summary$name: $((passed - before_p)) passed, $((failed - before_f)) failed in $(($(date +%s) - start)) s\n"
}

for run in $runs; do
	case $run in
	default)	build default 1 --enable-werror ;;
	selfpipe)	build selfpipe 1 --enable-werror --with-signal-source=selfpipe ;;
	asan)		build asan 4 --enable-werror \
			    --enable-sanitizers=address,undefined ;;
	tsan)		build tsan 10 --enable-werror --enable-sanitizers=thread ;;
	distcheck)
		start=$(date +%s)
		dir=$top/build-distcheck
		rm -rf "$dir" && mkdir -p "$dir"
		echo "=== distcheck"
		if (cd "$dir" && "$top/configure" -q >/dev/null &&
		    VIGIL_STRESS=10 make -j"$jobs" distcheck >distcheck.out 2>&1); then
			passed=$((passed + 1))
			summary="${summary}distcheck: passed in $(($(date +%s) - start)) s\n"
		else
			tail -80 "$dir/distcheck.out"
			failed=$((failed + 1))
			summary="${summary}distcheck: FAILED\n"
		fi ;;
	fuzz)
		# The request parser under libFuzzer for FUZZ_TIME seconds
		# (60): a crash, leak or sanitizer report fails the run.
		start=$(date +%s)
		dir=$top/build-fuzz
		rm -rf "$dir" && mkdir -p "$dir"
		echo "=== fuzz"
		if (cd "$dir" && "$top/configure" -q >/dev/null &&
		    make fuzz >fuzz.out 2>&1 &&
		    make fuzz-run FUZZ_TIME="${FUZZ_TIME:-60}" >>fuzz.out 2>&1); then
			passed=$((passed + 1))
			summary="${summary}fuzz: passed, $(grep -o 'Done [0-9]* runs' "$dir/fuzz.out" | tail -1) in $(($(date +%s) - start)) s\n"
		else
			tail -60 "$dir/fuzz.out"
			failed=$((failed + 1))
			summary="${summary}fuzz: FAILED\n"
		fi ;;
	*)	echo "unknown run: $run" >&2; exit 2 ;;
	esac
done
printf "%b" "$summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
