#!/bin/bash
# status_bench.sh [-n SERVICES] [-r RUNS] [BUILDDIR]
#
# `vigilctl status` against `supervisorctl status` (Debian's supervisor
# package), each daemon running SERVICES programs (default 1,000, each a
# /bin/sleep), in one run: RUNS timed calls of each (default 31), the two
# interleaved so both see the same machine noise. Prints both medians and
# their ratio, and whether the targets of issue 4 hold (vigilctl at least
# 20 times faster, and under 20 ms).
#
# BUILDDIR (default .) holds daemon/vigild and daemon/vigilctl. Needs
# supervisord and supervisorctl: as root, with apt-get, it installs the
# package with a policy-rc.d that keeps Debian's supervisor service from
# starting, and stops that service by its pid file if it runs anyway. The
# private supervisord and vigild it starts are stopped at the end.
# Bash for $EPOCHREALTIME (microseconds without a process per reading).
set -u
n=1000
runs=31
while getopts n:r: opt; do
	case $opt in
	n) n=$OPTARG ;;
	r) runs=$OPTARG ;;
	*) echo "usage: $0 [-n SERVICES] [-r RUNS] [BUILDDIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
build=$(cd "${1:-.}" && pwd) || exit 2
VIGILD=$build/daemon/vigild
VIGILCTL=$build/daemon/vigilctl
[ -x "$VIGILD" ] && [ -x "$VIGILCTL" ] || {
	echo "$0: no daemon/vigild and daemon/vigilctl in $build" >&2
	exit 2
}

# ---- supervisor, without Debian's own service --------------------------
stop_debian_supervisor() {
	local pf=/run/supervisord.pid p
	[ -r "$pf" ] || pf=/var/run/supervisord.pid
	[ -r "$pf" ] || return 0
	p=$(cat "$pf")
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "stopping Debian's supervisord (pid $p, $pf)"
		kill -TERM "$p"
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	fi
}
if ! command -v supervisord >/dev/null || ! command -v supervisorctl >/dev/null; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "$0: needs Debian's supervisor package (apt-get install supervisor)" >&2
		exit 2
	fi
	added_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q supervisor >/dev/null
	rc=$?
	[ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || { echo "$0: cannot install supervisor" >&2; exit 2; }
fi
stop_debian_supervisor

T=$(mktemp -d "${TMPDIR:-/tmp}/status-bench.XXXXXX")
vpid= spid=
cleanup() {
	[ -n "$vpid" ] && "$VIGILCTL" -s "$T/vigild.sock" shutdown >/dev/null 2>&1
	[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
	for p in $vpid $spid; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Both daemons need a descriptor or more per child.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- the configurations: n sleeping programs each -----------------------
{
	echo 'services = ('
	seq -w 1 "$n" | awk '{ printf "%s  { name = \"s%s\"; command = [ \"/bin/sleep\", \"1000000\" ]; }", (NR > 1 ? ",\n" : ""), $1 } END { print "" }'
	echo ');'
} >"$T/vigild.conf"
{
	cat <<EOF
[unix_http_server]
file=$T/supervisor.sock
[supervisord]
logfile=$T/supervisord.log
pidfile=$T/supervisord.pid
childlogdir=$T
minfds=16384
user=root
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$T/supervisor.sock
EOF
	for i in $(seq -w 1 "$n"); do
		printf '[program:s%s]\ncommand=/bin/sleep 1000000\nstartsecs=1\n' "$i"
		printf 'stdout_logfile=NONE\nstderr_logfile=NONE\n'
	done
} >"$T/supervisord.conf"
[ "$(id -u)" = 0 ] || sed -i '/^user=root$/d' "$T/supervisord.conf"

# ---- start both, wait until every program runs ---------------------------
count_vigil() { "$VIGILCTL" -s "$T/vigild.sock" status 2>/dev/null | grep -c ' running '; }
count_super() { supervisorctl -c "$T/supervisord.conf" status 2>/dev/null | grep -c RUNNING; }
wait_all() {	# wait_all NAME COUNT-FUNCTION
	local i c
	for i in $(seq 600); do
		c=$($2)
		[ "$c" -ge "$n" ] && return 0
		sleep 0.5
	done
	echo "$0: $1 runs only $c of $n programs" >&2
	exit 1
}
"$VIGILD" -c "$T/vigild.conf" -s "$T/vigild.sock" -l warn >"$T/vigild.log" 2>&1 &
vpid=$!
supervisord -c "$T/supervisord.conf" >"$T/supervisord.out" 2>&1 || cat "$T/supervisord.out" >&2
for _ in $(seq 100); do [ -s "$T/supervisord.pid" ] && break; sleep 0.1; done
spid=$(cat "$T/supervisord.pid" 2>/dev/null)
[ -n "$spid" ] || { echo "$0: supervisord did not start" >&2; exit 1; }
wait_all vigild count_vigil
wait_all supervisord count_super

# ---- measure --------------------------------------------------------------
# One timed call: "WALL CPU" in milliseconds (CPU: user + system of the
# client, which the machine's load does not inflate). The output is
# checked, not just thrown away.
TIMEFORMAT='%3R %3U %3S'
time_ms() {	# time_ms EXPECTED-LINES COMMAND...
	local want=$1 lines
	shift
	{ time "$@" >"$T/out" 2>/dev/null; } 2>"$T/time"
	lines=$(wc -l <"$T/out")
	[ "$lines" -ge "$want" ] || { echo "$0: $1: $lines lines, wanted $want" >&2; exit 1; }
	awk '{ printf "%.3f %.3f\n", $1 * 1000, ($2 + $3) * 1000 }' "$T/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for i in 1 2 3; do	# warm the page cache for both
	"$VIGILCTL" -s "$T/vigild.sock" status >/dev/null
	supervisorctl -c "$T/supervisord.conf" status >/dev/null
done
: >"$T/v.ms"
: >"$T/s.ms"
for i in $(seq "$runs"); do
	if [ $((i % 2)) = 1 ]; then
		time_ms $((n + 1)) "$VIGILCTL" -s "$T/vigild.sock" status >>"$T/v.ms" || exit 1
		time_ms "$n" supervisorctl -c "$T/supervisord.conf" status >>"$T/s.ms" || exit 1
	else
		time_ms "$n" supervisorctl -c "$T/supervisord.conf" status >>"$T/s.ms" || exit 1
		time_ms $((n + 1)) "$VIGILCTL" -s "$T/vigild.sock" status >>"$T/v.ms" || exit 1
	fi
done
vm=$(cut -d' ' -f1 "$T/v.ms" | median)
sm=$(cut -d' ' -f1 "$T/s.ms" | median)
vc=$(cut -d' ' -f2 "$T/v.ms" | median)
sc=$(cut -d' ' -f2 "$T/s.ms" | median)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
awk -v n="$n" -v r="$runs" -v v="$vm" -v s="$sm" -v vc="$vc" -v sc="$sc" \
    -v load="$load" -v sv="$(supervisord -v 2>/dev/null)" 'BEGIN {
	printf "status of %d running programs, median of %d runs each, interleaved (load %s)\n", n, r, load
	printf "                        wall ms   client CPU ms\n"
	printf "  vigilctl status      %8.2f   %8.2f\n", v, vc
	printf "  supervisorctl status %8.2f   %8.2f   (supervisor %s)\n", s, sc, sv
	printf "  ratio                %7.1fx   %7.1fx\n", s / v, sc / vc
	printf "targets (wall): >= 20x faster: %s; under 20 ms: %s\n", \
	    (s / v >= 20) ? "yes" : "NO", (v < 20) ? "yes" : "NO"
}'
