#!/usr/bin/env bash
# bench/search.sh — search latency and index build speed (docs: /work/shared/specs/search.md
# "Targets"), in one run on this machine, each figure beside the bare FTS5 work it stands on:
#
#   case          shuxiang                                         peer
#   build         `shuxiang reindex` of the library (resource_fts   —  (MB/s of passage text)
#                 with pinyin, passage_fts rebuilt)
#   1char 2char   GET /api/v1/search?q=… through `serve` (wrk, one  the endpoint's two candidate
#   pinyin mixed  thread, one connection, each query of the set once queries (search.c
#                 after a warm-up pass), p50 / p99                   meta_candidates and
#                                                                    passage_candidates, same
#                                                                    MATCH expressions) run
#                                                                    directly in one process
#                                                                    (bench/searchq.c; the same
#                                                                    warm-up pass), p50 / p99
#   ratio = HTTP ÷ direct (the endpoint's overhead: ranking, facets, resource rows, JSON, HTTP).
#
# The library is made here, straight into the database of a fresh data dir (`shuxiang migrate`)
# by bench/mkcorpus.c: at full scale 100 000 resources (one or two authors each) and 1 GiB of
# passages (~1.5 KB each, as ingest writes them) of Chinese text from Debian's fortunes-zh,
# shuffled and mixed (numbered title variations, random lines per passage). Query sets
# (bench/searchq.c gen, BENCH_SEARCH_QUERIES each) are random from that library: one
# character, two adjacent characters, pinyin (author full "libai", author initials "lb", title
# initials "jys"), mixed (a Latin word and two characters of the same passage: "Debian 用户").
#
# Nothing of the project is built here: bench/searchq.c links the storage library of the build
# the binary comes from (BUILD_DIR/storage/libshuxiang_storage.a, for db_open() and the
# tokenizer). Environment:
#   SHUXIANG_BIN          binary (default build/shuxiang, relative to the repository root); its
#                         directory must hold storage/libshuxiang_storage.a
#   BENCH_SEARCH_SCALE    size of the library in % of the full one (default 100: 100 000
#                         resources, 1024 MiB of passages; 20 = 20 000 and 205 MiB)
#   BENCH_SEARCH_QUERIES  queries per set (default 250)
#   BENCH_STRICT          1 = exit 1 when a target is missed (default 0)
#   BENCH_KEEP            1 = keep the temporary directory on exit
#
# Needs cc, pkg-config, the sqlite3/opencc/libsodium headers, wrk and fortunes-zh (Debian:
# apt-get install -y build-essential pkg-config libsqlite3-dev libopencc-dev libsodium-dev wrk
# fortunes-zh). At full scale the build takes a few minutes and ~4 GB in TMPDIR; everything is
# removed on exit, also on failure or a signal.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

bin=${SHUXIANG_BIN:-build/shuxiang}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
scale=${BENCH_SEARCH_SCALE:-100}
nq=${BENCH_SEARCH_QUERIES:-250}
strict=${BENCH_STRICT:-0}
keep=${BENCH_KEEP:-0}
fortunes=/usr/share/games/fortunes
sets=(1char 2char pinyin mixed)

# Targets (search.md)
target_p50=2    # ms
target_p99=10   # ms
target_over=1.2 # HTTP ÷ direct, at most
target_build=5  # MB/s

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

for v in "$scale" "$nq"; do
	[[ $v =~ ^[0-9]+$ ]] || die "BENCH_SEARCH_* must be whole numbers (got '$v')"
done
((scale >= 1 && scale <= 100)) || die "BENCH_SEARCH_SCALE must be 1..100"
((nq >= 10 && nq <= 100000)) || die "BENCH_SEARCH_QUERIES must be 10..100000"
nres=$((100000 * scale / 100))
pmb=$((1024 * scale / 100))

# ---------------------------------------------------------------- tools
need_install=()
command -v cc >/dev/null 2>&1 || need_install+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_install+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists sqlite3 || need_install+=(libsqlite3-dev)
	pkg-config --exists opencc || need_install+=(libopencc-dev)
	pkg-config --exists libsodium || need_install+=(libsodium-dev)
else
	need_install+=(libsqlite3-dev libopencc-dev libsodium-dev)
fi
command -v wrk >/dev/null 2>&1 || need_install+=(wrk)
[[ -r $fortunes/tang300.u8 ]] || need_install+=(fortunes-zh)
if ((${#need_install[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		log "installing ${need_install[*]}"
		apt-get install -y "${need_install[@]}" >/dev/null ||
			{ apt-get update >/dev/null && apt-get install -y "${need_install[@]}" >/dev/null; } ||
			die "could not install ${need_install[*]}"
	else
		die "missing ${need_install[*]}: run 'sudo apt-get install -y ${need_install[*]}'"
	fi
fi
[[ -x $bin ]] || die "binary '$bin' not found or not executable: build it first (make) or set SHUXIANG_BIN"
storage_lib=$(dirname "$bin")/storage/libshuxiang_storage.a
[[ -r $storage_lib ]] || die "$storage_lib not found: SHUXIANG_BIN must be in its CMake build directory"

# ---------------------------------------------------------------- cleanup
tmp=
sx_pid=

# shellcheck disable=SC2317 # invoked through trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$sx_pid" shuxiang
	remove_tmp "$rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_start=$EPOCHREALTIME
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuxiang-search-bench.XXXXXX")
ncpu=$(nproc 2>/dev/null || echo 2)
calc() { awk "BEGIN { $1 }"; }

# ---------------------------------------------------------------- helpers
log "compiling bench/mkcorpus.c and bench/searchq.c"
# shellcheck disable=SC2046 # pkg-config output is meant to be split
cc -O2 -std=c11 -D_GNU_SOURCE -o "$tmp/mkcorpus" "$here/mkcorpus.c" \
	$(pkg-config --cflags --libs sqlite3) || die "could not compile bench/mkcorpus.c"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/storage" -o "$tmp/searchq" "$here/searchq.c" \
	"$storage_lib" $(pkg-config --cflags --libs sqlite3 opencc libsodium) -lpthread ||
	die "could not compile bench/searchq.c"

# ---------------------------------------------------------------- library
data=$tmp/data
"$bin" migrate --data "$data" >/dev/null || die "shuxiang migrate --data $data failed"
log "library: $nres resources, $pmb MiB of passages (scale $scale %)"
t0=$EPOCHREALTIME
read -r _ npass pbytes < <("$tmp/mkcorpus" "$data/shuxiang.db" "$nres" "$pmb" \
	"$fortunes"/chinese.u8 "$fortunes"/tang300.u8 "$fortunes"/song100.u8) ||
	die "mkcorpus failed"
load_wall=$(calc "printf \"%.1f\", $EPOCHREALTIME - $t0")
log "loaded $npass passages ($pbytes bytes) in ${load_wall}s; shuxiang reindex"
"$bin" reindex --data "$data" >"$tmp/reindex.out" 2>"$tmp/reindex.err" ||
	die "shuxiang reindex failed: $(head -c 300 "$tmp/reindex.err")"
build_s=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$tmp/reindex.out")
[[ -n $build_s ]] || die "no time in the reindex output: $(cat "$tmp/reindex.out")"
build_mbs=$(calc "printf \"%.1f\", $pbytes / 1e6 / $build_s")
db_mb=$(du -sm "$data/shuxiang.db" | cut -f1)
log "$(cat "$tmp/reindex.out"): $build_mbs MB/s; database $db_mb MB"

mkdir -p "$tmp/q"
"$tmp/searchq" gen "$data/shuxiang.db" "$nq" "$tmp/q" || die "searchq gen failed"

# ---------------------------------------------------------------- direct
declare -A d_p50 d_p99 d_m50 d_s50 d_m99 d_s99 d_rows h_p50 h_p99 h_req h_bad
for s in "${sets[@]}"; do
	log "direct: $s ($nq queries, a warm-up pass then the timed one)"
	read -r _ "d_p50[$s]" "d_p99[$s]" _ "d_m50[$s]" "d_s50[$s]" "d_m99[$s]" "d_s99[$s]" "d_rows[$s]" < <(
		"$tmp/searchq" run "$data/shuxiang.db" "$tmp/q/$s.txt") || die "searchq run $s failed"
done

# ---------------------------------------------------------------- HTTP
: >"$tmp/shuxiang.out"
: >"$tmp/shuxiang.err"
launcher=()
command -v stdbuf >/dev/null 2>&1 && launcher=(stdbuf -oL)
SHUXIANG_ACCESS_LOG=0 "${launcher[@]}" "$bin" serve --data "$data" --bind 127.0.0.1 --port 0 \
	>"$tmp/shuxiang.out" 2>"$tmp/shuxiang.err" </dev/null &
sx_pid=$!
port=
for ((i = 0; i < 600; i++)); do
	port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p;T;q' "$tmp/shuxiang.out")
	[[ -n $port ]] && break
	alive "$sx_pid" || die "shuxiang exited before listening (stdout: $(tr '\n' ' ' <"$tmp/shuxiang.out"))"
	sleep 0.1
done
[[ -n $port ]] || die "shuxiang printed no 'listening on http://127.0.0.1:PORT' line within 60 s"
sx=http://127.0.0.1:$port
code=$(curl -s -o "$tmp/probe.json" -w '%{http_code}' "$sx$(head -n 1 "$tmp/q/2char.txt.paths")") ||
	die "curl $sx failed"
[[ $code == 200 ]] || die "search answered $code: $(head -c 300 "$tmp/probe.json")"

# wrk: one thread, one connection, each path of the set once; then the Lua script stops the
# thread and touches a flag file, and SIGINT makes wrk print its figures (it would otherwise
# sleep out -d, an upper bound here). Non-2xx answers are counted.
cat >"$tmp/pass.lua" <<'EOF'
local paths, i, done, flag = {}, 0, 0, nil
init = function(args)
  for l in io.lines(args[1]) do paths[#paths + 1] = l end
  flag = args[2]
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
response = function(status, headers, body)
  done = done + 1
  if done == #paths then
    io.open(flag, "w"):close()
    wrk.thread:stop()
  end
end
EOF
wrk_pass() { # set out
	local w i
	rm -f "$tmp/pass.done"
	wrk -t1 -c1 -d3600s --timeout 60s --latency -s "$tmp/pass.lua" "$sx" -- \
		"$tmp/q/$1.txt.paths" "$tmp/pass.done" >"$2" &
	w=$!
	while [[ ! -e $tmp/pass.done ]] && alive "$w"; do
		sleep 0.1
	done
	kill -INT "$w" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		alive "$w" || break
		sleep 0.1
	done
	alive "$w" && kill -KILL "$w"
	wait "$w" || die "wrk failed on the $1 set"
}
to_ms() { # wrk latency (12.3us, 1.2ms, 1.1s) → ms
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.3f", n }'
}
for s in "${sets[@]}"; do
	log "http: $s (wrk -t1 -c1, a warm-up pass then the timed one)"
	wrk_pass "$s" /dev/null
	wrk_pass "$s" "$tmp/wrk-$s.txt"
	h_p50[$s]=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$tmp/wrk-$s.txt")")
	h_p99[$s]=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$s.txt")")
	h_req[$s]=$(awk '/requests in/ {print $1; exit}' "$tmp/wrk-$s.txt")
	h_bad[$s]=$(awk '/Non-2xx/ {print $NF; exit}' "$tmp/wrk-$s.txt")
	h_bad[$s]=${h_bad[$s]:-0}
	alive "$sx_pid" || die "shuxiang died during the $s set"
done
serve_hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$sx_pid/status")
stop_pid "$sx_pid" shuxiang
sx_pid=

# ---------------------------------------------------------------- report
verdict() { calc "exit !($1)" && echo met || echo MISSED; }
missed=0
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
memtotal=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo
echo "Shuxiang search benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $ncpu CPUs, ${cpu:-unknown CPU}, ${memtotal:-? GiB}; kernel $(uname -srm)"
echo "binary:  $bin (modified $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'); git HEAD $rev)"
echo "loadavg: $load_start before the run (anything else running skews the figures)"
echo "library: scale $scale %: $nres resources, $npass passages, $(calc "printf \"%.0f\", $pbytes / 1e6") MB of passage text (loaded in ${load_wall}s); database after reindex $db_mb MB"
echo
build_v=$(verdict "$build_mbs >= $target_build")
[[ $build_v == met ]] || missed=1
echo "build: \`shuxiang reindex\` ${build_s}s = $build_mbs MB/s of passage text (target >= $target_build MB/s): $build_v"
echo
row() { printf '| %-6s | %-17s | %-17s | %-17s | %-11s | %-24s |\n' "$@"; }
row set "HTTP p50 / p99" "direct p50 / p99" "ratio p50 / p99" "rows/query" "p50<=2 p99<=10 ratio<=1.2"
echo "|--------|-------------------|-------------------|-------------------|-------------|--------------------------|"
for s in "${sets[@]}"; do
	r50=$(calc "printf \"%.2f\", ${h_p50[$s]} / (${d_p50[$s]} > 0 ? ${d_p50[$s]} : 0.001)")
	r99=$(calc "printf \"%.2f\", ${h_p99[$s]} / (${d_p99[$s]} > 0 ? ${d_p99[$s]} : 0.001)")
	v=$(verdict "${h_p50[$s]} <= $target_p50")/$(verdict "${h_p99[$s]} <= $target_p99")/$(verdict "$r50 <= $target_over")
	[[ $v == met/met/met ]] || missed=1
	row "$s" "${h_p50[$s]} / ${h_p99[$s]} ms" "${d_p50[$s]} / ${d_p99[$s]} ms" "$r50 / $r99" \
		"${d_rows[$s]}" "$v"
done
echo
echo "direct split, metadata / passages (ms):"
for s in "${sets[@]}"; do
	printf '  %-6s p50 %s / %s, p99 %s / %s\n' "$s" "${d_m50[$s]}" "${d_s50[$s]}" "${d_m99[$s]}" "${d_s99[$s]}"
done
echo "HTTP requests (wrk -t1 -c1, the timed pass over each set's $nq queries):"
for s in "${sets[@]}"; do
	printf '  %-6s %s requests, %s non-2xx\n' "$s" "${h_req[$s]}" "${h_bad[$s]}"
	((${h_bad[$s]} == 0)) || missed=1
done
echo "serve VmHWM after the sets: ${serve_hwm:-?} kB"
echo "rows/query = rows the two candidate queries return (at most 500 + 300); ratio = HTTP ÷ direct"
echo
echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') after the run"
echo "total time of the benchmark: $(calc "printf \"%.0f\", $EPOCHREALTIME - $bench_start") s"
if ((missed)) && [[ $strict == 1 ]]; then
	exit 1
fi
exit 0
