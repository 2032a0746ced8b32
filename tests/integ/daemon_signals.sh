#!/bin/sh
# vigild's signals (SPEC 2, 4.1, 6): routing with `forward', `as' and each
# service's `signals' rewrite reaches exactly the services named; ignored
# and unrouted signals harm nothing; a storm of 10,000 routed signals
# leaves vigild alive and responsive; every child starts with an empty
# mask, default dispositions and only its own descriptors, whichever way
# it was started; idle, vigild does not wake up.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 44

# ---- routing ---------------------------------------------------------------------
# rec.sh: record each signal received in $T/<instance>.sigs.
cat >"$T/rec.sh" <<EOF
exec 2>/dev/null	# no "Hangup" from sh each time its sleep is killed
f="$T/\$VIGIL_SERVICE.sigs"
for s in HUP INT USR1 USR2 WINCH URG ALRM PIPE; do
	trap "echo \$s >>'\$f'" \$s
done
trap 'exit 0' TERM
: >"\$f.ready"
while :; do sleep 0.05; done
EOF
# routing TARGET: the configuration, SIGUSR2 forwarded to TARGET.
routing() {
	conf <<EOF
signals = {
  SIGUSR2 = { forward = [ "$1" ]; as = "SIGHUP"; };
  SIGWINCH = { forward = [ "group:g" ]; };
  SIGURG = { forward = [ "e:1" ]; };
  SIGQUIT = { forward = [ "all" ]; as = "SIGUSR2"; };
  SIGUSR1 = "ignore";
};
services = (
  { name = "a"; command = [ "/bin/sh", "$T/rec.sh" ];
    signals = { SIGHUP = "SIGUSR1"; }; },
  { name = "b"; command = [ "/bin/sh", "$T/rec.sh" ]; groups = [ "g" ]; },
  { name = "c"; command = [ "/bin/sh", "$T/rec.sh" ]; groups = [ "g" ];
    signals = { SIGWINCH = "SIGINT"; }; },
  { name = "d"; command = [ "/bin/sh", "$T/rec.sh" ]; },
  { name = "e"; command = [ "/bin/sh", "$T/rec.sh" ]; instances = 2; }
);
EOF
}
routing a
all="a b c d e:0 e:1"
ready() { for _s in $all; do [ -e "$T/$_s.sigs.ready" ] || return 1; done; }
has() { grep -qx "$2" "$T/$1.sigs" 2>/dev/null; }
# sigs NAME: what NAME received, on one line.
sigs() { echo $(cat "$T/$1.sigs" 2>/dev/null); }
vstart
wait_for 10 ready
check "routing: the five services are up" ready
kill -USR2 "$vpid"
wait_for 5 has a USR1
check "USR2 as HUP, then a's own map HUP -> USR1: a gets USR1" has a USR1
kill -WINCH "$vpid"
wait_for 5 has b WINCH && wait_for 5 has c INT
check "WINCH to group:g: b gets WINCH" has b WINCH
check "WINCH to group:g: c's map makes it INT" has c INT
kill -URG "$vpid"
wait_for 5 has e:1 URG
check "URG to instance e:1 only: e:1 gets it" has e:1 URG
# Ignored by rule, or no rule at all: nothing happens, vigild lives.
for sig in USR1 ALRM PIPE; do
	kill -"$sig" "$vpid"
done
# SIGQUIT to all, as USR2: once everyone has it, whatever came before it
# has arrived too.
kill -QUIT "$vpid"
got_quit() { for _s in $all; do has "$_s" USR2 || return 1; done; }
wait_for 5 got_quit
sleep 0.2	# nothing else may arrive
check "QUIT to all as USR2 reaches every service" got_quit
check "a got exactly USR1, USR2 ($(sigs a))" [ "$(sigs a)" = "USR1 USR2" ]
check "b got exactly WINCH, USR2 ($(sigs b))" [ "$(sigs b)" = "WINCH USR2" ]
check "c got exactly INT, USR2 ($(sigs c))" [ "$(sigs c)" = "INT USR2" ]
check "d, never named, got only USR2 from all ($(sigs d))" \
    [ "$(sigs d)" = "USR2" ]
check "e:0 got only USR2 ($(sigs e:0))" [ "$(sigs e:0)" = "USR2" ]
check "e:1 got exactly URG, USR2 ($(sigs e:1))" [ "$(sigs e:1)" = "URG USR2" ]
check "ignored and unrouted signals: vigild is alive" alive "$vpid"
check "an unrouted signal is logged at debug" logged "ignoring SIGALRM from pid"
check "every service still runs its first process" \
    [ "$(nlogged ' -> starting: started')" -eq 6 ]

# ---- a storm of 10,000 routed signals --------------------------------------------
fds0=$(ls /proc/"$vpid"/fd | wc -l)
_t0=$(ms)
i=0
while [ $i -lt 10000 ]; do
	kill -USR2 "$vpid" || break
	i=$((i + 1))
done
diag "10,000 SIGUSR2 sent in $(($(ms) - _t0)) ms"
check "storm: all 10,000 signals were sent to a live vigild ($i)" \
    [ "$i" -eq 10000 ]
check "storm: vigild is alive" alive "$vpid"
# Responsive: a reload and a restart still happen.
: >"$T/a.sigs"
nrel=$(nlogged "reloaded ")
kill -HUP "$vpid"
reloaded() { [ "$(nlogged "reloaded ")" -gt "$nrel" ]; }
check "storm: a reload right after it is done" wait_for 10 reloaded
ap=$(spid a)
kill -KILL "$ap"
a_back() { [ "$(spid a)" != "$ap" ] && is_state a running; }
check "storm: a killed service is restarted" wait_for 10 a_back
kill -USR2 "$vpid"
wait_for 5 has a USR1
check "storm: routing still works (a gets USR1 again)" has a USR1
# A reload changes the routing: SIGUSR2 now goes to d, as HUP.
routing d
: >"$T/a.sigs"
: >"$T/d.sigs"
nrel=$(nlogged "reloaded ")
kill -HUP "$vpid"
wait_for 10 reloaded
check "reload of the signals table: nothing restarted" \
    logged "reloaded $CONF: 0 changed, 0 added, 0 removed"
kill -USR2 "$vpid"
wait_for 5 has d HUP
check "reload of the signals table: the new rule applies (d got $(sigs d))" \
    has d HUP
check "  and the old one no longer does (a got '$(sigs a)')" \
    [ -z "$(sigs a)" ]
check "storm: no descriptor leaked ($fds0 -> $(ls /proc/"$vpid"/fd | wc -l))" \
    [ "$(ls /proc/"$vpid"/fd | wc -l)" -le "$fds0" ]
vstop "routing"

# ---- a child's clean state ------------------------------------------------------
# vigild gets an extra descriptor (7) and the variables a systemd-started
# vigild has; no child may see them. Children are spawned at start, by
# the backoff timer, and after a reload (when the pool's threads exist).
cat >"$T/second.sh" <<EOF
[ -e "$T/second.once" ] || { : >"$T/second.once"; exit 1; }
exec "$PROBE" report "$T/second.rep"
EOF
envs="-e NOTIFY_SOCKET -e LISTEN_FDS -e LISTEN_PID -e WATCHDOG_USEC -e VIGIL_SERVICE -e VIGIL_INSTANCE"
svc_report() {	# NAME [MORE...]: a service reporting to $T/NAME.rep
	_n=$1
	shift
	printf '{ name = "%s"; command = [ "%s", "report", %s"%s" ]; restart = "never"; %s },' \
	    "$_n" "$PROBE" \
	    "$(for _e in $envs; do printf '"%s", ' "$_e"; done)" \
	    "$T/$_n.rep" "$*"
}
conf <<EOF
services = (
  $(svc_report plain)
  $(svc_report null 'stdout = "null"; stderr = "stdout";')
  $(svc_report inherit 'stdout = "inherit"; stderr = "inherit";')
  { name = "fdready"; command = [ "$PROBE", "wait", "$T/fdready.rep" ];
    ready = { type = "fd"; fd = 5; timeout = 60.0; }; },
  { name = "notify"; command = [ "$PROBE", "wait", "-e", "NOTIFY_SOCKET",
    "$T/notify.rep" ]; ready = { type = "notify"; timeout = 60.0; }; },
  { name = "second"; command = [ "/bin/sh", "$T/second.sh" ];
    restart = "on-failure"; restart_delay = 0.1; }
);
EOF
export NOTIFY_SOCKET="$T/no-such-socket" LISTEN_FDS=1 LISTEN_PID=1 WATCHDOG_USEC=0
vstart 7<"$CONF"
unset NOTIFY_SOCKET LISTEN_FDS LISTEN_PID WATCHDOG_USEC
for r in plain null inherit fdready notify second; do
	wait_for 10 exists "$T/$r.rep"
done
# A service added by a reload, spawned while the pool has run a job.
sed "s|^services = (|&\n  $(svc_report late)|" "$CONF" | conf
kill -HUP "$vpid"
wait_for 10 exists "$T/late.rep"
# clean NAME FDS: the report of NAME shows a clean start with fds FDS.
clean() {
	_r=$T/$1.rep
	_blk=$(key "$_r" sigblk)
	_ign=$(key "$_r" sigign)
	[ -n "$_blk" ] && [ $((0x$_blk)) -eq 0 ] &&
	    [ -n "$_ign" ] && [ $((0x$_ign & ~0x180000000)) -eq 0 ] &&
	    [ "$(key "$_r" fds)" = "$2" ] &&
	    [ "$(key "$_r" sid)" = "$(key "$_r" pid)" ] &&
	    [ "$(key "$_r" pgid)" = "$(key "$_r" pid)" ] &&
	    [ -z "$(key "$_r" env_LISTEN_FDS)$(key "$_r" env_LISTEN_PID)$(key "$_r" env_WATCHDOG_USEC)" ]
}
desc() {
	echo "blk $(key "$T/$1.rep" sigblk) ign $(key "$T/$1.rep" sigign)" \
	    "fds $(key "$T/$1.rep" fds) sid $(key "$T/$1.rep" sid)"
}
for r in plain null inherit late second; do
	check "$r: empty mask, no ignored signal, fds 0,1,2, own session ($(desc $r))" \
	    clean $r 0,1,2
done
check "fdready: the same, plus its readiness descriptor 5 ($(desc fdready))" \
    clean fdready 0,1,2,5
check "notify: the same, fds 0,1,2 ($(desc notify))" clean notify 0,1,2
check "vigild's own NOTIFY_SOCKET is not passed down" \
    [ -z "$(key "$T/plain.rep" env_NOTIFY_SOCKET)" ]
check "a notify service gets its own NOTIFY_SOCKET ($(key "$T/notify.rep" env_NOTIFY_SOCKET))" \
    [ -n "$(key "$T/notify.rep" env_NOTIFY_SOCKET)" -a \
    "$(key "$T/notify.rep" env_NOTIFY_SOCKET)" != "$T/no-such-socket" ]
check "VIGIL_SERVICE and VIGIL_INSTANCE are set" \
    [ "$(key "$T/plain.rep" env_VIGIL_SERVICE)" = plain -a \
    "$(key "$T/plain.rep" env_VIGIL_INSTANCE)" = 0 ]
check "stdin is /dev/null" \
    [ "$(key "$T/plain.rep" fdid_0)" = "$(stat -L -c %d:%i /dev/null)" ]
check "stdout inherit: vigild's own stdout" \
    [ "$(key "$T/inherit.rep" fdid_1)" = "$(stat -c %d:%i "$T/out")" ]
check "stdout console: a pipe, not vigild's stdout" \
    [ "$(key "$T/plain.rep" fdid_1)" != "$(stat -c %d:%i "$T/out")" ]
vstop "clean state"

# ---- idle: no wake-ups -------------------------------------------------------
conf <<EOF
services = (
  { name = "s1"; command = [ "sleep", "1000" ]; min_uptime = 0.1; },
  { name = "s2"; command = [ "sleep", "1000" ]; min_uptime = 0.1; },
  { name = "s3"; command = [ "sleep", "1000" ]; min_uptime = 0.1; },
  { name = "s4"; command = [ "sleep", "1000" ]; min_uptime = 0.1; },
  { name = "s5"; command = [ "sleep", "1000" ]; min_uptime = 0.1; }
);
EOF
vstart
up5() { for _s in s1 s2 s3 s4 s5; do is_state $_s running || return 1; done; }
wait_for 10 up5
# Settled: the start-up is over and it sleeps in the loop.
settled() { _c=$(ctxsw "$vpid"); sleep 0.3; [ "$_c" = "$(ctxsw "$vpid")" ]; }
wait_for 10 settled
c0=$(ctxsw "$vpid")
sleep 5	# a measurement window, not a synchronisation
c1=$(ctxsw "$vpid")
check "idle with 5 services: <= 2 context switches in 5 s ($c0 -> $c1)" \
    [ $((c1 - c0)) -le 2 ]
vstop "idle"

done_testing
