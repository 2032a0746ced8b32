#!/bin/sh
# vigild as operators run it (SPEC 4, 4.1, 4.4, 6): -t on good and bad
# files (FILE:LINE, exit 1), a second vigild on the same pid file or
# socket, the services' output on vigild's stdout and stderr, shutdown
# (SIGTERM, SIGINT, shutdown_timeout) with no process left, and PID 1 in a
# new pid namespace.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 55

# ---- vigild -t -------------------------------------------------------------------
# vt FILE: vigild -t on FILE; status in $rc, stderr in $T/err.
vt() {
	"$VIGILD" -t -c "$1" >"$T/tout" 2>"$T/err" </dev/null
	rc=$?
}
errline() { grep -q -- "$1" "$T/err"; }

vt "$top_srcdir/etc/vigild.conf"
check "-t on the shipped etc/vigild.conf: exit 0 ($rc)" [ "$rc" -eq 0 ]
check "-t says the file is ok" grep -q "configuration ok" "$T/tout"

# bad NAME LINE MESSAGE: a file $T/NAME.conf (from stdin) fails -t with
# exit 1 and "FILE:LINE: ...MESSAGE".
bad() {
	cat >"$T/$1.conf"
	vt "$T/$1.conf"
	_pat="^$T/$1.conf:$2: .*$3"
	check "-t, $1: exit 1 and $T/$1.conf:$2 ($rc: $(head -n 1 "$T/err"))" \
	    eval '[ "$rc" -eq 1 ] && errline "$_pat"'
}
bad syntax 3 "syntax error" <<'EOF'
services = (
  { name = "a";
    command = ; }
);
EOF
bad type 2 "autostart: expected a boolean" <<'EOF'
services = (
  { name = "a"; command = "true"; autostart = 1; }
);
EOF
bad range 3 "instances: expected an integer from 1 to 1024" <<'EOF'
services = (
  { name = "a"; command = "true";
    instances = 0; }
);
EOF
bad unknown 3 "bogus: unknown key" <<'EOF'
services = (
  { name = "a"; command = "true";
    bogus = 1; }
);
EOF
bad duration 2 "restart_delay" <<'EOF'
services = (
  { name = "a"; command = "true"; restart_delay = "soon"; }
);
EOF
bad signal 2 'stop_signal: unknown signal "SIGFOO"' <<'EOF'
services = (
  { name = "a"; command = "true"; stop_signal = "SIGFOO"; }
);
EOF
bad name 2 "name" <<'EOF'
services = (
  { name = "bad name!"; command = "true"; }
);
EOF
bad duplicate 3 "duplicate name" <<'EOF'
services = (
  { name = "a"; command = "true"; },
  { name = "a"; command = "true"; }
);
EOF
bad reference 2 'unknown service "zz"' <<'EOF'
services = (
  { name = "a"; command = "true"; after = [ "zz" ]; }
);
EOF
bad cycle 2 "dependency cycle" <<'EOF'
services = (
  { name = "a"; command = "true"; after = [ "b" ]; },
  { name = "b"; command = "true"; requires = [ "a" ]; }
);
EOF
bad route 2 "SIGKILL cannot be routed" <<'EOF'
signals = {
  SIGKILL = "shutdown";
};
services = ( { name = "a"; command = "true"; } );
EOF
bad target 2 'unknown service "nosuch"' <<'EOF'
signals = {
  SIGUSR2 = { forward = [ "nosuch" ]; };
};
services = ( { name = "a"; command = "true"; } );
EOF
bad notyet 2 "not supported yet" <<EOF
services = (
  { name = "a"; command = "true"; stdout = { file = "$T/a.log"; }; }
);
EOF
bad user 2 "user" <<'EOF'
services = (
  { name = "a"; command = "true"; user = "vigil-no-such-user"; }
);
EOF
# Every error, not only the first.
cat >"$T/many.conf" <<'EOF'
services = (
  { name = "a"; command = "true"; autostart = 1; },
  { name = "b"; command = "true"; instances = 0; },
  { name = "c"; command = "true"; bogus = 1; }
);
EOF
vt "$T/many.conf"
check "-t reports every error: lines 2, 3 and 4 ($(wc -l <"$T/err") lines)" \
    eval '[ "$rc" -eq 1 ] && errline "many.conf:2:" &&
    errline "many.conf:3:" && errline "many.conf:4:"'
"$VIGILD" -c "$T/many.conf" -s "$SOCK" </dev/null >/dev/null 2>"$T/err"
rc=$?
check "starting on a bad file: exit 1 with the errors, nothing started ($rc)" \
    eval '[ "$rc" -eq 1 ] && errline "many.conf:4: .*bogus"'
if [ "$(id -u)" -eq 0 ]; then
	cp "$T/type.conf" "$T/open.conf"
	sed -i 's/autostart = 1/autostart = true/' "$T/open.conf"
	chmod 666 "$T/open.conf"
	vt "$T/open.conf"
	check "as root: a world-writable file is refused ($rc: $(cat "$T/err"))" \
	    eval '[ "$rc" -eq 1 ] && errline "open.conf"'
else
	skip "world-writable file refused" "needs root"
fi

# ---- a second vigild -------------------------------------------------------------
conf <<EOF
services = (
  { name = "one"; command = [ "$PROBE", "wait", "$T/one.rep" ]; min_uptime = 0.1; }
);
EOF
vstart -p "$T/vigild.pid"
wait_for 10 is_state one running
check "-p: the pid file holds vigild's pid" \
    [ "$(cat "$T/vigild.pid" 2>/dev/null)" = "$vpid" ]
"$VIGILD" -c "$CONF" -s "$T/other.sock" -p "$T/vigild.pid" </dev/null \
    >/dev/null 2>"$T/err"
rc=$?
check "a second vigild on the same pid file refuses ($rc: $(cat "$T/err"))" \
    eval '[ "$rc" -ne 0 ] && errline "already running (pid $vpid"'
"$VIGILD" -c "$CONF" -s "$SOCK" -p "$T/other.pid" </dev/null >/dev/null \
    2>"$T/err"
rc=$?
check "a second vigild on the same socket refuses ($rc: $(cat "$T/err"))" \
    eval '[ "$rc" -ne 0 ] && errline "already running (pid $vpid"'
check "the second ones started nothing" [ "$(nstarts one)" -eq 1 ]
check "the first one is still running" alive "$vpid"
check "its pid file is intact" [ "$(cat "$T/vigild.pid" 2>/dev/null)" = "$vpid" ]
check "the second one left no pid file" [ ! -e "$T/other.pid" ]
op=$(spid one)
vstop "pid file"
check "the pid file is removed at exit" [ ! -e "$T/vigild.pid" ]
check "the service is gone" pid_dead "$op"

# ---- output ----------------------------------------------------------------------
conf <<EOF
services = (
  { name = "talk"; min_uptime = 0.1;
    command = "echo out-line; echo err-line >&2; printf partial; exec sleep 1000"; },
  { name = "merged"; stderr = "stdout"; min_uptime = 0.1;
    command = "echo m-err >&2; exec sleep 1000"; },
  { name = "quiet"; stdout = "null"; stderr = "null"; min_uptime = 0.1;
    command = "echo q-out; echo q-err >&2; exec sleep 1000"; },
  { name = "long"; min_uptime = 0.1;
    command = "printf '%10000s' '' | tr ' ' x; echo; echo after; exec sleep 1000"; }
);
EOF
vstart
has_out() { grep -qx -- "$1" "$T/out"; }
has_err() { grep -qx -- "$1" "$LOG"; }
wait_for 10 has_out "long | after"
wait_for 10 has_err "talk | err-line"
check "stdout: 'talk | out-line' on vigild's stdout" has_out "talk | out-line"
check "stderr: 'talk | err-line' on vigild's stderr" has_err "talk | err-line"
check "stderr = stdout: merged into vigild's stdout" has_out "merged | m-err"
check "null: nothing of quiet anywhere" \
    [ -z "$(grep -h "q-out\|q-err" "$T/out" "$LOG")" ]
xs=$(grep "^long | x" "$T/out" | sed 's/^long | //' | tr -d '\n' | wc -c)
check "a 10,000-byte line: every piece prefixed, no byte lost ($xs)" \
    eval '[ "$xs" -eq 10000 ] && [ "$(grep -c "^long | x" "$T/out")" -ge 3 ]'
check "the line after it is whole" has_out "long | after"
vstop "output"
check "a partial last line is written at the end" has_out "talk | partial"

# ---- shutdown --------------------------------------------------------------------
cat >"$T/stubborn.sh" <<EOF
trap '' TERM
echo \$\$ >"$T/stubborn.pid.tmp" && mv "$T/stubborn.pid.tmp" "$T/stubborn.pid"
exec sleep 1000
EOF
conf <<EOF
vigild = { shutdown_timeout = 1.0; };
services = (
  { name = "stubborn"; command = [ "/bin/sh", "$T/stubborn.sh" ];
    stop_timeout = 30.0; min_uptime = 0.1; },
  { name = "plain"; command = [ "$PROBE", "wait", "$T/plain.rep" ];
    min_uptime = 0.1; }
);
EOF
vstart
wait_for 10 is_state stubborn running && wait_for 10 is_state plain running
sp=$(cat "$T/stubborn.pid") pp=$(spid plain)
vstop "shutdown_timeout"
check "shutdown_timeout 1 s beats stop_timeout 30 s (${took} ms)" \
    between "$took" 900 5000
check "the log names the service it had to kill" \
    logged "stubborn: shutdown timeout: killing its process group"
check "the stubborn service is gone" pid_dead "$sp"
check "the plain one is gone" pid_dead "$pp"

conf <<EOF
services = (
  { name = "x"; command = [ "$PROBE", "wait", "$T/x.rep" ]; min_uptime = 0.1; },
  { name = "y"; command = "sleep 1000 & exec sleep 1000"; min_uptime = 0.1; }
);
EOF
vstart
wait_for 10 is_state x running && wait_for 10 is_state y running
xp=$(spid x) yp=$(spid y)
_vt0=$(ms)
kill -INT "$vpid"
vwait
check "SIGINT: shutdown, exit 0 ($rc)" [ "$rc" = 0 ]
check "SIGINT: every service stopped" eval 'pid_dead "$xp" && pid_dead "$yp"'
check "SIGINT: the group's other member too (no child of vigild left)" \
    [ -z "$(children "$vpid")" ]
check "the log says so" logged "vigild exiting"

# ---- PID 1 in a new pid namespace ------------------------------------------------
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	for i in 1 2 3 4 5 6; do
		skip "PID 1 case $i" "unshare --pid is not permitted here"
	done
	done_testing
	exit
fi
cat >"$T/orphans.sh" <<EOF
i=0
while [ \$i -lt 100 ]; do
	(sleep 0.01 &)
	i=\$((i + 1))
done
: >"$T/orphans.done"
exec sleep 1000
EOF
conf <<EOF
services = (
  { name = "orphans"; command = [ "/bin/sh", "$T/orphans.sh" ]; min_uptime = 0.1; },
  { name = "probe"; command = [ "$PROBE", "wait", "$T/ns.rep" ]; min_uptime = 0.1; }
);
EOF
mv "$LOG" "$LOG.pre-ns"
unshare --pid --fork --mount-proc "$VIGILD" -c "$CONF" -s "$SOCK" -l debug \
    </dev/null >"$T/out" 2>"$LOG" &
upid=$!
track "$upid"
wait_for 10 is_state probe running
vpid=$(children "$upid" | awk '{ print $1; exit }')
check "as PID 1: services start (the probe's parent is pid $(key "$T/ns.rep" ppid))" \
    [ "$(key "$T/ns.rep" ppid)" = 1 ]
wait_for 20 exists "$T/orphans.done"
# Two services, each its one process: no orphan, no zombie left.
settled_ns() { [ "$(children "$vpid" | wc -l)" -eq 2 ]; }
wait_for 20 settled_ns
check "as PID 1: orphans reaped, only the 2 services are left ($(children "$vpid" | wc -l))" \
    settled_ns
check "as PID 1: no zombie ($(zombies "$vpid"))" [ "$(zombies "$vpid")" -eq 0 ]
check "as PID 1: vigild reaped the orphans itself ($(nlogged "reaped orphan"))" \
    [ "$(nlogged "reaped orphan")" -ge 100 ]
kill -TERM "$vpid"
if wait_for 20 dead "$upid"; then
	wait "$upid"
	rc=$?
else
	rc=timeout
fi
check "as PID 1: SIGTERM, exit 0 ($rc)" [ "$rc" = 0 ]
check "as PID 1: no sanitizer report" sanitizer_clean

done_testing
