#!/bin/sh
# vigild -- COMMAND: single-command mode as a container's init (SPEC 4, 6).
# Exit statuses, commands that cannot run, signal forwarding, the child's
# clean state and descriptors, reaping of orphans, the stop of what is left
# after the command ends, PID 1 in a pid namespace, the terminal, restarts.
. "$top_srcdir/tests/integ/lib.sh"

plan 100

ulimit -c 0	# children that die of SEGV, ABRT or QUIT leave no core

# run SECONDS ARGS...: run vigild ARGS in the foreground, bounded; its
# status in $rc and the milliseconds it took in $took.
run() {
	_secs=$1
	shift
	_t0=$(ms)
	timeout -k 2 "$_secs" "$VIGILD" "$@" </dev/null
	rc=$?
	took=$(($(ms) - _t0))
}

# start ARGS...: vigild ARGS in the background; its pid in $vpid.
start() {
	"$VIGILD" "$@" </dev/null &
	vpid=$!
	track "$vpid"
}

# finish: wait for the background vigild; its status in $rc.
finish() {
	if wait_for 15 dead "$vpid"; then
		wait "$vpid"
		rc=$?
	else
		rc=timeout
	fi
}

# children PID: "pid state" of every child of PID, one a line.
children() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{
		s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ")
		if (f[2] == p) print $1, f[1] }'
}
has_children() { [ -n "$(children "$1")" ]; }
# only_child PID: PID has exactly one child and no zombie.
only_child() { [ "$(children "$1" | wc -l)" -eq 1 ]; }
# key FILE NAME: the value of NAME in a probe report.
key() { sed -n "s/^$2=//p" "$1"; }
has_line() { grep -qx "$2" "$1" 2>/dev/null; }
exists() { [ -e "$1" ]; }
pid_dead() { dead "$(cat "$1")"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
between_rc() { [ "$1" -eq "$2" ] && between "$3" "$4" "$5"; }
# tty_ok REPORT LEADER: the child's group is the terminal's foreground, and
# the child leads its session (LEADER=1) or not (0).
tty_ok() {
	[ -n "$(key "$1" tty_fg)" ] &&
	    [ "$(key "$1" tty_fg)" = "$(key "$1" pgid)" ] || return 1
	if [ "$2" = 1 ]; then
		[ "$(key "$1" sid)" = "$(key "$1" pgid)" ]
	else
		[ "$(key "$1" sid)" != "$(key "$1" pgid)" ]
	fi
}

# ---- exit statuses ---------------------------------------------------------
for n in 0 1 2 42 126 255; do
	run 10 -- sh -c "exit $n"
	check "exit code $n passes through (got $rc)" [ "$rc" -eq "$n" ]
done
for sig in TERM KILL SEGV ABRT; do
	case $sig in
	TERM) num=15 ;; KILL) num=9 ;; SEGV) num=11 ;; ABRT) num=6 ;;
	esac
	run 10 -- sh -c "kill -$sig \$\$"
	check "killed by SIG$sig gives $((128 + num)) (got $rc)" \
	    [ "$rc" -eq $((128 + num)) ]
done

# ---- commands that cannot be executed --------------------------------------
run 10 -- vigil-no-such-command-xyz 2>"$T/err"
check "missing command exits 127 (got $rc)" [ "$rc" -eq 127 ]
check "the message names the missing command" \
    grep -q "vigil-no-such-command-xyz" "$T/err"
printf 'echo hi\n' >"$T/noexec"
chmod 644 "$T/noexec"
run 10 -- "$T/noexec" 2>"$T/err"
check "non-executable file exits 126 (got $rc)" [ "$rc" -eq 126 ]
check "the message names the non-executable file" grep -q "noexec" "$T/err"
mkdir "$T/adir"
run 10 -- "$T/adir" 2>/dev/null
check "a directory exits 126 (got $rc)" [ "$rc" -eq 126 ]
# -c and -d belong to configuration mode: a usage error, not ignored.
for f in "-c $T/x.conf" -d; do
	# shellcheck disable=SC2086
	timeout -k 2 10 "$VIGILD" $f -- true >/dev/null 2>"$T/err"
	rc=$?
	check "$f with -- COMMAND: exit 2 with why (got $rc)" \
	    eval '[ "$rc" -eq 2 ] && grep -q "does not apply" "$T/err"'
done

# ---- forwarding ------------------------------------------------------------
cat >"$T/traps.sh" <<'EOF'
exec 2>/dev/null	# no "Hangup" from sh each time its sleep is killed
out=$1
for s in INT HUP USR1 USR2 QUIT WINCH; do
	trap "echo $s >>$out" $s
done
trap "echo TERM >>$out; exit 7" TERM
echo ready >>$out
while :; do sleep 0.05; done
EOF
start -- sh "$T/traps.sh" "$T/sigs"
wait_for 10 has_line "$T/sigs" ready
for sig in HUP USR1 USR2 QUIT WINCH INT; do
	kill -"$sig" "$vpid"
	wait_for 5 has_line "$T/sigs" "$sig"
	check "SIG$sig reaches the child" has_line "$T/sigs" "$sig"
done
check "vigild is still running after the forwarded signals" alive "$vpid"
kill -TERM "$vpid"
finish
check "SIGTERM reaches the child, whose exit 7 is vigild's (got $rc)" \
    [ "$rc" = 7 ]

# ---- the child's clean state -----------------------------------------------
# Compare with the probe run directly: the child must get exactly the
# descriptors vigild inherited (the test harness may pass some), nothing of
# vigild's own.
"$PROBE" report "$T/direct" </dev/null
run 10 -- "$PROBE" report "$T/rep"
check "probe via vigild exits 0 (got $rc)" [ "$rc" -eq 0 ]
blk=$(key "$T/rep" sigblk)
ign=$(key "$T/rep" sigign)
check "child's SigBlk is empty (0x$blk)" \
    [ $((0x${blk:-1} & ~0x180000000)) -eq 0 ]
check "child's SigIgn is empty but glibc's 32/33 (0x$ign)" \
    [ $((0x${ign:-1} & ~0x180000000)) -eq 0 ]
check "child has exactly vigild's inherited descriptors ($(key "$T/rep" fds))" \
    [ "$(key "$T/rep" fds)" = "$(key "$T/direct" fds)" ]
check "child leads a new session" \
    [ "$(key "$T/rep" sid)" = "$(key "$T/rep" pid)" ]
run 10 -- "$PROBE" report "$T/rep5" 5<"$T/noexec"
check "an inherited descriptor 5 passes through, same file" \
    [ "$(key "$T/rep5" fdid_5)" = "$(stat -c %d:%i "$T/noexec")" ]

# ---- reaping 500 orphans ---------------------------------------------------
cat >"$T/orphans.sh" <<'EOF'
i=0
while [ $i -lt 500 ]; do
	(sleep 0.01 &)
	i=$((i + 1))
done
echo done >"$1"
while [ ! -e "$2" ]; do sleep 0.05; done
EOF
"$VIGILD" -l debug -- sh "$T/orphans.sh" "$T/spawned" "$T/go" \
    </dev/null 2>"$T/orphans.log" &
vpid=$!
track "$vpid"
wait_for 60 exists "$T/spawned"
check "500 double-forked orphans were started" exists "$T/spawned"
wait_for 20 only_child "$vpid"
check "every orphan is reaped, no zombie ($(children "$vpid" | wc -l) left)" \
    only_child "$vpid"
check "vigild reaped at least 500 orphans itself" \
    [ "$(grep -c 'reaped process' "$T/orphans.log")" -ge 500 ]
touch "$T/go"
finish
check "vigild exits 0 after the orphans (got $rc)" [ "$rc" = 0 ]

# ---- what is left after the command ends -----------------------------------
run 10 -- sh -c "sleep 30 & echo \$! >'$T/bg1'; exit 5"
check "exit 5 with a grandchild in the group (got $rc)" [ "$rc" -eq 5 ]
check "vigild exits promptly: the grandchild took SIGTERM (${took} ms)" \
    [ "$took" -lt 3000 ]
check "the grandchild is gone" wait_for 2 pid_dead "$T/bg1"

# A grandchild that ignores SIGTERM, in place before the command exits.
cat >"$T/stubborn.sh" <<'EOF'
sh -c 'trap "" TERM; echo $$ >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 30' \
    sh "$1" &
while [ ! -e "$1" ]; do sleep 0.01; done
exit $2
EOF
run 10 --grace 1 -- sh "$T/stubborn.sh" "$T/bg2" 6 2>"$T/grace.log"
check "exit 6 with a grandchild ignoring SIGTERM (got $rc)" [ "$rc" -eq 6 ]
check "SIGKILL after --grace 1 (${took} ms, want 1000..5000)" \
    between "$took" 1000 5000
check "the SIGTERM-proof grandchild is gone" wait_for 2 pid_dead "$T/bg2"

run 10 -- sh -c "setsid sleep 30 & echo \$! >'$T/bg3'; exit 0"
check "exit 0 with a descendant in its own session (got $rc)" [ "$rc" -eq 0 ]
check "the descendant that left the group got SIGTERM too (${took} ms)" \
    [ "$took" -lt 3000 ]
check "that descendant is gone" wait_for 2 pid_dead "$T/bg3"

# ---- idle: no wake-ups -----------------------------------------------------
start -- sleep 30
wait_for 5 has_children "$vpid"
ctx() {
	sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$vpid/status"
}
# Settled: it has finished starting the child and sleeps in poll().
settled() { _c=$(ctx); sleep 0.2; [ "$_c" = "$(ctx)" ]; }
wait_for 5 settled
c0=$(ctx)
sleep 1	# a measurement window, not a synchronisation
c1=$(ctx)
check "idle vigild does not wake up ($c0 -> $c1 switches in 1 s)" \
    [ "$((c1 - c0))" -le 1 ]
kill -TERM "$vpid"
finish
check "sleep killed by the forwarded SIGTERM: 143 (got $rc)" [ "$rc" = 143 ]

# ---- PID 1 in a new pid namespace ------------------------------------------
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	for i in 1 2 3 4 5; do
		skip "PID 1 case $i" "unshare --pid is not permitted here"
	done
else
	timeout -k 2 20 unshare --pid --fork --mount-proc \
	    "$VIGILD" -- sh -c 'exit 33' </dev/null
	rc=$?
	check "as PID 1: exit code passes through (got $rc)" [ "$rc" -eq 33 ]

	# Inside, the command waits until no orphan or zombie is left under
	# PID 1 but itself, and says so with its status.
	cat >"$T/ns-orphans.sh" <<'EOF'
i=0
while [ $i -lt 100 ]; do
	(sleep 0.01 &)
	i=$((i + 1))
done
n=0
while [ $n -lt 200 ]; do
	left=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v me=$$ '{
		s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ")
		if (f[1] == "Z" || (f[2] == 1 && $1 != me)) c++ }
		END { print c + 0 }')
	[ "$left" -eq 0 ] && exit 0
	sleep 0.05
	n=$((n + 1))
done
exit 1
EOF
	timeout -k 2 30 unshare --pid --fork --mount-proc \
	    "$VIGILD" -- sh "$T/ns-orphans.sh" </dev/null
	rc=$?
	check "as PID 1: 100 orphans reaped, no zombie (got $rc)" \
	    [ "$rc" -eq 0 ]

	unshare --pid --fork --mount-proc "$VIGILD" -- \
	    sh "$T/traps.sh" "$T/nssigs" </dev/null &
	upid=$!
	track "$upid"
	wait_for 10 has_line "$T/nssigs" ready
	# unshare does not pass signals on: signal vigild, its child.
	v1=$(children "$upid" | awk '{ print $1; exit }')
	kill -USR1 "$v1" 2>/dev/null
	wait_for 5 has_line "$T/nssigs" USR1
	check "as PID 1: SIGUSR1 from outside reaches the child" \
	    has_line "$T/nssigs" USR1
	kill -TERM "$v1" 2>/dev/null
	vpid=$upid
	finish
	check "as PID 1: SIGTERM forwarded, the child's 7 passes (got $rc)" \
	    [ "$rc" = 7 ]
	_t0=$(ms)
	timeout -k 2 20 unshare --pid --fork --mount-proc "$VIGILD" --grace 1 \
	    -- sh "$T/stubborn.sh" "$T/bg4" 8 </dev/null 2>/dev/null
	rc=$?
	took=$(($(ms) - _t0))
	check "as PID 1: exit 8, orphan killed after grace 1 ($rc, $took ms)" \
	    between_rc "$rc" 8 "$took" 1000 5000
fi

# ---- the terminal ----------------------------------------------------------
if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	for i in 1 2 3 4 5; do
		skip "terminal case $i" "script(1) cannot make a terminal here"
	done
else
	cat >"$T/tty.sh" <<'EOF'
trap "echo HUP >>$1" HUP
trap "echo CONT >>$1" CONT
"$3" report "$2"
exit 4
EOF
	# vigild leads the terminal's session, as a container's init does.
	SHELL=/bin/sh timeout -k 2 20 script -qec "exec '$VIGILD' -- \
	    sh '$T/tty.sh' '$T/ttysigs' '$T/tty1' '$PROBE'" /dev/null \
	    </dev/null >/dev/null
	rc=$?
	check "terminal, session leader: exit 4 passes (got $rc)" \
	    [ "$rc" -eq 4 ]
	check "terminal, session leader: the child's session has it, in front" \
	    tty_ok "$T/tty1" 1
	check "terminal, session leader: no stray SIGHUP/SIGCONT (#136)" \
	    [ ! -e "$T/ttysigs" ]
	# vigild is a job of an interactive shell's session.
	SHELL=/bin/sh timeout -k 2 20 script -qec "'$VIGILD' -- \
	    '$PROBE' report '$T/tty2'; exit \$?" /dev/null </dev/null >/dev/null
	rc=$?
	check "terminal, in a shell's session: exit 0 (got $rc)" [ "$rc" -eq 0 ]
	check "terminal, in a shell's session: the child's group is in front" \
	    tty_ok "$T/tty2" 0
fi

# ---- restarts --------------------------------------------------------------
cat >"$T/flaky.sh" <<'EOF'
n=$(cat "$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >"$1"
[ $n -ge 3 ] && exit 0
exit 1
EOF
run 20 --restart on-failure -- sh "$T/flaky.sh" "$T/count"
check "--restart on-failure: fails twice, then exits 0 (got $rc)" \
    [ "$rc" -eq 0 ]
check "--restart on-failure: the command ran 3 times ($(cat "$T/count"))" \
    [ "$(cat "$T/count")" = 3 ]

start --restart always -- sh -c \
    "echo run >>'$T/runs'; trap 'exit 0' TERM; while :; do sleep 0.05; done" \
    2>/dev/null
wait_for 10 has_line "$T/runs" run
kill -TERM "$vpid"
finish
check "--restart always: SIGTERM ends vigild with the child's 0 (got $rc)" \
    [ "$rc" = 0 ]
check "--restart always: no restart after SIGTERM" \
    [ "$(wc -l <"$T/runs")" -eq 1 ]

# Quick failures: 100, 200, 400, 800 ms between runs, so about 5 runs in
# 1.6 s (16 without the doubling). SIGTERM then ends vigild with the last
# status: most likely while vigild waits to restart, 3; during a run, 3 once
# the command has set its trap, 143 if the forwarded SIGTERM came first (a
# loaded machine), as its log line says.
start -l info --restart always -- \
    sh -c "trap '' TERM; echo run >>'$T/quick'; exit 3" 2>"$T/quick.log"
wait_for 10 has_line "$T/quick" run
sleep 1.6	# a measurement window, not a synchronisation
kill -TERM "$vpid"
finish
runs=$(wc -l <"$T/quick")
check "--restart always: the delay doubles on quick failures ($runs runs)" \
    between "$runs" 3 8
case $(grep -Eo 'sh: (exited with status|killed by) .*' "$T/quick.log" |
    tail -n 1) in
"sh: exited with status 3") want=3 ;;
"sh: killed by SIGTERM") want=143 ;;
*) want="the last logged" ;;
esac
check "--restart always: SIGTERM ends it with the last status, $want ($rc)" \
    [ "$rc" = "$want" ]

# ---- -p: the pid file ------------------------------------------------------
start -p "$T/v.pid" -- "$PROBE" wait "$T/prep"
wait_for 10 exists "$T/prep"
check "-p writes vigild's pid" [ "$(cat "$T/v.pid" 2>/dev/null)" = "$vpid" ]
run 10 -p "$T/v.pid" -- sh -c "touch '$T/ran2'" 2>"$T/perr"
check "a second vigild on the same pid file refuses: exit 1 (got $rc)" \
    [ "$rc" -eq 1 ]
check "... naming the running one" \
    grep -q "already running (pid $vpid, pid file $T/v.pid)" "$T/perr"
check "... without starting its command" [ ! -e "$T/ran2" ]
check "... and the pid file still names the first" \
    [ "$(cat "$T/v.pid")" = "$vpid" ]
kill -TERM "$vpid"
finish
check "vigild -p exits with the command's status, 143 (got $rc)" [ "$rc" = 143 ]
check "-p: the pid file is removed at exit" [ ! -e "$T/v.pid" ]
echo 999999 >"$T/v.pid"
run 10 -p "$T/v.pid" -- sh -c "echo \$PPID >'$T/ppid'; cp '$T/v.pid' '$T/seen'"
check "-p: a stale pid file is taken over (got $rc)" \
    sh -c "[ $rc -eq 0 ] && cmp -s '$T/ppid' '$T/seen'"
check "... and removed at exit" [ ! -e "$T/v.pid" ]

# ---- -s: the control socket ------------------------------------------------
SOCK=$T/ctl.sock
ctl()	{ "$VIGILCTL" -s "$SOCK" "$@"; }
reachable() { ctl status >/dev/null 2>&1; }
# field N: column N of the status line of the one service.
field()	{ ctl status 2>/dev/null | awk -v n="$1" 'NR == 2 { print $n }'; }
child_of() { children "$1" | awk '{ print $1; exit }'; }
new_pid() { _p=$(field 3); [ -n "$_p" ] && [ "$_p" != "-" ] && [ "$_p" != "$1" ]; }
socks()	{ ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:'; }

rm -f "$T/csigs"
start -s "$SOCK" -- sh "$T/traps.sh" "$T/csigs"
wait_for 10 has_line "$T/csigs" ready
wait_for 10 reachable
cpid=$(child_of "$vpid")
check "-s: status shows the command, named sh, running with its pid" \
    [ "$(field 1) $(field 2) $(field 3)" = "sh running $cpid" ]
if command -v python3 >/dev/null 2>&1; then
	ctl --json status sh | python3 -c 'import json, sys
s = json.load(sys.stdin)["services"]
sys.exit(not (len(s) == 1 and s[0]["name"] == "sh" and
    s[0]["state"] == "running" and s[0]["ready"] and
    s[0]["pid"] == int(sys.argv[1])))' "$cpid"
	check "-s: status --json has the one service" [ $? -eq 0 ]
else
	skip "-s: status --json has the one service" "no python3"
fi
ctl signal USR1 sh >/dev/null
rc=$?
wait_for 5 has_line "$T/csigs" USR1
check "-s: vigilctl signal reaches the command (rc $rc)" \
    sh -c "[ $rc -eq 0 ] && grep -qx USR1 '$T/csigs'"
ctl log sh >/dev/null 2>"$T/err"
check "-s: log answers that the output is not captured" \
    sh -c "[ $? -eq 1 ] && grep -q 'not captured' '$T/err'"
ctl reload >/dev/null 2>"$T/err"
check "-s: reload fails: there is no configuration file" \
    sh -c "[ $? -eq 1 ] && grep -q 'nothing to reload' '$T/err'"
ctl version >"$T/out" 2>&1
check "-s: version answers" \
    sh -c "[ $? -eq 0 ] && grep -q '^vigild ' '$T/out'"
run 10 -s "$SOCK" -- sh -c "touch '$T/ran3'" 2>"$T/serr"
check "a second vigild on the same socket refuses: exit 1 (got $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'already running (pid $vpid' '$T/serr'"
check "... without starting its command" [ ! -e "$T/ran3" ]
ctl restart sh >/dev/null 2>&1
rc=$?
check "-s: restart starts the command again, even with no policy (rc $rc)" \
    sh -c "[ $rc -eq 0 ] && [ \"\$(grep -c TERM '$T/csigs')\" = 1 ]"
is_child() { children "$1" | grep -q "^$2 "; }
check "... with a new pid, one restart counted" \
    sh -c "[ '$(field 2) $(field 5)' = 'running 1' ] && [ '$(field 3)' != '$cpid' ]"
check "... which is vigild's child" is_child "$vpid" "$(field 3)"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 711 "$T"
	chmod 666 "$SOCK"
	# Without TSAN_OPTIONS: nobody may not read its suppressions file.
	env -u TSAN_OPTIONS setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$VIGILCTL" -s "$SOCK" status >/dev/null 2>"$T/err"
	rc=$?
	check "-s: another uid is refused by its credentials (rc $rc)" \
	    sh -c "[ $rc -eq 1 ] && grep -q 'permission denied: uid 65534' '$T/err'"
else
	skip "-s: another uid is refused by its credentials" "needs root"
fi
ctl shutdown >"$T/out" 2>&1
rc=$?
check "-s: shutdown answers once vigild is done (rc $rc)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'shut down' '$T/out'"
finish
check "-s: vigild exits with the command's status to SIGTERM, 7 (got $rc)" \
    [ "$rc" = 7 ]
check "-s: the socket and its lock are removed at exit" \
    [ ! -e "$SOCK" ] && [ ! -e "$SOCK.lock" ]

# stop with a restart policy and a command that ignores SIGTERM.
rm -f "$T/runs"
start --restart always --grace 1 -s "$SOCK" -- sh -c \
    "trap '' TERM; echo run >>'$T/runs'; while :; do sleep 0.05; done"
wait_for 10 has_line "$T/runs" run
wait_for 10 reachable
p0=$(field 3)
_t0=$(ms)
ctl restart sh >/dev/null 2>&1
rc=$?
took=$(($(ms) - _t0))
check "-s: restart kills a SIGTERM-proof command after --grace 1 ($rc, $took ms)" \
    between_rc "$rc" 0 "$took" 1000 5000
check "... and it runs again" wait_for 5 new_pid "$p0"
_t0=$(ms)
ctl stop sh >"$T/out" 2>&1
rc=$?
took=$(($(ms) - _t0))
check "-s: stop under --restart always answers stopped ($rc, $took ms)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'sh: stopped' '$T/out' && [ $took -ge 1000 ]"
finish
check "... and vigild exits with the command's status, 137 (got $rc)" \
    [ "$rc" = 137 ]
check "... after 2 runs and no restart after the stop" \
    [ "$(wc -l <"$T/runs")" -eq 2 ]

# Without -s, no socket at all.
mkdir "$T/xdg"
XDG_RUNTIME_DIR=$T/xdg "$VIGILD" -- "$PROBE" wait "$T/nosock" </dev/null &
vpid=$!
track "$vpid"
wait_for 10 exists "$T/nosock"
check "without -s, no control socket: none in XDG_RUNTIME_DIR" \
    [ -z "$(ls -A "$T/xdg")" ]
check "... and vigild holds no socket its command was not given" \
    [ "$(socks "$vpid")" -eq "$(socks "$(child_of "$vpid")")" ]
kill -TERM "$vpid"
finish

# ---- socket activation -----------------------------------------------------
# activate SOCKET MODE VIGILD-ARGS...: listen on SOCKET as fd 3 and exec
# vigild with LISTEN_FDS=1, LISTEN_FDNAMES=web and LISTEN_PID naming vigild
# (MODE self: exec keeps our pid), another process (other), or with
# LISTEN_FDS=2 though only fd 3 is open (missing).
cat >"$T/activate.py" <<'EOF'
import os, socket, sys
path, mode, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
os.dup2(s.fileno(), 3, inheritable=True)
env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="web",
    LISTEN_PID=str(os.getpid() if mode != "other" else os.getppid()))
if mode == "missing":
    env["LISTEN_FDS"] = "2"
os.execve(argv[0], argv, env)
EOF
# ask SOCKET: connect and print what the probe answers ("pid=N").
cat >"$T/ask.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
sys.stdout.write(s.makefile().read())
EOF
ask()	{ python3 "$T/ask.py" "$1" 2>/dev/null; }
asked() { _a=$(ask "$1") && [ -n "$_a" ] && echo "$_a" >>"$2"; }

if command -v python3 >/dev/null 2>&1; then
	python3 "$T/activate.py" "$T/act1.sock" self "$VIGILD" -- \
	    "$PROBE" listen "$T/act1" </dev/null &
	vpid=$!
	track "$vpid"
	wait_for 10 exists "$T/act1"
	answer=$(ask "$T/act1.sock")
	finish
	check "activation: the command accepts on fd 3 and vigild exits 0 ($rc)" \
	    sh -c "[ '$rc' = 0 ] && [ '$answer' = 'pid=$(key "$T/act1" pid)' ]"
	check "activation: the command's LISTEN_PID is its own pid, once" \
	    sh -c "[ '$(key "$T/act1" env_LISTEN_PID)' = '$(key "$T/act1" pid)' ] &&
	    [ '$(key "$T/act1" listen_pids)' = 1 ]"
	check "activation: LISTEN_FDS and LISTEN_FDNAMES as vigild got them" \
	    [ "$(key "$T/act1" env_LISTEN_FDS):$(key "$T/act1" env_LISTEN_FDNAMES)" = 1:web ]

	# Every restart has its own pid in LISTEN_PID: two answers, two pids.
	rm -f "$T/answers"
	python3 "$T/activate.py" "$T/act2.sock" self "$VIGILD" \
	    --restart always -- "$PROBE" listen </dev/null >/dev/null &
	vpid=$!
	track "$vpid"
	wait_for 10 asked "$T/act2.sock" "$T/answers"
	wait_for 10 asked "$T/act2.sock" "$T/answers"
	check "activation: each restart answers with its own pid ($(echo $(cat "$T/answers")))" \
	    [ "$(sort -u "$T/answers" | grep -c '^pid=')" -eq 2 ]
	kill -TERM "$vpid"
	finish

	python3 "$T/activate.py" "$T/act3.sock" other "$VIGILD" -- \
	    "$PROBE" listen "$T/act3" </dev/null
	rc=$?
	check "activation: LISTEN_PID naming another process: no LISTEN_* ($rc)" \
	    sh -c "[ $rc -eq 1 ] && ! grep -q '^env_LISTEN' '$T/act3' &&
	    [ '$(key "$T/act3" listen_pids)' = 0 ]"
	check "... and fd 3 still passes through ($(key "$T/act3" fds))" \
	    sh -c "echo '$(key "$T/act3" fds)' | grep -Eq '^0,1,2,3(,|\$)'"
	python3 "$T/activate.py" "$T/act4.sock" missing "$VIGILD" -- \
	    "$PROBE" listen "$T/act4" </dev/null 2>"$T/act4.err"
	rc=$?
	check "activation: LISTEN_FDS=2 with fd 4 closed: no LISTEN_*, a warning" \
	    sh -c "[ $rc -eq 1 ] && ! grep -q '^env_LISTEN' '$T/act4' &&
	    grep -q 'descriptor 4 is not open' '$T/act4.err'"
else
	for i in 1 2 3 4 5 6 7; do
		skip "socket activation $i" "no python3"
	done
fi

done_testing
