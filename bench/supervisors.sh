#!/usr/bin/env bash
#
# supervisors.sh: vigild side by side with s6 (s6-svscan), runit (runsvdir)
# and supervisord, in one run (issue 3's benchmark). See bench/README.md.
#
#   bench/supervisors.sh [restart] [signal] [rss] [idle] [cold] [stop]
#
# No argument runs everything (about 5 to 10 minutes on 2 cores). Run it as
# root from the build directory (it uses ./daemon/vigild, or $VIGILD), with
# the Debian packages s6, runit, supervisor, tini and catatonit installed; a
# missing peer is skipped. Every supervisor runs in a temporary directory
# with its own scan directory or configuration; every process it starts
# carries VIGIL_BENCH_TAG=<its directory> in its environment, and only
# processes with that tag are ever killed. Everything is removed at the
# end, on failure and on Ctrl-C too.
#
# Knobs (environment): VIGILD, CC, NGAPS (peer restart gaps, 50),
# NGAPS_VIGILD (500), NSIG (signals per path, 300), NSIG_SLOW (for
# supervisorctl, 50), REPS (repetitions with 100 services, 3), IDLE_S (10),
# KEEP=1 (keep the temporary directory).

set -u
export LC_ALL=C
umask 022

SELF_DIR=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(dirname "$SELF_DIR")
NGAPS=${NGAPS:-50}
NGAPS_VIGILD=${NGAPS_VIGILD:-500}
NSIG=${NSIG:-300}
NSIG_SLOW=${NSIG_SLOW:-50}
REPS=${REPS:-3}
IDLE_S=${IDLE_S:-10}
KINDS="vigild s6 runit supervisord"
ALL_BENCHES="restart signal rss idle cold stop"

usage() {
	echo "usage: $0 [restart] [signal] [rss] [idle] [cold] [stop]" >&2
	exit 2
}

say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

declare -A WANT R
for b in "$@"; do
	case " $ALL_BENCHES " in
	*" $b "*) WANT[$b]=1 ;;
	*) usage ;;
	esac
done
[ $# -eq 0 ] && for b in $ALL_BENCHES; do WANT[$b]=1; done
want() { [ -n "${WANT[$1]:-}" ]; }

[ "$(uname -s)" = Linux ] || die "Linux only (/proc, pidfd, inotify)"

# ---- programs ----------------------------------------------------------

if [ -z "${VIGILD:-}" ]; then
	for v in ./daemon/vigild "$SRCDIR/daemon/vigild"; do
		[ -x "$v" ] && { VIGILD=$v; break; }
	done
fi
[ -n "${VIGILD:-}" ] && [ -x "$VIGILD" ] ||
    die "no vigild: build it, run from the build directory or set VIGILD"
VIGILD=$(readlink -f "$VIGILD")

TMP=$(mktemp -d /tmp/vigil-bench.XXXXXX) || die "mktemp"
INSTANCES=$TMP/instances	# "kind dir" of every supervisor started
: >"$INSTANCES"

# Helpers: the ones `make bench' built, else compile them here.
BS='' BT=''
for d in ./bench "$SRCDIR/bench"; do
	[ -x "$d/bench_svc" ] && [ -x "$d/bench_tool" ] &&
	    { BS=$(readlink -f "$d/bench_svc"); BT=$(readlink -f "$d/bench_tool"); break; }
done
if [ -z "$BS" ]; then
	${CC:-cc} -O2 -o "$TMP/bench_svc" "$SRCDIR/bench/bench_svc.c" &&
	${CC:-cc} -O2 -o "$TMP/bench_tool" "$SRCDIR/bench/bench_tool.c" ||
	    die "cannot compile the helpers"
	BS=$TMP/bench_svc BT=$TMP/bench_tool
fi

declare -A HAVE
HAVE[vigild]=1
HAVE[floor]=1		# bench_tool respawn / spawnall: no supervisor at all
command -v s6-svscan >/dev/null && command -v s6-svc >/dev/null &&
    command -v s6-svscanctl >/dev/null && HAVE[s6]=1
command -v runsvdir >/dev/null && command -v sv >/dev/null && HAVE[runit]=1
command -v supervisord >/dev/null && command -v supervisorctl >/dev/null &&
    HAVE[supervisord]=1
command -v tini >/dev/null && HAVE[tini]=1
command -v catatonit >/dev/null && HAVE[catatonit]=1
have() { [ -n "${HAVE[$1]:-}" ]; }
for k in s6 runit supervisord tini catatonit; do
	have $k || say "$k not installed: skipped"
done
S6_SUPERVISE=$(readlink -f "$(command -v s6-supervise 2>/dev/null || echo /nonexistent)")
RUNSV=$(readlink -f "$(command -v runsv 2>/dev/null || echo /nonexistent)")

# 1,000 services need a few thousand descriptors (pipes, control FIFOs).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

# ---- processes: only the tagged ones are ever killed ----------------------

# Pids whose environment holds VIGIL_BENCH_TAG=$1 exactly (-x) or, with
# a second argument, VIGIL_BENCH_TAG=$1 followed by anything.
tagged() {
	local x=-x
	[ $# -gt 1 ] && x=
	grep -lzF $x "VIGIL_BENCH_TAG=$1" /proc/[0-9]*/environ 2>/dev/null |
	    awk -F/ -v self=$$ '$3 != self { print $3 }'
}

kill_tag() {
	local i pids
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(tagged "$@")
		[ -z "$pids" ] && return 0
		kill -KILL $pids 2>/dev/null
		sleep 0.2
	done
	say "warning: processes tagged $1 survive SIGKILL: $pids"
}

# Alive and not a zombie.
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

wait_gone() {	# pid seconds
	local n=$(( $2 * 10 ))
	while alive "$1" && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! alive "$1"
}

cleanup() {
	local rc=$? kind d
	trap - EXIT INT TERM
	while read -r kind d; do
		[ -n "$(tagged "$d")" ] && teardown "$kind" "$d" 5
	done <"$INSTANCES"
	kill_tag "$TMP/" prefix
	if [ -n "${KEEP:-}" ]; then
		say "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

# ---- supervisors ---------------------------------------------------------

# The file or FIFO of service i of an instance in directory d.
target() {
	case $2 in
	sigrecv) echo "$1/fifo" ;;
	*) echo "$1/files/s$3" ;;
	esac
}

# write_conf KIND DIR N MODE: N services running "bench_svc MODE FILE",
# each supervisor at its lowest restart delay.
write_conf() {
	local kind=$1 d=$2 n=$3 mode=$4 i sep
	mkdir -p "$d/files"
	[ "$mode" = sigrecv ] && mkfifo "$d/fifo"
	case $kind in
	floor) ;;
	vigild)
		{
		echo 'vigild = { shutdown_timeout = 60.0; };'
		[ "$mode" = sigrecv ] &&
		    echo 'signals = { SIGUSR2 = { forward = [ "s0" ]; }; };'
		echo 'services = ('
		for ((i = 0; i < n; i++)); do
			sep=,; [ $i -eq $((n - 1)) ] && sep=
			printf '  { name = "s%d"; command = [ "%s", "%s", "%s" ];\n' \
			    $i "$BS" "$mode" "$(target "$d" "$mode" $i)"
			printf '    restart_delay = 0.0; min_uptime = 0.01;\n'
			printf '    start_limit = { burst = 0; interval = 1.0; }; }%s\n' "$sep"
		done
		echo ');'
		} >"$d/vigild.conf"
		;;
	s6)	# No knob: s6-supervise spaces starts by at least 1 s.
		mkdir -p "$d/scan/.s6-svscan"
		for ((i = 0; i < n; i++)); do
			mkdir "$d/scan/s$i"
			ln -s "$BS" "$d/scan/s$i/run"
		done
		# s6's signal routing: s6-svscan runs .s6-svscan/SIGUSR2.
		printf '#!/bin/sh\nexec s6-svc -2 s0\n' >"$d/scan/.s6-svscan/SIGUSR2"
		chmod +x "$d/scan/.s6-svscan/SIGUSR2"
		;;
	runit)	# No knob: runsv waits 1 s after a run shorter than 1 s.
		mkdir -p "$d/sv"
		for ((i = 0; i < n; i++)); do
			mkdir "$d/sv/s$i"
			ln -s "$BS" "$d/sv/s$i/run"
		done
		;;
	supervisord)
		mkdir -p "$d/childlog"
		{
		cat <<-EOF
		[supervisord]
		nodaemon=true
		logfile=$d/supervisord.log
		pidfile=$d/supervisord.pid
		childlogdir=$d/childlog
		loglevel=warn
		minfds=$((4 * n + 256))
		[unix_http_server]
		file=$d/supervisor.sock
		[rpcinterface:supervisor]
		supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
		[supervisorctl]
		serverurl=unix://$d/supervisor.sock
		EOF
		for ((i = 0; i < n; i++)); do
			printf '[program:s%d]\ncommand=%s %s %s\n' \
			    $i "$BS" "$mode" "$(target "$d" "$mode" $i)"
			printf 'startsecs=0\nautorestart=true\nstartretries=1000000\n'
		done
		} >"$d/supervisord.conf"
		;;
	esac
}

# start KIND DIR N MODE WANT TIMEOUT_MS: launch the supervisor of DIR and
# wait until WANT services created their file; prints the milliseconds
# from the launch (or "timeout ...").
start() {
	local kind=$1 d=$2 n=$3 mode=$4 want=$5 timeout=$6 svcdir cmd
	svcdir=$d/files
	[ "$mode" = sigrecv ] && svcdir=$d/fifo
	case $kind in
	vigild)	cmd=("$VIGILD" -c "$d/vigild.conf" -l warn -s "$d/vigild.sock") ;;
	s6)	cmd=(s6-svscan -c $((n + 16)) "$d/scan") ;;
	runit)	cmd=(runsvdir "$d/sv") ;;
	supervisord) cmd=(supervisord -n -c "$d/supervisord.conf") ;;
	floor)	cmd=("$BT" spawnall -n "$n" -- "$BS" "$mode" "$d/files/s%d") ;;
	direct)	cmd=("$BS" "$mode" "$d/fifo") ;;
	tini)	cmd=(tini -s -- "$BS" "$mode" "$d/fifo") ;;
	catatonit) cmd=(catatonit -- "$BS" "$mode" "$d/fifo") ;;
	vigild-single) cmd=("$VIGILD" -l warn -- "$BS" "$mode" "$d/fifo") ;;
	esac
	echo "$kind $d" >>"$INSTANCES"
	"$BT" launch -n "$want" -d "$d/files" -T "$timeout" -P "$d/pid" \
	    -o "$d/sup.log" -E "VIGIL_BENCH_TAG=$d" \
	    -E "BENCH_SVC_MODE=$mode" -E "BENCH_SVC_DIR=$svcdir" -- "${cmd[@]}"
}

pid_of() { cat "$1/pid" 2>/dev/null; }

# The supervisor's own processes.
sup_pids() {
	local pid
	pid=$(pid_of "$2")
	echo "$pid"
	case $1 in
	s6)	"$BT" pids -e "$S6_SUPERVISE" "$pid" ;;
	runit)	"$BT" pids -e "$RUNSV" "$pid" ;;
	esac
}

svc_pids() { "$BT" pids -e "$BS" "$(pid_of "$1")"; }

# The stop request of each supervisor: measured by `bench_tool stop'.
stop_args() {
	local kind=$1 d=$2 pid i
	pid=$(pid_of "$d")
	case $kind in
	vigild|supervisord|floor) echo "-p $pid -s 15" ;;
	s6)	echo "-- s6-svscanctl -t $d/scan" ;;
	runit)	printf -- '-- sv down'
		for i in "$d"/sv/s*; do printf ' %s' "$i"; done
		echo ;;
	esac
}

# teardown KIND DIR SECONDS: ask the supervisor to go, wait, then SIGKILL
# whatever still carries the tag.
teardown() {
	local kind=$1 d=$2 secs=${3:-20} pid
	pid=$(pid_of "$d")
	if [ -n "$pid" ] && alive "$pid" &&
	    grep -qzxF "VIGIL_BENCH_TAG=$d" "/proc/$pid/environ" 2>/dev/null; then
		case $kind in
		runit) kill -HUP "$pid" ;;	# TERM to every runsv, then exit
		*) kill -TERM "$pid" ;;
		esac 2>/dev/null
		wait_gone "$pid" "$secs" || say "$kind did not exit in ${secs}s"
	fi
	kill_tag "$d"
}

# ---- statistics ----------------------------------------------------------

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

wait_lines() {	# file lines seconds
	local n=$(( $3 * 10 ))
	while [ $n -gt 0 ]; do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# ---- 1. restart gap --------------------------------------------------------

# restart_cpu KIND DIR CPU0: add the supervisor's CPU time since it had
# CPU0 milliseconds, and the restarts seen, to RCPU[KIND] and RRUNS[KIND].
restart_cpu() {
	local c1 runs
	# shellcheck disable=SC2046
	c1=$("$BT" cpu $(sup_pids "$1" "$2"))
	runs=$(grep -c '^S' "$2/files/s0")
	RCPU[$1]=$(awk -v s="${RCPU[$1]:-0}" -v a="$3" -v b="$c1" \
	    'BEGIN { print s + b - a }')
	RRUNS[$1]=$(( ${RRUNS[$1]:-0} + runs - 1 ))
}

bench_restart() {
	local k d g r n med p90 runs ms kinds="" rounds=5 per
	declare -A cpu0 RCPU RRUNS
	per=$(( (NGAPS_VIGILD + rounds - 1) / rounds ))
	# vigild and the floor take turns, so both see the same load.
	say "restart gap: vigild and the floor, $rounds rounds of $per gaps"
	for ((r = 0; r < rounds; r++)); do
		d=$TMP/restart-vigild-$r
		write_conf vigild "$d" 1 stamp
		start vigild "$d" 1 stamp 0 10000 >/dev/null
		cpu0[vigild]=$("$BT" cpu "$(pid_of "$d")")
		wait_lines "$d/files/s0" $((2 * per + 2)) 60 ||
		    say "vigild: fewer restarts than wanted in 60 s"
		restart_cpu vigild "$d" "${cpu0[vigild]}"
		teardown vigild "$d"
		d=$TMP/restart-floor-$r
		mkdir -p "$d/files"
		read -r runs ms <<<"$(VIGIL_BENCH_TAG=$d "$BT" respawn \
		    -n $((per + 1)) -T 60000 -- "$BS" stamp "$d/files/s0")"
		RCPU[floor]=$(awk -v s="${RCPU[floor]:-0}" -v c="${ms:-0}" \
		    'BEGIN { print s + c }')
		RRUNS[floor]=$(( ${RRUNS[floor]:-0} + ${runs:-0} ))
	done
	for k in s6 runit supervisord; do
		have $k && kinds="$kinds $k"
	done
	say "restart gap:$kinds side by side ($NGAPS gaps, about $((NGAPS + 5)) s)"
	for k in $kinds; do
		d=$TMP/restart-$k-0
		write_conf $k "$d" 1 stamp
		start $k "$d" 1 stamp 0 10000 >/dev/null
	done
	sleep 0.2	# let s6-svscan and runsvdir start their supervise/runsv
	# shellcheck disable=SC2046
	for k in $kinds; do
		cpu0[$k]=$("$BT" cpu $(sup_pids $k "$TMP/restart-$k-0"))
	done
	for k in $kinds; do
		wait_lines "$TMP/restart-$k-0/files/s0" $((2 * NGAPS + 2)) \
		    $((NGAPS * 4 + 60)) || say "$k: fewer restarts than wanted"
		restart_cpu $k "$TMP/restart-$k-0" "${cpu0[$k]}"
	done
	for k in $kinds; do teardown $k "$TMP/restart-$k-0"; done
	for k in vigild floor $kinds; do
		if g=$("$BT" gaps "$TMP"/restart-$k-*/files/s0 2>/dev/null); then
			read -r n med p90 _ _ <<<"$g"
			R[gap,$k]=$(printf '%.2f [%.2f]' "$med" "$p90")
			R[gapn,$k]=$n
			R[gapmed,$k]=$med
		fi
		[ "${RRUNS[$k]:-0}" -gt 0 ] && R[rcpu,$k]=$(awk -v c="${RCPU[$k]}" \
		    -v n="${RRUNS[$k]}" 'BEGIN { printf "%.0f", c * 1000 / n }')
	done
}

# ---- 2. routed signal ------------------------------------------------------

# "median p90" in microseconds of a file of nanoseconds, one a line.
quant_us() {
	sort -n "$1" 2>/dev/null | awk '{ v[NR] = $1 } END {
	    if (NR == 0) { print "- -"; exit }
	    printf "%.0f %.0f\n", v[int(0.5 * (NR - 1) + 0.5) + 1] / 1000,
		v[int(0.9 * (NR - 1) + 0.5) + 1] / 1000 }'
}

# sig_start NAME KIND: one sigrecv service under KIND in $TMP/signal-NAME.
sig_start() {
	local d=$TMP/signal-$1
	case $2 in
	vigild|s6|runit|supervisord) write_conf "$2" "$d" 1 sigrecv ;;
	*) mkdir -p "$d/files"; mkfifo "$d/fifo" ;;
	esac
	start "$2" "$d" 1 sigrecv 0 10000 >/dev/null
}

# sig_send NAME N [CMD...]: N signals through path NAME (kill() its pid, or
# run CMD), latencies appended to $TMP/signal-NAME/lat; without -W in $SIGW
# it first waits for the receiver to say it is ready.
sig_send() {
	local name=$1 n=$2 d=$TMP/signal-$1 out
	shift 2
	if [ $# -gt 0 ]; then
		out=$("$BT" sig $SIGW -n "$n" -T 5000 -o "$d/lat" "$d/fifo" -- "$@")
	else
		out=$("$BT" sig $SIGW -n "$n" -T 2000 -o "$d/lat" \
		    -p "$(pid_of "$d")" "$d/fifo")
	fi
	read -r _ _ _ _ _ lost <<<"$out"
	R[siglost,$name]=$(( ${R[siglost,$name]:-0} + ${lost:-$n} ))
}

sig_result() {	# NAME [LABEL-NAME]
	local med p90 d=$TMP/signal-$1 k=${2:-$1}
	read -r med p90 <<<"$(quant_us "$d/lat")"
	[ "$med" = - ] && return
	R[sig,$k]="$med [$p90]"
	R[sigmed,$k]=$med
	R[sign,$k]="$(wc -l <"$d/lat")/$(( $(wc -l <"$d/lat") + ${R[siglost,$1]:-0} ))"
}

bench_signal() {
	local fast=() p r i rounds=10 per
	per=$(( (NSIG + rounds - 1) / rounds ))
	fast+=(direct:direct)
	have tini && fast+=(tini:tini)
	have catatonit && fast+=(catatonit:catatonit)
	fast+=(vigild-single:vigild-single vigild:vigild)
	have s6 && fast+=(s6:s6)
	say "signal latency: kill() paths interleaved, $rounds rounds of $per"
	for p in "${fast[@]}"; do sig_start "${p%%:*}" "${p#*:}"; done
	for ((r = 0; r < rounds; r++)); do
		SIGW=-W
		[ $r -eq 0 ] && SIGW=
		for ((i = 0; i < ${#fast[@]}; i++)); do
			p=${fast[(i + r) % ${#fast[@]}]}
			sig_send "${p%%:*}" "$per"
		done
	done
	for p in "${fast[@]}"; do sig_result "${p%%:*}"; done
	SIGW=-W
	if have s6; then
		say "signal latency: s6-svc -2 (command), $per"
		mv "$TMP/signal-s6/lat" "$TMP/signal-s6/lat.kill"
		R[siglost,s6]=0
		sig_send s6 "$per" s6-svc -2 "$TMP/signal-s6/scan/s0"
		sig_result s6 s6-svc
	fi
	for p in "${fast[@]}"; do teardown "${p#*:}" "$TMP/signal-${p%%:*}"; done
	SIGW=
	if have runit; then
		say "signal latency: runit, sv 2 (command), $per"
		sig_start runit runit
		sig_send runit "$per" sv 2 "$TMP/signal-runit/sv/s0"
		sig_result runit
		teardown runit "$TMP/signal-runit"
	fi
	if have supervisord; then
		say "signal latency: supervisorctl signal (command), $NSIG_SLOW"
		sig_start supervisord supervisord
		sig_send supervisord "$NSIG_SLOW" supervisorctl -c \
		    "$TMP/signal-supervisord/supervisord.conf" signal USR2 s0
		sig_result supervisord
		teardown supervisord "$TMP/signal-supervisord"
	fi
}

# ---- 3, 5, 6. memory, cold start, stop -------------------------------------

# fleet N REPS: per repetition and supervisor: cold start of N services,
# PSS/RSS of the supervisor, then the stop.
fleet() {
	local n=$1 reps=$2 rep k d ms p r npids timeout=$(( $1 < 500 ? 60000 : 240000 ))
	declare -A cold pss rss stop ccpu scpu bound
	for ((rep = 1; rep <= reps; rep++)); do
		for k in $KINDS floor; do
			have $k || continue
			say "$n services: $k (repetition $rep of $reps)"
			d=$TMP/fleet$n-$k-$rep
			write_conf $k "$d" "$n" touch
			if ! ms=$(start $k "$d" "$n" touch "$n" $timeout); then
				say "$k: cold start of $n: $ms"
				teardown $k "$d"
				continue
			fi
			cold[$k]="${cold[$k]:-} $ms"
			# shellcheck disable=SC2046
			ccpu[$k]="${ccpu[$k]:-} $("$BT" cpu $(sup_pids $k "$d"))"
			sleep 2		# let it settle
			# shellcheck disable=SC2046
			read -r p r <<<"$("$BT" mem $(sup_pids $k "$d"))"
			pss[$k]="${pss[$k]:-} $p"
			rss[$k]="${rss[$k]:-} $r"
			svc_pids "$d" >"$d/svcpids"
			npids=$(wc -l <"$d/svcpids")
			# The services' own CPU until now (exec, loader, the
			# touch): with the supervisor's, what the cores had to
			# run before the last file could appear.
			# shellcheck disable=SC2046
			p=$("$BT" cpu $(cat "$d/svcpids"))
			scpu[$k]="${scpu[$k]:-} $p"
			bound[$k]="${bound[$k]:-} $(awk -v a="$p" -v b="${ccpu[$k]##* }" \
			    -v c="$(nproc)" 'BEGIN { printf "%.0f", (a + b) / c }')"
			[ "$npids" -eq "$n" ] ||
			    say "$k: $npids service processes, not $n"
			# shellcheck disable=SC2046
			if ms=$("$BT" stop -f "$d/svcpids" -T 60000 $(stop_args $k "$d")); then
				stop[$k]="${stop[$k]:-} $ms"
			else
				say "$k: stop of $n: $ms"
			fi
			teardown $k "$d"
			rm -rf "$d"
		done
	done
	for k in $KINDS floor; do
		[ -n "${cold[$k]:-}" ] || continue
		R[cold$n,$k]=$(printf '%s\n' ${cold[$k]} | median)
		R[ccpu$n,$k]=$(printf '%s\n' ${ccpu[$k]} | median)
		R[scpu$n,$k]=$(printf '%s\n' ${scpu[$k]} | median)
		R[bound$n,$k]=$(printf '%s\n' ${bound[$k]} | median)
		R[pss$n,$k]=$(mib "$(printf '%s\n' ${pss[$k]} | median)")
		R[rss$n,$k]=$(mib "$(printf '%s\n' ${rss[$k]} | median)")
		[ -n "${stop[$k]:-}" ] &&
		    R[stop$n,$k]=$(printf '%s\n' ${stop[$k]} | median)
	done
}

# ---- 4. idle wakeups -------------------------------------------------------

bench_idle() {
	local k d c1
	declare -A before
	say "idle wakeups: 10 services each, all side by side, ${IDLE_S} s window"
	for k in $KINDS; do
		have $k || continue
		d=$TMP/idle-$k
		write_conf $k "$d" 10 touch
		start $k "$d" 10 touch 10 60000 >/dev/null ||
		    say "$k: the 10 services did not all start"
	done
	sleep 3
	for k in $KINDS; do
		# shellcheck disable=SC2046
		have $k && before[$k]=$("$BT" ctxt $(sup_pids $k "$TMP/idle-$k"))
	done
	sleep "$IDLE_S"
	for k in $KINDS; do
		have $k || continue
		# shellcheck disable=SC2046
		c1=$("$BT" ctxt $(sup_pids $k "$TMP/idle-$k"))
		R[idle,$k]=$(awk -v a="${before[$k]}" -v b="$c1" -v s="$IDLE_S" \
		    'BEGIN { printf "%.1f", (b - a) / s }')
	done
	for k in $KINDS; do have $k && teardown $k "$TMP/idle-$k"; done
}

# ---- the run ---------------------------------------------------------------

T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "vigild: $VIGILD; scratch: $TMP"
want restart && bench_restart
want signal && bench_signal
if want rss || want cold || want stop; then
	fleet 100 "$REPS"
fi
if want rss || want cold; then
	fleet 1000 1
fi
want idle && bench_idle
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table -------------------------------------------------------------

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
v() { echo "${R[$1]:--}"; }
# verdict VALUE OP LIMIT
verdict() {
	[ "$1" = - ] || [ -z "$1" ] && { echo "not run"; return; }
	awk -v x="$1" -v op="$2" -v l="$3" 'BEGIN {
	    ok = (op == "<=") ? x <= l : x < l; print ok ? "met" : "MISSED" }'
}
FMT='%-31s %15s %17s %17s %17s %15s  %-9s %s\n'
row() {	# label key target verdict
	# shellcheck disable=SC2059
	printf "$FMT" "$1" "$(v "$2,vigild")" "$(v "$2,s6")" "$(v "$2,runit")" \
	    "$(v "$2,supervisord")" "$(v "$2,floor")" "$3" "$4"
}

echo
echo "vigild vs s6, runit, supervisord: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr),"
echo "$(nproc) CPUs, load average $LOAD0 before and $LOAD1 after; $(( $(date +%s) - T0 )) s."
echo "vigild $("$VIGILD" -V 2>/dev/null | awk '{ print $2 }'), s6 $(ver s6), runit $(ver runit)," \
    "supervisor $(ver supervisor), tini $(ver tini), catatonit $(ver catatonit)."
echo "Command: $0 $*"
echo
# shellcheck disable=SC2059
printf "$FMT" "" vigild s6 runit supervisord floor "target" "vigild"
if want restart; then
	row "restart gap, median [p90] ms" gap "<= 5 ms" \
	    "$(verdict "$(v gapmed,vigild)" "<=" 5)"
	row "  (gaps measured)" gapn "" ""
	row "supervisor CPU per restart, us" rcpu "" ""
fi
if want signal; then
	R[sigroute,vigild]=${R[sigmed,vigild]:--}
	R[sigroute,s6]="${R[sigmed,s6]:--}"
	R[sigroute,runit]="${R[sigmed,runit]:--}*"
	R[sigroute,supervisord]="${R[sigmed,supervisord]:--}*"
	R[sigroute,floor]="${R[sigmed,direct]:--}"
	# No worse than a kill() forwarder: the slower of tini and catatonit.
	best=$(printf '%s\n' "${R[sigmed,tini]:-}" "${R[sigmed,catatonit]:-}" |
	    grep . | sort -g | tail -1)
	row "routed SIGUSR2, median us" sigroute "<= ${best:-?} us" \
	    "$(verdict "$(v sigmed,vigild)" "<=" "${best:-0}")"
fi
if want rss; then
	row "PSS, 100 services, MiB" pss100 "" ""
	row "RSS, 100 services, MiB" rss100 "" ""
	row "PSS, 1000 services, MiB" pss1000 "< 8 MiB" \
	    "$(verdict "$(v pss1000,vigild)" "<" 8)"
	row "RSS, 1000 services, MiB" rss1000 "" ""
fi
want idle && row "idle wakeups/s, 10 services" idle "0" \
    "$(verdict "$(v idle,vigild)" "<=" 0)"
if want cold; then
	row "cold start, 100 services, ms" cold100 "" ""
	row "cold start, 1000 services, ms" cold1000 "< 1500 ms" \
	    "$(verdict "$(v cold1000,vigild)" "<" 1500)"
	row "  supervisor CPU for it, ms" ccpu1000 "" ""
	row "  the services' own CPU, ms" scpu1000 "" ""
	row "  CPU bound: sum / CPUs, ms" bound1000 "" ""
fi
if want stop; then
	row "stop, 100 services, ms" stop100 "< 100 ms" \
	    "$(verdict "$(v stop100,vigild)" "<" 100)"
fi
[ -n "${R[stop1000,vigild]:-}" ] && row "stop, 1000 services, ms" stop1000 "" ""
echo
echo "floor: no supervisor at all; restart: bench_tool respawn (posix_spawn, waitpid,"
echo "again); signal: kill() the service itself; memory, cold start and stop:"
echo "bench_tool spawnall (posix_spawn N services, SIGTERM them on SIGTERM)."
if want cold; then
	echo "Cold start cannot beat its CPU bound: the supervisor's CPU plus the"
	echo "services' own (exec, dynamic loader, creating the file), over the CPUs."
fi
if want signal; then
	echo
	echo "kill()/command to handler, median [p90] us (signals received):"
	for p in direct tini catatonit vigild-single vigild s6 s6-svc runit supervisord; do
		[ -n "${R[sig,$p]:-}" ] || continue
		case $p in
		direct) l="kill() the service itself" ;;
		tini) l="tini -s -- SVC: kill(tini)" ;;
		catatonit) l="catatonit -- SVC: kill(catatonit)" ;;
		vigild-single) l="vigild -- SVC: kill(vigild)" ;;
		vigild) l="vigild, forward rule: kill(vigild)" ;;
		s6) l="s6: kill(s6-svscan), .s6-svscan/SIGUSR2 runs s6-svc -2" ;;
		s6-svc) l="s6: s6-svc -2 (command)" ;;
		runit) l="runit: sv 2 (command)*" ;;
		supervisord) l="supervisord: supervisorctl signal USR2 (command)*" ;;
		esac
		printf '  %-58s %15s  (%s)\n' "$l" "${R[sig,$p]}" "${R[sign,$p]}"
	done
	echo "  * runit and supervisord do not route signals they receive; the figure"
	echo "    is the time from starting their control command to the handler."
fi
