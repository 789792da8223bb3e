#!/usr/bin/env bash
# bench/http.sh — HTTP throughput of `shuxiang serve` against nginx, on loopback.
#
# One run starts both servers on 127.0.0.1, checks that each answers every case
# with the right status, length and bytes, then runs wrk with identical settings
# against each and prints a table (ours / nginx, with the targets from issue 2).
#
#   case          shuxiang                      nginx
#   json          GET /api/v1/health            GET /health.json (the same bytes)
#   file          GET /big.bin (2 MiB)          GET /big.bin
#   range         GET /big.bin + Range 64 KiB   GET /big.bin + Range 64 KiB
#
# Nothing is built here. Environment:
#   SHUXIANG_BIN    server binary (default build/shuxiang, relative to the repo root)
#   BENCH_DURATION  seconds per wrk run (default 10)
#   BENCH_CONNS     wrk connections (default 64)
#   BENCH_THREADS   wrk threads (default 2)
#   BENCH_WARMUP    seconds of discarded warm-up per run, 0 = none (default 2)
#   BENCH_STRICT    1 = exit 1 when a case is below its target (default 0)
#   BENCH_KEEP      1 = keep the temporary directory (logs, wrk output) on exit
#   SHUXIANG_ACCESS_LOG, SHUXIANG_PER_IP_CONN_LIMIT  passed to the server (default 0, 0)
#
# Needs curl, wrk and nginx (Debian: apt-get install -y nginx-light wrk curl).
# Total time is bounded: 6 runs x (BENCH_WARMUP + BENCH_DURATION) plus start-up.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

bin=${SHUXIANG_BIN:-build/shuxiang}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
duration=${BENCH_DURATION:-10}
duration=${duration%s}
conns=${BENCH_CONNS:-64}
wrk_threads=${BENCH_THREADS:-2}
warmup=${BENCH_WARMUP:-2}
warmup=${warmup%s}
strict=${BENCH_STRICT:-0}
keep=${BENCH_KEEP:-0}

range_hdr='bytes=1048576-1114111'
range_off=1048576
range_len=65536
big_size=$((2 * 1024 * 1024))

tmp=
sx_pid=
ngx_pid=
wrk_pid=

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for v in "$duration" "$conns" "$wrk_threads" "$warmup"; do
	[[ $v =~ ^[0-9]+$ ]] || die "BENCH_DURATION, BENCH_CONNS, BENCH_THREADS and BENCH_WARMUP must be whole numbers (got '$v')"
done
((duration > 0 && conns > 0 && wrk_threads > 0)) || die "duration, connections and threads must be > 0"
((duration <= 300 && warmup <= 60 && conns <= 10000)) ||
	die "BENCH_DURATION is capped at 300 s, BENCH_WARMUP at 60 s and BENCH_CONNS at 10000"
((conns >= wrk_threads)) || die "BENCH_CONNS must be >= BENCH_THREADS"

# ---------------------------------------------------------------- tools
need_install=()
command -v wrk >/dev/null 2>&1 || need_install+=(wrk)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_install+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_install+=(curl)
if ((${#need_install[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		log "installing ${need_install[*]}"
		apt-get install -y "${need_install[@]}" >/dev/null ||
			{ apt-get update >/dev/null && apt-get install -y "${need_install[@]}" >/dev/null; } ||
			die "could not install ${need_install[*]}"
	else
		die "missing ${need_install[*]}: run 'sudo apt-get install -y nginx-light wrk curl' (or 'make bench')"
	fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

[[ -x $bin ]] || die "server binary '$bin' not found or not executable: build it first (make) or set SHUXIANG_BIN"

# ---------------------------------------------------------------- cleanup

# shellcheck disable=SC2317 # invoked through trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$wrk_pid" wrk
	stop_pid "$sx_pid" shuxiang
	stop_pid "$ngx_pid" nginx
	remove_tmp "$rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuxiang-bench.XXXXXX")
data=$tmp/data
web=$tmp/web
mkdir -p "$data" "$web" "$tmp/nginx"
head -c "$big_size" /dev/urandom >"$web/big.bin"
dd if="$web/big.bin" of="$tmp/range.expected" iflag=skip_bytes,count_bytes \
	skip="$range_off" count="$range_len" bs=64K status=none

# ---------------------------------------------------------------- shuxiang

log "starting $bin serve on 127.0.0.1 (port 0)"
# stdbuf: the "listening on" line must reach the file even if stdout is block-buffered.
# Like the nginx peer: no access log. All wrk connections come from 127.0.0.1,
# so lift the per-address connection cap (the default, 64, would bind at -c64).
export SHUXIANG_ACCESS_LOG=${SHUXIANG_ACCESS_LOG:-0}
export SHUXIANG_PER_IP_CONN_LIMIT=${SHUXIANG_PER_IP_CONN_LIMIT:-0}
launcher=()
command -v stdbuf >/dev/null 2>&1 && launcher=(stdbuf -oL)
"${launcher[@]}" "$bin" serve --data "$data" --bind 127.0.0.1 --port 0 --threads 2 --web-dir "$web" \
	>"$tmp/shuxiang.out" 2>"$tmp/shuxiang.err" </dev/null &
sx_pid=$!
sx_port=
for ((i = 0; i < 300; i++)); do
	sx_port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p;T;q' "$tmp/shuxiang.out")
	[[ -n $sx_port ]] && break
	alive "$sx_pid" || die "shuxiang exited before listening (stdout: $(tr '\n' ' ' <"$tmp/shuxiang.out"))"
	sleep 0.1
done
[[ -n $sx_port ]] || die "shuxiang printed no 'listening on http://127.0.0.1:PORT' line within 30 s"
sx=http://127.0.0.1:$sx_port
log "shuxiang listening on $sx (pid $sx_pid)"

# health.json = exactly the bytes our health route returns
code=$(curl -s -o "$web/health.json" -w '%{http_code}' "$sx/api/v1/health") || die "curl $sx/api/v1/health failed"
[[ $code == 200 ]] || die "shuxiang GET /api/v1/health answered $code, not 200"
health_size=$(wc -c <"$web/health.json")
((health_size > 0)) || die "shuxiang GET /api/v1/health returned an empty body"

# ---------------------------------------------------------------- nginx
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

user_line=
if [[ $(id -u) -eq 0 ]]; then
	# As root the workers would drop to 'nobody'; keep them as the current user.
	user_line="user $(id -un) $(id -gn);"
fi

ngx_port=
for ((attempt = 0; attempt < 10; attempt++)); do
	p=$((20000 + RANDOM % 40000))
	port_in_use "$p" && continue
	sed -e "s#@TMP@#$tmp#g" -e "s#@PORT@#$p#g" -e "s#@WEBDIR@#$web#g" -e "s#@USER_LINE@#$user_line#g" \
		"$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
	: >"$tmp/nginx/error.log"
	"$nginx_bin" -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
		>"$tmp/nginx/stdout.log" 2>&1 </dev/null &
	ngx_pid=$!
	for ((i = 0; i < 100; i++)); do
		alive "$ngx_pid" || break
		port_in_use "$p" && { ngx_port=$p; break; }
		sleep 0.1
	done
	[[ -n $ngx_port ]] && break
	stop_pid "$ngx_pid" nginx
	ngx_pid=
	grep -q 'Address already in use' "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" 2>/dev/null && continue
	die "nginx did not start: $(cat "$tmp/nginx/error.log" "$tmp/nginx/stdout.log")"
done
[[ -n $ngx_port ]] || die "no free port found for nginx"
ngx=http://127.0.0.1:$ngx_port
log "nginx listening on $ngx (pid $ngx_pid)"

# ---------------------------------------------------------------- correctness
check() { # label url code size expected-file [range]
	local label=$1 url=$2 want_code=$3 want_size=$4 expected=$5 range=${6:-} got
	local args=(-s -o "$tmp/check.body" -w '%{http_code} %{size_download}')
	[[ -n $range ]] && args+=(-H "Range: $range")
	got=$(curl "${args[@]}" "$url") || die "$label: curl $url failed"
	[[ $got == "$want_code $want_size" ]] ||
		die "$label: GET $url${range:+ (Range: $range)} answered '$got', want '$want_code $want_size' (status size)"
	cmp -s "$tmp/check.body" "$expected" || die "$label: GET $url${range:+ (Range: $range)} returned the wrong bytes"
}
check_all() {
	check "shuxiang json" "$sx/api/v1/health" 200 "$health_size" "$web/health.json"
	check "nginx json" "$ngx/health.json" 200 "$health_size" "$web/health.json"
	check "shuxiang file" "$sx/big.bin" 200 "$big_size" "$web/big.bin"
	check "nginx file" "$ngx/big.bin" 200 "$big_size" "$web/big.bin"
	check "shuxiang range" "$sx/big.bin" 206 "$range_len" "$tmp/range.expected" "$range_hdr"
	check "nginx range" "$ngx/big.bin" 206 "$range_len" "$tmp/range.expected" "$range_hdr"
}
check_all
log "both servers answer all cases correctly (200/200/206, right lengths and bytes)"

# ---------------------------------------------------------------- load
notes=()
below=0
errors=0
disturbed=0
declare -A other_cpu=()
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
rows=()

run_wrk() { # out-prefix server-label pid url [header]
	local out=$1 who=$2 pid=$3 url=$4 hdr=${5:-}
	local args=(-t"$wrk_threads" -c"$conns" --timeout 5s)
	[[ -n $hdr ]] && args+=(-H "$hdr")
	if ((warmup > 0)); then
		wrk_bg "$tmp/$out.warmup.txt" "${args[@]}" -d"${warmup}s" "$url" ||
			die "wrk warm-up against $who $url failed: $(cat "$tmp/$out.warmup.txt")"
		alive "$pid" || die "$who exited during the warm-up of $url${hdr:+ ($hdr)}"
	fi
	local before after
	before=$(cpu_sample)
	wrk_bg "$tmp/$out.txt" "${args[@]}" -d"${duration}s" --latency "$url" ||
		die "wrk against $who $url failed: $(cat "$tmp/$out.txt")"
	after=$(cpu_sample)
	local foreign
	foreign=$(awk -v b="$before" -v a="$after" -v d="$duration" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		f = ((y[1] - x[1]) - (y[2] - x[2])) / y[3] / d
		printf "%.2f", f < 0 ? 0 : f }')
	other_cpu[$out]=$foreign
	if awk -v f="$foreign" 'BEGIN { exit !(f >= 0.10) }'; then
		notes+=("$who $out: other processes used $foreign CPUs on average during the run")
		disturbed=1
	fi
	# shellcheck disable=SC2016 # the single quotes are meant to be printed
	alive "$pid" || die "$who exited under load: wrk -t$wrk_threads -c$conns -d${duration}s ${hdr:+-H '$hdr' }$url"
	local non2xx sockerr
	non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$tmp/$out.txt")
	sockerr=$(awk '/Socket errors:/ {sub(/^ +/, ""); print}' "$tmp/$out.txt")
	if [[ -n $non2xx && $non2xx != 0 ]]; then
		notes+=("$who $out: $non2xx non-2xx/3xx responses")
		errors=1
	fi
	[[ -n $sockerr ]] && notes+=("$who $out: $sockerr")
	return 0
}
# "busy-ticks our-ticks ticks-per-second": CPU time of the whole machine
# (user+nice+system) and of this benchmark (both servers, and wrk and the other
# children this shell has reaped), to tell how much else ran during a run.
cpu_sample() {
	local u n sy busy ours=0 p f fields
	read -r _ u n sy _ </proc/stat
	busy=$((u + n + sy))
	for p in "$sx_pid" "$ngx_pid" $(ps -o pid= --ppid "$ngx_pid" 2>/dev/null) $$; do
		f=$(<"/proc/$p/stat") 2>/dev/null || continue
		read -r -a fields <<<"${f##*) }" # fields[0] is field 3 (state)
		if [[ $p == "$$" ]]; then
			ours=$((ours + fields[13] + fields[14])) # cutime + cstime: reaped children
		else
			ours=$((ours + fields[11] + fields[12])) # utime + stime
		fi
	done
	echo "$busy $ours $clk_tck"
}
# wrk runs in the background so that a signal reaches the trap at once.
wrk_bg() { # out-file wrk-args...
	local out=$1 rc=0
	shift
	wrk "$@" >"$out" 2>&1 </dev/null &
	wrk_pid=$!
	wait "$wrk_pid" || rc=$?
	wrk_pid=
	return "$rc"
}
field() { awk -v k="$2" '$1 == k {print $2}' "$tmp/$1.txt"; }
latency() { awk '$1 == "Latency" {print $2; exit}' "$tmp/$1.txt"; }

bench_case() { # case sx-path ngx-path target [header]
	local c=$1 sxp=$2 ngp=$3 target=$4 hdr=${5:-}
	log "case $c: shuxiang $sxp ${hdr:+($hdr) }— ${duration}s"
	run_wrk "$c-shuxiang" shuxiang "$sx_pid" "$sx$sxp" "$hdr"
	log "case $c: nginx $ngp ${hdr:+($hdr) }— ${duration}s"
	run_wrk "$c-nginx" nginx "$ngx_pid" "$ngx$ngp" "$hdr"
	local a b ratio verdict
	a=$(field "$c-shuxiang" Requests/sec:)
	b=$(field "$c-nginx" Requests/sec:)
	[[ -n $a && -n $b ]] || die "could not read Requests/sec from wrk output for case $c"
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
	if awk -v a="$a" -v b="$b" -v t="$target" 'BEGIN { exit !(a >= t * b) }'; then
		verdict=PASS
	else
		verdict=BELOW
		below=1
	fi
	rows+=("$(printf '| %-6s | %14s | %12s | %5s | %10s | %10s | %10s | %11s | >= %.1f | %-6s |' \
		"$c" "$a" "$b" "$ratio" \
		"$(field "$c-shuxiang" Transfer/sec:)" "$(field "$c-nginx" Transfer/sec:)" \
		"$(latency "$c-shuxiang")" "$(latency "$c-nginx")" "$target" "$verdict")")
}

bench_case json /api/v1/health /health.json 0.8
bench_case file /big.bin /big.bin 0.9
bench_case range /big.bin /big.bin 0.9 "Range: $range_hdr"

# Still correct after the load?
check_all

# ---------------------------------------------------------------- report
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo
echo "Shuxiang HTTP benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, ${mem:-? GiB}; kernel $(uname -srm)"
echo "binary:  $bin (modified $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'); git HEAD $rev)"
echo "peers:   shuxiang (--threads 2, access_log=$SHUXIANG_ACCESS_LOG, per_ip_conn_limit=$SHUXIANG_PER_IP_CONN_LIMIT) vs $("$nginx_bin" -v 2>&1 | sed 's#^nginx version: ##') (worker_processes 2, sendfile on), both on 127.0.0.1"
echo "loadavg: $load_start before the servers started (anything else running skews the figures)"
echo "wrk:     $(wrk -v 2>&1 | awk 'NR == 1 {print $1, $2}') -t$wrk_threads -c$conns -d${duration}s (after a ${warmup}s warm-up); same machine as the servers"
echo
echo "| case   | shuxiang req/s |  nginx req/s | ratio | shuxiang/s |    nginx/s | sx lat avg | ngx lat avg | target | result |"
echo "|--------|---------------:|-------------:|------:|-----------:|-----------:|-----------:|------------:|--------|--------|"
printf '%s\n' "${rows[@]}"
echo
echo "json  = shuxiang GET /api/v1/health vs nginx GET /health.json ($health_size bytes, same body)"
echo "file  = GET /big.bin (2 MiB random bytes) from the web dir"
echo "range = GET /big.bin with 'Range: $range_hdr' (206, 64 KiB)"
echo "ratio = shuxiang req/s / nginx req/s; transfer/s and average latency as wrk reports them"
printf 'other processes, CPUs used on average during each run (shuxiang/nginx):'
for c in json file range; do
	printf ' %s %s/%s' "$c" "${other_cpu[$c-shuxiang]:-?}" "${other_cpu[$c-nginx]:-?}"
done
echo
if ((${#notes[@]})); then
	echo
	echo "wrk reported:"
	printf '  %s\n' "${notes[@]}"
fi
if ((disturbed)); then
	echo
	echo "DISTURBED: other processes competed for the CPUs during a run; rerun on an idle machine"
fi
if ((errors)); then
	echo
	echo "ERRORS: a server answered non-2xx/3xx under load (see above)"
	exit 1
fi
if ((below)) && [[ $strict == 1 ]]; then
	exit 1
fi
exit 0
