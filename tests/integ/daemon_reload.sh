#!/bin/sh
# vigild reload on SIGHUP (SPEC 4.3): unchanged services keep their pid,
# changed ones restart, removed ones stop (SIGKILL after stop_timeout if
# they must), new ones start, instances grow and shrink; a file with errors
# changes nothing and every error is logged as FILE:LINE.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 42

# reloads: how many reloads have finished, well or not.
reloads() { nlogged "reloaded \|reload failed"; }
more_reloads() { [ "$(reloads)" -gt "$1" ]; }
# hup: SIGHUP to vigild, and wait until the reload has finished.
hup() {
	_n=$(reloads)
	kill -HUP "$vpid"
	wait_for 10 more_reloads "$_n"
}
rpid() { key "$T/$1.rep" pid; }
# new_pid NAME OLD: the report of NAME has another pid than OLD.
new_pid() { _p=$(rpid "$1"); [ -n "$_p" ] && [ "$_p" != "$2" ]; }
running() { for _s; do is_state "$_s" running || return 1; done; }

cat >"$T/stubborn.sh" <<EOF
trap '' TERM
sleep 1000 &
echo \$! >"$T/gc.pid.tmp" && mv "$T/gc.pid.tmp" "$T/gc.pid"
echo \$\$ >"$T/stubborn.pid.tmp" && mv "$T/stubborn.pid.tmp" "$T/stubborn.pid"
wait
EOF
# An instance reports to a file named after itself.
inst="exec '$PROBE' wait -e VIGIL_SERVICE \\\"$T/\$VIGIL_SERVICE.rep\\\""

conf <<EOF
services = (
  { name = "keep"; command = [ "$PROBE", "wait", "$T/keep.rep" ];
    min_uptime = 0.1; },
  { name = "change"; command = [ "$PROBE", "wait", "-e", "V", "$T/change.rep" ];
    environment = { V = "1"; }; min_uptime = 0.1; },
  { name = "remove"; command = [ "$PROBE", "wait", "$T/remove.rep" ];
    min_uptime = 0.1; },
  { name = "stubborn"; command = [ "/bin/sh", "$T/stubborn.sh" ];
    stop_timeout = 0.5; min_uptime = 0.1; },
  { name = "broken"; command = [ "$T/not-yet" ]; },
  { name = "multi"; command = "$inst"; instances = 3; min_uptime = 0.1; },
  { name = "solo"; command = "$inst"; min_uptime = 0.1; }
);
EOF
vstart
wait_for 10 running keep change remove stubborn multi:0 multi:1 multi:2 solo
wait_for 5 exists "$T/gc.pid"
check "first configuration: everything is up" \
    running keep change remove stubborn multi:0 multi:1 multi:2 solo
check "broken is fatal" is_state broken fatal
keep1=$(rpid keep) change1=$(rpid change) remove1=$(rpid remove)
m0=$(rpid multi:0) m1=$(rpid multi:1) m2=$(rpid multi:2) solo1=$(rpid solo)
stub=$(cat "$T/stubborn.pid") gc=$(cat "$T/gc.pid")

# ---- a good new file -----------------------------------------------------------
conf <<EOF
services = (
  { name = "keep"; command = [ "$PROBE", "wait", "$T/keep.rep" ];
    min_uptime = 0.1; },
  { name = "change"; command = [ "$PROBE", "wait", "-e", "V", "$T/change.rep" ];
    environment = { V = "2"; }; min_uptime = 0.1; },
  { name = "broken"; command = [ "$PROBE", "wait", "$T/broken.rep" ];
    min_uptime = 0.1; },
  { name = "new"; command = [ "$PROBE", "wait", "$T/new.rep" ]; min_uptime = 0.1; },
  { name = "multi"; command = "$inst"; instances = 2; min_uptime = 0.1; },
  { name = "solo"; command = "$inst"; instances = 2; min_uptime = 0.1; }
);
EOF
_t0=$(ms)
hup
check "reload: logged with what it did" \
    logged "reloaded $CONF: 5 changed, 2 added, 3 removed"
wait_for 10 running change broken new multi:0 multi:1 solo:0 solo:1
wait_for 5 new_pid change "$change1"
check "unchanged service: same pid, still alive" \
    [ "$(rpid keep)" = "$keep1" -a "$(nstarts keep)" -eq 1 ]
check "unchanged service: its process is alive" alive "$keep1"
check "changed service: restarted with a new pid" new_pid change "$change1"
check "changed service: its old process is gone" pid_dead "$change1"
check "changed service: runs the new setting (V=$(key "$T/change.rep" env_V))" \
    [ "$(key "$T/change.rep" env_V)" = 2 ]
check "removed service: stopped" pid_dead "$remove1"
check "removed service: forgotten" logged "remove: removed$"
check "fatal service fixed by the reload: started" running broken
check "new service: started" running new
wait_for 5 pid_dead "$stub"
check "removed service that ignores SIGTERM: SIGKILL after stop_timeout" \
    logged "stubborn: still running after 0.5 s; sending SIGKILL"
check "  its main process is gone" pid_dead "$stub"
check "  and its grandchild" pid_dead "$gc"
check "instances 3 -> 2: multi:2 removed" logged "multi:2: removed$"
check "instances 3 -> 2: multi:2 stopped" pid_dead "$m2"
wait_for 5 new_pid multi:0 "$m0"
check "instances 3 -> 2: multi:0 restarted (its service changed)" \
    new_pid multi:0 "$m0"
wait_for 5 new_pid multi:1 "$m1"
check "instances 3 -> 2: multi:1 restarted" new_pid multi:1 "$m1"
check "instances 1 -> 2: the single instance is renamed solo:0" \
    logged "solo: renamed solo:0"
wait_for 5 exists "$T/solo:0.rep"
check "instances 1 -> 2: solo:0 runs as solo:0 ($(key "$T/solo:0.rep" env_VIGIL_SERVICE))" \
    [ "$(key "$T/solo:0.rep" env_VIGIL_SERVICE)" = "solo:0" ]
check "instances 1 -> 2: the old single instance is gone" pid_dead "$solo1"
check "instances 1 -> 2: solo:1 started" running solo:1
check "vigild stayed up through the reload" alive "$vpid"

# ---- files with errors change nothing ---------------------------------------
pids() {
	for _s in keep change broken new multi:0 multi:1 solo:0 solo:1; do
		printf '%s ' "$(rpid $_s)"
	done
}
before_bad=$(pids)
nstops=$(nlogged " -> stopping")
cp "$CONF" "$T/good.conf"
# A syntax error on line 3.
conf <<EOF
services = (
  { name = "keep"; command = [ "$PROBE", "wait", "$T/keep.rep" ];
    min_uptime = ; },
);
EOF
hup
check "syntax error: FILE:LINE logged" logged "$CONF:3: syntax error"
check "syntax error: the reload failed, the configuration stays" \
    logged "reload failed; the running configuration stays"
# Errors on lines 3 and 5, with a good part between.
conf <<EOF
services = (
  { name = "keep"; command = [ "$PROBE", "wait", "$T/keep.rep" ];
    min_uptime = 0.1; bogus = 1; },
  { name = "other"; command = [ "/bin/true" ];
    autostart = 1; }
);
EOF
hup
check "an unknown key: its FILE:LINE logged" \
    logged "$CONF:3: service \"keep\": bogus: unknown key"
check "a wrong type: its FILE:LINE logged too (every error)" \
    logged "$CONF:5: service \"other\": autostart: expected a boolean"
check "two failed reloads" [ "$(nlogged "reload failed")" -eq 2 ]
check "after the bad files: no service was stopped" \
    [ "$(nlogged " -> stopping")" -eq "$nstops" ]
check "after the bad files: every pid is the same" [ "$(pids)" = "$before_bad" ]
check "nothing was added from the bad files" [ "$(nstarts other)" -eq 0 ]

# The good file again, less "new": reload still works after the failures.
grep -v '"new"' "$T/good.conf" | conf
newp=$(rpid new)
hup
check "a good file after the bad ones applies" \
    logged "reloaded $CONF: 0 changed, 0 added, 1 removed"
check "  the removed service stops" wait_for 5 pid_dead "$newp"
check "  the others keep their pids" [ "$(rpid keep)" = "$keep1" ]
kp=$(rpid keep)
vstop "reload"
check "every service is stopped at the end" pid_dead "$kp"

# ---- a shutdown overtakes a reload's restart --------------------------------
# slow stops only once $T/go exists; the shutdown comes while it stops
# for the reload: it must end stopped, not be started again and stopped.
cat >"$T/slow.sh" <<EOF
trap 'while [ ! -e "$T/go" ]; do sleep 0.02; done; exit 0' TERM
sleep 1000 &
wait
EOF
slow_conf() {
	conf <<EOF
services = (
  { name = "slow"; command = [ "/bin/sh", "$T/slow.sh" ];
    environment = { V = "$1"; }; min_uptime = 0.1; }
);
EOF
}
slow_conf 1
vstart
wait_for 10 is_state slow running
slow_conf 2
hup
check "reload: the changed service is stopping" is_state slow stopping
_vt0=$(ms)
kill -TERM "$vpid"
wait_for 10 logged "shutting down"
touch "$T/go"
vwait
check "shutdown during a reload's restart: exit 0 ($rc)" [ "$rc" = 0 ]
check "  the service ran once, not again during the shutdown ($(nstarts slow))" \
    [ "$(nstarts slow)" -eq 1 ]
check "  it ended stopped" logged "slow: stopping -> stopped"
dump_log

done_testing
