#!/bin/sh
# Re-exec guards: a reload whose file is still being parsed
# refuses a re-exec (else the reload is lost and systemd, told RELOADING=1,
# never hears READY=1 again); the reload then completes and a re-exec
# goes through.
. "$top_srcdir/tests/integ/daemon_lib.sh"

plan 11

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

done_testing
