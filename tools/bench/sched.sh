#!/usr/bin/env bash
# tools/bench/sched.sh - what kpulse's scheduler programs cost, measured
# against baselines taken in the same run on the same machine.
#
#   1. ns per invocation of each kpulse BPF program (kernel bpf stats:
#      run_time_ns / run_cnt, deltas over the workload only) under
#      hackbench and under `perf bench sched pipe` pinned to one CPU, next to
#      a "floor" program (one clock read + one per-CPU array add, floor.bpf.c)
#      and a bpftrace run-queue latency one-liner on the same tracepoints.
#      kpulse, floor and bpftrace run one at a time, the set is repeated
#      BENCH_REPS times interleaved; medians are reported.
#   2. whole-workload slowdown: `perf bench sched pipe` on one CPU, BENCH_PAIRS
#      interleaved pairs with and without the kpulse daemon.
#   3. the idle daemon's cost: max RSS and CPU over BENCH_IDLE_SECS.
#
# Run as root: `make bench` (installs rt-tests, linux-perf, bpftrace first),
# or `bash tools/bench/sched.sh` after `make kpulse`. The markdown report goes
# to stdout and to tools/bench/results-sched.md; progress goes to stderr.
# Exit status: 0 when everything measured and cleaned up; 1 on error, or when
# kpulse did not stop cleanly on SIGTERM, or BPF programs were left loaded.
#
# Environment: BENCH_REPS (3), BENCH_PAIRS (11), BENCH_IDLE_SECS (60),
# BENCH_HACKBENCH ("-g 4 -l 2000"), BENCH_PIPE_LOOPS (200000),
# BENCH_PIPE_CPU (0), BENCH_BPFTRACE (bpftrace; "none" leaves it out),
# BENCH_KPULSE (./kpulse: another build to compare).

# shellcheck disable=SC2317 # cleanup and start_* are called indirectly
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BENCH_TAG=bench
# shellcheck source=tools/bench/lib.sh
. tools/bench/lib.sh

REPS=${BENCH_REPS:-3}
PAIRS=${BENCH_PAIRS:-11}
IDLE_SECS=${BENCH_IDLE_SECS:-60}
HACKBENCH_ARGS=${BENCH_HACKBENCH:-"-g 4 -l 2000"}
PIPE_LOOPS=${BENCH_PIPE_LOOPS:-200000}
PIPE_CPU=${BENCH_PIPE_CPU:-0}
RESULTS=tools/bench/results-sched.md
OUT=.output/bench
KPULSE=${BENCH_KPULSE:-./kpulse}
BPFTRACE=${BENCH_BPFTRACE:-bpftrace}

# Targets from the issues (19: in every run, not only the median).
TARGET_FLOOR=1.3	# kp_switch ns/event <= 1.3 x floor, each run
TARGET_BPFTRACE=0.5	# kp_switch ns/event <= 0.5 x bpftrace's sched_switch
TARGET_PER_SWITCH=0.3	# all scheduler programs per switch <= 0.3 x bpftrace's, each run
TARGET_RSS_MIB=16
TARGET_CPU_PCT=0.5

# The bpftrace peer: run-queue latency, the classic one-liner.
# shellcheck disable=SC2016 # bpftrace's $ns, not the shell's
BT_PROG='tracepoint:sched:sched_wakeup,tracepoint:sched:sched_wakeup_new { @qtime[args->pid] = nsecs; }
tracepoint:sched:sched_switch {
	if (args->prev_state == 0) { @qtime[args->prev_pid] = nsecs; }
	$ns = @qtime[args->next_pid];
	if ($ns) { @usecs = hist((nsecs - $ns) / 1000); }
	delete(@qtime[args->next_pid]);
}'


for v in REPS PAIRS IDLE_SECS PIPE_LOOPS PIPE_CPU; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v='${!v}' is not a number"
done
((REPS >= 1 && PAIRS >= 1 && IDLE_SECS >= 1)) || die "BENCH_REPS, BENCH_PAIRS and BENCH_IDLE_SECS must be >= 1"

# ---------------------------------------------------------------------------
# State for the exit trap: everything we start or change is undone there.
declare -A LIVE=()	# pid -> name, background processes still running
declare -A OUR_IDS=()	# BPF prog id -> owner, every program we attributed
NOTES=()		# surprises, printed under the report
STATS_PREV=""
MOUNTED_TRACEFS=0
TMP=""
FAILED=0

# IDs (of those we started) still loaded, as "id:owner:name" words.
leftover_progs()
{
	local id name
	bpftool prog show -j 2>/dev/null | prog_table | while read -r id name _ _; do
		if [[ -n ${OUR_IDS[$id]:-} || $name == floor_switch ]]; then
			printf '%s:%s:%s ' "$id" "${OUR_IDS[$id]:-floor}" "$name"
		fi
	done
}

cleanup()
{
	local rc=$? left
	set +e
	trap - EXIT INT TERM
	stop_live
	if [[ -n $STATS_PREV ]]; then
		sysctl -qw kernel.bpf_stats_enabled="$STATS_PREV"
	fi
	# programs go away when their owner's fds close; give the kernel a moment
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$(leftover_progs)
		[[ -z $left ]] && break
		sleep 0.5
	done
	if [[ -n $left ]]; then
		log "error: BPF programs still loaded at exit: $left"
		rc=1
	fi
	if ((MOUNTED_TRACEFS)); then
		umount /sys/kernel/tracing 2>/dev/null || umount -l /sys/kernel/tracing
	fi
	[[ -n $TMP ]] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Helpers.

# ratio A B -> "A/B" with two decimals, "n/a" when either is missing
ratio()
{
	[[ -n $1 && -n $2 && $1 != n/a && $2 != n/a ]] || { echo n/a; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}

# verdict VALUE LIMIT -> "PASS"/"FAIL"/"n/a" for VALUE <= LIMIT
verdict()
{
	[[ -n $1 && $1 != n/a ]] || { echo n/a; return; }
	awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "PASS" : "FAIL" }'
}

fmt_ns() { [[ -n $1 && $1 != n/a ]] && printf '%.0f' "$1" || echo n/a; }

# Which tracepoint a program serves, from its name; "" for none of ours.
# kpulse: kp_switch, kp_wakeup, kp_wakeup_new and the *_raw twins (names are
# cut to 15 characters by the kernel); floor: floor_switch; bpftrace names
# its programs after the probe: sched_switch, tracepoint__sched__sched_switch.
tracepoint_of()
{
	case $2:$1 in
	kpulse:kp_switch*) echo sched_switch ;;
	kpulse:kp_wakeup_new*|kpulse:kp_wakeup_ne*) echo sched_wakeup_new ;;
	kpulse:kp_wakeup*) echo sched_wakeup ;;
	floor:floor_switch*) echo sched_switch ;;
	bpftrace:sched_wakeup_ne*|bpftrace:*__sched_wakeup_new) echo sched_wakeup_new ;;
	bpftrace:sched_wakeup|bpftrace:*__sched_wakeup) echo sched_wakeup ;;
	bpftrace:sched_switch|bpftrace:*__sched_switch) echo sched_switch ;;
	*) echo "" ;;
	esac
}

# ---------------------------------------------------------------------------
# Preconditions and setup.

[[ $(id -u) -eq 0 ]] || die "run as root (loading BPF programs needs it): sudo make bench"
for t in bpftool clang hackbench perf taskset curl python3 gcc sysctl; do
	command -v "$t" >/dev/null || die "$t not found; run: bash tools/install-deps.sh --bench"
done
[[ -x $KPULSE ]] || die "$KPULSE not built; run: make kpulse"
HAVE_BPFTRACE=0
if [[ $BPFTRACE != none ]] && command -v "$BPFTRACE" >/dev/null; then
	HAVE_BPFTRACE=1
else
	if [[ $BPFTRACE == none ]]; then
		NOTES+=("bpftrace left out (BENCH_BPFTRACE=none): its column is n/a.")
	else
		NOTES+=("bpftrace ($BPFTRACE) is not installed: its column is n/a (bash tools/install-deps.sh --bench installs it).")
	fi
fi
((PIPE_CPU < $(nproc))) || die "BENCH_PIPE_CPU=$PIPE_CPU but there are only $(nproc) CPUs"

TMP=$(mktemp -d /tmp/kpulse-bench.XXXXXX)
STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled)
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)

if ((HAVE_BPFTRACE)) && [[ ! -d /sys/kernel/tracing/events && ! -d /sys/kernel/debug/tracing/events ]]; then
	log "mounting tracefs at /sys/kernel/tracing (bpftrace needs it; unmounted at exit)"
	if mount -t tracefs tracefs /sys/kernel/tracing; then
		MOUNTED_TRACEFS=1
	else
		NOTES+=("tracefs could not be mounted: bpftrace column is n/a.")
		HAVE_BPFTRACE=0
	fi
fi

build_floor

# ---------------------------------------------------------------------------
# Starting and stopping the three subjects. start_* set SUBJ_PID and return
# non-zero (after cleaning up) when the subject did not come up.

KP_STOPS=0
KP_BAD_STOPS=0

start_kpulse()
{
	local rc=0
	kp_start || rc=$?
	SUBJ_PID=$KP_PID
	((rc == 0)) || stop_kpulse
	return $rc
}

stop_kpulse() { kp_stop "$SUBJ_PID"; }

start_floor() { floor_start sched_switch; }

start_bpftrace()
{
	"$BPFTRACE" -e "$BT_PROG" >"$TMP/bpftrace.log" 2>&1 &
	SUBJ_PID=$!
	LIVE[$SUBJ_PID]=bpftrace
	# bpftrace says nothing reliable once attached: find_progs below waits
	# for its programs to appear and run.
	return 0
}

stop_subject()
{
	if [[ $1 == kpulse ]]; then
		stop_kpulse
	else
		stop_pid "$SUBJ_PID"
		if [[ $STOP_RC != 0 && $STOP_RC != 143 ]]; then
			NOTES+=("$1 (pid $SUBJ_PID) exited with status $STOP_RC on SIGTERM.")
		fi
	fi
}

# find_progs SUBJECT BEFORE_FILE: the programs that appeared since BEFORE (a
# prog_table), are held by SUBJ_PID and serve one of our tracepoints, once
# the sched_switch one has run. Sets PROGS to "id:tracepoint" words; returns
# 1 after 15 s without them.
find_progs()
{
	local subj=$1 before=$2 i id name cnt tp have_switch held
	for ((i = 0; i < 150; i++)); do
		PROGS=()
		have_switch=0
		held=" $(held_prog_ids "$SUBJ_PID" | tr '\n' ' ') "
		while read -r id name _ cnt; do
			if grep -q "^$id " "$before" || [[ $held != *" $id "* ]]; then
				continue
			fi
			OUR_IDS[$id]=$subj	# all it holds, measured or not
			tp=$(tracepoint_of "$name" "$subj")
			[[ -n $tp ]] || continue
			PROGS+=("$id:$tp")
			if [[ $tp == sched_switch && $cnt -gt 0 ]]; then
				have_switch=1
			fi
		done < <(bpftool prog show -j | prog_table)
		if ((have_switch)); then
			return 0
		fi
		alive "$SUBJ_PID" || break
		sleep 0.1
	done
	return 1
}

# note_foreign PROG_TABLE_FILE: remember programs loaded that are not ours.
# Someone else's sched_switch program running during the run changes the
# figures (the pipe "without" runs most), so the report lists them.
declare -A FOREIGN=()
note_foreign()
{
	local id name
	while read -r id name _ _; do
		if [[ -z ${OUR_IDS[$id]:-} ]]; then
			FOREIGN[$id]=$name
		fi
	done <"$1"
}

# kpulse for the pipe and idle phases: started, its programs found running,
# its start-up work (and the stats window it holds until its first timed
# collection) over.
start_kpulse_tracked()
{
	bpftool prog show -j | prog_table >"$TMP/before"
	start_kpulse || die "kpulse did not start; log above"
	find_progs kpulse "$TMP/before" || die "kpulse's programs did not show up running"
	kp_wait_steady || die "kpulse did not settle"
}

# ---------------------------------------------------------------------------
# 1. ns per invocation.

WORKLOADS=(hackbench pipe)
declare -A WL_LABEL=(
	[hackbench]="hackbench $HACKBENCH_ARGS"
	[pipe]="perf bench sched pipe -l $PIPE_LOOPS (taskset -c $PIPE_CPU)"
)

run_workload()
{
	case $1 in
	hackbench)
		# shellcheck disable=SC2086 # word splitting of the options is wanted
		hackbench $HACKBENCH_ARGS ;;
	pipe) taskset -c "$PIPE_CPU" perf bench sched pipe -l "$PIPE_LOOPS" ;;
	esac
}

# samples: subject workload rep tracepoint delta_ns delta_cnt
SAMPLES=$TMP/samples
: >"$SAMPLES"
SUBJECTS=(kpulse floor)
if ((HAVE_BPFTRACE)); then SUBJECTS+=(bpftrace); fi

measure_subject()
{
	local subj=$1 rep=$2 wl w id tp ns cnt ns0 cnt0
	bpftool prog show -j | prog_table >"$TMP/before"
	if ! "start_$subj"; then
		NOTES+=("run $rep: $subj did not start; its samples are missing.")
		return 0
	fi
	if ! find_progs "$subj" "$TMP/before"; then
		log "$subj: its programs did not show up or run; log:"
		tail -n 20 "$TMP/$subj.log" >&2 || true
		stop_subject "$subj"
		NOTES+=("run $rep: $subj's programs were not found running; its samples are missing.")
		return 0
	fi
	for wl in "${WORKLOADS[@]}"; do
		bpftool prog show -j >"$TMP/s0.json"
		run_workload "$wl" >>"$TMP/workload.log" 2>&1
		bpftool prog show -j >"$TMP/s1.json"
		prog_table <"$TMP/s0.json" >"$TMP/s0"
		note_foreign "$TMP/s0"
		prog_table <"$TMP/s1.json" >"$TMP/s1"
		for w in "${PROGS[@]}"; do
			id=${w%%:*}
			tp=${w#*:}
			read -r ns0 cnt0 < <(awk -v id="$id" '$1 == id { print $3, $4 }' "$TMP/s0")
			read -r ns cnt < <(awk -v id="$id" '$1 == id { print $3, $4 }' "$TMP/s1")
			echo "$subj $wl $rep $tp $((ns - ns0)) $((cnt - cnt0))" >>"$SAMPLES"
		done
	done
	stop_subject "$subj"
}

sysctl -qw kernel.bpf_stats_enabled=1
log "1/3 ns per invocation: ${SUBJECTS[*]}, one at a time, $REPS interleaved runs"
for ((rep = 1; rep <= REPS; rep++)); do
	# rotate who goes first, so no subject always follows the same one
	n=${#SUBJECTS[@]}
	for ((k = 0; k < n; k++)); do
		subj=${SUBJECTS[$(((k + rep - 1) % n))]}
		log "  run $rep/$REPS: $subj"
		measure_subject "$subj" "$rep"
	done
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_PREV"

# median ns/event of SUBJECT WORKLOAD TRACEPOINT over the runs ("n/a": none)
ns_median()
{
	local m
	m=$(awk -v s="$1" -v w="$2" -v t="$3" \
		'$1 == s && $2 == w && $4 == t && $6 > 0 { print $5 / $6 }' "$SAMPLES" | median)
	echo "${m:-n/a}"
}
cnt_median()
{
	local m
	m=$(awk -v s="$1" -v w="$2" -v t="$3" '$1 == s && $2 == w && $4 == t { print $6 }' "$SAMPLES" | median)
	[[ -n $m ]] && printf '%.0f' "$m" || echo n/a
}
# median over the runs of SUBJECT's cost of all its scheduler programs per
# context switch: sum of run_time_ns over every tracepoint / sched_switch runs
per_switch()
{
	local m
	m=$(awk -v s="$1" -v w="$2" '$1 == s && $2 == w { t[$3] += $5; if ($4 == "sched_switch") n[$3] = $6 }
		END { for (r in t) if (n[r] > 0) print t[r] / n[r] }' "$SAMPLES" | median)
	echo "${m:-n/a}"
}
# per-run ratios A/B under WORKLOAD, sorted, one a line: run r of A against
# run r of B (the subjects take turns within a run, so a run's pair shared
# the machine's state). TP is a tracepoint (ns/event) or "switch" (all
# programs per context switch).
run_ratios()
{
	awk -v a="$1" -v b="$2" -v w="$3" -v t="$4" '
		$2 != w { next }
		t == "switch" { tot[$1 " " $3] += $5; if ($4 == "sched_switch") n[$1 " " $3] = $6; next }
		$4 == t && $6 > 0 { tot[$1 " " $3] = $5; n[$1 " " $3] = $6 }
		END { for (k in tot) { split(k, f, " "); if (f[1] != a || !(k in n) || n[k] <= 0) continue
			o = b " " f[2]; if (!(o in n) || n[o] <= 0 || tot[o] <= 0) continue
			printf "%.3f\n", (tot[k] / n[k]) / (tot[o] / n[o]) } }' "$SAMPLES" | sort -g
}
# "min–max (n runs)" of run_ratios, "n/a" when none
spread()
{
	local r
	r=$(run_ratios "$@")
	[[ -n $r ]] || { echo n/a; return; }
	printf '%.2f–%.2f× (%d runs)' "$(head -n1 <<<"$r")" "$(tail -n1 <<<"$r")" "$(wc -l <<<"$r")"
}
# the largest per-run ratio: what "in every run" is judged on
worst() { run_ratios "$@" | tail -n1; }

nruns()
{
	awk -v s="$1" -v w="$2" -v t="$3" '$1 == s && $2 == w && $4 == t && $6 > 0' "$SAMPLES" | wc -l
}

# ---------------------------------------------------------------------------
# 2. Whole-workload slowdown: perf bench sched pipe on one CPU, interleaved
# pairs with and without the daemon, order alternating within the pair.

PIPE_RES=$TMP/pipe	# "with|without usecs_per_op ops_per_sec pair"
: >"$PIPE_RES"
pipe_once()
{
	local mode=$1 pair=$2 out us ops
	bpftool prog show -j | prog_table >"$TMP/p0"
	note_foreign "$TMP/p0"
	out=$(taskset -c "$PIPE_CPU" perf bench sched pipe -l "$PIPE_LOOPS" 2>&1)
	us=$(awk '/usecs\/op/ { print $1 }' <<<"$out")
	ops=$(awk '/ops\/sec/ { print $1 }' <<<"$out")
	[[ -n $us && -n $ops ]] || die "cannot parse perf bench output: $out"
	echo "$mode $us $ops $pair" >>"$PIPE_RES"
}

log "2/3 pipe slowdown: $PAIRS interleaved pairs with/without kpulse"
for ((pair = 1; pair <= PAIRS; pair++)); do
	if ((pair % 2)); then order="without with"; else order="with without"; fi
	for mode in $order; do
		if [[ $mode == with ]]; then
			start_kpulse_tracked
			pipe_once with "$pair"
			stop_kpulse
		else
			pipe_once without "$pair"
		fi
	done
done

PIPE_WITHOUT_US=$(awk '$1 == "without" { print $2 }' "$PIPE_RES" | median)
PIPE_WITH_US=$(awk '$1 == "with" { print $2 }' "$PIPE_RES" | median)
PIPE_WITHOUT_OPS=$(awk '$1 == "without" { print $3 }' "$PIPE_RES" | median)
PIPE_WITH_OPS=$(awk '$1 == "with" { print $3 }' "$PIPE_RES" | median)
# per-pair ratio (with / without, usecs/op): median and range
PAIR_RATIOS=$(awk '{ v[$4 " " $1] = $2 } END {
	for (k in v) { split(k, a, " "); if (a[2] == "with" && ((a[1] " without") in v))
		printf "%.4f\n", v[k] / v[a[1] " without"] } }' "$PIPE_RES" | sort -g)
PAIR_RATIO_MED=$(median <<<"$PAIR_RATIOS")
PAIR_RATIO_MIN=$(head -n1 <<<"$PAIR_RATIOS")
PAIR_RATIO_MAX=$(tail -n1 <<<"$PAIR_RATIOS")
PIPE_RATIO=$(ratio "$PIPE_WITH_US" "$PIPE_WITHOUT_US")

# ---------------------------------------------------------------------------
# 3. Idle daemon: RSS (max of VmRSS sampled every second) and CPU (utime +
# stime over the period) at the default interval, nothing else running.

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

log "3/3 idle daemon for $IDLE_SECS s"
start_kpulse_tracked
IDLE_PID=$SUBJ_PID
HZ=$(getconf CLK_TCK)
t0=$(date +%s.%N)
c0=$(cpu_ticks "$IDLE_PID")
RSS_MAX=$(rss_kib "$IDLE_PID")
for ((i = 0; i < IDLE_SECS; i++)); do
	sleep 1
	alive "$IDLE_PID" || die "kpulse exited while idle; log: $(tail -n 5 "$TMP/kpulse.log")"
	r=$(rss_kib "$IDLE_PID")
	if ((r > RSS_MAX)); then RSS_MAX=$r; fi
done
c1=$(cpu_ticks "$IDLE_PID")
t1=$(date +%s.%N)
stop_kpulse
IDLE_RSS_MIB=$(awk -v k="$RSS_MAX" 'BEGIN { printf "%.1f", k / 1024 }')
IDLE_CPU_PCT=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.3f", 100 * c / hz / (b - a) }')
IDLE_TICKS=$((c1 - c0))

# ---------------------------------------------------------------------------
# Teardown check: nothing of ours may stay loaded.

for pid in "${!LIVE[@]}"; do stop_pid "$pid"; done
LEFT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	LEFT=$(leftover_progs)
	[[ -z $LEFT ]] && break
	sleep 0.5
done
if [[ -n $LEFT ]]; then
	NOTES+=("BPF programs still loaded after every subject stopped: $LEFT")
	FAILED=1
fi
if ((${#FOREIGN[@]})); then
	f=$(for id in "${!FOREIGN[@]}"; do echo "${FOREIGN[$id]}"; done | sort | uniq -c |
		awk '{ printf "%s%s ×%d", (NR > 1 ? ", " : ""), $2, $1 }')
	NOTES+=("**Not a clean run:** ${#FOREIGN[@]} BPF programs of other processes were loaded during it ($f); if they sit on the scheduler tracepoints they slow the pipe runs (both with and without kpulse) and disturb the caches. Re-run on a quiet host.")
fi
if ((KP_BAD_STOPS)); then
	NOTES+=("kpulse did not exit with status 0 within 10 s of SIGTERM in $KP_BAD_STOPS of $KP_STOPS stops.")
	FAILED=1
fi

# ---------------------------------------------------------------------------
# Report.

report()
{
	local wl tp kp fl bt r1 r2 tv1 tv2
	echo "# kpulse scheduler benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r) ($(uname -m)), $(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- kpulse: $("$KPULSE" --version 2>/dev/null || echo '?'), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- bpf src include 2>/dev/null || echo ' (+ uncommitted changes)')"
	echo "- tools: $(bpftool version 2>/dev/null | head -n1), $( ((HAVE_BPFTRACE)) && "$BPFTRACE" --version || echo 'bpftrace: not available'), perf $(perf --version | awk '{ print $3 }')"
	echo "- load average before the run: $LOADAVG0 (anything well above 0 means other work shared the CPUs)"
	echo "- runs: $REPS interleaved runs per subject (medians), $PAIRS pipe pairs, $IDLE_SECS s idle"
	echo
	echo "## BPF program cost, ns per invocation (kernel bpf stats, median of $REPS)"
	echo
	echo "| program | workload | kpulse ns/event | floor ns/event | bpftrace ns/event | kpulse / floor | kpulse / bpftrace | kpulse events/run |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for wl in "${WORKLOADS[@]}"; do
		for tp in sched_switch sched_wakeup sched_wakeup_new; do
			kp=$(ns_median kpulse "$wl" "$tp")
			fl=n/a
			[[ $tp == sched_switch ]] && fl=$(ns_median floor "$wl" "$tp")
			bt=n/a
			((HAVE_BPFTRACE)) && bt=$(ns_median bpftrace "$wl" "$tp")
			r1=n/a
			[[ $tp == sched_switch ]] && r1=$(ratio "$kp" "$fl")
			r2=$(ratio "$kp" "$bt")
			[[ $r1 != n/a ]] && r1="${r1}×"
			[[ $r2 != n/a ]] && r2="${r2}×"
			kpn=$(fmt_ns "$kp")
			[[ $kpn == n/a ]] && kpn="not loaded"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
				"$(kp_name "$tp")" "${WL_LABEL[$wl]}" "$kpn" \
				"$(fmt_ns "$fl")" "$(fmt_ns "$bt")" "$r1" "$r2" \
				"$(cnt_median kpulse "$wl" "$tp")"
		done
	done
	echo
	echo "Where the kernel keeps sched_info (CONFIG_SCHED_INFO, as here), kpulse reads each task's enqueue time at sched_switch and loads no wakeup programs; bpftrace has to stamp every wakeup itself. What each pays per context switch, all its scheduler programs together:"
	echo
	echo "| workload | kpulse ns/switch | bpftrace ns/switch | kpulse / bpftrace | per run |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for wl in "${WORKLOADS[@]}"; do
		kp=$(per_switch kpulse "$wl")
		bt=n/a
		((HAVE_BPFTRACE)) && bt=$(per_switch bpftrace "$wl")
		r2=$(ratio "$kp" "$bt")
		printf '| %s | %s | %s | %s | %s |\n' "${WL_LABEL[$wl]}" "$(fmt_ns "$kp")" "$(fmt_ns "$bt")" \
			"$([[ $r2 == n/a ]] && echo n/a || echo "$r2×")" "$(spread kpulse bpftrace "$wl" switch)"
	done
	echo
	echo "kp_switch / floor run by run (run r of each, taken in turn): $(for wl in "${WORKLOADS[@]}"; do
		printf '%s: %s; ' "${WL_LABEL[$wl]}" "$(run_ratios kpulse floor "$wl" sched_switch | tr '\n' ' ')"; done)"
	echo
	echo "## Targets"
	echo
	echo "| target | workload | measured | verdict |"
	echo "| --- | --- | ---: | --- |"
	for wl in "${WORKLOADS[@]}"; do
		kp=$(ns_median kpulse "$wl" sched_switch)
		r1=$(ratio "$kp" "$(ns_median floor "$wl" sched_switch)")
		bt=n/a
		((HAVE_BPFTRACE)) && bt=$(ns_median bpftrace "$wl" sched_switch)
		r2=$(ratio "$kp" "$bt")
		w1=$(worst kpulse floor "$wl" sched_switch)
		w3=n/a
		((HAVE_BPFTRACE)) && w3=$(worst kpulse bpftrace "$wl" switch)
		tv1=$(verdict "${w1:-n/a}" "$TARGET_FLOOR")
		tv2=$(verdict "$r2" "$TARGET_BPFTRACE")
		printf '| kp_switch ≤ %s× floor in every run | %s | median %s×, runs %s | %s |\n' "$TARGET_FLOOR" "${WL_LABEL[$wl]}" "$r1" "$(spread kpulse floor "$wl" sched_switch)" "$tv1"
		printf '| kp_switch ≤ %s× bpftrace sched_switch | %s | %s | %s |\n' "$TARGET_BPFTRACE" "${WL_LABEL[$wl]}" "$([[ $r2 == n/a ]] && echo n/a || echo "$r2×")" "$tv2"
		printf '| per switch ≤ %s× bpftrace in every run | %s | runs %s | %s |\n' "$TARGET_PER_SWITCH" "${WL_LABEL[$wl]}" "$(spread kpulse bpftrace "$wl" switch)" "$(verdict "${w3:-n/a}" "$TARGET_PER_SWITCH")"
	done
	printf '| idle RSS ≤ %s MiB | daemon idle %s s | %s MiB | %s |\n' "$TARGET_RSS_MIB" "$IDLE_SECS" "$IDLE_RSS_MIB" "$(verdict "$IDLE_RSS_MIB" "$TARGET_RSS_MIB")"
	printf '| idle CPU ≤ %s%% of one core | daemon idle %s s | %s%% | %s |\n' "$TARGET_CPU_PCT" "$IDLE_SECS" "$IDLE_CPU_PCT" "$(verdict "$IDLE_CPU_PCT" "$TARGET_CPU_PCT")"
	echo
	echo "## Whole-workload slowdown: perf bench sched pipe -l $PIPE_LOOPS, taskset -c $PIPE_CPU"
	echo
	echo "| | usecs/op (median) | ops/sec (median) |"
	echo "| --- | ---: | ---: |"
	printf '| without kpulse | %s | %.0f |\n' "$PIPE_WITHOUT_US" "$PIPE_WITHOUT_OPS"
	printf '| with kpulse daemon | %s | %.0f |\n' "$PIPE_WITH_US" "$PIPE_WITH_OPS"
	printf '| **ratio with / without** | **%s×** | %s× |\n' "$PIPE_RATIO" "$(ratio "$PIPE_WITH_OPS" "$PIPE_WITHOUT_OPS")"
	echo
	echo "The \"with\" runs start after kpulse's first timed collection: the kernel's BPF run-time stats it holds from its start until then (for its kpulse_bpf_program_* metrics) are off, and its next sampled window (one interval in 30) opens after the run. Over time those windows add about 1/30 of what stats on cost (two clock reads per program run), which these runs leave out."
	echo
	echo "Per-pair ratio (with / without, usecs/op) over $PAIRS interleaved pairs: median ${PAIR_RATIO_MED}×, range ${PAIR_RATIO_MIN}×–${PAIR_RATIO_MAX}×. This VM's run-to-run noise is about ±25%: differences inside that band are not significant."
	echo
	echo "## Idle daemon (default interval, $IDLE_SECS s)"
	echo
	echo "| figure | value | target |"
	echo "| --- | ---: | ---: |"
	echo "| max RSS (VmRSS) | $IDLE_RSS_MIB MiB | ≤ $TARGET_RSS_MIB MiB |"
	echo "| CPU, % of one core (utime+stime, $IDLE_TICKS ticks at ${HZ} Hz) | $IDLE_CPU_PCT% | ≤ $TARGET_CPU_PCT% |"
	echo
	echo "## Notes"
	echo
	echo "- ns/event = Δrun_time_ns / Δrun_cnt from \`bpftool prog show -j\` with kernel.bpf_stats_enabled=1, taken around each workload only. It is the BPF program body (plus the stats' own clock reads, the same for everyone); it leaves out the attach mechanism. kpulse and floor are tp_btf (raw tracepoint) programs; bpftrace's are classic tracepoint programs, whose perf-event record set-up before the program runs is not in its figure, so bpftrace's real per-event cost is higher than shown."
	echo "- floor = one bpf_ktime_get_ns() added to a per-CPU array slot on sched_switch (tools/bench/floor.bpf.c): the least a useful program costs."
	echo "- kpulse events/run: median count of program runs during one workload, to show the subjects saw comparable traffic."
	echo "- BPF programs left loaded at the end: $([[ -z $LEFT ]] && echo none || echo "$LEFT"); kpulse stopped cleanly on SIGTERM in $((KP_STOPS - KP_BAD_STOPS)) of $KP_STOPS stops."
	print_notes
}

kp_name()
{
	case $1 in
	sched_switch) echo "kp_switch (sched_switch)" ;;
	sched_wakeup) echo "kp_wakeup (sched_wakeup)" ;;
	sched_wakeup_new) echo "kp_wakeup_new (sched_wakeup_new)" ;;
	esac
}

# sanity: every subject should have a sample from every run
for s in "${SUBJECTS[@]}"; do
	for wl in "${WORKLOADS[@]}"; do
		got=$(nruns "$s" "$wl" sched_switch)
		((got == REPS)) || NOTES+=("$s under $wl: only $got of $REPS runs gave sched_switch samples.")
	done
done

publish_report
