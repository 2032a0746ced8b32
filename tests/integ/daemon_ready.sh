#!/bin/sh
# Readiness by tcp and exec, and health checks (SPEC 4.1, 4.2), against the
# real vigild: a service is running only once its port accepts or its
# check exits 0, and its dependents start only then; a readiness timeout
# is a failed start; each try is bounded and a hung check is killed with
# its process group; check processes are reaped as such, never as
# orphans; failed health checks restart the service; checks end with the
# service, the reload that removes it and vigild; bad settings are
# FILE:LINE errors at -t; a change of them restarts the service on reload.
. "$top_srcdir/tests/integ/daemon_lib.sh"

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is needed"; exit 0; }

plan 73

# listen.py HOST PORT DELAY STAMP [full]: after DELAY seconds, listen on
# HOST:PORT, write the time (ms) to STAMP, accept forever. With "full" the
# accept queue is filled and never served, so a connect() hangs.
cat >"$T/listen.py" <<'EOF'
import os, socket, sys, time
host, port, delay, stamp = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
full = len(sys.argv) > 5
time.sleep(delay)
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(0 if full else 16)
fill = []
for i in range(4 if full else 0):
    c = socket.socket(fam)
    c.setblocking(False)
    c.connect_ex((host, port))
    fill.append(c)
with open(stamp + ".tmp", "w") as f:
    f.write("%d\n" % (time.time() * 1000))
os.rename(stamp + ".tmp", stamp)
while True:
    if full:
        time.sleep(1000)
    else:
        s.accept()[0].close()
EOF
# free_ports N: N ports of 127.0.0.1 that nothing listens on now.
free_ports() {
	python3 -c 'import socket, sys
ss = [socket.socket() for i in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
set -- $(free_ports 6)
P_WEB=$1 P_NAMED=$2 P_DEAF=$3 P_FULL=$4 P_V6=$5 P_IDLE=$6
# ::1 where the system has it.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	have_v6=1
else
	have_v6=
fi

# col NAME N: column N of NAME in vigilctl's status table (2 state, 5
# restarts, 7 ready); reason NAME: its reason. The table, not --json: a
# python3 to parse JSON can take seconds to start on a loaded machine.
col() { "$VIGILCTL" -s "$SOCK" status "$1" | awk -v n="$2" 'NR == 2 { print $n }'; }
col_is() { [ "$(col "$1" "$2")" = "$3" ]; }
reason_is() {
	"$VIGILCTL" -s "$SOCK" status "$1" | sed -n 2p | grep -qF -- "$2"
}
# group_empty PGID: no process is left in process group PGID.
group_empty() {
	! cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '{
		s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ")
		if (f[3] == g && f[1] != "Z") found = 1 } END { exit !found }'
}
# all_dead FILE: every pid in FILE is gone (reaped: not even a zombie).
all_dead() {
	for _p in $(cat "$1"); do
		[ -e /proc/"$_p" ] && return 1
	done
	return 0
}
# as_check FILE: every pid in FILE was reaped as a check, none as an orphan.
as_check() {
	for _p in $(cat "$1"); do
		logged "reaped orphan $_p " && return 1
		logged "reaped check process $_p\($\|,\)" || return 1
	done
	return 0
}

# ---- tcp: running once it listens, dependents after ---------------------------
cat >"$T/dep.sh" <<EOF
. "$T/now.sh"
now >"$T/dep.start"
exec sleep 1000
EOF
v6_svc=
if [ -n "$have_v6" ]; then
	v6_svc="{ name = \"v6\"; command = [ \"python3\", \"$T/listen.py\", \"::1\",
	    \"$P_V6\", \"0.3\", \"$T/v6.stamp\" ];
	  ready = { type = \"tcp\"; address = \"[::1]:$P_V6\"; interval = 0.1;
	    timeout = 20.0; }; },"
fi
conf <<EOF
services = (
  { name = "web"; command = [ "python3", "$T/listen.py", "127.0.0.1",
      "$P_WEB", "1.0", "$T/web.stamp" ];
    ready = { type = "tcp"; address = "127.0.0.1:$P_WEB"; interval = 0.1;
      timeout = 20.0; }; },
  { name = "dep"; command = [ "$BASH_PROG", "$T/dep.sh" ]; after = [ "web" ];
    min_uptime = 0.1; },
  $v6_svc
  { name = "named"; command = [ "python3", "$T/listen.py", "127.0.0.1",
      "$P_NAMED", "0.3", "$T/named.stamp" ];
    ready = { type = "tcp"; address = "localhost:$P_NAMED"; interval = 0.1;
      timeout = 20.0; }; }
);
EOF
vstart
wait_for 10 is_state web starting
check "tcp: starting while nothing listens, status ready false" \
    eval 'is_state web starting && col_is web 7 no && [ ! -e "$T/web.stamp" ]'
wait_for 20 is_state dep running
check "tcp: the connection accepted makes it running" \
    logged "web: starting -> running: ready$"
check "  reported as readiness tcp" logged "web: ready (tcp)"
check "  the tries before were refused" \
    logged "web: readiness check failed: 127.0.0.1:$P_WEB: Connection refused"
check "  status: running, ready true" \
    eval 'col_is web 2 running && col_is web 7 yes'
ws=$(cat "$T/web.stamp") ds=$(cat "$T/dep.start")
check "after: dep started once web listened ($((ds - ws)) ms later, >= 0)" \
    [ "$ds" -ge "$ws" ]
check "  and not much later: one interval and a spawn ($((ds - ws)) ms)" \
    [ $((ds - ws)) -lt 5000 ]
check "the log agrees: web running before dep starting" \
    before "web: starting -> running" "dep: stopped -> starting"
if [ -n "$have_v6" ]; then
	wait_for 20 is_state v6 running
	check "tcp: an IPv6 address in brackets" \
	    logged "v6: starting -> running: ready$"
else
	skip "tcp: an IPv6 address in brackets" "no ::1 here"
fi
wait_for 20 is_state named running
check "tcp: a host name (localhost), resolved off the loop" \
    logged "named: starting -> running: ready$"
# Ready and no health check: the main loop sleeps, no timer left behind.
# Its thread alone: the name resolution started a pool worker, and with
# one thread ThreadSanitizer's runtime starts its own, which wakes every
# 100 ms.
ctxsw_main() {
	awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' \
	    /proc/"$1"/task/"$1"/status 2>/dev/null
}
settled() { _c=$(ctxsw_main "$vpid"); sleep 0.3; [ "$_c" = "$(ctxsw_main "$vpid")" ]; }
wait_for 10 settled
c0=$(ctxsw_main "$vpid")
sleep 2	# a measurement window, not a synchronisation
c1=$(ctxsw_main "$vpid")
check "once ready, no check runs: <= 2 context switches in 2 s ($c0 -> $c1)" \
    [ $((c1 - c0)) -le 2 ]
vstop "tcp"

# ---- tcp: never ready --------------------------------------------------------
conf <<EOF
services = (
  { name = "deaf"; command = [ "$PROBE", "wait", "$T/deaf.rep" ];
    ready = { type = "tcp"; address = "127.0.0.1:$P_DEAF"; interval = 0.1;
      timeout = 0.5; };
    restart_delay = 0.1; start_limit = { burst = 2; interval = 30.0; }; },
  { name = "afterdeaf"; command = [ "$PROBE", "wait", "$T/ad.rep" ];
    after = [ "deaf" ]; },
  { name = "full"; command = [ "python3", "$T/listen.py", "127.0.0.1",
      "$P_FULL", "0", "$T/full.stamp", "full" ];
    ready = { type = "tcp"; address = "127.0.0.1:$P_FULL"; interval = 0.2;
      timeout = 60.0; }; }
);
EOF
vstart
wait_for 10 exists "$T/deaf.rep"
d1=$(key "$T/deaf.rep" pid)
wait_for 20 is_state deaf fatal
wait_for 30 exists "$T/full.stamp"
wait_for 10 logged "full: readiness check failed: timed out after 0.2 s"
check "tcp never listening: not ready after the timeout" \
    logged "deaf: not ready after 0.5 s"
check "  the last try is logged" \
    logged "deaf: readiness check failed [0-9]* times, last: 127.0.0.1:$P_DEAF: Connection refused"
check "  a failed start: stopping -> backoff" \
    logged "deaf: stopping -> backoff: readiness timeout; restarting in"
check "  counts for the start limit: fatal after 2 starts" \
    logged "deaf: stopping -> fatal: readiness timeout; start limit of 2"
check "  its process is gone" pid_dead "$d1"
check "  its dependent is not started, and says why" \
    logged "afterdeaf: .*not started: deaf is fatal"
check "  and was never spawned" [ ! -e "$T/ad.rep" ]
check "a connect that hangs ends at the try's bound (interval)" \
    logged "full: readiness check failed: timed out after 0.2 s"
check "  and a connection that never completes is not ready" \
    eval 'is_state full starting && col_is full 7 no'
vstop "tcp never"

# ---- exec ----------------------------------------------------------------------
# nth.sh: fails twice, then succeeds; each try reports how it was run.
cat >"$T/nth.sh" <<EOF
n=\$((\$(cat "$T/nth.n" 2>/dev/null || echo 0) + 1))
echo \$n >"$T/nth.n"
echo \$\$ >>"$T/nth.pids"
"$PROBE" report -e VIGIL_SERVICE -e CHECK_VAR "$T/nth.\$n.rep"
echo "nth try \$n on stderr" >&2
[ \$n -ge 3 ]
EOF
mkdir "$T/wd"
conf <<EOF
services = (
  { name = "nth"; command = [ "$PROBE", "wait", "$T/nthsvc.rep" ];
    directory = "$T/wd"; environment = { CHECK_VAR = "from-service"; };
    ready = { type = "exec"; command = [ "/bin/sh", "$T/nth.sh" ];
      interval = 1.0; timeout = 20.0; }; },
  { name = "hang"; command = [ "$PROBE", "wait", "$T/hang.rep" ];
    restart = "never";
    ready = { type = "exec";
      command = "echo \$\$ >>$T/hang.pids; sleep 1000 & echo \$! >>$T/hang.kids; wait";
      interval = 0.5; timeout = 2.5; }; }
);
EOF
vstart
wait_for 20 is_state nth running
check "exec: running after the third try, which exited 0 ($(cat "$T/nth.n"))" \
    eval '[ "$(cat "$T/nth.n")" = 3 ] && logged "nth: ready (exec)"'
check "  the failed tries are logged with their exit code" \
    eval '[ "$(nlogged "nth: readiness check failed: exited with code 1")" -eq 2 ]'
check "  status: ready true" col_is nth 7 yes
spid_nth=$(key "$T/nthsvc.rep" pid)
pg=$(key "$T/nth.1.rep" pgid)
check "  the check runs in a process group and session of its own" \
    eval '[ "$pg" = "$(key "$T/nth.1.rep" sid)" ] && [ "$pg" != "$spid_nth" ] && [ "$pg" != "$vpid" ]'
check "  like the service: its directory and environment" \
    eval '[ "$(key "$T/nth.1.rep" cwd)" = "$T/wd" ] &&
    [ "$(key "$T/nth.1.rep" env_CHECK_VAR)" = from-service ] &&
    [ "$(key "$T/nth.1.rep" env_VIGIL_SERVICE)" = nth ]'
check "  its stderr goes to the service's output" \
    logged "nth | nth try 1 on stderr"
check "  reaped as check processes, not as orphans" as_check "$T/nth.pids"
sleep 1.5	# a window in which no try may come
check "  no try once ready ($(cat "$T/nth.n"))" [ "$(cat "$T/nth.n")" = 3 ]
wait_for 20 is_state hang exited
wait_for 5 all_dead "$T/hang.pids"
wait_for 5 all_dead "$T/hang.kids"
check "exec: a hung try is killed at its bound (interval)" \
    logged "hang: readiness check failed: timed out after 0.5 s"
nh=$(wc -l <"$T/hang.pids")
check "  one try at a time, interval apart: 2 to 4 tries in 2.5 s ($nh)" \
    between "$nh" 2 4
check "  then the readiness timeout: a failed start, exited (restart never)" \
    logged "hang: stopping -> exited: readiness timeout$"
check "  every try's process is gone" all_dead "$T/hang.pids"
check "  and what it started in its group" all_dead "$T/hang.kids"
check "  each reaped as a check process, not as an orphan" \
    as_check "$T/hang.pids"
vstop "exec"

# ---- health checks -------------------------------------------------------------
# sick fails its health checks while $T/sick exists; each run removes it
# as it starts, well before its first check (min_uptime + interval).
cat >"$T/health.sh" <<EOF
echo \$\$ >>"$T/health.pids"
[ ! -e "$T/sick" ]
EOF
# once.sh: fails once when the test asks for it, else passes.
cat >"$T/once.sh" <<EOF
rm "$T/once.fail" 2>/dev/null && exit 2
exit 0
EOF
conf <<EOF
services = (
  { name = "sick"; command = "rm -f $T/sick; exec $PROBE wait $T/sick.rep";
    min_uptime = 1.0; restart_delay = 0.1;
    health = { command = [ "/bin/sh", "$T/health.sh" ]; interval = 0.2;
      timeout = 5.0; retries = 3; }; },
  { name = "once"; command = [ "$PROBE", "wait", "$T/once.rep" ];
    min_uptime = 0.1;
    health = { command = [ "/bin/sh", "$T/once.sh" ]; interval = 3.0;
      retries = 2; }; },
  { name = "hung"; command = [ "$PROBE", "wait", "$T/hung.rep" ];
    min_uptime = 0.1; restart = "never";
    health = { command = "echo \$\$ >>$T/hung.pids; exec sleep 1000";
      interval = 0.2; timeout = 0.3; retries = 2; }; }
);
EOF
vstart
wait_for 10 is_state sick running
wait_for 10 nlines "$T/health.pids" 3
sick1=$(key "$T/sick.rep" pid)
check "health: passing checks keep it running" is_state sick running
touch "$T/sick"
new_sick() { [ -n "$(key "$T/sick.rep" pid)" ] && [ "$(key "$T/sick.rep" pid)" != "$sick1" ]; }
wait_for 10 new_sick
wait_for 10 is_state sick running
check "health: each failure is logged with its count and reason" \
    eval 'logged "sick: health check failed (1 of 3): exited with code 1" &&
    logged "sick: health check failed (2 of 3): exited with code 1"'
check "  after retries (3) failures: running -> stopping" \
    before "sick: health check failed (3 of 3)" "sick: running -> stopping"
check "  then the restart, the reason naming the health check" \
    logged "sick: stopping -> backoff: health check failed: exited with code 1; restarting in"
check "  a new process ($sick1 -> $(key "$T/sick.rep" pid)), the old one gone" \
    eval 'new_sick && pid_dead "$sick1"'
check "  counted as a restart" col_is sick 5 1
check "  health check processes are reaped as such" as_check "$T/health.pids"
wait_for 10 is_state once running
touch "$T/once.fail"
failing="health check failing (1 of 2): exited with code 2"
wait_for 10 reason_is once "$failing"
check "health: one failure below retries shows in the status reason" \
    reason_is once "$failing"
wait_for 10 logged "once: health check passed after 1 failure"
check "  the next pass is logged, and the service is left alone" \
    eval 'logged "once: health check passed after 1 failure" &&
    is_state once running && [ "$(nstarts once)" -eq 1 ]'
wait_for 10 is_state hung exited
check "health: a hung check fails at its timeout" \
    logged "hung: health check failed (1 of 2): timed out after 0.3 s"
check "  and restart never: running -> ... -> exited, naming the check" \
    logged "hung: stopping -> exited: health check failed: timed out after 0.3 s$"
check "  every hung check process is gone" wait_for 5 all_dead "$T/hung.pids"
check "  and reaped as a check" as_check "$T/hung.pids"
vstop "health"

# ---- checks end with the service ---------------------------------------------------
# slow.sh: a check that does not end by itself: one is in flight from the
# first try on.
cat >"$T/slow.sh" <<EOF
echo \$\$ >>"$T/\$1.pids"
exec sleep 1000
EOF
conf <<EOF
services = (
  { name = "w1"; command = [ "$PROBE", "wait", "$T/w1.rep" ]; min_uptime = 0.1;
    health = { command = [ "/bin/sh", "$T/slow.sh", "w1" ]; interval = 0.05;
      timeout = 100.0; }; },
  { name = "w2"; command = [ "$PROBE", "wait", "$T/w2.rep" ]; min_uptime = 0.1;
    health = { command = [ "/bin/sh", "$T/slow.sh", "w2" ]; interval = 0.05;
      timeout = 100.0; }; },
  { name = "w3"; command = [ "$PROBE", "wait", "$T/w3.rep" ]; min_uptime = 0.1;
    health = { command = [ "/bin/sh", "$T/slow.sh", "w3" ]; interval = 0.05;
      timeout = 100.0; }; }
);
EOF
# inflight NAME: the last check of NAME started and is still running.
inflight() { [ -s "$T/$1.pids" ] && [ -e /proc/"$(tail -n 1 "$T/$1.pids")" ]; }
vstart
wait_for 10 inflight w1
wait_for 10 inflight w2
wait_for 10 inflight w3
g1=$(tail -n 1 "$T/w1.pids")
"$VIGILCTL" -s "$SOCK" stop w1 >/dev/null
n1=$(wc -l <"$T/w1.pids")
check "stop: the check in flight is killed with its group ($g1)" \
    wait_for 5 group_empty "$g1"
sleep 0.5	# a window in which no check may start
check "  and no check starts once it is stopped" \
    [ "$(wc -l <"$T/w1.pids")" -eq "$n1" ]
check "  the killed check is reaped as such, abandoned" \
    eval 'as_check "$T/w1.pids" && logged "reaped check process $g1, abandoned"'
g2=$(tail -n 1 "$T/w2.pids")
conf <<EOF
services = (
  { name = "w3"; command = [ "$PROBE", "wait", "$T/w3.rep" ]; min_uptime = 0.1;
    health = { command = [ "/bin/sh", "$T/slow.sh", "w3" ]; interval = 0.05;
      timeout = 100.0; }; }
);
EOF
kill -HUP "$vpid"
wait_for 10 logged "w2: removed"
check "reload removing it: its check in flight is killed ($g2)" \
    wait_for 5 group_empty "$g2"
wait_for 10 inflight w3
g3=$(tail -n 1 "$T/w3.pids")
vstop "checks end"
check "shutdown: the check in flight is killed ($g3)" group_empty "$g3"
check "  and none outlives vigild" eval 'all_dead "$T/w1.pids" &&
    all_dead "$T/w2.pids" && all_dead "$T/w3.pids"'

# ---- reload: ready and health settings are part of the service ---------------------
hc='command = [ "/bin/true" ]; interval = 5.0;'
conf <<EOF
services = (
  { name = "r1"; command = [ "$PROBE", "wait", "$T/r1.rep" ]; min_uptime = 0.1;
    health = { $hc }; },
  { name = "r2"; command = [ "$PROBE", "wait", "$T/r2.rep" ]; min_uptime = 0.1;
    ready = { type = "exec"; command = [ "/bin/true" ]; interval = 0.1; }; }
);
EOF
vstart
wait_for 10 is_state r1 running
wait_for 10 is_state r2 running
r1=$(key "$T/r1.rep" pid) r2=$(key "$T/r2.rep" pid)
conf <<EOF
services = (
  { name = "r1"; command = [ "$PROBE", "wait", "$T/r1.rep" ]; min_uptime = 0.1;
    health = { $hc retries = 5; }; },
  { name = "r2"; command = [ "$PROBE", "wait", "$T/r2.rep" ]; min_uptime = 0.1;
    ready = { type = "exec"; command = [ "/bin/true" ]; interval = 0.1; }; }
);
EOF
kill -HUP "$vpid"
wait_for 10 logged "reloaded"
new_r1() { [ "$(key "$T/r1.rep" pid)" != "$r1" ] && is_state r1 running; }
wait_for 10 new_r1
check "reload: a changed health check restarts the service" \
    eval 'logged "reloaded .*: 1 changed" && new_r1'
check "  the unchanged one keeps its process" \
    eval '[ "$(key "$T/r2.rep" pid)" = "$r2" ] && is_state r2 running'
vstop "reload"

# ---- -t: FILE:LINE errors --------------------------------------------------------
conf <<EOF
services = (
  { name = "bad"; command = [ "/bin/sh" ];
    ready = { type = "tcp"; address = "::1:80"; interval = 0; };
    health = { command = [ "/bin/true" ]; retries = 0; }; },
  { name = "worse"; command = [ "/bin/sh" ];
    health = { timeout = 1; }; }
);
EOF
"$VIGILD" -t -c "$CONF" >"$T/t.out" 2>"$T/t.err"
rc=$?
check "-t: a bad file exits 1 ($rc)" [ "$rc" -eq 1 ]
check "  an unbracketed IPv6 address, with its line" \
    grep -q "^$CONF:3: service \"bad\": ready.address: \"::1:80\": an IPv6 address goes in brackets" "$T/t.err"
check "  a zero interval" \
    grep -q "^$CONF:3: service \"bad\": ready.interval: expected a duration of at least 0.001 seconds" "$T/t.err"
check "  retries 0" \
    grep -q "^$CONF:4: service \"bad\": health.retries: expected an integer from 1 to 100, got 0" "$T/t.err"
check "  a health check without a command" \
    grep -q "^$CONF:6: service \"worse\": health: missing command" "$T/t.err"
check "  nothing else ($(wc -l <"$T/t.err") lines)" [ "$(wc -l <"$T/t.err")" -eq 4 ]

done_testing
