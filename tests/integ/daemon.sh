#!/bin/sh
# vigild with a configuration file: the service state machine (SPEC 4.2)
# against real programs. Every state change, restart delays and their
# doubling, cap, jitter and reset, restart_delay 0, a herd of failing
# instances, the start limit, programs that cannot be executed, the stop of
# a group that ignores SIGTERM (on stop, and when only its main process
# exits), start order and reverse stop order, requires, readiness (fd,
# notify) and its timeout.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 113

printf 'echo hi\n' >"$T/noexec"
chmod 644 "$T/noexec"

# ---- every state ---------------------------------------------------------------
cat >"$T/crashy.sh" <<'EOF'
sleep 0.6
exit 4
EOF
conf <<EOF
services = (
  { name = "steady"; command = [ "$PROBE", "wait", "$T/steady.rep" ];
    min_uptime = 0.3; },
  { name = "never"; command = [ "$PROBE", "exit", "3" ]; restart = "never"; },
  { name = "okexit"; command = [ "$PROBE", "exit", "2" ];
    restart = "on-failure"; success_exit = [ 0, 2 ]; },
  { name = "failexit"; command = [ "$PROBE", "exit", "1" ];
    restart = "on-failure"; success_exit = [ 0, 2 ]; restart_delay = 0.05;
    min_uptime = 30.0; start_limit = { burst = 3; interval = 30.0; }; },
  { name = "crashy"; command = [ "/bin/sh", "$T/crashy.sh" ];
    min_uptime = 0.2; restart_delay = 30.0; restart_delay_max = 30.0; },
  { name = "missing"; command = [ "$T/no-such-program" ]; },
  { name = "noexec"; command = [ "$T/noexec" ]; },
  { name = "nopath"; command = [ "vigil-no-such-command-xyz" ]; },
  { name = "nodir"; command = [ "$PROBE", "exit", "0" ];
    directory = "$T/no-such-dir"; }
);
EOF
vstart
wait_for 10 is_state steady running
check "stopped -> starting: the service is spawned" \
    logged "steady: stopped -> starting: started, pid $(key "$T/steady.rep" pid)$"
check "starting -> running after min_uptime (readiness none)" \
    logged "steady: starting -> running: up for 0.3 s"
wait_for 10 is_state never exited
check "restart never: starting -> exited, with the code" \
    logged "never: starting -> exited: exited with code 3$"
wait_for 10 is_state okexit exited
check "on-failure and success_exit [0, 2]: exit 2 -> exited" \
    logged "okexit: starting -> exited: exited with code 2$"
wait_for 10 is_state failexit fatal
check "on-failure, exit 1: starting -> backoff" \
    logged "failexit: starting -> backoff: exited with code 1; restarting in"
check "backoff -> starting" logged "failexit: backoff -> starting: started"
check "start limit: starting -> fatal after 3 starts ($(nstarts failexit))" \
    [ "$(nstarts failexit)" -eq 3 ]
check "the fatal line names the start limit" \
    logged "failexit: starting -> fatal: exited with code 1; start limit of 3 in 30.0 s hit"
wait_for 10 is_state crashy backoff
check "running -> backoff when a ready service exits" \
    logged "crashy: running -> backoff: exited with code 4; restarting in"
for s in missing noexec nopath nodir; do
	wait_for 10 is_state $s fatal
done
check "a missing program: stopped -> fatal with the reason" \
    logged "missing: stopped -> fatal: cannot execute $T/no-such-program: No such file or directory"
check "a program that is not executable: fatal, permission denied" \
    logged "noexec: stopped -> fatal: cannot execute $T/noexec: Permission denied"
check "a bare name not in PATH: fatal" \
    logged "nopath: stopped -> fatal: cannot execute vigil-no-such-command-xyz"
check "a missing working directory: fatal, naming the directory" \
    logged "nodir: stopped -> fatal: cannot change to directory $T/no-such-dir: No such file or directory"
sleep 0.5	# no restart loop: nothing more may happen
for s in missing noexec nopath nodir; do
	check "$s: tried once, no restart loop ($(nlogged "$s: .*-> fatal"))" \
	    [ "$(nlogged "$s: .*-> fatal")" -eq 1 -a "$(nstarts $s)" -eq 0 ]
done
check "fatal services are not started again" [ "$(nstarts failexit)" -eq 3 ]
sp=$(key "$T/steady.rep" pid)
vstop "states"
check "shutdown: running -> stopping -> stopped" \
    before "steady: running -> stopping: sending SIGTERM" \
    "steady: stopping -> stopped: stopped (killed by SIGTERM)"
check "shutdown: backoff -> stopped without waiting for the delay (${took} ms)" \
    [ "$took" -lt 5000 ]
check "the backoff service went to stopped" \
    logged "crashy: backoff -> stopped"
check "the running service's process is gone" pid_dead "$sp"

# ---- restart delays ------------------------------------------------------------
# Quick failures: 100, 200, 400, 400, 400 ms (doubling, capped), +-10%.
cat >"$T/flap.sh" <<EOF
. "$T/now.sh"
now >>"$T/flap.t"
now >>"$T/flap.x"
exit 1
EOF
conf <<EOF
services = (
  { name = "flap"; command = [ "$BASH_PROG", "$T/flap.sh" ];
    restart_delay = 0.1; restart_delay_max = 0.4; min_uptime = 5.0;
    start_limit = { burst = 0; interval = 1.0; }; }
);
EOF
vstart
wait_for 20 nlines "$T/flap.t" 6
vstop "delays"
set -- $(delays flap)
check "backoff: at least 5 delays logged ($#)" [ $# -ge 5 ]
want="100 200 400 400 400"
i=0
bad=""
for w in $want; do
	i=$((i + 1))
	eval "d=\${$i:-0}"
	between "$d" $((w * 9 / 10)) $((w * 11 / 10)) || bad="$bad $i:$d/$w"
done
check "delays double per quick failure up to the cap, +-10% ($*)" \
    [ -z "$bad" ]
check "the capped delays carry jitter (not all equal: ${3:-} ${4:-} ${5:-})" \
    [ "${3:-}" != "${4:-}" -o "${4:-}" != "${5:-}" ]
# Measured from each exit to the next start: never less than the delay;
# beyond it, the cost of a reap and a spawn, under 300 ms in the median
# (one slow spawn on a loaded machine is not the point).
set -- $(restart_gaps "$T/flap.x" "$T/flap.t")
i=0
bad=""
over=""
for w in $want; do
	i=$((i + 1))
	eval "g=\${$i:-0}"
	[ "$g" -ge $((w * 9 / 10)) ] || bad="$bad $i:$g/$w"
	over="$over $((g - w * 11 / 10))"
done
check "the measured gaps from exit to restart are not short ($*)" [ -z "$bad" ]
med=$(printf '%s\n' $over | sort -n | sed -n 3p)
check "  nor much longer: median excess ${med:-?} ms" [ "${med:-999}" -lt 300 ]

# restart_delay = 0: at once, however quick the failures.
cat >"$T/fast.sh" <<EOF
. "$T/now.sh"
now >>"$T/fast.t"
now >>"$T/fast.x"
exit 1
EOF
conf <<EOF
services = (
  { name = "fast"; command = [ "$BASH_PROG", "$T/fast.sh" ]; restart_delay = 0;
    min_uptime = 30.0; start_limit = { burst = 6; interval = 30.0; }; }
);
EOF
vstart
wait_for 10 is_state fast fatal
check "restart_delay 0: 'restarting now'" logged "fast: .*restarting now"
fgaps=$(restart_gaps "$T/fast.x" "$T/fast.t")
# The median: one slow spawn on a loaded machine is not the point.
med=$(echo "$fgaps" | sort -n | sed -n 3p)
check "restart_delay 0: 6 starts" [ "$(wc -l <"$T/fast.t")" -eq 6 ]
check "restart_delay 0: the next start follows the exit at once (median ${med:-} ms of $(echo $fgaps))" \
    [ "${med:-999}" -lt 90 ]
vstop "delay 0"

# A herd: 10 instances failing at once, 20 runs each with no delay, so
# SIGCHLDs coalesce; every exit must still be seen and reaped.
conf <<EOF
services = (
  { name = "herd"; command = [ "$PROBE", "exit", "1" ]; instances = 10;
    restart_delay = 0; min_uptime = 60.0;
    start_limit = { burst = 20; interval = 600.0; }; }
);
EOF
vstart
herd_done() {
	for _i in 0 1 2 3 4 5 6 7 8 9; do
		is_state herd:$_i fatal || return 1
	done
}
wait_for 30 herd_done
check "herd: every instance ran 20 times, then fatal ($(nstarts 'herd:[0-9]') runs)" \
    eval 'herd_done && [ "$(nstarts "herd:[0-9]")" -eq 200 ]'
check "herd: no zombie, no child left ($(children "$vpid" | wc -l))" \
    [ -z "$(children "$vpid")" ]
vstop "herd"

# The quick-failure count resets after a run longer than min_uptime: two
# quick failures (200, 400 ms), a stable run, then a quick failure waits
# 200 ms again, not 800.
cat >"$T/reset.sh" <<EOF
. "$T/now.sh"
now >>"$T/reset.t"
case \$(wc -l <"$T/reset.t") in
3) sleep 1.5; exit 1 ;;
1|2|4) exit 1 ;;
esac
exec sleep 1000
EOF
conf <<EOF
services = (
  { name = "reset"; command = [ "$BASH_PROG", "$T/reset.sh" ];
    restart_delay = 0.2; restart_delay_max = 10.0; min_uptime = 1.0; }
);
EOF
vstart
wait_for 20 nlines "$T/reset.t" 5
wait_for 5 is_state reset running
set -- $(delays reset)
check "reset: the first quick failure waits 200 ms (${1:-})" \
    between "${1:-0}" 180 220
check "reset: the second one waits 400 ms (${2:-})" between "${2:-0}" 360 440
check "reset: the exit after a stable run is a running -> backoff" \
    logged "reset: running -> backoff"
check "reset: after a stable run the first delay is restart_delay (${3:-})" \
    between "${3:-0}" 180 220
check "reset: the next quick failure waits 200 ms, not 800 (${4:-})" \
    between "${4:-0}" 180 220
check "reset: the fifth run is up" is_state reset running
vstop "reset"

# Killed by a signal from outside: the reason names the signal.
conf <<EOF
services = (
  { name = "victim"; command = [ "$PROBE", "wait", "$T/victim.rep" ];
    min_uptime = 0.1; restart_delay = 0.1; }
);
EOF
vstart
wait_for 10 is_state victim running
vp=$(spid victim)
new_victim() { [ "$(spid victim)" != "$vp" ]; }
kill -KILL "$vp"
wait_for 10 new_victim
wait_for 10 is_state victim running
check "killed by SIGKILL: running -> backoff with the signal named" \
    logged "victim: running -> backoff: killed by SIGKILL; restarting in"
check "and it comes back with a new pid" is_state victim running
vstop "kill"

# ---- stop: a group that ignores SIGTERM -----------------------------------------
cat >"$T/stubborn.sh" <<EOF
trap '' TERM
sleep 1000 &
echo \$! >"$T/gc.pid.tmp" && mv "$T/gc.pid.tmp" "$T/gc.pid"
wait
EOF
conf <<EOF
services = (
  { name = "stubborn"; command = [ "/bin/sh", "$T/stubborn.sh" ];
    stop_timeout = 0.5; min_uptime = 0.1; }
);
EOF
vstart
wait_for 10 exists "$T/gc.pid" && wait_for 10 is_state stubborn running
main=$(spid stubborn)
gc=$(cat "$T/gc.pid")
vstop "stop_timeout"
check "SIGKILL after stop_timeout 0.5 s (${took} ms)" between "$took" 450 4000
check "the log says SIGKILL went to the group" \
    logged "stubborn: still running after 0.5 s; sending SIGKILL to its process group"
check "the main process that ignored SIGTERM is gone" pid_dead "$main"
check "its grandchild that ignored SIGTERM is gone" pid_dead "$gc"

# The main process exits, a member of its group ignoring SIGTERM stays:
# it is stopped like a stop (SIGKILL after stop_timeout) before the policy
# applies, so it neither runs beside the next run nor outlives vigild.
cat >"$T/leftover.sh" <<EOF
trap '' TERM
sleep 1000 &
echo \$! >>"$T/leftover.pids"
exit 1
EOF
conf <<EOF
services = (
  { name = "leftover"; command = [ "/bin/sh", "$T/leftover.sh" ];
    stop_timeout = 0.5; restart = "on-failure"; restart_delay = 0.05;
    min_uptime = 30.0; start_limit = { burst = 2; interval = 30.0; }; }
);
EOF
vstart
wait_for 10 is_state leftover fatal
check "exit with a live group: starting -> stopping, the rest is signalled" \
    logged "leftover: starting -> stopping: exited with code 1; sending SIGTERM to the rest of its process group"
check "the rest ignoring SIGTERM: SIGKILL after stop_timeout" \
    logged "leftover: still running after 0.5 s; sending SIGKILL"
check "then the policy: stopping -> backoff" \
    logged "leftover: stopping -> backoff: exited with code 1; restarting in"
check "the next run starts only once the group is gone" \
    before "leftover: stopping -> backoff" "leftover: backoff -> starting"
check "and the start limit still counts: stopping -> fatal after 2 runs" \
    logged "leftover: stopping -> fatal: exited with code 1; start limit of 2"
lo_dead() { for _p in $(cat "$T/leftover.pids"); do dead "$_p" || return 1; done; }
check "both leftovers are gone ($(echo $(cat "$T/leftover.pids")))" \
    eval '[ "$(wc -l <"$T/leftover.pids")" -eq 2 ] && lo_dead'
vstop "leftovers"

# ---- start order, reverse stop order --------------------------------------------
cat >"$T/ord.sh" <<EOF
. "$T/now.sh"
trap 'now >"$T/\$1.stop"; exit 0' TERM
sleep 1000 &
wait
EOF
# In the file in reverse order: the order must come from after.
conf <<EOF
services = (
  { name = "c"; command = [ "$BASH_PROG", "$T/ord.sh", "c" ]; after = [ "b" ];
    min_uptime = 0.3; },
  { name = "b"; command = [ "$BASH_PROG", "$T/ord.sh", "b" ]; after = [ "a" ];
    min_uptime = 0.3; },
  { name = "a"; command = [ "$BASH_PROG", "$T/ord.sh", "a" ]; min_uptime = 0.3; }
);
EOF
vstart
wait_for 10 is_state c running
a0=$(created_ms "$(spid a)") b0=$(created_ms "$(spid b)")
c0=$(created_ms "$(spid c)")
check "after: b starts once a is running ($((b0 - a0)) ms >= 300)" \
    [ $((b0 - a0)) -ge 290 ]
check "after: c starts once b is running ($((c0 - b0)) ms >= 300)" \
    [ $((c0 - b0)) -ge 290 ]
check "the log agrees: a running before b starting" \
    before "a: starting -> running" "b: stopped -> starting"
vstop "order"
a1=$(cat "$T/a.stop") b1=$(cat "$T/b.stop") c1=$(cat "$T/c.stop")
check "shutdown stops in reverse order: c, b, a ($c1 <= $b1 <= $a1)" \
    [ "$c1" -le "$b1" -a "$b1" -le "$a1" ]
check "the log agrees: c stopped before b is sent its signal" \
    before "c: stopping -> stopped" "b: running -> stopping"
check "and b stopped before a is sent its signal" \
    before "b: stopping -> stopped" "a: running -> stopping"

# ---- requires -------------------------------------------------------------------
cat >"$T/db.sh" <<EOF
while [ ! -e "$T/db.quit" ]; do sleep 0.05; done
exit 0
EOF
# flaky: a stable first run, then quick failures up to the start limit.
cat >"$T/flaky.sh" <<EOF
[ -e "$T/flaky.once" ] && exit 1
: >"$T/flaky.once"
while [ ! -e "$T/flaky.quit" ]; do sleep 0.05; done
exit 1
EOF
conf <<EOF
services = (
  { name = "web"; command = [ "$PROBE", "wait", "$T/web.rep" ];
    requires = [ "db" ]; min_uptime = 0.1; },
  { name = "db"; command = [ "/bin/sh", "$T/db.sh" ]; autostart = false;
    restart = "never"; min_uptime = 0.2; },
  { name = "cache"; command = [ "$PROBE", "wait", "$T/cache.rep" ];
    after = [ "bad" ]; },
  { name = "bad"; command = [ "$T/no-such-program" ]; },
  { name = "other"; command = [ "$PROBE", "wait", "$T/other.rep" ];
    min_uptime = 0.1; },
  { name = "api"; command = [ "$PROBE", "wait", "$T/api.rep" ];
    requires = [ "flaky" ]; min_uptime = 0.1; },
  { name = "flaky"; command = [ "/bin/sh", "$T/flaky.sh" ]; min_uptime = 1.0;
    restart_delay = 0.2; start_limit = { burst = 3; interval = 30.0; }; }
);
EOF
vstart
wait_for 10 is_state web running
wait_for 10 is_state api running
check "requires: db (autostart false) is started for web" \
    logged "db: stopped -> starting"
check "requires: web starts only once db is running" \
    before "db: starting -> running" "web: stopped -> starting"
wp=$(key "$T/web.rep" pid)
touch "$T/db.quit"
wait_for 10 is_state web stopped
check "db exits for good (restart never): running -> exited" \
    logged "db: running -> exited: exited with code 0"
check "requires: web is stopped when db is gone for good" \
    logged "web: running -> stopping"
check "web's process is gone" wait_for 5 pid_dead "$wp"
check "an unrelated service keeps running" is_state other running
check "after a fatal service: not started, and the reason says why" \
    logged "cache: .*not started: bad is fatal"
check "cache was never spawned" [ ! -e "$T/cache.rep" ]
ap=$(key "$T/api.rep" pid)
touch "$T/flaky.quit"
wait_for 10 is_state flaky fatal
wait_for 10 is_state api stopped
# From the log, not by catching the short backoff windows as they pass.
check "requires: flaky restarted (backoff) before it went fatal" \
    before "flaky: running -> backoff" "flaky: starting -> fatal"
check "requires: api stayed up through that, stopped once flaky is fatal" \
    before "flaky: starting -> fatal" "api: running -> stopping"
check "  because of it" logged "api: stop: a required service is gone"
check "  api's process is gone" pid_dead "$ap"
vstop "requires"

# ---- a restart waits for `after` too; a fresh start forgets the limit ---------
# dep runs 1 s, then backs off 1.5 s; app (after dep) fails every 0.2 s.
# While dep is down, app's restarts wait for it instead of running.
conf <<EOF
services = (
  { name = "dep"; command = [ "/bin/sh", "-c", "sleep 1; exit 1" ];
    min_uptime = 0.2; restart_delay = 1.5; restart_delay_max = 1.5;
    start_limit = { burst = 0; }; },
  { name = "app"; command = [ "/bin/sh", "-c", "sleep 0.2; exit 1" ];
    after = [ "dep" ]; min_uptime = 0.1; restart_delay = 0.05;
    restart_delay_max = 0.05; start_limit = { burst = 0; }; },
  { name = "once"; command = [ "$PROBE", "exit", "1" ]; min_uptime = 5.0;
    restart_delay = 0.05; start_limit = { burst = 2; interval = 60.0; }; }
);
EOF
vstart
wait_for 20 eval '[ "$(nlogged "dep: starting -> running")" -ge 2 ]'
check "a restart waits for its after: app went back to waiting for dep" \
    logged "app: backoff -> stopped: waiting for dep"
# A start of app between dep's first exit and its next ready is a bug.
app_in_gap() {
	awk '/dep: running -> backoff/ { gap = 1 }
	    /dep: starting -> running/ { if (gap) exit }
	    gap && /app: [a-z]* -> starting/ { bad = 1 }
	    END { exit bad ? 0 : 1 }' "$LOG"
}
check "  and was not started while dep was down" eval '! app_in_gap'
# ... and once dep was ready again, app started from where it waited.
app_resumed() {
	awk '/app: backoff -> stopped: waiting for dep/ { w = 1; next }
	    w == 1 && /dep: starting -> running/ { w = 2; next }
	    w == 2 && /app: stopped -> starting/ { ok = 1 }
	    END { exit ok ? 0 : 1 }' "$LOG"
}
check "  it started again once dep was back" app_resumed
wait_for 10 is_state once fatal
check "start limit: once is fatal after 2 starts" [ "$(nstarts once)" -eq 2 ]
"$VIGILCTL" -s "$SOCK" start --no-wait once >/dev/null 2>&1
wait_for 10 eval '[ "$(nstarts once)" -ge 4 ] && is_state once fatal'
check "a start of a fatal service counts the start limit afresh ($(nstarts once) runs in all)" \
    eval '[ "$(nstarts once)" -eq 4 ] && is_state once fatal'
"$VIGILCTL" -s "$SOCK" stop dep >/dev/null 2>&1
check "  with dep stopped by the operator, app is not restarted, and says why" \
    wait_for 10 logged "app: .*stopped: not started: dep is stopped"
vstop "restart and after"

# ---- a spawn that may pass (out of descriptors) backs off, it is not fatal -----
# vigild runs under a descriptor limit that leaves no room for a service's
# capture pipe; once the limit is raised (prlimit: the soft limit, which
# needs no privilege), the next try starts it.
late="{ name = \"late\"; command = [ \"$PROBE\", \"wait\", \"$T/late.rep\" ];
    min_uptime = 0.1; restart_delay = 0.05; restart_delay_max = 0.2;
    start_limit = { burst = 0; };"
conf <<EOF
services = ( $late autostart = false; } );
EOF
vstart
wait_for 10 logged "started with 1 service"
nfd=$(($(ls /proc/"$vpid"/fd | sort -n | tail -n 1) + 1))
vstop "descriptors, counting them"
conf <<EOF
services = ( $late } );
EOF
diag "vigild uses descriptors below $nfd with no service running"
(ulimit -Sn "$nfd" && exec "$VIGILD" -c "$CONF" -s "$SOCK" -l debug \
    </dev/null >"$T/out" 2>"$LOG") &
vpid=$!
track "$vpid"
check "out of descriptors: late backs off, with the reason" \
    wait_for 10 logged "late: [a-z]* -> backoff: cannot start: Too many open files; retrying"
check "  and is not fatal" eval '! logged "late: [a-z]* -> fatal"'
if command -v prlimit >/dev/null 2>&1; then
	prlimit --pid "$vpid" --nofile=256:
	check "  it starts once descriptors are free again" \
	    wait_for 20 is_state late running
else
	skip "  it starts once descriptors are free again" "no prlimit"
fi
vstop "descriptors"

# ---- readiness ------------------------------------------------------------------
if command -v systemd-notify >/dev/null 2>&1; then
	notify_svc='{ name = "notified";
    command = "sleep 0.2; systemd-notify --ready; exec sleep 1000";
    ready = { type = "notify"; timeout = 5.0; }; },'
else
	notify_svc=
fi
conf <<EOF
services = (
  $notify_svc
  { name = "fdready"; command = "sleep 0.3; echo >&3; exec sleep 1000";
    ready = { type = "fd"; fd = 3; timeout = 5.0; }; },
  { name = "afterfd"; command = [ "$PROBE", "wait", "$T/afterfd.rep" ];
    after = [ "fdready" ]; min_uptime = 0.1; },
  { name = "notready"; command = [ "$PROBE", "wait", "$T/nr.rep" ];
    ready = { type = "fd"; fd = 3; timeout = 0.4; }; restart = "on-failure";
    restart_delay = 0.1; start_limit = { burst = 2; interval = 30.0; }; }
);
EOF
vstart
wait_for 10 is_state afterfd running
check "ready fd: a newline on fd 3 -> running" \
    logged "fdready: starting -> running: ready"
check "ready fd: its dependent starts only once it is ready" \
    before "fdready: starting -> running" "afterfd: stopped -> starting"
if [ -n "$notify_svc" ]; then
	wait_for 10 is_state notified running
	check "ready notify: READY=1 on NOTIFY_SOCKET -> running" \
	    logged "notified: starting -> running: ready"
else
	skip "ready notify" "systemd-notify is not installed"
fi
wait_for 10 exists "$T/nr.rep"
nr1=$(key "$T/nr.rep" pid)
wait_for 10 is_state notready fatal
check "readiness timeout: logged" logged "notready: not ready after 0.4 s"
check "readiness timeout: starting -> stopping" \
    logged "notready: starting -> stopping"
check "readiness timeout is a failed start: stopping -> backoff" \
    logged "notready: stopping -> backoff: readiness timeout; restarting in"
check "and counts for the start limit: fatal after 2 starts" \
    logged "notready: stopping -> fatal: readiness timeout; start limit of 2"
check "the process that was not ready is gone" pid_dead "$nr1"
vstop "readiness"

done_testing
