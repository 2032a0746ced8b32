#!/bin/sh
# vigild's re-exec (SPEC 4.5, 6 "Re-exec"): `vigilctl reexec' and a signal
# routed to "reexec" replace the image in place. Across it vigild keeps its
# pid, pid file (and its lock), control socket and every child: same pids,
# states, restart counts and uptimes; a service exiting after it is reaped
# and restarted, a backoff delay and a stop timeout still run out; output
# capture loses and repeats no line, a partial one included, under a fast
# stream and five re-execs; the file is not re-read. A failed exec (file
# not executable, not a program) leaves the old image running untouched;
# replacing the file upgrades (a file that does not run is refused); the
# three kinds of readiness report and `after' carry across; 200 services
# keep their pids; during a shutdown a re-exec is refused.
. "$top_srcdir/tests/integ/daemon_lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP no python3 to read --json status"
	exit 0
fi
plan 80

ctl()	{ "$VIGILCTL" -s "$SOCK" "$@"; }
# rx: vigilctl reexec, bounded (a hung re-exec must not hang the suite);
# its status in $rc, its stderr in $T/err, its time in $took.
rx() {
	_t0=$(ms)
	timeout 30 "$VIGILCTL" -s "$SOCK" reexec >/dev/null 2>"$T/err"
	rc=$?
	took=$(($(ms) - _t0))
}
# The log's word for it, loosely: "re-exec", "re-executing", ... (not
# the bare command name "reexec" of a debug line).
REX='[Rr]e-exec'
nrex()	{ grep -c -- "$REX" "$LOG" 2>/dev/null; }
# st FILE: vigild's --json status in FILE.
st()	{ ctl --json status >"$1" 2>/dev/null; }
# cmp_status A B: same_status's verdict in $same (0: the same) and what
# differs in $differs (python3 is slow to start: run it once).
cmp_status() { differs=$(same_status "$1" "$2"); same=$?; }
# same_status A B: the status documents A and B show the same services,
# states, pids, restart counts, readiness and last exits, and no uptime
# went back (started_at within a second). Prints what differs.
same_status() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
from datetime import datetime, timezone
def load(f):
    with open(f) as fh:
        return json.load(fh)["services"]
def t(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()
try:
    a, b = load(sys.argv[1]), load(sys.argv[2])
except Exception as e:
    print("unreadable status: %s" % e)
    sys.exit(1)
bad = []
if [s["name"] for s in a] != [s["name"] for s in b]:
    bad.append("services %s -> %s" % ([s["name"] for s in a],
                                      [s["name"] for s in b]))
else:
    for x, y in zip(a, b):
        for k in ("state", "pid", "restarts", "ready", "last_exit"):
            if x[k] != y[k]:
                bad.append("%s %s %r -> %r" % (x["name"], k, x[k], y[k]))
        if x["uptime"] is not None and y["uptime"] is not None:
            if y["uptime"] < x["uptime"]:
                bad.append("%s uptime %s -> %s" % (x["name"], x["uptime"],
                                                   y["uptime"]))
            if abs(t(x["started_at"]) - t(y["started_at"])) > 1.0:
                bad.append("%s started_at %s -> %s" % (x["name"],
                           x["started_at"], y["started_at"]))
print("; ".join(bad[:5]))
sys.exit(1 if bad else 0)
EOF
}
# field NAME KEY: one field of NAME's --json status.
field() {
	ctl --json status "$1" 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["services"][0][sys.argv[1]])' \
	    "$2"
}
up_ge() { awk -v u="$(field "$1" uptime)" -v m="$2" \
    'BEGIN { exit !(u != "None" && u + 0 >= m) }'; }
# pipe_empty PID: nothing is left unread in the pipe on PID's stdout
# (vigild has read all of it).
pipe_empty() {
	python3 - "$1" <<'EOF'
import fcntl, os, struct, sys, termios
fd = os.open("/proc/%s/fd/1" % sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
os.close(fd)
sys.exit(0 if n == 0 else 1)
EOF
}
has_out() { grep -qx -- "$1" "$T/out"; }
nfds()	{ ls /proc/"$1"/fd 2>/dev/null | wc -l; }
kids()	{ children "$vpid" | awk '{ print $1 }' | sort -n | tr '\n' ' '; }
# tids: vigild's threads but the main one; threads_gone TIDS: none of
# them is left (an exec ends them all).
tids()	{ ls /proc/"$vpid"/task 2>/dev/null | grep -vx "$vpid" | tr '\n' ' '; }
threads_gone() {
	for _t in $1; do
		[ -d /proc/"$vpid"/task/"$_t" ] && return 1
	done
	return 0
}

# Shared service scripts. stubborn ignores SIGTERM (its sleep inherits
# that); crashy exits with 3 once, when told; flaky fails its first run at
# once, then stays up, recording when it ended and when it began again;
# talk writes a line and half of one, and the rest when told.
cat >"$T/stubborn.sh" <<EOF
trap '' TERM
exec sleep 1000
EOF
cat >"$T/crashy.sh" <<EOF
[ -e "$T/crashy.done" ] && exec sleep 1000
while [ ! -e "$T/crashy.go" ]; do sleep 0.02; done
: >"$T/crashy.done"
exit 3
EOF
cat >"$T/flaky.sh" <<EOF
. "$T/now.sh"
[ -e "$T/flaky.end" ] || { now >"$T/flaky.end"; exit 1; }
now >"$T/flaky.start"
exec sleep 1000
EOF
cat >"$T/talk.sh" <<EOF
echo before-1
printf part-
while [ ! -e "$T/talk.go" ]; do sleep 0.02; done
printf 'ial\n'
echo after-1
exec sleep 1000
EOF

# ---- state across `vigilctl reexec' --------------------------------------------
# conf1 [MORE]: the services, and MORE at the end of the list.
conf1() {
	conf <<EOF
services = (
  { name = "steady"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },
  { name = "multi"; command = [ "/bin/sleep", "1000" ]; instances = 2;
    min_uptime = 0.1; },
  { name = "crashy"; command = [ "/bin/sh", "$T/crashy.sh" ];
    restart = "on-failure"; restart_delay = 0.1; min_uptime = 0.1; },
  { name = "flaky"; command = [ "$BASH_PROG", "$T/flaky.sh" ];
    autostart = false; restart = "on-failure"; restart_delay = 4.0;
    min_uptime = 0.1; },
  { name = "stubborn"; command = [ "/bin/sh", "$T/stubborn.sh" ];
    stop_timeout = 4.0; min_uptime = 0.1; },
  { name = "talk"; command = [ "/bin/sh", "$T/talk.sh" ]; min_uptime = 0.1; }${1-}
);
EOF
}
conf1
vstart -p "$T/vigild.pid"
for s in steady multi:0 multi:1 crashy stubborn talk; do
	wait_for 10 is_state "$s" running
done
# Old enough that a reset uptime would show; talk's half line read.
wait_for 10 up_ge steady 1.0
wait_for 10 has_out "talk | before-1"
wait_for 10 pipe_empty "$(spid talk)" ||
    diag "talk's half line is still in the pipe: a weaker partial-line check"
# The file changes on disk: a re-exec must not read it.
conf1 ',
  { name = "newcomer"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; }'
# stubborn stopping (4 s to SIGKILL), flaky in backoff (4 s to restart):
# both timers run out only after the re-exec.
t_stop=$(ms)
ctl stop --no-wait stubborn >/dev/null 2>&1
ctl start --no-wait flaky >/dev/null 2>&1
wait_for 10 is_state stubborn stopping
wait_for 10 is_state flaky backoff
stp=$(spid stubborn) ctp=$(spid crashy)
st "$T/st.0"
kids0=$(kids)
fds0=$(nfds "$vpid")
sock0=$(stat -c %i "$SOCK" 2>/dev/null)
rex0=$(nrex)
rx
check "reexec: exit 0 ($rc in $took ms: $(head -n 1 "$T/err"))" [ "$rc" = 0 ]
# It answered once the new image had restored its state: the status is
# there at once, with no retry. Taken before the 4 s timers run out.
st "$T/st.1"
kids1=$(kids)
starts1=$(nlogged ' -> starting: started')
cmp_status "$T/st.0" "$T/st.1"
check "at once after it: the same services, states, pids, restart counts, uptimes ($differs)" \
    [ "$same" -eq 0 ]
check "vigild kept its pid $vpid" alive "$vpid"
check "its children are the same processes ($kids0 -> $kids1)" \
    [ "$kids1" = "$kids0" ]
check "nothing was restarted ($starts1 starts)" [ "$starts1" -eq 7 ]
check "no descriptor leaked ($fds0 -> $(nfds "$vpid"))" \
    wait_for 5 eval 'alive "$vpid" && [ "$(nfds "$vpid")" -le "$fds0" ]'
check "the log says it re-executed" [ "$(nrex)" -gt "$rex0" ]
check "the control socket is the same one, at the same path" \
    [ -S "$SOCK" -a "$(stat -c %i "$SOCK" 2>/dev/null)" = "$sock0" ]
check "vigilctl log still has the lines from before it" \
    eval 'ctl log -n 50 talk 2>/dev/null | grep -qx before-1'
check "the changed file was not read: newcomer was not started" \
    [ "$(nstarts newcomer)" -eq 0 ]
ctl status newcomer >/dev/null 2>&1
check "  and is unknown to vigild" [ $? -eq 1 ]
# The rest of talk's line, written to the new image.
touch "$T/talk.go"
wait_for 10 has_out "talk | after-1"
check "a line half written before it is whole after it" \
    has_out "talk | part-ial"
check "  not cut in two, not repeated ($(grep -c '^talk | ' "$T/out") talk lines)" \
    eval '! grep -q "^talk | part-$\|^talk | ial$" "$T/out" &&
    [ "$(grep -c "^talk | " "$T/out")" -eq 3 ]'
check "vigilctl log: each line once ($(ctl log -n 50 talk 2>/dev/null | tr '\n' ' '))" \
    [ "$(ctl log -n 50 talk 2>/dev/null | tr '\n' ' ')" = "before-1 part-ial after-1 " ]
# A child of the old image exits: the new one reaps it and restarts it.
touch "$T/crashy.go"
crashy_back() { [ "$(nstarts crashy)" -eq 2 ] && is_state crashy running; }
wait_for 15 crashy_back
check "a service exiting after it is logged as exited (code 3)" \
    logged "crashy: running -> backoff: exited with code 3; restarting in"
check "  reaped (pid $ctp gone) and restarted per its policy" \
    eval 'pid_dead "$ctp" && crashy_back'
check "  no zombie child ($(zombies "$vpid"))" [ "$(zombies "$vpid")" -eq 0 ]
# The timers set before the re-exec.
wait_for 15 pid_dead "$stp"
t_dead=$(ms)
check "a stopping service ignoring SIGTERM is killed after its 4 s timeout ($((t_dead - t_stop)) ms)" \
    between $((t_dead - t_stop)) 3900 12000
# The first line about it against the kill's (an earlier line matching
# the pattern, if any, does not count).
l_rex=$(grep -n -- "$REX" "$LOG" | sed -n "$((rex0 + 1))p" | cut -d: -f1)
l_kill=$(line_of "stubborn: still running after 4.0 s; sending SIGKILL")
check "  as the log says, after the re-exec (lines $l_rex, $l_kill)" \
    eval '[ -n "$l_rex" ] && [ -n "$l_kill" ] && [ "$l_rex" -lt "$l_kill" ]'
wait_for 10 is_state stubborn stopped
check "  and it ends stopped" is_state stubborn stopped
wait_for 15 exists "$T/flaky.start"
gap=$(($(cat "$T/flaky.start" 2>/dev/null || echo 0) - $(cat "$T/flaky.end" 2>/dev/null || echo 0)))
check "a service in backoff restarts after its 4 s delay (+-10%) ($gap ms)" \
    between "$gap" 3550 10000
# The pid file and its lock.
check "-p: the pid file still holds $vpid" \
    [ "$(cat "$T/vigild.pid" 2>/dev/null)" = "$vpid" ]
"$VIGILD" -c "$CONF" -s "$T/other.sock" -p "$T/vigild.pid" </dev/null \
    >/dev/null 2>"$T/err2" &
p2=$!
track "$p2"
if wait_for 20 dead "$p2"; then
	wait "$p2"
	rc=$?
else
	rc=running
	kill -TERM "$p2"
fi
check "  still locked: a second vigild on it refuses ($rc: $(head -n 1 "$T/err2"))" \
    eval '[ "$rc" != running ] && [ "$rc" -ne 0 ] &&
    grep -q "already running (pid $vpid" "$T/err2"'
# reload reads the file, as a re-exec did not.
ctl reload >/dev/null 2>&1
check "reload after it: exit 0" [ $? -eq 0 ]
wait_for 10 is_state newcomer running
check "  and newcomer starts" is_state newcomer running
vstop "state"
check "the pid file is removed at exit" [ ! -e "$T/vigild.pid" ]

# ---- output under a stream and five re-execs ------------------------------------
# seq writes numbered lines as fast as it can until told to stop, then
# "end N". Three re-execs by vigilctl, two by SIGUSR2 routed to reexec,
# each while lines flow and followed by more: every number must appear
# exactly once, in order, on vigild's stdout.
cat >"$T/seq.sh" <<EOF
i=0
while [ ! -e "$T/seq.stop" ]; do
	for ((k = 0; k < 200; k++)); do
		i=\$((i + 1))
		echo \$i
	done
done
echo "end \$i"
exec sleep 1000
EOF
conf <<EOF
signals = { SIGUSR2 = "reexec"; };
services = (
  { name = "seq"; command = [ "$BASH_PROG", "$T/seq.sh" ]; restart = "never"; },
  { name = "steady"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },
  { name = "tick"; command = [ "$BASH_PROG", "-c",
      "i=0; while :; do i=\$((i + 1)); echo \$i; sleep 0.02; done" ]; }
);
EOF
vstart
nseq()	{ grep -c '^seq | [0-9]' "$T/out"; }
more_than() { [ "$(nseq)" -gt "$1" ]; }
# flowing N: more than N lines, or no point waiting (vigild is gone).
flowing() { more_than "$1" || dead "$vpid"; }
wait_for 10 is_state steady running
wait_for 20 flowing 2000
# A follower of tick's log (slow enough to be followed without a loss
# even in a sanitizer build): it crosses the re-execs too.
"$VIGILCTL" -s "$SOCK" log -n 1 -f tick >"$T/follow" 2>"$T/follow.err" &
fpid=$!
track "$fpid"
wait_for 10 test -s "$T/follow"
sp=$(spid steady) qp=$(spid seq)
fds0=$(nfds "$vpid")
n_first=$(nseq)
nrx=0 nflow=0
for how in ctl signal ctl signal ctl; do
	alive "$vpid" || break
	if [ "$how" = ctl ]; then
		rx
		[ "$rc" = 0 ] && nrx=$((nrx + 1))
		[ "$rc" = 0 ] || diag "reexec by vigilctl: $rc: $(head -n 1 "$T/err")"
	else
		# Taken (the log grows and the old image's threads are
		# gone), then done (vigilctl is answered).
		_r=$(nrex) _tids=$(tids)
		kill -USR2 "$vpid"
		wait_for 20 eval '[ "$(nrex)" -gt "$_r" ] && threads_gone "$_tids"' &&
		    wait_for 20 eval 'ctl status >/dev/null 2>&1' &&
		    nrx=$((nrx + 1))
	fi
	# The stream flows again before the next one.
	_n=$(nseq)
	wait_for 20 flowing $((_n + 1000)) && more_than $((_n + 1000)) &&
	    nflow=$((nflow + 1))
done
n_last=$(nseq)
tick_last=$(sed -n 's/^tick | //p' "$T/out" | tail -n 1)
diag "seq lines: $n_first before the first re-exec, $n_last after the last"
check "five re-execs done: 3 by vigilctl, 2 by SIGUSR2 ($nrx)" [ "$nrx" -eq 5 ]
check "output flowed after each of them ($nflow)" [ "$nflow" -eq 5 ]
check "vigild kept its pid" alive "$vpid"
check "steady kept its pid, seq was never restarted" \
    eval '[ "$(spid steady)" = "$sp" ] && alive "$sp" &&
    [ "$(nstarts seq)" -eq 1 ] && alive "$qp"'
touch "$T/seq.stop"
ended() { grep -q '^seq | end ' "$T/out" || dead "$vpid"; }
wait_for 30 ended
# seq_check: the seq lines are 1..N then "end N"; prints N or the fault.
seq_check() {
	sed -n 's/^seq | //p' "$T/out" | awk '
	BEGIN { n = 0 }
	bad != "" { next }
	!end && $0 == "end " n { end = 1; next }
	!end && $0 == (n + 1) "" { n++; next }
	{ bad = "after " n (end ? " and the end" : "") ": \"" $0 "\"" }
	END {
		if (bad == "" && !end)
			bad = "no end line after " n
		if (bad != "") { print bad; exit 1 }
		print n
	}'
}
res=$(seq_check)
check "every number exactly once, in order, nothing else ($res)" seq_check
check "  the stream ran across the re-execs ($n_first < $n_last < ${res%% *})" \
    eval '[ "$n_first" -gt 0 ] && [ "$res" -gt "$n_last" ] 2>/dev/null'
check "no descriptor leaked over five re-execs ($fds0 -> $(nfds "$vpid"))" \
    wait_for 5 eval 'alive "$vpid" && [ "$(nfds "$vpid")" -le "$fds0" ]'
# follow_order: the follower's lines are consecutive numbers; prints the
# first and the last, or the fault.
follow_order() {
	awk '
	bad != "" { next }
	$0 !~ /^[0-9]+$/ { bad = "not a number: " $0; next }
	NR > 1 && $0 + 0 != p + 1 { bad = $0 " after " p; next }
	NR == 1 { first = $0 }
	{ p = $0 + 0 }
	END { if (bad != "") { print bad; exit 1 } print first " to " p }' \
	    "$T/follow"
}
follow_past() { [ "$(tail -n 1 "$T/follow")" -gt "$1" ] 2>/dev/null; }
check "log -f followed tick across the five re-execs (past $tick_last)" \
    wait_for 10 eval 'alive "$fpid" && follow_past "${tick_last:-0}"'
check "  every line once, in order ($(follow_order))" follow_order
vstop "stream"
wait_for 10 dead "$fpid"
wait "$fpid"
rc=$?
check "  and it ends with vigild, exit 0 ($rc: $(head -n 1 "$T/follow.err"))" \
    [ "$rc" = 0 ]

# ---- a failed exec, then an upgrade ---------------------------------------------
# The binary vigild runs from is a copy we can break and replace. $VIGILD
# may be libtool's wrapper: then the program it runs, with the library
# path it sets.
real_vigild() {
	if [ "$(head -c 4 "$VIGILD" | tail -c 3)" = ELF ]; then
		REAL=$VIGILD LIBPATH=
	else
		grep -q "wrapper script for" "$VIGILD" 2>/dev/null || return 1
		_p=$(sed -n 's/^ *program=//p' "$VIGILD" | head -n 1 | tr -d "'\"")
		REAL=$(dirname "$VIGILD")/.libs/$_p
		[ -f "$REAL" ] || REAL=$(dirname "$VIGILD")/.libs/vigild
		LIBPATH=$(sed -n 's/^ *LD_LIBRARY_PATH="\(.*\):\$LD_LIBRARY_PATH"$/\1/p' \
		    "$VIGILD" | head -n 1)
	fi
	[ -f "$REAL" ] || return 1
	if [ -n "$LIBPATH" ]; then
		LD_LIBRARY_PATH=$LIBPATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
		export LD_LIBRARY_PATH
	fi
	mkdir -p "$T/bin" && cp "$REAL" "$T/bin/vigild" &&
	    "$T/bin/vigild" -V >/dev/null 2>&1
}
if real_vigild; then
	BIN=$(cd "$T/bin" && pwd -P)/vigild
	conf <<EOF
services = (
  { name = "a"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },
  { name = "b"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; }
);
EOF
	_vigild=$VIGILD
	VIGILD=$BIN
	vstart
	VIGILD=$_vigild
	wait_for 10 is_state a running
	wait_for 10 is_state b running
	st "$T/st.0"
	exe() { readlink /proc/"$vpid"/exe 2>/dev/null; }
	check "vigild runs from the copy ($(exe))" [ "$(exe)" = "$BIN" ]
	# Not executable: the exec fails, the old image goes on.
	chmod a-x "$BIN"
	rx
	check "copy not executable: reexec exits 1 ($rc)" [ "$rc" = 1 ]
	check "  with a message ($(head -n 1 "$T/err"))" [ -s "$T/err" ]
	st "$T/st.1"
	check "  the old image runs on: same pid, same file ($(exe))" \
	    eval 'alive "$vpid" && [ "$(exe)" = "$BIN" ]'
	cmp_status "$T/st.0" "$T/st.1"
	check "  every service untouched ($differs)" [ "$same" -eq 0 ]
	# And still supervises: a restart spawns.
	bp=$(spid b)
	ctl restart b >/dev/null 2>&1
	rc=$?
	check "  and still supervises: restart b gives a new pid ($rc)" \
	    eval '[ "$rc" -eq 0 ] && [ "$(spid b)" != "$bp" ] && is_state b running'
	st "$T/st.2"
	chmod 755 "$BIN"
	rx
	check "restored: reexec exits 0 ($rc: $(head -n 1 "$T/err"))" [ "$rc" = 0 ]
	st "$T/st.3"
	cmp_status "$T/st.2" "$T/st.3"
	check "  services unchanged ($differs)" [ "$same" -eq 0 ]
	# Not a program at all (ENOEXEC): fails too, and must not be run by
	# a shell as execvp() would.
	printf 'exit 99\n' >"$T/bin/garbage"
	chmod 755 "$T/bin/garbage"
	mv "$T/bin/garbage" "$BIN"
	rx
	check "replaced by a non-program: reexec exits 1 ($rc: $(head -n 1 "$T/err"))" \
	    [ "$rc" = 1 ]
	st "$T/st.4"
	cmp_status "$T/st.3" "$T/st.4"
	check "  the old image runs on, services untouched ($differs)" \
	    eval 'alive "$vpid" && [ "$same" -eq 0 ]'
	# A program the kernel runs but that does not start (as a binary
	# missing a shared library would): the -V probe fails, so vigild never
	# execs it and goes on.
	printf '#!/bin/sh\nexit 3\n' >"$T/bin/broken"
	chmod 755 "$T/bin/broken"
	mv "$T/bin/broken" "$BIN"
	rx
	check "replaced by a program that does not start: reexec exits 1 ($rc: $(head -n 1 "$T/err"))" \
	    eval '[ "$rc" = 1 ] && grep -q "does not run" "$T/err"'
	st "$T/st.4b"
	cmp_status "$T/st.3" "$T/st.4b"
	check "  the old image runs on, services untouched ($differs)" \
	    eval 'alive "$vpid" && [ "$same" -eq 0 ]'
	# The upgrade: a new file moved over the path; the running image's
	# file is gone.
	cp "$REAL" "$T/bin/vigild.new"
	mv "$T/bin/vigild.new" "$BIN"
	check "upgrade: the running image's file is deleted ($(exe))" \
	    [ "$(exe)" = "$BIN (deleted)" ]
	rx
	check "upgrade: reexec exits 0 ($rc: $(head -n 1 "$T/err"))" [ "$rc" = 0 ]
	check "  vigild now runs the new file ($(exe))" \
	    eval '[ "$(exe)" = "$BIN" ] &&
	    [ "$(stat -L -c %i /proc/"$vpid"/exe)" = "$(stat -c %i "$BIN")" ]'
	st "$T/st.5"
	cmp_status "$T/st.3" "$T/st.5"
	check "  same pid, services unchanged ($differs)" \
	    eval 'alive "$vpid" && [ "$same" -eq 0 ]'
	vstop "copy"
else
	diag "cannot copy a runnable vigild from $VIGILD"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do
		skip "failed exec and upgrade, $i" "no runnable copy of vigild"
	done
fi

# ---- readiness across a re-exec -------------------------------------------------
# Four services wait in starting while vigild re-executes: notify (its
# NOTIFY_SOCKET is the socket the old image bound), fd (the pipe's read end
# crosses the exec), tcp (the check starts again in the new image) and one
# that starts after the first two. Once $T/go exists each reports ready; the
# new image must see every report and start the dependent.
P_TCP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/nt.py" <<'EOF'
import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ["NOTIFY_SOCKET"])
s.send(b"READY=1\nSTATUS=ready by notify")
time.sleep(1000)
EOF
cat >"$T/tcp.py" <<'EOF'
import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2])))
s.listen(16)
while True:
    s.accept()[0].close()
EOF
conf <<EOF
services = (
  { name = "nt"; command = [ "python3", "$T/nt.py", "$T/go" ];
    ready = { type = "notify"; timeout = 60.0; }; },
  { name = "fdr"; command = [ "$BASH_PROG", "-c",
      "while [ ! -e '$T/go' ]; do sleep 0.02; done; echo >&3; exec sleep 1000" ];
    ready = { type = "fd"; fd = 3; timeout = 60.0; }; },
  { name = "tc"; command = [ "python3", "$T/tcp.py", "$T/go", "$P_TCP" ];
    ready = { type = "tcp"; address = "127.0.0.1:$P_TCP"; interval = 0.1;
              timeout = 60.0; }; },
  { name = "dep"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1;
    after = [ "nt", "fdr" ]; }
);
EOF
rm -f "$T/go"
vstart
wait_for 20 is_state tc starting
wait_for 20 is_state nt starting
wait_for 20 is_state fdr starting
check "readiness: nt, fdr and tc are starting, dep waits" \
    eval 'is_state nt starting && is_state fdr starting &&
    is_state tc starting && [ "$(nstarts dep)" = 0 ]'
ntp=$(spid nt) fdp=$(spid fdr) tcp=$(spid tc)
rx
check "readiness: reexec while they are starting exits 0 ($rc: $(head -n 1 "$T/err"))" \
    [ "$rc" = 0 ]
: >"$T/go"
wait_for 30 is_state nt running
wait_for 30 is_state fdr running
wait_for 30 is_state tc running
wait_for 30 is_state dep running
check "  notify: READY=1 reached the new image (same pid, $(state nt))" \
    eval 'is_state nt running && [ "$(spid nt)" = "$ntp" ] && [ "$(nstarts nt)" = 1 ]'
check "  ... with its STATUS= text" \
    eval 'ctl status nt | grep -q "ready by notify"'
check "  fd: the newline reached the new image (same pid, $(state fdr))" \
    eval 'is_state fdr running && [ "$(spid fdr)" = "$fdp" ] && [ "$(nstarts fdr)" = 1 ]'
check "  tcp: the check ran again in the new image (same pid, $(state tc))" \
    eval 'is_state tc running && [ "$(spid tc)" = "$tcp" ] && [ "$(nstarts tc)" = 1 ]'
check "  after: dep started once both were ready ($(state dep))" \
    eval 'is_state dep running && [ "$(nstarts dep)" = 1 ] &&
    before "nt: starting -> running" "dep: stopped -> starting" &&
    before "fdr: starting -> running" "dep: stopped -> starting"'
vstop "readiness"

# ---- a SIGTERM racing a re-exec is not lost --------------------------------------
# The signal may reach the old image (routed before the exec), fall between
# the drain and execve() (pending in the kernel, read by the new image) or
# reach the new one: in every case vigild shuts down and exits 0. Five
# tries, the SIGTERM sent a little later each time.
conf <<EOF
services = (
  { name = "a"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },
  { name = "b"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; }
);
EOF
lost=0
for delay in 0 0.002 0.005 0.01 0.03; do
	vstart
	wait_for 10 is_state a running
	wait_for 10 is_state b running
	"$VIGILCTL" -s "$SOCK" reexec >/dev/null 2>&1 &
	rxp=$!
	sleep "$delay"	# the race is the point: no condition to wait on
	_vt0=$(ms)
	kill -TERM "$vpid" 2>/dev/null
	vwait
	wait "$rxp" 2>/dev/null
	if [ "$rc" != 0 ] || [ -n "$(children "$vpid")" ]; then
		lost=$((lost + 1))
		diag "SIGTERM $delay s after reexec: exit $rc"
		dump_log
	fi
done
check "SIGTERM racing a re-exec: vigild exits 0 every time ($lost of 5 lost)" \
    [ "$lost" = 0 ]
check "  the log is sanitizer-clean" sanitizer_clean

# ---- 200 services, and a re-exec refused during a shutdown ---------------------
# slowstop ignores SIGTERM for 2 s (its stop_timeout): the shutdown lasts
# that long, and a reexec asked meanwhile is refused.
{
	echo "services = ("
	i=1
	while [ $i -le 200 ]; do
		printf '  { name = "s%d"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },\n' $i
		i=$((i + 1))
	done
	printf '  { name = "slowstop"; command = [ "/bin/sh", "%s" ];\n' "$T/stubborn.sh"
	echo '    stop_timeout = 2.0; min_uptime = 0.1; }'
	echo ");"
} | conf
vstart
all_up() { [ "$(nlogged ': starting -> running: ')" -ge 201 ]; }
wait_for 60 all_up
# pids FILE: "name pid" of every service, from --json status.
pids() {
	ctl --json status 2>/dev/null | python3 -c 'import json,sys
for s in json.load(sys.stdin)["services"]: print(s["name"], s["pid"])' >"$1"
}
pids "$T/pids.0"
check "201 services running, each with a pid ($(grep -c ' [0-9][0-9]*$' "$T/pids.0"))" \
    eval 'all_up && [ "$(grep -c " [0-9][0-9]*$" "$T/pids.0")" -eq 201 ]'
rx
check "reexec with 201 services: exit 0 in $took ms (< 10 s) ($rc)" \
    eval '[ "$rc" = 0 ] && [ "$took" -lt 10000 ]'
pids "$T/pids.1"
check "  every pid unchanged ($(cmp "$T/pids.0" "$T/pids.1" 2>&1))" \
    cmp -s "$T/pids.0" "$T/pids.1"
alive_all() {
	for _p in $(awk '{ print $2 }' "$T/pids.0"); do
		alive "$_p" || return 1
	done
}
check "  all alive, still vigild's children ($(children "$vpid" | wc -l))" \
    eval 'alive_all && [ "$(children "$vpid" | wc -l)" -eq 201 ]'
check "  nothing restarted ($(nlogged ' -> starting: started') starts)" \
    [ "$(nlogged ' -> starting: started')" -eq 201 ]
check "  no zombie ($(zombies "$vpid"))" [ "$(zombies "$vpid")" -eq 0 ]
# Shutdown: slowstop holds it for 2 s; a reexec then is refused.
_vt0=$(ms)
kill -TERM "$vpid"
wait_for 10 logged "shutting down"
rx
check "during a shutdown, reexec is refused: exit 1 ($rc: $(head -n 1 "$T/err"))" \
    [ "$rc" = 1 ]
check "  and vigild is still there, shutting down" alive "$vpid"
vwait
check "SIGTERM: vigild exits 0 ($rc)" [ "$rc" = 0 ]
all_dead() {
	for _p in $(awk '{ print $2 }' "$T/pids.0"); do
		pid_dead "$_p" || return 1
	done
}
check "  every service gone and reaped" all_dead
check "  no sanitizer report in the log" sanitizer_clean
dump_log

done_testing
