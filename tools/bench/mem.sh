#!/usr/bin/env bash
# tools/bench/mem.sh - what kpulse's memory programs (bpf/mem.bpf.c) cost.
#
#   1. idle: run counts of every kpulse program over BENCH_IDLE_SECS with
#      nothing short of memory. Reclaim and OOM tracepoints do not fire, so
#      the memory programs should not run at all (the scheduler ones are
#      shown for contrast).
#   2. reclaim-heavy: BENCH_SCANNERS readers scan a file three times the
#      limit of a memory cgroup through the page cache (steady memcg reclaim,
#      no swap, no OOM) for BENCH_RECLAIM_SECS, BENCH_REPS times: ns per
#      invocation of each memory program, next to the mean reclaim stall
#      kpulse measured (what the program's cost is a fraction of).
#   3. OOM: BENCH_OOM_KILLS kills in a 32 MiB cgroup: ns per mark_victim.
# ns/event = delta run_time_ns / delta run_cnt from `bpftool prog show -j`
# around each phase, for the programs the daemon holds (by fd, not by name).
# kernel.bpf_stats_enabled is set to 1 for the run and restored at exit.
#
# Cgroup layout is read from mountinfo: on pure v2 the limit is memory.max
# of a v2 cgroup we create; on hybrid hosts (v1 memory controller) it is a
# child of this shell's own v1 memory cgroup, with the readers in both it and
# a v2 cgroup. Everything created (cgroups, processes, the scratch file) is
# removed at exit, also on failure; nothing else is touched.
#
# Run as root after `make kpulse .output/workload`. The markdown report goes
# to stdout and to tools/bench/results-mem.md; progress goes to stderr. Exit
# status: 0 when everything was measured and cleaned up, 1 otherwise.
#
# Environment: BENCH_REPS (3), BENCH_RECLAIM_SECS (8), BENCH_IDLE_SECS (30),
# BENCH_OOM_KILLS (5), BENCH_LIMIT_MIB (40), BENCH_SCANNERS (CPUs).

# shellcheck disable=SC2317 # cleanup is called indirectly (trap)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BENCH_TAG=bench-mem
MEDIAN_NONE=n/a
# shellcheck source=tools/bench/lib.sh
. tools/bench/lib.sh

REPS=${BENCH_REPS:-3}
RECLAIM_SECS=${BENCH_RECLAIM_SECS:-8}
IDLE_SECS=${BENCH_IDLE_SECS:-30}
OOM_KILLS=${BENCH_OOM_KILLS:-5}
LIMIT_MIB=${BENCH_LIMIT_MIB:-40}
SCANNERS=${BENCH_SCANNERS:-$(nproc)}
OOM_LIMIT_MIB=32
RESULTS=tools/bench/results-mem.md
KPULSE=./kpulse
WORKLOAD=.output/workload
TAG=kpulse-bench-mem-$$


for v in REPS RECLAIM_SECS IDLE_SECS OOM_KILLS LIMIT_MIB SCANNERS; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
		die "BENCH_$v='${!v}' is not a positive number"
	fi
done
[[ $(id -u) -eq 0 ]] || die "needs root (BPF, cgroups)"
[[ -x $KPULSE && -x $WORKLOAD ]] || die "build first: make kpulse .output/workload"
command -v bpftool >/dev/null || die "bpftool is missing (tools/install-deps.sh)"

# ---------------------------------------------------------------------------
# Everything we start or change is undone in cleanup.
declare -A LIVE=()	# pid -> name
MADE=()			# cgroup directories, removed in reverse order
STATS_PREV=""
TMP=$(mktemp -d)
DATA=""
FAILED=0
NOTES=()


cleanup()
{
	local rc=$? d i
	set +e
	trap - EXIT INT TERM
	stop_live
	for ((i = ${#MADE[@]} - 1; i >= 0; i--)); do
		d=${MADE[$i]}
		for _ in $(seq 50); do rmdir "$d" 2>/dev/null && break; [[ -d $d ]] || break; sleep 0.1; done
		[[ -d $d ]] && { log "error: could not remove $d"; rc=1; }
	done
	[[ -n $DATA ]] && rm -f "$DATA"
	[[ -n $STATS_PREV ]] && sysctl -qw kernel.bpf_stats_enabled="$STATS_PREV"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Cgroup layout, from mountinfo: "v2 V2ROOT" or "v1 V2ROOT V1DIR" where
# V1DIR is our own v1 memory cgroup.
layout()
{
	python3 - <<'EOF'
import os
v2 = v1 = None
for line in open("/proc/self/mountinfo"):
    left, _, right = line.partition(" - ")
    l, r = left.split(), right.split()
    if len(r) < 3 or len(l) < 5:
        continue
    mnt, root = l[4].replace("\\040", " "), l[3].replace("\\040", " ")
    if r[0] == "cgroup2" and v2 is None:
        v2 = mnt
    elif r[0] == "cgroup" and "memory" in r[2].split(",") and v1 is None:
        v1 = (mnt, root)
if v2 is None:
    raise SystemExit("none")
if "memory" in open(os.path.join(v2, "cgroup.subtree_control")).read().split():
    print("v2", v2)
elif v1:
    own = [l.rstrip("\n").split(":", 2)[2] for l in open("/proc/self/cgroup")
           if "memory" in l.split(":")[1].split(",")][0]
    if v1[1] != "/":
        own = own[len(v1[1]):]
    print("v1", v2, v1[0] + own.rstrip("/"))
else:
    print("none")
EOF
}

read -r LAYOUT V2ROOT V1OWN < <(layout) || true
[[ $LAYOUT == v1 || $LAYOUT == v2 ]] || die "no memory controller to put a limit with (cgroup layout: ${LAYOUT:-unknown})"

# make_box NAME LIMIT_MIB -> sets BOX_PROCS (cgroup.procs files to join)
# and BOX_MEM (the memory cgroup directory)
BASE=$V2ROOT/$TAG
mkdir "$BASE"
MADE+=("$BASE")
if [[ $LAYOUT == v2 ]]; then
	echo +memory >"$BASE/cgroup.subtree_control"
fi
make_box()
{
	local name=$1 limit=$2
	mkdir "$BASE/$name"
	MADE+=("$BASE/$name")
	BOX_PROCS=("$BASE/$name/cgroup.procs")
	if [[ $LAYOUT == v2 ]]; then
		BOX_MEM=$BASE/$name
		echo $((limit << 20)) >"$BOX_MEM/memory.max"
	else
		BOX_MEM=$V1OWN/$TAG-$name
		mkdir "$BOX_MEM"
		MADE+=("$BOX_MEM")
		echo $((limit << 20)) >"$BOX_MEM/memory.limit_in_bytes"
		BOX_PROCS+=("$BOX_MEM/cgroup.procs")
	fi
}

# run_in NAME CMD...: start CMD in the box's cgroups (joined before exec)
run_in()
{
	local files="$1"
	shift
	# shellcheck disable=SC2016 # $$ and $f are the child shell's
	sh -c 'for f in '"$files"'; do echo $$ >"$f"; done; exec "$@"' sh "$@" &
	RUN_PID=$!
	LIVE[$RUN_PID]=$1
}

# ---------------------------------------------------------------------------
# The daemon and its programs.

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
"$KPULSE" daemon --listen "127.0.0.1:$PORT" --interval 2s >"$TMP/kpulse.log" 2>&1 &
KP_PID=$!
LIVE[$KP_PID]=kpulse
for ((i = 0; i < 100; i++)); do
	curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
	alive "$KP_PID" || die "kpulse exited: $(cat "$TMP/kpulse.log")"
	sleep 0.1
done

# "id name" of the programs kpulse holds (fdinfo prog_id: exact ownership)
OWN_IDS=$(grep -hs '^prog_id:' /proc/"$KP_PID"/fdinfo/* | awk '{ print $2 }' | sort -un | tr '\n' ' ')
[[ -n $OWN_IDS ]] || die "cannot see kpulse's programs in /proc/$KP_PID/fdinfo"

# snapshot FILE: "name run_time_ns run_cnt" for every program kpulse holds
snapshot()
{
	bpftool prog show -j | OWN_IDS="$OWN_IDS" python3 -c '
import json, os, sys
own = set(int(x) for x in os.environ["OWN_IDS"].split())
for p in json.load(sys.stdin):
    if p["id"] in own and p.get("name", "").startswith("kp_"):
        print(p["name"], p.get("run_time_ns", 0), p.get("run_cnt", 0))
' | sort >"$1"
}

# delta A B -> "name d_ns d_cnt" per program
delta() { join "$1" "$2" | awk '{ print $1, $4 - $2, $5 - $3 }'; }

MEM_PROGS="kp_mrcl_b kp_mrcl_e kp_drcl_b kp_drcl_e kp_victim"
is_mem() { [[ " $MEM_PROGS " == *" ${1%_raw} "* ]]; }
snapshot "$TMP/start"
ATTACH=$(awk '{ print $1 }' "$TMP/start" | grep -q _raw && echo raw_tp || echo tp_btf)
for p in $MEM_PROGS; do
	grep -q "^${p}\(_raw\)\? " "$TMP/start" || NOTES+=("program $p is not loaded: its rows read n/a (see /health).")
done

metric() { curl -fs "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" -v c="$2" \
	'index($0, n "{") == 1 && index($0, "cgroup=\"" c "\"") { v = $NF } END { print v + 0 }'; }

vmstat_sum() { awk -v re="$1" '$1 ~ re { s += $2 } END { print s + 0 }' /proc/vmstat; }

# ---------------------------------------------------------------------------
# 1. idle

LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
log "1/3 idle for $IDLE_SECS s"
STALL0=$(vmstat_sum '^allocstall')
snapshot "$TMP/i0"
sleep "$IDLE_SECS"
snapshot "$TMP/i1"
STALL1=$(vmstat_sum '^allocstall')
delta "$TMP/i0" "$TMP/i1" >"$TMP/idle"

# ---------------------------------------------------------------------------
# 2. reclaim-heavy

FILE_MIB=$((3 * LIMIT_MIB))
DATA=$ROOT/.output/$TAG.dat
log "2/3 reclaim: $SCANNERS readers of a $FILE_MIB MiB file in a $LIMIT_MIB MiB cgroup, $REPS x $RECLAIM_SECS s ($LAYOUT layout)"
python3 - "$DATA" "$FILE_MIB" <<'EOF'
import os, sys
chunk = os.urandom(1 << 20)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(chunk)
    f.flush()
    os.fsync(f.fileno())
EOF
make_box reclaim "$LIMIT_MIB"
RECLAIM_PROCS="${BOX_PROCS[*]}"
RECLAIM_MEM=$BOX_MEM
: >"$TMP/reclaim"
for ((rep = 1; rep <= REPS; rep++)); do
	# start cold: the file's pages leave the cache (and the cgroup)
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$DATA"
	snapshot "$TMP/r0"
	n0=$(metric kpulse_container_memory_reclaim_seconds_count "/$TAG/reclaim")
	s0=$(metric kpulse_container_memory_reclaim_seconds_sum "/$TAG/reclaim")
	pids=()
	for ((k = 0; k < SCANNERS; k++)); do
		run_in "$RECLAIM_PROCS" "$WORKLOAD" filescan "$DATA" "$RECLAIM_SECS"
		pids+=("$RUN_PID")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || die "a reader failed (pid $pid)"
		unset "LIVE[$pid]"
	done
	snapshot "$TMP/r1"
	n1=$(metric kpulse_container_memory_reclaim_seconds_count "/$TAG/reclaim")
	s1=$(metric kpulse_container_memory_reclaim_seconds_sum "/$TAG/reclaim")
	delta "$TMP/r0" "$TMP/r1" | awk -v r="$rep" '{ print r, $0 }' >>"$TMP/reclaim"
	echo "$rep $((n1 - n0)) $(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" >>"$TMP/stalls"
	log "  run $rep/$REPS: $((n1 - n0)) reclaim stalls"
done
FAILCNT=$(awk '$1 == "max" { print $2; next } NF == 1 { print $1 }' \
	"$RECLAIM_MEM/$([[ $LAYOUT == v2 ]] && echo memory.events || echo memory.failcnt)")

# ---------------------------------------------------------------------------
# 3. OOM kills

log "3/3 $OOM_KILLS OOM kills in a $OOM_LIMIT_MIB MiB cgroup"
make_box oom "$OOM_LIMIT_MIB"
OOM_PROCS="${BOX_PROCS[*]}"
snapshot "$TMP/o0"
KILLED=0
for ((k = 0; k < OOM_KILLS; k++)); do
	run_in "$OOM_PROCS" "$WORKLOAD" alloc $((8 * OOM_LIMIT_MIB)) 30
	rc=0
	wait "$RUN_PID" || rc=$?
	unset "LIVE[$RUN_PID]"
	((rc == 137)) && KILLED=$((KILLED + 1))
done
snapshot "$TMP/o1"
delta "$TMP/o0" "$TMP/o1" >"$TMP/oom"
((KILLED == OOM_KILLS)) || NOTES+=("only $KILLED of $OOM_KILLS allocators were OOM-killed.")

# ---------------------------------------------------------------------------
# Stop kpulse; its programs must go with it.

stop_pid "$KP_PID"
[[ $STOP_RC == 0 ]] || { NOTES+=("kpulse did not exit 0 on SIGTERM: $STOP_RC"); FAILED=1; }
OOM_LINES=$(grep -c '^kpulse: oom_kill ' "$TMP/kpulse.log" || true)
for _ in $(seq 20); do
	left=$(bpftool prog show -j | OWN_IDS="$OWN_IDS" python3 -c '
import json, os, sys
own = set(int(x) for x in os.environ["OWN_IDS"].split())
print(" ".join(str(p["id"]) for p in json.load(sys.stdin) if p["id"] in own))')
	[[ -z $left ]] && break
	sleep 0.25
done
[[ -z $left ]] || { NOTES+=("BPF programs still loaded after kpulse stopped: $left"); FAILED=1; }

# ---------------------------------------------------------------------------
# Report.

row_of() { awk -v p="$2" '$1 == p || $1 == p "_raw"' "$1"; }
ns_per() { awk '$3 > 0 { printf "%.0f\n", $2 / $3; found = 1 } END { if (!found) print "n/a" }'; }

# ns_med PROG: median ns/event of PROG over the reclaim runs
ns_med()
{
	local rep
	for ((rep = 1; rep <= REPS; rep++)); do
		awk -v r="$rep" '$1 == r { print $2, $3, $4 }' "$TMP/reclaim" | row_of /dev/stdin "$1" | ns_per
	done | { grep -v n/a || true; } | median
}
fmt0() { [[ $1 == n/a ]] && echo n/a || printf '%.0f' "$1"; }

tp_of()
{
	case $1 in
	kp_mrcl_b) echo mm_vmscan_memcg_reclaim_begin ;;
	kp_mrcl_e) echo mm_vmscan_memcg_reclaim_end ;;
	kp_drcl_b) echo mm_vmscan_direct_reclaim_begin ;;
	kp_drcl_e) echo mm_vmscan_direct_reclaim_end ;;
	kp_victim) echo mark_victim ;;
	esac
}

report()
{
	local p n ns cnt stalls secs
	echo "# kpulse memory benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r) ($(uname -m)), $(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- kpulse: $("$KPULSE" --version 2>/dev/null || echo '?'), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- bpf src include 2>/dev/null || echo ' (+ uncommitted changes)'); programs attached as $ATTACH"
	echo "- cgroup layout: $LAYOUT ($([[ $LAYOUT == v2 ]] && echo "memory.max on a v2 cgroup" || echo "hybrid: v1 memory child of our own memory cgroup + a v2 cgroup"))"
	echo "- load average before the run: $LOADAVG0"
	echo
	echo "## Idle: program runs over $IDLE_SECS s, nothing short of memory"
	echo
	echo "| program | tracepoint | runs | runs/s |"
	echo "| --- | --- | ---: | ---: |"
	while read -r p _ cnt; do
		if is_mem "$p"; then n="$(tp_of "${p%_raw}")"; else n="(not a memory program, for contrast)"; fi
		printf '| %s | %s | %s | %s |\n' "$p" "$n" "$cnt" "$(awk -v c="$cnt" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f", c / s }')"
	done <"$TMP/idle"
	echo
	echo "Host-wide direct reclaim in the same window (/proc/vmstat allocstall_*): $((STALL1 - STALL0))."
	echo
	echo "## Reclaim-heavy: ns per invocation (median of $REPS runs of $RECLAIM_SECS s)"
	echo
	echo "$SCANNERS readers scan a $FILE_MIB MiB file in a $LIMIT_MIB MiB memory cgroup. The $([[ $LAYOUT == v2 ]] && echo "memory.events max" || echo "memory.failcnt") of that cgroup ended at $FAILCNT."
	echo
	echo "| program | tracepoint | ns/event | events/run (median) | events/s |"
	echo "| --- | --- | ---: | ---: | ---: |"
	for p in $MEM_PROGS; do
		[[ $p == kp_victim ]] && continue
		ns=$(ns_med "$p")
		cnt=$(awk -v p="$p" '$2 == p || $2 == p "_raw" { print $4 }' "$TMP/reclaim" | median)
		printf '| %s | %s | %s | %s | %s |\n' "$p" "$(tp_of "$p")" "$(fmt0 "$ns")" "$(fmt0 "$cnt")" \
			"$(awk -v c="$cnt" -v s="$RECLAIM_SECS" 'BEGIN { if (c == "n/a") print "n/a"; else printf "%.0f", c / s }')"
	done
	stalls=$(awk '{ print $2 }' "$TMP/stalls" | median)
	secs=$(awk '$2 > 0 { print $3 / $2 * 1e9 }' "$TMP/stalls" | median)
	echo
	echo "kpulse counted $(fmt0 "$stalls") reclaim stalls per run (median) in that cgroup, mean stall $(fmt0 "$secs") ns: the begin + end programs cost $(awk -v b="$(ns_med kp_mrcl_b)" -v e="$(ns_med kp_mrcl_e)" -v s="$secs" 'BEGIN { if (s > 0 && b != "n/a" && e != "n/a") printf "%.2f%%", 100 * (b + e) / s; else print "n/a" }') of the stall they measure."
	echo
	echo "## OOM kills: $OOM_KILLS on purpose"
	echo
	echo "| program | tracepoint | runs | ns/event |"
	echo "| --- | --- | ---: | ---: |"
	row_of "$TMP/oom" kp_victim | while read -r p d c; do
		printf '| %s | mark_victim | %s | %s |\n' "$p" "$c" "$(awk -v d="$d" -v c="$c" 'BEGIN { if (c > 0) printf "%.0f", d / c; else print "n/a" }')"
	done
	echo
	echo "$KILLED allocators were killed (exit 137); the daemon logged $OOM_LINES oom_kill lines."
	echo
	echo "## Notes"
	echo
	echo "- ns/event = Δrun_time_ns / Δrun_cnt (kernel bpf stats) of the programs the daemon holds, taken around each phase; it is the BPF program body, not the tracepoint's own dispatch."
	echo "- Direct reclaim (page allocator out of free pages) is not provoked: doing so means starving the whole host. Its programs are the memcg ones' twins (same code, other kind); their rows read n/a unless the host reclaimed on its own during the run."
	echo "- mark_victim does more than the others (probe reads of the victim's mm and memory cgroup, a ring buffer record) and runs once per kill. Its time includes waking the daemon through the ring buffer: the kernel raises an irq_work (a self-IPI, which costs a VM exit on a virtual machine) that runs inside the program's timed window. With BPF_RB_NO_WAKEUP the same program measured about 2 µs on the machine of the first report; the wakeup is kept so the daemon logs a kill as it happens, and an OOM kill itself takes milliseconds."
	print_notes
}

publish_report
