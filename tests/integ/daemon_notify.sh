#!/bin/sh
# vigild under a fake systemd: what it sends to NOTIFY_SOCKET, from which
# pid, and in which order (SPEC 4): READY=1 only once every autostart
# service is ready, RELOADING=1 (with MONOTONIC_USEC) and READY=1 around a
# reload, good or bad, STOPPING=1 at shutdown, WATCHDOG=1 at half of
# WATCHDOG_USEC. The fake systemd is a datagram socket read by python3
# with SO_PASSCRED, which writes "PID MESSAGE-LINE" to a file.
. "$top_srcdir/tests/integ/daemon_lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP no python3 for the fake NOTIFY_SOCKET"
	exit 0
fi
plan 20

NSOCK=$T/systemd.sock
NLOG=$T/notify.log
: >"$NLOG"
python3 - "$NSOCK" "$NLOG" <<'EOF' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        for line in msg.decode("utf-8", "replace").split("\n"):
            if line:
                f.write("%d %s\n" % (pid, line))
EOF
track $!
if ! wait_for 10 test -S "$NSOCK"; then
	echo "Bail out! the fake NOTIFY_SOCKET did not appear"
	exit 1
fi

# Messages of a kind, in order, without the pid: "READY=1 RELOADING=1 ...".
sent() { grep -E "^[0-9]+ ($1)" "$NLOG" | cut -d' ' -f2 | tr '\n' ' '; }
nsent() { grep -cE "^[0-9]+ ($1)" "$NLOG"; }

# gate is ready only when the test says so: its readiness holds READY=1.
conf <<EOF
services = (
  { name = "quick"; command = [ "/bin/sleep", "1000" ]; min_uptime = 0.1; },
  { name = "gate"; command = [ "/bin/sh", "-c",
      "while [ ! -e $T/go ]; do sleep 0.02; done; echo >&3; exec sleep 1000" ];
    ready = { type = "fd"; fd = 3; timeout = 60.0; }; },
  { name = "late"; command = [ "/bin/sleep", "1000" ]; after = [ "gate" ];
    min_uptime = 0.1; },
  { name = "manual"; command = [ "/bin/sleep", "1000" ]; autostart = false; }
);
EOF
# WATCHDOG_PID is vigild's own pid: the shell execs it (so does libtool's
# wrapper), keeping the pid.
/bin/sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' sh \
    env NOTIFY_SOCKET="$NSOCK" WATCHDOG_USEC=300000 \
    "$VIGILD" -c "$CONF" -s "$SOCK" -l debug </dev/null >"$T/out" 2>"$LOG" &
vpid=$!
track "$vpid"
wait_for 10 is_state quick running
wait_for 10 is_state gate starting
check "while gate is not ready: quick runs, late waits" \
    eval 'is_state quick running && ! is_state late running'
check "  and nothing said READY=1 yet" [ "$(nsent 'READY=1')" -eq 0 ]
touch "$T/go"
check "READY=1 once every autostart service is ready" \
    wait_for 20 eval '[ "$(nsent "READY=1")" -ge 1 ]'
check "  late was running by then (manual, autostart false, is not waited for)" \
    before "late: starting -> running" "notify: READY=1"
check "  with a STATUS line" grep -q "^[0-9]* STATUS=all services started" "$NLOG"
check "every message comes from vigild's pid $vpid" \
    eval '! grep -qv "^$vpid " "$NLOG"'

# A good reload, then a bad one: RELOADING=1 then READY=1, both times.
kill -HUP "$vpid"
wait_for 20 eval '[ "$(nsent "READY=1")" -ge 2 ]'
printf 'services = ( { name = "x"; command = 1; } );\n' | conf
kill -HUP "$vpid"
wait_for 20 eval '[ "$(nsent "READY=1")" -ge 3 ]'
check "reload: RELOADING=1, READY=1, twice ($(sent 'READY|RELOADING'))" \
    [ "$(sent 'READY=1|RELOADING=1')" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 " ]
check "  RELOADING=1 carries MONOTONIC_USEC" \
    [ "$(nsent 'MONOTONIC_USEC=[0-9]+$')" -eq 2 ]
check "  the bad one says so in STATUS" \
    grep -q "^[0-9]* STATUS=reload failed: 1 error" "$NLOG"
check "watchdog: WATCHDOG=1 sent ($(nsent 'WATCHDOG=1') so far)" \
    wait_for 10 eval '[ "$(nsent "WATCHDOG=1")" -ge 3 ]'

# Re-exec: the new image takes NOTIFY_SOCKET and the watchdog over. The
# file on disk is the bad one now: the new image parses the running text.
_nw=$(nsent 'WATCHDOG=1')
"$VIGILCTL" -s "$SOCK" reexec >/dev/null 2>"$T/err"
rc=$?
check "re-exec with a bad file on disk: exit 0 ($rc: $(head -n 1 "$T/err"))" \
    [ "$rc" = 0 ]
check "  WATCHDOG=1 goes on from the new image ($_nw before)" \
    wait_for 10 eval '[ "$(nsent "WATCHDOG=1")" -ge $((_nw + 3)) ]'
check "  every message still from vigild's pid $vpid" \
    eval '! grep -qv "^$vpid " "$NLOG"'

_vt0=$(ms)
kill -TERM "$vpid"
vwait
check "vigild exits 0 on SIGTERM ($rc)" [ "$rc" = 0 ]
check "STOPPING=1 last of the state messages ($(sent 'READY=1|RELOADING=1|STOPPING=1'))" \
    [ "$(sent 'READY=1|RELOADING=1|STOPPING=1')" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " ]
check "  sent before the services stopped" \
    before "notify: STOPPING=1" "quick: running -> stopping"
check "no sanitizer report in the log" sanitizer_clean
dump_log

# Without NOTIFY_SOCKET, nothing is sent and nothing fails.
: >"$NLOG"
conf <<EOF
services = ( { name = "quick"; command = [ "/bin/sleep", "1000" ];
    min_uptime = 0.1; } );
EOF
vstart
wait_for 10 is_state quick running
check "without NOTIFY_SOCKET: nothing sent" [ ! -s "$NLOG" ]
vstop "without NOTIFY_SOCKET"
done_testing
