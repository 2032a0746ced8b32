# Shared by the integration tests (sourced). TAP output, bounded waits on
# conditions, a private temp dir, and cleanup of every process started.
# The scripts run under tests/helpers/reaper, which kills and reports any
# process a test leaves behind.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?}"
VIGILD=$top_builddir/daemon/vigild
VIGILCTL=$top_builddir/daemon/vigilctl
PROBE=$top_builddir/tests/helpers/probe
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-test.XXXXXX")
_tap_n=0
_tap_fail=0
_tap_pids=""

plan()	{ echo "1..$1"; }
ok()	{ _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
skip()	{ _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
diag()	{ echo "# $*"; }
# check DESCRIPTION COMMAND...: one TAP result from a command's status.
check()	{ _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }

ms()	{ echo $(($(date +%s%N) / 1000000)); }
# wait_for SECONDS COMMAND...: poll the condition every 20 ms, bounded.
wait_for() {
	_end=$(($(ms) + $1 * 1000))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(ms)" -ge "$_end" ] && return 1
		sleep 0.02
	done
	return 0
}
# Remember a pid to kill at exit.
track()	{ _tap_pids="$_tap_pids $1"; }
alive()	{ kill -0 "$1" 2>/dev/null; }
dead()	{ ! kill -0 "$1" 2>/dev/null; }

_cleanup() {
	for _p in $_tap_pids; do
		kill -TERM "$_p" 2>/dev/null
	done
	for _p in $_tap_pids; do
		wait_for 10 dead "$_p" || kill -KILL "$_p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM HUP

# done_testing: exit status from the results.
done_testing() { [ "$_tap_fail" -eq 0 ]; }
