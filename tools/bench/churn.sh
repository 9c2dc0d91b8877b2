#!/usr/bin/env bash
# tools/bench/churn.sh - what cgroup churn leaves behind in the daemon: map
# entries, RSS and idle CPU before and after BENCH_CHURN_COUNT (10,000)
# short-lived cgroups, each with one task of BENCH_CHURN_TASK_US of CPU
# (tests/churn.c, the generator test_churn uses), repeated BENCH_CHURN_ROUNDS
# times against one daemon. The baseline is the same daemon idle before the
# first round; after each round it is measured again once two collection
# intervals have passed. Figures are absolute deltas and after/before
# ratios, with their spread over the rounds.
#
#   sudo bash tools/bench/churn.sh          # after `make kpulse .output/churn`
#
# Environment: BENCH_CHURN_COUNT (10000), BENCH_CHURN_ROUNDS (3),
# BENCH_CHURN_WORKERS (2), BENCH_CHURN_TASK_US (300), BENCH_IDLE_SECS (10:
# the idle CPU window), KPULSE_ENV (extra environment for the daemon, e.g.
# "KPULSE_TEST_HIDE_TP=cgroup_rmdir" for the fallback without the tracepoint).
# The report goes to stdout and tools/bench/results-churn.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BENCH_TAG=churn
# shellcheck source=tools/bench/lib.sh
. tools/bench/lib.sh

COUNT=${BENCH_CHURN_COUNT:-10000}
ROUNDS=${BENCH_CHURN_ROUNDS:-3}
WORKERS=${BENCH_CHURN_WORKERS:-2}
TASK_US=${BENCH_CHURN_TASK_US:-300}
IDLE_SECS=${BENCH_IDLE_SECS:-10}
RESULTS=tools/bench/results-churn.md
KPULSE=./kpulse
CHURN=.output/churn
for v in COUNT ROUNDS WORKERS TASK_US IDLE_SECS; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v='${!v}' is not a positive number"
done
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x $KPULSE && -x $CHURN ]] || die "build first: make kpulse .output/churn"

declare -A LIVE=()
KP_STOPS=0
KP_BAD_STOPS=0
NOTES=()
FAILED=0
TMP=$(mktemp -d /tmp/kpulse-churn.XXXXXX)
V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[[ -n $V2 ]] || die "no cgroup v2 mount"
BASE=$V2/kpulse-bench-churn-$$

cleanup()
{
	local rc=$?
	set +e
	trap - EXIT INT TERM
	stop_live
	if [[ -d $BASE ]]; then
		find "$BASE" -depth -type d -exec rmdir {} + 2>/dev/null
		rmdir "$BASE" 2>/dev/null
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$BASE/churn" "$BASE/live"
# a live container throughout, as test_churn has
(echo 0 >"$BASE/live/cgroup.procs" && exec sleep 100000) &
LIVE[$!]=live-sleeper

scrape() # /metrics into $TMP/m (a busy host may take a while to answer)
{
	local i
	for i in 1 2 3; do
		curl -fsS --max-time 30 "$KP_URL/metrics" >"$TMP/m" && return 0
		alive "$KP_PID" || die "kpulse exited: $(tail -n 5 "$TMP/kpulse.log")"
	done
	die "no answer from /metrics"
}
metric() # NAME [LABELS]: one value from the last scrape, 0 when absent
{
	awk -v n="$1" -v l="${2:-}" '
		$1 == n || (index($1, n "{") == 1 && (l == "" || index($1, l))) { v = $2 } END { printf "%.0f\n", v }' "$TMP/m"
}
cpu_ns() # the daemon's threads' run time so far, ns (schedstat)
{
	cat /proc/"$KP_PID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
idle_cpu_pct() # % of one core over IDLE_SECS
{
	local c0 c1 t0 t1
	t0=$(date +%s%N); c0=$(cpu_ns)
	sleep "$IDLE_SECS"
	t1=$(date +%s%N); c1=$(cpu_ns)
	awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", 100 * c / t }'
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' /proc/"$KP_PID"/status; }
settle() # two timed collections (1 s interval)
{
	local n0 n
	scrape
	n0=$(metric kpulse_collections_total)
	for _ in $(seq 100); do
		scrape
		n=$(metric kpulse_collections_total)
		((n >= n0 + 2)) && return 0
		sleep 0.2
	done
	die "the daemon made no collection in 20 s"
}
snap() # LABEL: one line of figures
{
	local cpu
	cpu=$(idle_cpu_pct)
	scrape
	echo "$1 $(metric kpulse_bpf_map_entries 'map="cg_stats"') $(rss_kib) $cpu" \
		"$(metric kpulse_bpf_events_dropped_total 'reason="cgroup_map_full"')" \
		"$(metric kpulse_bpf_events_dropped_total 'reason="map_nomem"')" \
		"$(metric kpulse_containers)"
}

log "daemon (interval 1 s) ${KPULSE_ENV:+with $KPULSE_ENV}"
# shellcheck disable=SC2086 # KPULSE_ENV is words VAR=value
port=$(free_port)
env ${KPULSE_ENV:-} "$KPULSE" daemon --listen "127.0.0.1:$port" --interval 1s >>"$TMP/kpulse.log" 2>&1 &
KP_PID=$!
LIVE[$KP_PID]=kpulse
KP_URL="http://127.0.0.1:$port"
kp_wait_steady || die "kpulse did not come up: $(tail -n 5 "$TMP/kpulse.log")"
settle
: >"$TMP/figs"
snap before >>"$TMP/figs"
for ((r = 1; r <= ROUNDS; r++)); do
	log "round $r/$ROUNDS: $COUNT cgroups"
	t0=$(date +%s%N)
	"$CHURN" "$BASE/churn" "$COUNT" "$WORKERS" "$TASK_US" >"$TMP/churn.out" 2>"$TMP/churn.err" ||
		die "churn failed: $(tail -n 3 "$TMP/churn.err")"
	secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	settle
	snap "round$r $secs" >>"$TMP/figs"
done
kp_stop "$KP_PID"
((KP_BAD_STOPS == 0)) || { NOTES+=("kpulse did not exit cleanly on SIGTERM"); FAILED=1; }

report()
{
	local b
	read -r _ be brss bcpu bfull bnomem bcont <"$TMP/figs"
	echo "# kpulse cgroup churn benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r), $(nproc) CPUs; git $(git rev-parse --short HEAD)"
	echo "- load average before: $LOADAVG0; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (anything well above 0: other work shared the CPUs)"
	echo "- $ROUNDS rounds of $COUNT cgroups ($WORKERS workers, one ${TASK_US} µs task each) against one daemon at a 1 s interval${KPULSE_ENV:+, environment $KPULSE_ENV}; each round measured after two collections; idle CPU over $IDLE_SECS s"
	echo
	echo "| | churn time | cg_stats entries | RSS | idle CPU (% of a core) | cgroup_map_full | map_nomem | containers |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	printf '| before | | %d | %.1f MiB | %s%% | %d | %d | %d |\n' "$be" "$(awk -v k="$brss" 'BEGIN { print k / 1024 }')" "$bcpu" "$bfull" "$bnomem" "$bcont"
	tail -n +2 "$TMP/figs" | while read -r lab secs e rss cpu full nomem cont; do
		printf '| after %s | %s s | %d (%+d) | %.1f MiB (%+.1f) | %s%% (%.2f×) | %d | %d | %d |\n' \
			"$lab" "$secs" "$e" $((e - be)) "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
			"$(awk -v a="$rss" -v b="$brss" 'BEGIN { print (a - b) / 1024 }')" "$cpu" \
			"$(awk -v a="$cpu" -v b="$bcpu" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$full" "$nomem" "$cont"
	done
	echo
	b=$(tail -n +2 "$TMP/figs" | awk -v be="$be" -v br="$brss" '
		{ de = $3 - be; dr = ($4 - br) / 1024; if (NR == 1 || de > me) me = de; if (NR == 1 || dr > mr) mr = dr }
		END { printf "worst round: %+d entries, %+.1f MiB RSS", me, mr }')
	echo "Targets (issue 13): entries back to the baseline (+ a few), RSS within 4 MiB, no cgroup_map_full, idle CPU back to its baseline; $b."
	print_notes
}
publish_report
