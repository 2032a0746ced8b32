#!/bin/sh
# Re-exec guards: a reload whose file is still being parsed
# refuses a re-exec (else the reload is lost and systemd, told RELOADING=1,
# never hears READY=1 again); the reload then completes and a re-exec
# goes through; a file the configuration names that is gone makes the
# probe refuse; a state the new image cannot restore stops what it names
# and removes the old image's files.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 14

ctl()	{ "$VIGILCTL" -s "$SOCK" "$@"; }
rx() {
	timeout 30 "$VIGILCTL" -s "$SOCK" reexec >/dev/null 2>"$T/err"
	rc=$?
}

# An env_file that is a FIFO holds the parse of a reload on its worker
# until something is written to it.
echo "A=1" >"$T/env"
conf <<EOF2
services = (
  { name = "a"; command = [ "/bin/sleep", "1000" ]; env_file = "$T/env";
    min_uptime = 0.1; }
);
EOF2
vstart
wait_for 10 is_state a running
apid=$(spid a)
rm -f "$T/env"
mkfifo "$T/env"
kill -HUP "$vpid"
wait_for 10 logged "reloading"
rx
check "a reload being parsed: reexec refused, exit 1 ($rc: $(head -n 1 "$T/err"))" \
    [ "$rc" = 1 ]
check "  with the reason" grep -q "reload" "$T/err"
# Let the parse read the file (the writer blocks until it is opened).
( echo "A=2" >"$T/env" ) &
wpid=$!
track "$wpid"
check "the reload then completes" wait_for 10 logged "reloaded"
wait_for 10 dead "$wpid"
rm -f "$T/env"
echo "A=2" >"$T/env"
# The reload restarted a (its environment changed).
wait_for 10 is_state a running
apid=$(spid a)
rx
check "then reexec goes through ($rc: $(head -n 1 "$T/err"))" [ "$rc" = 0 ]
check "  and a kept its pid" [ "$(spid a)" = "$apid" ]
# A file the configuration names is gone since it was read: the new image
# could not parse the text, so the probe refuses, before the exec (it used
# to stop every service and exit).
rm -f "$T/env"
rx
check "env_file gone: reexec refused, exit 1 ($rc: $(head -n 1 "$T/err"))" \
    [ "$rc" = 1 ]
check "  saying why" grep -q "env_file" "$T/err"
check "  vigild is still there" alive "$vpid"
check "  and a still runs, same pid" eval \
    'is_state a running && [ "$(spid a)" = "$apid" ]'
echo "A=2" >"$T/env"
vstop "reexec after a reload"

# A new image that cannot restore the state must not leave services
# unsupervised: here a state cut short by a malformed record, handed to
# vigild as a re-exec would. The records it could read name a service
# (a group we made) and the files of the old image; vigild stops the
# group, removes the files and exits 1.
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
mkdir "$T/rundir"
: >"$T/fake.sock"
: >"$T/fake.sock.lock"
: >"$T/fake.pid"
setsid sleep 1000 &
gpid=$!
track "$gpid"
{
	echo "vigil-reexec version=1"
	echo "vd conf_path=$(hex "$CONF") runtime_dir=$(hex "$T/rundir")"
	echo "pid fd=-1 path=$(hex "$T/fake.pid")"
	echo "ctl listen=-1 lock=-1 path=$(hex "$T/fake.sock") lock_path=$(hex "$T/fake.sock.lock")"
	echo "svc name=$(hex a) state=2 pid=$gpid"
	echo "svc a-malformed-field"
	echo "end"
} >"$T/state"
VIGIL_REEXEC_STATE=3 timeout -k 2 30 "$VIGILD" -c "$CONF" -s "$SOCK" \
    3<"$T/state" >/dev/null 2>"$T/err"
rc=$?
check "a state that cannot be restored: exit 1 ($rc: $(grep -m 1 re-exec "$T/err"))" \
    eval '[ "$rc" = 1 ] && grep -q "cannot restore the state" "$T/err"'
check "  the service's group is stopped" wait_for 10 dead "$gpid"
check "  the socket, its lock, the pid file and the runtime directory are gone" \
    eval '! [ -e "$T/fake.sock" ] && ! [ -e "$T/fake.sock.lock" ] &&
    ! [ -e "$T/fake.pid" ] && ! [ -e "$T/rundir" ]'

done_testing
