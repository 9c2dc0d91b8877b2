#!/usr/bin/env bash
# tools/bench/tcp.sh - what kpulse's TCP and socket programs cost.
#
#   1. Throughput: wrk against nginx serving a small static file on loopback,
#      BENCH_TCP_PAIRS interleaved rounds without kpulse, with the kpulse
#      daemon, and with the "floor" (tools/bench/floor.bpf.c: programs that
#      only count events on the tracepoints that fire per request), order
#      alternating; median requests/s each way, the median of the per-round
#      ratios, and the target: kpulse's ratio >= 0.97. The floor's ratio is
#      what being attached to those tracepoints costs any BPF tool here.
#   2. ns per invocation of each kpulse TCP/socket program: Δrun_time_ns /
#      Δrun_cnt from `bpftool prog show -j` around one wrk run, with
#      kernel.bpf_stats_enabled=1 (the previous value is restored on exit),
#      under keep-alive requests and under one connection per request.
#
# nginx and wrk are pinned to different CPUs when there are two or more
# (BENCH_TCP_NGINX_CPU, BENCH_TCP_WRK_CPU), which steadies the figures.
# Run as root after `make kpulse`: `bash tools/bench/tcp.sh`. The report goes
# to stdout and tools/bench/results-tcp.md; progress to stderr. Exit status
# 0 when everything was measured and cleaned up, 1 otherwise (a subject did
# not start, kpulse did not stop on SIGTERM, BPF programs were left loaded).
#
# Environment: BENCH_TCP_PAIRS (7), BENCH_TCP_SECS (5), BENCH_TCP_CONNS (32),
# BENCH_TCP_THREADS (1), BENCH_TCP_FILE_BYTES (1024), BENCH_TCP_CLOSE (0; 1:
# the throughput rounds open one connection per request, `Connection:
# close`, the floor adds inet_sock_set_state, and the report goes to
# tools/bench/results-tcp-close.md; the 0.97 target is the keep-alive one),
# BENCH_TCP_ALT (unset; the path of another kpulse build: each round also
# runs it, so a change is measured against the same rounds, and the report
# goes to $TMP only, not to results-*.md), BENCH_TCP_NS_ROUNDS (1: rounds
# of the ns-per-invocation runs, each build in turn; 0 skips them).

# shellcheck disable=SC2317 # cleanup is called through the trap
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BENCH_TAG=bench-tcp
# shellcheck source=tools/bench/lib.sh
. tools/bench/lib.sh

PAIRS=${BENCH_TCP_PAIRS:-7}
SECS=${BENCH_TCP_SECS:-5}
CONNS=${BENCH_TCP_CONNS:-32}
THREADS=${BENCH_TCP_THREADS:-1}
FILE_BYTES=${BENCH_TCP_FILE_BYTES:-1024}
CLOSE=${BENCH_TCP_CLOSE:-0}
ALT=${BENCH_TCP_ALT:-}
NS_ROUNDS=${BENCH_TCP_NS_ROUNDS:-1}
RESULTS=tools/bench/results-tcp.md
OUT=.output/bench
KPULSE=./kpulse
TARGET_RATIO=0.97


for v in PAIRS SECS CONNS THREADS FILE_BYTES CLOSE NS_ROUNDS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_TCP_$v='${!v}' is not a number"
done
((PAIRS >= 0 && SECS >= 1 && CONNS >= 1 && THREADS >= 1)) || die "counts must be >= 1 (BENCH_TCP_PAIRS >= 0)"
((CLOSE <= 1)) || die "BENCH_TCP_CLOSE is 0 or 1"
# extra wrk arguments of the throughput rounds
ROUND_ARGS=()
if ((CLOSE)); then
	ROUND_ARGS=(-H "Connection: close")
	RESULTS=tools/bench/results-tcp-close.md
fi

[[ $(id -u) -eq 0 ]] || die "run as root (loading BPF programs needs it)"
for t in bpftool nginx wrk curl python3 sysctl taskset clang gcc; do
	command -v "$t" >/dev/null || die "$t not found; run: bash tools/install-deps.sh"
done
[[ -x $KPULSE ]] || die "$KPULSE not built; run: make kpulse"
[[ -z $ALT || -x $ALT ]] || die "BENCH_TCP_ALT=$ALT is not an executable"

NCPU=$(nproc)
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
if ((NCPU >= 2)); then
	NGINX_CPU=${BENCH_TCP_NGINX_CPU:-1}
	WRK_CPU=${BENCH_TCP_WRK_CPU:-0}
else
	NGINX_CPU=0
	WRK_CPU=0
fi

# ---------------------------------------------------------------------------
# Everything started or changed is undone in cleanup.
declare -A LIVE=()	# pid -> name
STATS_PREV=""
TMP=""
NOTES=()
KP_STOPS=0
KP_BAD_STOPS=0

cleanup()
{
	local rc=$?
	set +e
	trap - EXIT INT TERM
	stop_live
	[[ -n $STATS_PREV ]] && sysctl -qw kernel.bpf_stats_enabled="$STATS_PREV"
	[[ -n $TMP ]] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# nginx: our own instance, config and files in TMP, daemon off, pinned.

TMP=$(mktemp -d /tmp/kpulse-bench-tcp.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/www" "$TMP/nginx"
head -c "$FILE_BYTES" /dev/zero | tr '\0' 'k' >"$TMP/www/index.html"
NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $TMP/www;
	}
}
EOF
taskset -c "$NGINX_CPU" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" >"$TMP/nginx.log" 2>&1 &
NGINX_PID=$!
LIVE[$NGINX_PID]=nginx
URL="http://127.0.0.1:$NGINX_PORT/index.html"
for ((i = 0; i < 100; i++)); do
	curl -fsS --max-time 1 -o /dev/null "$URL" 2>/dev/null && break
	alive "$NGINX_PID" || die "nginx exited: $(cat "$TMP/nginx.log" "$TMP/nginx/error.log" 2>/dev/null)"
	sleep 0.1
done
curl -fsS --max-time 1 -o /dev/null "$URL" || die "nginx does not answer on $URL"
# nginx forks its worker: pin that too (the master only waits)
for p in $(pgrep -P "$NGINX_PID" || true); do taskset -pc "$NGINX_CPU" "$p" >/dev/null; done

# wrk_rps [extra wrk args...] -> requests/s on stdout
wrk_rps()
{
	local out
	out=$(taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" "$@" "$URL" 2>&1)
	echo "$out" >>"$TMP/wrk.log"
	if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
		NOTES+=("wrk reported errors in a run: $(grep 'Non-2xx\|Socket errors' <<<"$out" | tr -s ' ' | head -n1)")
	fi
	awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

start_kpulse()
{
	kp_start || die "kpulse did not come up"
	kp_wait_steady || die "kpulse did not settle"
}

stop_kpulse() { kp_stop "$KP_PID"; }

build_floor
FLOOR_TPS=(sched_switch sock_send_length sock_recv_length tcp_probe sk_data_ready)
((CLOSE)) && FLOOR_TPS+=(inet_sock_set_state)

log "nginx on $URL (cpu $NGINX_CPU), wrk -t$THREADS -c$CONNS -d${SECS}s (cpu $WRK_CPU)"
wrk_rps -d1s >/dev/null	# warm-up

# ---------------------------------------------------------------------------
# 1. Throughput pairs.

: >"$TMP/pairs"
log "1/2 throughput: $PAIRS interleaved rounds without kpulse, with it, with the floor"
for ((pair = 1; pair <= PAIRS; pair++)); do
	if ((pair % 2)); then order="without with floor"; else order="floor with without"; fi
	[[ -n $ALT ]] && if ((pair % 2)); then order="$order alt"; else order="alt $order"; fi
	for mode in $order; do
		if [[ $mode == with || $mode == alt ]]; then
			[[ $mode == alt ]] && KPULSE=$ALT
			start_kpulse
			KPULSE=./kpulse
			sleep 0.5
			rps=$(wrk_rps "${ROUND_ARGS[@]}")
			stop_kpulse
		elif [[ $mode == floor ]]; then
			floor_start "${FLOOR_TPS[@]}" || die "the floor programs did not attach"
			sleep 1
			rps=$(wrk_rps "${ROUND_ARGS[@]}")
			stop_pid "$SUBJ_PID"
		else
			rps=$(wrk_rps "${ROUND_ARGS[@]}")
		fi
		[[ -n $rps ]] || die "cannot parse wrk output; see above"
		log "  pair $pair $mode: $rps req/s"
		echo "$pair $mode $rps" >>"$TMP/pairs"
	done
done
if ((PAIRS)); then
	RPS_WITHOUT=$(awk '$2 == "without" { print $3 }' "$TMP/pairs" | median)
	RPS_WITH=$(awk '$2 == "with" { print $3 }' "$TMP/pairs" | median)
	RPS_FLOOR=$(awk '$2 == "floor" { print $3 }' "$TMP/pairs" | median)
	# pair_ratios MODE: MODE's requests/s over "without" in each round, sorted
	pair_ratios()
	{
		awk -v m="$1" '{ v[$1 " " $2] = $3 } END {
			for (k in v) { split(k, a, " "); if (a[2] == m && ((a[1] " without") in v))
				printf "%.4f\n", v[k] / v[a[1] " without"] } }' "$TMP/pairs" | sort -g
	}
	PAIR_RATIOS=$(pair_ratios with)
	FLOOR_RATIOS=$(pair_ratios floor)
	ALT_RATIOS=$(pair_ratios alt)
	FLOOR_MED=$(median <<<"$FLOOR_RATIOS")
	FLOOR_MIN=$(head -n1 <<<"$FLOOR_RATIOS")
	FLOOR_MAX=$(tail -n1 <<<"$FLOOR_RATIOS")
	RATIO_MED=$(median <<<"$PAIR_RATIOS")
	RATIO_MIN=$(head -n1 <<<"$PAIR_RATIOS")
	RATIO_MAX=$(tail -n1 <<<"$PAIR_RATIOS")
	RATIO_OF_MEDIANS=$(awk -v a="$RPS_WITH" -v b="$RPS_WITHOUT" 'BEGIN { printf "%.4f", a / b }')
	VERDICT=$(awk -v r="$RATIO_MED" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "PASS" : "FAIL" }')
	((CLOSE)) && VERDICT="($VERDICT: the target is set for keep-alive)"
fi

# ---------------------------------------------------------------------------
# 2. ns per invocation, kpulse running, stats on: NS_ROUNDS rounds, each
# build (and BENCH_TCP_ALT's) in turn, summed.

STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
log "2/2 ns per invocation (kernel.bpf_stats_enabled=1, was $STATS_PREV)"
: >"$TMP/ns"
HELD_ALL=" "
for ((round = 1; round <= NS_ROUNDS; round++)); do
	for build in main ${ALT:+alt}; do
		[[ $build == alt ]] && KPULSE=$ALT
		start_kpulse
		KPULSE=./kpulse
		sleep 1
		HELD=" $(held_prog_ids "$KP_PID" | tr '\n' ' ') "
		HELD_ALL="$HELD_ALL${HELD# }"
		for wl in keepalive close; do
			args=()
			[[ $wl == close ]] && args=(-H "Connection: close")
			bpftool prog show -j | prog_table >"$TMP/s0"
			rps=$(wrk_rps "${args[@]}")
			bpftool prog show -j | prog_table >"$TMP/s1"
			log "  $build $wl: $rps req/s"
			echo "rps $build $wl $rps" >>"$TMP/ns"
			while read -r id name ns cnt; do
				[[ $HELD == *" $id "* ]] || continue
				read -r ns0 cnt0 < <(awk -v id="$id" '$1 == id { print $3, $4 }' "$TMP/s0")
				echo "$build $wl $name $((ns - ${ns0:-0})) $((cnt - ${cnt0:-0}))" >>"$TMP/ns"
			done <"$TMP/s1"
		done
		stop_kpulse
	done
done
HELD=$HELD_ALL
sysctl -qw kernel.bpf_stats_enabled="$STATS_PREV"
STATS_PREV=""

stop_pid "$NGINX_PID"

# nothing of kpulse's may remain loaded
LEFT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	LEFT=$(bpftool prog show -j | prog_table | awk -v held="$HELD" \
		'index(held, " " $1 " ") { printf "%s:%s ", $1, $2 }')
	[[ -z $LEFT ]] && break
	sleep 0.5
done
FAILED=0
if [[ -n $LEFT ]]; then
	NOTES+=("BPF programs of kpulse still loaded after it stopped: $LEFT")
	FAILED=1
fi
if ((KP_BAD_STOPS)); then
	NOTES+=("kpulse did not exit with status 0 within 10 s of SIGTERM in $KP_BAD_STOPS of $KP_STOPS stops.")
	FAILED=1
fi

# ---------------------------------------------------------------------------
# Report.

# tracepoint a kpulse TCP program serves, from its (15-character) name
tp_of()
{
	case $1 in
	kp_sk_state*) echo inet_sock_set_state ;;
	kp_send*) echo sock_send_length ;;
	kp_recv*) echo sock_recv_length ;;
	kp_probe*) echo tcp_probe ;;
	kp_data_ready*) echo sk_data_ready ;;
	kp_switch*) echo sched_switch ;;
	kp_retrans*) echo tcp_retransmit_skb ;;
	kp_rst_sent*) echo tcp_send_reset ;;
	kp_rst_recv*) echo tcp_receive_reset ;;
	*) echo "" ;;
	esac
}

report()
{
	local wl name ns cnt tp perreq rps
	echo "# kpulse TCP benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r) ($(uname -m)), $NCPU CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- kpulse: $("$KPULSE" --version 2>/dev/null || echo '?'), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- bpf src include 2>/dev/null || echo ' (+ uncommitted changes)')"
	echo "- tools: $(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $(bpftool version 2>/dev/null | head -n1)"
	echo "- load average before the run: $LOADAVG0 (well above 0: other work shared the CPUs, the figures are not clean)"
	echo "- workload: wrk -t$THREADS -c$CONNS -d${SECS}s on cpu $WRK_CPU against nginx (1 worker, cpu $NGINX_CPU) serving a $FILE_BYTES-byte file on 127.0.0.1$( ((CLOSE)) && echo "; throughput rounds with one connection per request (Connection: close)")"
	echo
	if ((PAIRS)); then
		echo "## Throughput with and without the kpulse daemon ($PAIRS interleaved rounds)"
		echo
		echo "| | requests/s (median) | median per-round ratio to without (range) |"
		echo "| --- | ---: | ---: |"
		printf '| without kpulse | %.0f | 1 |\n' "$RPS_WITHOUT"
		printf '| with kpulse daemon (all programs) | %.0f | %s (%s–%s) |\n' "$RPS_WITH" "$RATIO_MED" "$RATIO_MIN" "$RATIO_MAX"
		printf '| floor: %s, each only counting | %.0f | %s (%s–%s) |\n' "${FLOOR_TPS[*]}" "$RPS_FLOOR" "$FLOOR_MED" "$FLOOR_MIN" "$FLOOR_MAX"
		if [[ -n $ALT ]]; then
			printf '| alternative build %s | %.0f | %s (%s–%s) |\n' "$ALT" \
				"$(awk '$2 == "alt" { print $3 }' "$TMP/pairs" | median)" "$(median <<<"$ALT_RATIOS")" \
				"$(head -n1 <<<"$ALT_RATIOS")" "$(tail -n1 <<<"$ALT_RATIOS")"
			echo
			echo "alternative / with per round: median $(awk '{ v[$1 " " $2] = $3 } END {
				for (k in v) { split(k, a, " "); if (a[2] == "alt" && ((a[1] " with") in v))
					printf "%.4f\n", v[k] / v[a[1] " with"] } }' "$TMP/pairs" | median)"
		fi
		echo
		echo "| target | measured | verdict |"
		echo "| --- | ---: | --- |"
		echo "| median per-round throughput ratio with/without ≥ $TARGET_RATIO | $RATIO_MED (range $RATIO_MIN–$RATIO_MAX; ratio of medians $RATIO_OF_MEDIANS) | $VERDICT |"
		echo
		echo "Per round (requests/s):"
		echo
		echo "| round | without | with | floor | with / without | floor / without |"
		echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
		awk '{ v[$1 " " $2] = $3; if ($1 > n) n = $1 } END {
			for (i = 1; i <= n; i++) printf "| %d | %.0f | %.0f | %.0f | %.4f | %.4f |\n", i, v[i " without"],
				v[i " with"], v[i " floor"], v[i " with"] / v[i " without"], v[i " floor"] / v[i " without"] }' "$TMP/pairs"
		echo
	fi
	echo "## ns per invocation of each TCP/socket program and sched_switch (kpulse running, bpf stats on)"
	echo
	echo "| program | tracepoint | workload | ns/event | events | events per request |"
	echo "| --- | --- | --- | ---: | ---: | ---: |"
	for build in main ${ALT:+alt}; do
	for wl in keepalive close; do
		# requests over all rounds; programs' time and runs summed
		rps=$(awk -v b="$build" -v w="$wl" '$1 == "rps" && $2 == b && $3 == w { s += $4 } END { print s }' "$TMP/ns")
		while read -r name ns cnt; do
			tp=$(tp_of "$name")
			[[ -n $tp ]] || continue
			[[ $build == alt ]] && name="$name (alt)"
			if ((cnt > 0)); then
				perreq=$(awk -v c="$cnt" -v r="$rps" -v s="$SECS" 'BEGIN { printf "%.2f", c / (r * s) }')
				printf '| %s | %s | %s | %.0f | %d | %s |\n' "$name" "$tp" \
					"$([[ $wl == close ]] && echo "Connection: close" || echo keep-alive)" \
					"$(awk -v a="$ns" -v b="$cnt" 'BEGIN { print a / b }')" "$cnt" "$perreq"
			else
				printf '| %s | %s | %s | n/a | 0 | 0 |\n' "$name" "$tp" \
					"$([[ $wl == close ]] && echo "Connection: close" || echo keep-alive)"
			fi
		done < <(awk -v b="$build" -v w="$wl" '$1 == b && $2 == w { ns[$3] += $4; n[$3] += $5 }
			END { for (k in ns) print k, ns[k], n[k] }' "$TMP/ns" | sort)
	done
	done
	echo
	echo "## Notes"
	echo
	echo "- ns/event = Δrun_time_ns / Δrun_cnt from \`bpftool prog show -j\` around one wrk run of ${SECS} s per round ($NS_ROUNDS rounds), kernel.bpf_stats_enabled=1 (restored to $(sysctl -n kernel.bpf_stats_enabled) afterwards). It is the program body plus the stats' own clock reads; the tracepoint dispatch is not in it."
	echo "- \"with kpulse\" runs the whole daemon with its defaults: the scheduler and memory programs are attached too. Its runs start after its first timed collection (/health), when the BPF run-time stats it holds from its start to that collection are off again; its next sampled window opens 30 intervals later, after the run. Over time those windows add their duty (about 1/30) times the cost of the stats while on (1.5–2% on this workload, see README), about 0.05%, which these runs leave out. The floor runs without stats."
	echo "- floor: tools/bench/floor.bpf.c attached to ${FLOOR_TPS[*]}: each program adds 1 to a per-CPU array slot (sched_switch's adds a clock read). Its ratio is the price of the tracepoint dispatch alone on this machine (see spectre_v2 / spec_rstack_overflow in /sys/devices/system/cpu/vulnerabilities: $(cut -d';' -f1 /sys/devices/system/cpu/vulnerabilities/spectre_v2 2>/dev/null); $(cat /sys/devices/system/cpu/vulnerabilities/spec_rstack_overflow 2>/dev/null)), which any BPF tool on these tracepoints pays."
	echo "- tcp_retransmit_skb and the reset programs rarely fire on a clean loopback; \"n/a\" means they did not run during the workload."
	echo "- pairs alternate which run goes first; the floor gets a 1 s pause after it attaches, kpulse 0.5 s after its first timed collection."
	echo "- BPF programs left loaded at the end: $([[ -z $LEFT ]] && echo none || echo "$LEFT"); kpulse stopped cleanly on SIGTERM in $((KP_STOPS - KP_BAD_STOPS)) of $KP_STOPS stops."
	print_notes
}

[[ -n $ALT ]] && RESULTS=$TMP/results-alt.md
publish_report
