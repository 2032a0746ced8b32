# Shared by the tests of vigild with a configuration file, daemon*.sh
# (sourced; it sources lib.sh). vigild runs in the foreground, in the
# background, on $CONF with a private control socket, at log level debug;
# its stdout goes to $T/out and its stderr (the log) to $LOG. The log has
# no timestamps: times come from /proc (created_ms) or from the services,
# which record their own with `now' (milliseconds) in files.
. "$top_srcdir/tests/integ/lib.sh"

# Paths in the file are relative to its directory: make ours absolute.
PROBE=$(cd "$(dirname "$PROBE")" && pwd)/probe
CONF=$T/vigild.conf
LOG=$T/log
SOCK=$T/ctl.sock

# vstart [ARG...]: start vigild on $CONF with a private control socket;
# its pid in $vpid. The log of an earlier run is kept as $LOG.N.
vstart() {
	if [ -e "$LOG" ]; then
		_vn=$(($(ls "$LOG".* 2>/dev/null | wc -l) + 1))
		mv "$LOG" "$LOG.$_vn"
		mv "$T/out" "$T/out.$_vn"
	fi
	"$VIGILD" -c "$CONF" -s "$SOCK" -l debug "$@" </dev/null >"$T/out" \
	    2>"$LOG" &
	vpid=$!
	track "$vpid"
}

# vwait: wait (bounded) for vigild to exit; its status in $rc, its run
# time since $_vt0 (set by vterm) in $took.
vwait() {
	if wait_for 30 dead "$vpid"; then
		wait "$vpid"
		rc=$?
	else
		rc=timeout
	fi
	took=$(($(ms) - ${_vt0:-0}))
}

# vterm: SIGTERM to vigild, then vwait.
vterm() {
	_vt0=$(ms)
	kill -TERM "$vpid" 2>/dev/null
	vwait
}

# vstop DESCRIPTION: vterm, then two results: exit 0, and a log free of
# sanitizer reports (an ASan build reports leaks at exit).
vstop() {
	vterm
	check "$1: vigild exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]
	check "$1: no sanitizer report in the log" sanitizer_clean
	dump_log
}
# dump_log: if a test failed since the last call, show the log (the temp
# dir is gone once the script ends).
_dumped_fail=0
dump_log() {
	[ "$_tap_fail" -gt "$_dumped_fail" ] || return 0
	_dumped_fail=$_tap_fail
	diag "---- $LOG"
	sed 's/^/# /' "$LOG"
}
sanitizer_clean() {
	! grep -q 'Sanitizer\|runtime error:' "$LOG"
}

# conf: write $CONF from stdin. Atomic (a reload never reads half a file).
conf() {
	cat >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
}

# ---- the log -----------------------------------------------------------------
logged() { grep -q -- "$1" "$LOG" 2>/dev/null; }
nlogged() { grep -c -- "$1" "$LOG" 2>/dev/null; }
# state NAME: the state of service NAME after its last logged change.
state() {
	sed -n "s/^vigild: [a-z]*: $1: [a-z]* -> \([a-z]*\): .*/\1/p" "$LOG" |
	    tail -n 1
}
is_state() { [ "$(state "$1")" = "$2" ]; }
# spid NAME: the pid of the last start of NAME.
spid() {
	sed -n "s/^vigild: [a-z]*: $1: [a-z]* -> starting: started, pid \([0-9]*\)$/\1/p" \
	    "$LOG" | tail -n 1
}
# nstarts NAME: how many times NAME was started.
nstarts() { nlogged "^vigild: [a-z]*: $1: [a-z]* -> starting: started"; }
# line_of PATTERN: the number of the first log line matching PATTERN.
line_of() { grep -n -- "$1" "$LOG" | head -n 1 | cut -d: -f1; }
# before PATTERN1 PATTERN2: both are logged, the first one earlier.
before() {
	_l1=$(line_of "$1")
	_l2=$(line_of "$2")
	[ -n "$_l1" ] && [ -n "$_l2" ] && [ "$_l1" -lt "$_l2" ]
}
# delays NAME: the backoff delays logged for NAME, in milliseconds.
delays() {
	sed -n "s/^vigild: [a-z]*: $1: .* -> backoff: .*restarting in \([0-9.]*\) s$/\1/p" \
	    "$LOG" | awk '{ printf "%d\n", $1 * 1000 + 0.5 }'
}

# ---- processes and files -------------------------------------------------------
# key FILE NAME: the value of NAME in a probe report.
key() { sed -n "s/^$2=//p" "$1" 2>/dev/null; }
exists() { [ -e "$1" ]; }
nlines() { [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
pid_dead() { [ -n "$1" ] && dead "$1"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# children PID: "pid state" of each child of PID, one a line.
children() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{
		s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ")
		if (f[2] == p) print $1, f[1] }'
}
zombies() { children "$1" | awk '$2 == "Z"' | wc -l; }
# ctxsw PID: voluntary + involuntary context switches of all its threads.
ctxsw() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }'
}
# gaps FILE: the differences between consecutive numbers in FILE.
gaps() { awk 'NR > 1 { print $1 - p } { p = $1 }' "$1"; }
# restart_gaps ENDS STARTS: from the end of each run (its last timestamp)
# to the start of the next: never shorter than the delay, however slowly a
# run's shell started.
restart_gaps() {
	paste "$1" "$2" | awk 'NR > 1 { print $2 - x } { x = $1 }'
}
# created_ms PID: when vigild forked PID, in ms since boot (in steps of
# 1/CLK_TCK): unlike a time the child takes, not delayed by its start-up.
CLK_TCK=$(getconf CLK_TCK)
created_ms() {
	sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null |
	    awk -v hz="$CLK_TCK" '{ printf "%d\n", $20 * 1000 / hz }'
}

# A service script run by $BASH_PROG records times with this: milliseconds,
# without forking date(1), whose cost would hide vigild's.
BASH_PROG=$(command -v bash)
cat >"$T/now.sh" <<'EOF'
now() { echo $((${EPOCHREALTIME/./} / 1000)); }
EOF

ulimit -c 0	# services killed by a signal leave no core
