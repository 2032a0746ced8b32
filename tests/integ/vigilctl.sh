#!/bin/sh
# vigilctl against a real vigild: every command and option, --json parsed
# back, exit codes 0/1/2/3, the socket's safety (stale, live, not a
# socket, mode, group, peer credentials), 100 concurrent clients, and
# 1,000 hostile messages that must leave vigild alive, responsive and at
# the same memory (tests/integ/ctl_abuse.py).
. "$top_srcdir/tests/integ/lib.sh"

plan 81

SOCK=$T/ctl.sock
CONF=$T/vigild.conf
LOG=$T/vigild.log
HAVE_PY=0
command -v python3 >/dev/null 2>&1 && HAVE_PY=1

ctl()	{ "$VIGILCTL" -s "$SOCK" "$@"; }
# json EXPR < doc: python3 evaluates EXPR with d the parsed document.
json()	{ python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
# state NAME: its state, from --json status.
state()	{ ctl --json status "$1" 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["services"][0]["state"])'; }
pid_of() { ctl --json status "$1" 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["services"][0]["pid"])'; }
is_state() { [ "$(state "$1")" = "$2" ]; }
reachable() { "$VIGILCTL" -s "$1" status >/dev/null 2>&1; }

write_conf() {
	cat >"$CONF" <<EOF
services = (
  { name = "web"; groups = [ "front" ]; min_uptime = 0.2;
    command = [ "/bin/sh", "-c", "trap 'echo got HUP' HUP; i=0; while :; do i=\$((i+1)); echo line \$i; sleep 0.1; done" ]; },
  { name = "quiet"; command = [ "/bin/sleep", "1000" ]; groups = [ "front" ];
    stdout = "null"; stderr = "null"; min_uptime = 0.2; },
  { name = "multi"; command = [ "/bin/sleep", "1000" ]; instances = 3;
    autostart = false; min_uptime = 0.2; groups = [ "pool" ]; },
  { name = "broken"; command = [ "/nonexistent/prog" ]; autostart = false; },
  { name = "slow"; command = [ "/bin/sleep", "1000" ]; autostart = false;
    ready = { type = "notify"; timeout = 30.0; }; }$1
);
EOF
}

# ---- not running ------------------------------------------------------
ctl status >/dev/null 2>"$T/err"
rc=$?
check "exit 3 when vigild is not running (rc $rc)" [ $rc -eq 3 ]
check "the message names the socket" grep -q "cannot connect to $SOCK" "$T/err"

# ---- usage errors: exit 2 with the usage line --------------------------
"$VIGILCTL" >/dev/null 2>"$T/err"
rc=$?
check "no command: exit 2 with the usage" \
    sh -c "[ $rc -eq 2 ] && grep -q '^usage: vigilctl' '$T/err'"
ctl frobnicate >/dev/null 2>"$T/err"
rc=$?
check "unknown command: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'unknown command' '$T/err'"
ctl start >/dev/null 2>"$T/err"
rc=$?
check "start without a name: exit 2 with its usage line" \
    sh -c "[ $rc -eq 2 ] && grep -q '^usage: vigilctl .*start .*NAME' '$T/err'"
ctl log -n lots web >/dev/null 2>"$T/err"
rc=$?
check "log -n with a bad number: exit 2" [ $rc -eq 2 ]
ctl stop --frob web >/dev/null 2>"$T/err"
rc=$?
check "unknown option: exit 2" [ $rc -eq 2 ]
ctl signal HUP >/dev/null 2>&1
rc=$?
check "signal without a name: exit 2" [ $rc -eq 2 ]
ctl help | grep -q "log \[-f\] \[-n LINES\] NAME"
check "help lists the commands" [ $? -eq 0 ]

# ---- start vigild -------------------------------------------------------
write_conf ""
"$VIGILD" -c "$CONF" -s "$SOCK" -l debug >"$LOG" 2>&1 &
VPID=$!
track $VPID
if wait_for 20 reachable "$SOCK"; then
	ok "vigild answers on $SOCK"
else
	not_ok "vigild answers on $SOCK"
	cat "$LOG" | sed 's/^/# /'
	exit 1
fi
check "the socket has mode 0600 by default" \
    [ "$(stat -c %a "$SOCK")" = 600 ]
VIGIL_SOCKET=$SOCK "$VIGILCTL" status >/dev/null 2>&1
check "VIGIL_SOCKET gives the socket" [ $? -eq 0 ]
VIGIL_SOCKET=$T/nowhere.sock "$VIGILCTL" -s "$SOCK" status >/dev/null 2>&1
check "-s wins over VIGIL_SOCKET" [ $? -eq 0 ]

# A second vigild on the same socket refuses to start.
"$VIGILD" -c "$CONF" -s "$SOCK" >"$T/second.log" 2>&1 &
p2=$!
track $p2
wait_for 20 dead $p2
wait $p2
rc=$?
check "a second vigild on the socket exits 1 (rc $rc)" [ $rc -eq 1 ]
check "... saying vigild is already running" \
    grep -q "already running (pid $VPID, control socket $SOCK)" "$T/second.log"
check "... and the first still answers" reachable "$SOCK"

wait_for 20 is_state web running
wait_for 20 is_state quiet running

# ---- status -------------------------------------------------------------
ctl status >"$T/out" 2>&1
rc=$?
check "status: exit 0" [ $rc -eq 0 ]
check "status: the table's header" \
    grep -q "^NAME  *STATE  *PID  *UPTIME  *RESTARTS  *LAST EXIT  *READY  *REASON" "$T/out"
check "status: a row per instance" \
    sh -c "grep -q '^web  *running  *[0-9][0-9]* ' '$T/out' && grep -q '^multi:2  *stopped  *- ' '$T/out'"
if [ $HAVE_PY = 1 ]; then
	ctl --json status >"$T/out"
	json 'd["version"] == 1 and [s["name"] for s in d["services"]] == ["web", "quiet", "multi:0", "multi:1", "multi:2", "broken", "slow"] and all(set(s) >= {"name", "state", "pid", "uptime", "restarts", "ready", "last_exit", "reason", "started_at", "state_since"} for s in d["services"])' <"$T/out"
	check "status --json: every service with every field" [ $? -eq 0 ]
	json '[ (s["state"], type(s["pid"]) is int, s["ready"], s["last_exit"]) for s in d["services"][:2] ] == [("running", True, True, None)] * 2 and d["services"][2]["pid"] is None and d["services"][2]["uptime"] is None and d["services"][0]["started_at"].endswith("Z")' <"$T/out"
	check "status --json: values and types" [ $? -eq 0 ]
	ctl status --json group:front multi:1 | json '[s["name"] for s in d["services"]] == ["web", "quiet", "multi:1"]'
	check "status group:G NAME:N selects (and --json after the command)" [ $? -eq 0 ]
	ctl --json status multi | json 'len(d["services"]) == 3'
	check "status NAME selects all its instances" [ $? -eq 0 ]
else
	for i in 1 2 3 4; do skip "status --json $i" "no python3"; done
fi
ctl status nosuch >/dev/null 2>"$T/err"
rc=$?
check "status of an unknown name: exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q 'no such service: nosuch' '$T/err'"
ctl status group:nosuch >/dev/null 2>"$T/err"
rc=$?
check "status of an unknown group: exit 1" [ $rc -eq 1 ]
ctl --json status nosuch >"$T/out" 2>/dev/null
rc=$?
if [ $HAVE_PY = 1 ]; then
	check "--json error: exit 1 and {ok: false, error}" sh -c "[ $rc -eq 1 ] &&
	    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"ok\"] is False and \"nosuch\" in d[\"error\"] else 1)' <'$T/out'"
else
	skip "--json error" "no python3"
fi

# ---- start, stop, restart ----------------------------------------------
ctl start multi >"$T/out" 2>&1
rc=$?
check "start NAME waits for running (rc $rc)" sh -c \
    "[ $rc -eq 0 ] && [ \"\$(grep -c ': started' '$T/out')\" = 3 ]"
is_state multi:0 running && is_state multi:2 running
check "... multi:0 and multi:2 are running" [ $? -eq 0 ]
ctl stop multi:1 >/dev/null 2>&1
rc=$?
check "stop NAME:N waits for stopped" sh -c "[ $rc -eq 0 ]"
is_state multi:1 stopped
check "... it is stopped" [ $? -eq 0 ]
old=$(pid_of web)
ctl restart web >"$T/out" 2>&1
rc=$?
new=$(pid_of web)
check "restart: exit 0, running with a new pid ($old -> $new)" \
    sh -c "[ $rc -eq 0 ] && [ '$old' != '$new' ] && grep -q 'web: restarted' '$T/out'"
is_state web running
check "... web is running" [ $? -eq 0 ]
# A start that is settled at once (web runs) is one request handled once:
# the answer must not send the server round the same line again.
n0=$(grep -c 'control: start of 1 service' "$LOG")
ctl start web >"$T/out" 2>&1
rc=$?
n1=$(grep -c 'control: start of 1 service' "$LOG")
check "start of a running service: exit 0, handled once ($n0 -> $n1)" \
    sh -c "[ $rc -eq 0 ] && [ $n1 -eq $((n0 + 1)) ]"
ctl start --no-wait multi:1 >"$T/out" 2>&1
rc=$?
check "start --no-wait answers at once" sh -c \
    "[ $rc -eq 0 ] && grep -q 'multi:1: start requested' '$T/out'"
wait_for 20 is_state multi:1 running
check "... and it comes up" [ $? -eq 0 ]
ctl stop --no-wait group:pool >/dev/null 2>&1
rc=$?
check "stop --no-wait group:G" [ $rc -eq 0 ]
wait_for 20 is_state multi:0 stopped && wait_for 20 is_state multi:2 stopped
check "... they stop" [ $? -eq 0 ]
ctl start nosuch >/dev/null 2>"$T/err"
rc=$?
check "start of an unknown name: exit 1, nothing started" \
    sh -c "[ $rc -eq 1 ] && grep -q 'no such service: nosuch' '$T/err'"
ctl start broken >/dev/null 2>"$T/err"
rc=$?
check "start of a program that cannot run: exit 1 with why" \
    sh -c "[ $rc -eq 1 ] && grep -q 'broken: fatal: cannot execute /nonexistent/prog' '$T/err'"
start_ms=$(ms)
ctl start --timeout 1 slow >/dev/null 2>"$T/err"
rc=$?
took=$(($(ms) - start_ms))
check "start --timeout: exit 1 after the timeout (${took} ms)" \
    sh -c "[ $rc -eq 1 ] && [ $took -lt 10000 ] && grep -q 'slow: still starting after 1.0 s' '$T/err'"
if [ $HAVE_PY = 1 ]; then
	ctl --json stop slow | json 'd["ok"] is True and d["results"][0]["name"] == "slow" and d["results"][0]["state"] == "stopped"'
	check "stop --json: ok and results" [ $? -eq 0 ]
	ctl --json start broken | json 'd["ok"] is False and "did not start" in d["error"] and d["results"][0]["ok"] is False'
	check "start --json of a failure: ok false, results" [ $? -eq 0 ]
else
	skip "stop --json" "no python3"
	skip "start --json" "no python3"
	ctl stop slow >/dev/null 2>&1
fi

# ---- signal -------------------------------------------------------------
ctl signal HUP web >"$T/out" 2>&1
rc=$?
check "signal HUP NAME: exit 0" sh -c "[ $rc -eq 0 ] && grep -q 'web: signalled' '$T/out'"
wait_for 10 sh -c "'$VIGILCTL' -s '$SOCK' log -n 50 web | grep -q 'got HUP'"
check "... the service got it" [ $? -eq 0 ]
ctl signal SIGUSR1 multi:0 >/dev/null 2>"$T/err"
rc=$?
check "signal to a stopped service: exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q 'multi:0: not running' '$T/err'"
ctl signal NOSUCHSIG web >/dev/null 2>"$T/err"
rc=$?
check "unknown signal: exit 1" sh -c "[ $rc -eq 1 ] && grep -q 'unknown signal' '$T/err'"

# ---- log ----------------------------------------------------------------
ctl log -n 3 web >"$T/out" 2>&1
rc=$?
check "log -n 3: three lines" sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/out') -eq 3 ]"
ctl log web >"$T/out" 2>&1
check "log: 10 lines by default" [ "$(wc -l <"$T/out")" -eq 10 ]
ctl log quiet >/dev/null 2>"$T/err"
rc=$?
check "log of a service whose output is not captured: exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q 'output of quiet is not captured' '$T/err'"
ctl log multi >/dev/null 2>"$T/err"
rc=$?
check "log of a service with instances wants one" [ $rc -eq 1 ]
if [ $HAVE_PY = 1 ]; then
	ctl --json log -n 5 web | json 'd["ok"] is True and len(d["lines"]) == 5 and all(type(l) is str for l in d["lines"]) and d["lines"][-1].startswith("line ")'
	check "log --json" [ $? -eq 0 ]
else
	skip "log --json" "no python3"
fi
"$VIGILCTL" -s "$SOCK" log -f -n 0 web >"$T/follow" 2>&1 &
fpid=$!
track $fpid
wait_for 10 sh -c "[ \$(wc -l <'$T/follow') -ge 5 ]"
check "log -f follows new lines" [ $? -eq 0 ]
kill $fpid 2>/dev/null
wait $fpid 2>/dev/null

# ---- reload -------------------------------------------------------------
write_conf ",
  { name = \"added\"; command = [ \"/bin/sleep\", \"1000\" ]; min_uptime = 0.2; }"
ctl reload >"$T/out" 2>&1
rc=$?
check "reload of a good file: exit 0" [ $rc -eq 0 ]
wait_for 20 is_state added running
check "... the new service runs" [ $? -eq 0 ]
cp "$CONF" "$T/good.conf"
cat >>"$CONF" <<EOF
bogus = 1;
services2 = "x";
EOF
ctl reload >"$T/out" 2>"$T/err"
rc=$?
check "reload of a bad file: exit 1" [ $rc -eq 1 ]
check "... printing every FILE:LINE error" sh -c \
    "grep -q '^$CONF:[0-9]*: .*bogus' '$T/err' && grep -q '^$CONF:[0-9]*: .*services2' '$T/err'"
if [ $HAVE_PY = 1 ]; then
	ctl --json reload | json 'd["ok"] is False and len(d["errors"]) == 2'
	check "reload --json lists the errors" [ $? -eq 0 ]
else
	skip "reload --json" "no python3"
fi
is_state added running
check "... and the running configuration stays" [ $? -eq 0 ]
cp "$T/good.conf" "$CONF"

# ---- version, reexec ----------------------------------------------------
ctl version >"$T/out" 2>&1
rc=$?
check "version: both sides" sh -c \
    "[ $rc -eq 0 ] && grep -q '^vigilctl ' '$T/out' && grep -q '^vigild .*protocol 1' '$T/out'"
# The daemon's own re-exec tests are in daemon_reexec.sh; here, the client.
pids_of() { ctl --json status | python3 -c 'import json,sys
print(sorted((s["name"], s["pid"]) for s in json.load(sys.stdin)["services"]))'; }
_pid0=$(pids_of)
ctl reexec >"$T/out" 2>"$T/err"
rc=$?
_pid1=$(pids_of)
check "reexec: exit 0, re-executed, same services and pids" \
    sh -c "[ $rc -eq 0 ] && grep -q 're-executed' '$T/out' && [ -n '$_pid0' ] && [ '$_pid0' = '$_pid1' ]"

# ---- protocol -----------------------------------------------------------
if [ $HAVE_PY = 1 ]; then
	python3 - "$SOCK" >"$T/out" <<'EOF'
import socket, sys, json
def talk(lines):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    for l in lines:
        s.sendall(l.encode() + b"\n")
    s.settimeout(10)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    return [json.loads(l) for l in data.decode().splitlines()]
r = talk(['{"protocol": 99, "client": "test"}'])
print("version", r[-1]["ok"] is False and "not supported" in r[-1]["error"])
r = talk(['{"command": "status"}'])
print("hello", r[-1]["ok"] is False and "protocol" in r[-1]["error"])
r = talk(['{"protocol": 1}', '{"command": "status", "args": ["web"], "x": 1}'])
print("strict", r[0]["ok"] is True and r[-1]["ok"] is False)
EOF
	check "protocol: another version is refused clearly" grep -q "^version True" "$T/out"
	check "protocol: the version must come first" grep -q "^hello True" "$T/out"
	check "protocol: unknown keys are refused" grep -q "^strict True" "$T/out"
else
	for i in 1 2 3; do skip "protocol $i" "no python3"; done
fi

# ---- 100 concurrent clients -------------------------------------------
mkdir -p "$T/many"
i=0
while [ $i -lt 100 ]; do
	(ctl status >"$T/many/$i.out" 2>&1; echo $? >"$T/many/$i.rc") &
	i=$((i + 1))
done
wait_for 60 sh -c "[ \$(ls '$T/many' | grep -c rc) -eq 100 ]"
good=$(cat "$T/many"/*.rc | grep -c '^0$')
rows=$(cat "$T/many"/*.out | grep -c '^web  *running')
check "100 concurrent clients all answered ($good ok, $rows rows)" \
    sh -c "[ $good -eq 100 ] && [ $rows -eq 100 ]"

# ---- hostile clients ----------------------------------------------------
rss() { awk '/^VmRSS/ { print $2 }' /proc/$VPID/status; }
if [ $HAVE_PY = 1 ] && [ -r /proc/$VPID/status ]; then
	python3 "$top_srcdir/tests/integ/ctl_abuse.py" "$SOCK" >"$T/abuse0" 2>&1
	before=$(rss)
	start_ms=$(ms)
	python3 "$top_srcdir/tests/integ/ctl_abuse.py" "$SOCK" >"$T/abuse" 2>&1
	rc=$?
	took=$(($(ms) - start_ms))
	sed 's/^/# /' "$T/abuse"
	# The last clients' ends may still be on their way to vigild.
	rss_back() { [ "$(rss)" -le $((before + 1024)) ]; }
	san=0
	grep -qE 'lib(a|t)san' /proc/$VPID/maps && san=1
	[ $san = 1 ] || wait_for 10 rss_back
	after=$(rss)
	check "1,000 malformed, oversized, partial and slow messages handled in ${took} ms" \
	    sh -c "[ $rc -eq 0 ] && [ $took -lt 120000 ]"
	check "... vigild is alive" alive $VPID
	check "... and answers" reachable "$SOCK"
	diag "VmRSS ${before} kB before, ${after} kB after"
	if [ $san = 1 ]; then
		# Their allocators keep freed memory (quarantine, shadow).
		skip "... at the same memory" "sanitizer build"
	else
		check "... at the same memory (VmRSS $before -> $after kB)" \
		    [ "$after" -le $((before + 1024)) ]
	fi
else
	for i in 1 2 3 4; do skip "hostile clients $i" "no python3 or /proc"; done
fi

# ---- who may control ----------------------------------------------------
SOCK2=$T/auth/ctl.sock
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$VIGILCTL" -V >/dev/null 2>&1; then
	mkdir -p "$T/auth"
	chmod 711 "$T"
	chmod 755 "$T/auth"
	cat >"$T/auth.conf" <<EOF
vigild = { socket_mode = "0666"; socket_group = "daemon"; };
services = ( { name = "one"; command = [ "/bin/sleep", "1000" ]; } );
EOF
	"$VIGILD" -c "$T/auth.conf" -s "$SOCK2" >"$T/auth.log" 2>&1 &
	APID=$!
	track $APID
	wait_for 20 reachable "$SOCK2"
	check "socket_mode and socket_group are applied" \
	    [ "$(stat -c '%a %G' "$SOCK2")" = "666 daemon" ]
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$VIGILCTL" -s "$SOCK2" status >/dev/null 2>"$T/err"
	rc=$?
	check "a uid that is not allowed is refused: exit 1 (rc $rc)" \
	    sh -c "[ $rc -eq 1 ] && grep -q 'permission denied: uid 65534' '$T/err'"
	setpriv --reuid=65534 --regid=1 --clear-groups \
	    "$VIGILCTL" -s "$SOCK2" status >/dev/null 2>&1
	check "socket_group as the primary group may control" [ $? -eq 0 ]
	setpriv --reuid=65534 --regid=65534 --groups=1 \
	    "$VIGILCTL" -s "$SOCK2" status >/dev/null 2>&1
	check "socket_group as a supplementary group may control" [ $? -eq 0 ]
	ctl() { "$VIGILCTL" -s "$SOCK2" "$@"; }
	# A reload applies new socket_mode and socket_group at once.
	sed 's/socket_mode = "0666"; socket_group = "daemon";/socket_mode = "0600";/' \
	    "$T/auth.conf" >"$T/auth.conf.new" && mv "$T/auth.conf.new" "$T/auth.conf"
	ctl reload >/dev/null 2>&1
	setpriv --reuid=65534 --regid=1 --clear-groups \
	    "$VIGILCTL" -s "$SOCK2" status >/dev/null 2>&1
	rc=$?
	check "reload: socket_mode 0600 and no socket_group apply at once ($(stat -c '%a %G' "$SOCK2"), rc $rc)" \
	    sh -c "[ '$(stat -c '%a' "$SOCK2")' = 600 ] && [ $rc -ne 0 ]"
	ctl shutdown --no-wait >"$T/out" 2>&1
	rc=$?
	check "shutdown --no-wait answers at once" sh -c \
	    "[ $rc -eq 0 ] && grep -q 'shutting down' '$T/out'"
	wait_for 20 dead $APID
	check "... and vigild exits" [ $? -eq 0 ]
	ctl() { "$VIGILCTL" -s "$SOCK" "$@"; }
else
	for i in 1 2 3 4 5 6 7; do
		skip "peer credentials $i" "needs root and setpriv"
	done
fi

# ---- stale, foreign, and not-a-socket paths ----------------------------
if [ $HAVE_PY = 1 ]; then
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/stale.sock"
	printf 'services = ( { name = "x"; command = [ "/bin/sleep", "1000" ]; } );\n' >"$T/x.conf"
	"$VIGILD" -c "$T/x.conf" -s "$T/stale.sock" >"$T/stale.log" 2>&1 &
	SPID=$!
	track $SPID
	wait_for 20 reachable "$T/stale.sock"
	check "a stale socket from a dead vigild is replaced" [ $? -eq 0 ]
	"$VIGILCTL" -s "$T/stale.sock" shutdown >/dev/null 2>&1
	wait_for 20 dead $SPID
else
	skip "stale socket" "no python3"
fi
: >"$T/file.sock"
"$VIGILD" -c "$CONF" -s "$T/file.sock" >"$T/file.log" 2>&1 &
p3=$!
track $p3
wait_for 20 dead $p3
wait $p3
rc=$?
check "a path that is not a socket is not replaced (rc $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'not a socket' '$T/file.log' && [ -f '$T/file.sock' ]"

# ---- shutdown -----------------------------------------------------------
ctl shutdown >"$T/out" 2>&1
rc=$?
check "shutdown waits for vigild to exit" sh -c "[ $rc -eq 0 ] && grep -q 'shut down' '$T/out'"
wait_for 20 dead $VPID
check "... vigild is gone" [ $? -eq 0 ]
check "... and so are its socket and lock file" \
    sh -c "[ ! -e '$SOCK' ] && [ ! -e '$SOCK.lock' ]"
ctl status >/dev/null 2>&1
check "then: exit 3" [ $? -eq 3 ]
done_testing
