# tools/bench/lib.sh - helpers the benchmark scripts share. Sourced, not run.
# The sourcing script sets BENCH_TAG (log prefix) and keeps the processes it
# started in the associative array LIVE (pid -> name).
# shellcheck shell=bash

log() { printf '%s: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# alive PID: running and not a zombie
alive()
{
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# stop_pid PID: SIGTERM, wait up to 10 s, SIGKILL if it did not go. Sets
# STOP_RC to the exit status, "timeout" when it had to be killed.
stop_pid()
{
	local pid=$1 i
	STOP_RC=0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			log "${LIVE[$pid]:-process} (pid $pid) still running 10 s after SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			STOP_RC=timeout
		fi
	fi
	if [[ $STOP_RC != timeout ]]; then
		wait "$pid" 2>/dev/null || STOP_RC=$?
	else
		wait "$pid" 2>/dev/null || true
	fi
	unset "LIVE[$pid]"
}

# stop_live: stop every process still in LIVE (for cleanup traps)
stop_live()
{
	local pid
	for pid in "${!LIVE[@]}"; do
		log "cleanup: stopping ${LIVE[$pid]} (pid $pid)"
		stop_pid "$pid"
	done
}

# bpftool prog show -j on stdin -> "id name run_time_ns run_cnt" lines
prog_table()
{
	python3 -c '
import json, sys
try:
    progs = json.load(sys.stdin)
except ValueError:
    progs = []
for p in progs:
    print(p["id"], p.get("name", "?") or "?", p.get("run_time_ns", 0), p.get("run_cnt", 0))
'
}

# the BPF program ids process PID holds open
held_prog_ids()
{
	grep -hs '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u || true
}

free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# median of the numbers on stdin; MEDIAN_NONE ("" by default) when none
median()
{
	sort -g | awk -v none="${MEDIAN_NONE:-}" '{ a[NR] = $1 } END {
		if (NR == 0) { if (none != "") print none; exit }
		if (NR % 2) printf "%.6g\n", a[(NR + 1) / 2]
		else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# kp_start: the kpulse daemon ($KPULSE) on a free loopback port, its output
# appended to $TMP/kpulse.log. Sets KP_PID and KP_URL; returns 0 once
# /health answers (its body in $TMP/health.json), 1 when it exited or did
# not answer within 15 s (the last lines of its log are shown; the process
# is left for the caller to stop).
kp_start()
{
	local port i
	port=$(free_port)
	"$KPULSE" daemon --listen "127.0.0.1:$port" >>"$TMP/kpulse.log" 2>&1 &
	KP_PID=$!
	# shellcheck disable=SC2004 # LIVE is the caller's associative array
	LIVE[$KP_PID]=kpulse
	KP_URL="http://127.0.0.1:$port"
	for ((i = 0; i < 150; i++)); do
		if curl -fsS --max-time 1 "$KP_URL/health" >"$TMP/health.json" 2>/dev/null; then
			return 0
		fi
		alive "$KP_PID" || break
		sleep 0.1
	done
	log "kpulse did not answer $KP_URL/health; its log:"
	tail -n 20 "$TMP/kpulse.log" >&2
	return 1
}

# kp_wait_steady: wait until the daemon at $KP_URL has made its first timed
# collection (/health "collections" >= 2; the first is made at start-up).
# Its start-up work is then done and the BPF run-time stats it holds from
# its start to that collection are off; the next sampled window opens 30
# intervals later. Returns 1 when that does not happen within 20 s.
kp_wait_steady()
{
	local i n
	for ((i = 0; i < 200; i++)); do
		n=$(curl -fsS --max-time 1 "$KP_URL/health" 2>/dev/null |
			grep -o '"collections": *[0-9]*' | grep -o '[0-9]*$')
		((${n:-0} >= 2)) && return 0
		sleep 0.1
	done
	log "kpulse made no timed collection within 20 s"
	return 1
}

# build_floor: tools/bench/floor.bpf.c and its loader into $OUT/floor, with
# the Makefile's BPF flags.
build_floor()
{
	local arch bpf_arch
	arch=$(uname -m)
	bpf_arch=${arch/x86_64/x86}
	bpf_arch=${bpf_arch/aarch64/arm64}
	log "building the floor programs into $OUT/"
	mkdir -p "$OUT"
	clang -g -O2 -target bpf -D__TARGET_ARCH_"$bpf_arch" -Ivmlinux/"$arch" -Iinclude -Wall -Werror \
		-c tools/bench/floor.bpf.c -o "$OUT/floor.tmp.bpf.o"
	bpftool gen object "$OUT/floor.bpf.o" "$OUT/floor.tmp.bpf.o"
	rm -f "$OUT/floor.tmp.bpf.o"
	bpftool gen skeleton "$OUT/floor.bpf.o" name floor_bpf >"$OUT/floor.skel.h.tmp"
	mv "$OUT/floor.skel.h.tmp" "$OUT/floor.skel.h"
	gcc -O2 -g -std=gnu11 -Wall -Wextra -Werror -I"$OUT" -Iinclude tools/bench/floor.c \
		-lbpf -lelf -lz -o "$OUT/floor"
}

# floor_start [TRACEPOINT...]: $OUT/floor attached to those tracepoints
# (sched_switch when none), its output in $TMP/floor.log. Sets SUBJ_PID;
# returns 1 (the process stopped) when it did not attach within 10 s.
floor_start()
{
	local i
	"$OUT/floor" "$@" >"$TMP/floor.log" 2>&1 &
	SUBJ_PID=$!
	# shellcheck disable=SC2004 # LIVE is the caller's associative array
	LIVE[$SUBJ_PID]=floor
	for ((i = 0; i < 100; i++)); do
		grep -q '^floor: attached' "$TMP/floor.log" && return 0
		alive "$SUBJ_PID" || break
		sleep 0.1
	done
	log "floor did not attach:"
	cat "$TMP/floor.log" >&2
	stop_pid "$SUBJ_PID"
	return 1
}

# kp_stop PID: SIGTERM to a kpulse daemon, counted in KP_STOPS and, when it
# did not exit 0 within 10 s, in KP_BAD_STOPS (the caller sets both to 0).
kp_stop()
{
	stop_pid "$1"
	KP_STOPS=$((KP_STOPS + 1))
	if [[ $STOP_RC != 0 ]]; then
		KP_BAD_STOPS=$((KP_BAD_STOPS + 1))
		log "kpulse (pid $1) did not exit cleanly on SIGTERM: status $STOP_RC"
	fi
}

# print_notes: the caller's NOTES array as report bullets
print_notes()
{
	local n
	for n in "${NOTES[@]+"${NOTES[@]}"}"; do
		echo "- $n"
	done
}

# publish_report: the caller's report() into $RESULTS and stdout, then exit
# with $FAILED
publish_report()
{
	report >"$TMP/report.md"
	cp "$TMP/report.md" "$RESULTS"
	cat "$TMP/report.md"
	log "report written to $RESULTS"
	exit "$FAILED"
}
