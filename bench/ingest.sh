#!/usr/bin/env bash
# bench/ingest.sh — book ingest speed and server memory (docs: /work/shared/specs/media.md
# "Targets"), in one run on this machine, each figure beside a peer that does the bare minimum:
#
#   case        shuxiang                                          peer
#   epub cli    `shuxiang ingest` of N EPUBs into a fresh data dir  `unzip -q -o` of the same N
#   epub serve  the same N uploaded to `serve` (POSTs of 10) and     (same peer)
#               ingested by its job workers, end to end
#   txt         `shuxiang ingest` of a 10 MB GBK novel (TXT →        `iconv -f GBK -t UTF-8`
#               EPUB 3 + index), median of 3
#   memory      peak RSS (VmHWM) of `serve` receiving and ingesting  the same after a ~100 MB one
#               a ~1 GB bundle (zip: manifest.csv + 250 illustrated  ("flat" = about the same)
#               EPUBs of ~4 MB: the text and cover of the others
#               plus 12 full-page pictures; 1000 plain books took
#               the bundle job alone 327 s in a first version)
#
# Then, with perf (when installed), where the time of one book goes: `perf record --call-graph
# dwarf` of `shuxiang ingest` of 50 books and of the novel, inclusive share of the main steps
# (cover, EPUB unpacking, database, TXT conversion) and the top 15 symbols.
#
# The books are made here by bench/mkbooks.c (compiled into the temporary directory): EPUB 3,
# ~1 MiB each (20 chapters of Chinese text from Debian's fortunes-zh, an 800×1200 JPEG cover of
# ~250 KB, nav.xhtml; epubcheck finds no error), every book different.
#
# Nothing of the project is built here. Environment:
#   SHUXIANG_BIN          binary (default build/shuxiang, relative to the repository root)
#   BENCH_BOOKS           EPUBs for the rate cases (default 200)
#   BENCH_BUNDLE_BOOKS    EPUBs in the big bundle (default 250, ~1 GB)
#   BENCH_SMALL_BUNDLE    EPUBs in the small bundle (default 25, ~100 MB)
#   BENCH_BUNDLE_PLATES   full-page pictures in each bundle book (default 12, ~250 KB each)
#   BENCH_PROFILE_BOOKS   books in the perf profile, 0 = no profile (default 50)
#   BENCH_TXT_MB          size of the GBK novel in MiB (default 10)
#   BENCH_STRICT          1 = exit 1 when a target is missed (default 0)
#   BENCH_KEEP            1 = keep the temporary directory on exit
#
# Needs cc, pkg-config, the libarchive/libavcodec/libswscale headers, curl, unzip, iconv and
# fortunes-zh (Debian: apt-get install -y build-essential pkg-config libarchive-dev
# libavcodec-dev libswscale-dev curl unzip fortunes-zh); perf (linux-perf) for the profile.
# Takes about 5 minutes on 2 idle CPUs and ~6 GB in TMPDIR at its peak; everything is removed
# on exit, also on failure or a signal.
# shellcheck disable=SC2317 # functions run through measure() look unreachable to shellcheck
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

bin=${SHUXIANG_BIN:-build/shuxiang}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
nbooks=${BENCH_BOOKS:-200}
bundle_books=${BENCH_BUNDLE_BOOKS:-250}
small_books=${BENCH_SMALL_BUNDLE:-25}
plates=${BENCH_BUNDLE_PLATES:-12}
profile_books=${BENCH_PROFILE_BOOKS:-50}
txt_mb=${BENCH_TXT_MB:-10}
strict=${BENCH_STRICT:-0}
keep=${BENCH_KEEP:-0}
corpus=/usr/share/games/fortunes/chinese
batch=10 # files per upload POST (the server takes at most 64)
txt_runs=3

# Targets (media.md)
target_rate=20 # books/s
target_txt=2   # seconds
target_flat=1.25 # big-bundle peak ÷ small-bundle peak, at most

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for v in "$nbooks" "$bundle_books" "$small_books" "$plates" "$profile_books" "$txt_mb"; do
	[[ $v =~ ^[0-9]+$ ]] || die "BENCH_* sizes must be whole numbers (got '$v')"
done
((nbooks >= 10 && nbooks <= 2000)) || die "BENCH_BOOKS must be 10..2000"
((small_books >= 1 && bundle_books >= small_books && bundle_books <= 5000)) ||
	die "need 1 <= BENCH_SMALL_BUNDLE <= BENCH_BUNDLE_BOOKS <= 5000"
((profile_books <= nbooks)) || die "BENCH_PROFILE_BOOKS must be <= BENCH_BOOKS"
((plates <= 99)) || die "BENCH_BUNDLE_PLATES must be 0..99"
((txt_mb >= 1 && txt_mb <= 200)) || die "BENCH_TXT_MB must be 1..200"

# ---------------------------------------------------------------- tools
libs="libarchive libavcodec libavutil libswscale"
need_install=()
command -v cc >/dev/null 2>&1 || need_install+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_install+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists libarchive || need_install+=(libarchive-dev)
	pkg-config --exists libavcodec libavutil || need_install+=(libavcodec-dev)
	pkg-config --exists libswscale || need_install+=(libswscale-dev)
else
	need_install+=(libarchive-dev libavcodec-dev libswscale-dev)
fi
command -v curl >/dev/null 2>&1 || need_install+=(curl)
command -v unzip >/dev/null 2>&1 || need_install+=(unzip)
[[ -r $corpus ]] || need_install+=(fortunes-zh)
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
command -v iconv >/dev/null 2>&1 || die "iconv (libc-bin) not found"
have_perf=0
if ((profile_books > 0)); then
	if command -v perf >/dev/null 2>&1 && perf record -q -o /dev/null true >/dev/null 2>&1; then
		have_perf=1
	else
		log "perf not usable (apt-get install linux-perf; perf_event_paranoid <= 2): no profile"
	fi
fi
[[ -x $bin ]] || die "binary '$bin' not found or not executable: build it first (make) or set SHUXIANG_BIN"

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
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuxiang-ingest-bench.XXXXXX")
mkdir -p "$tmp/books"
ncpu=$(nproc 2>/dev/null || echo 2)

# ---------------------------------------------------------------- measuring

disturbed=()
note_other() { # case
	if calc "exit !($M_OTHER >= 0.10)"; then
		disturbed+=("$1: other processes used $M_OTHER CPUs on average")
	fi
}

# ---------------------------------------------------------------- books
log "compiling bench/mkbooks.c"
# shellcheck disable=SC2046,SC2086 # pkg-config output and $libs are meant to be split
cc -O2 -std=c11 -o "$tmp/mkbooks" "$here/mkbooks.c" $(pkg-config --cflags --libs $libs) ||
	die "could not compile bench/mkbooks.c"

gen_books() { # first count
	"$tmp/mkbooks" epub "$corpus" "$tmp/books" "$1" "$2" "$ncpu" >>"$tmp/books.txt"
}
log "generating $nbooks EPUB 3 books ($ncpu processes)"
measure gen_books 0 "$nbooks" || die "mkbooks failed"
gen_wall=$M_WALL
book_stats=$(awk '{
	n++; s += $2; c += $3; t += $4
	if (n == 1 || $2 < smin) smin = $2; if ($2 > smax) smax = $2
	if (n == 1 || $3 < cmin) cmin = $3; if ($3 > cmax) cmax = $3 }
	END { printf "%d EPUB 3 files, %.0f KB on average (%.0f–%.0f KB); cover JPEG 800x1200 %.0f KB (%.0f–%.0f KB); chapter text %.0f KB (UTF-8) in 20 chapters",
		n, s / n / 1000, smin / 1000, smax / 1000, c / n / 1000, cmin / 1000, cmax / 1000, t / n / 1000 }' "$tmp/books.txt")
log "books: $book_stats; made in ${gen_wall}s"
books=()
for ((i = 0; i < nbooks; i++)); do
	books+=("$(printf '%s/books/book-%04d.epub' "$tmp" "$i")")
done

new_data() { # dir
	rm -rf "$1"
	"$bin" migrate --data "$1" >/dev/null || die "shuxiang migrate --data $1 failed"
}

# ---------------------------------------------------------------- epub: cli
cli_ingest() { # out data files...
	local out=$1 data=$2
	shift 2
	"$bin" ingest "$@" --data "$data" >"$out" 2>"$tmp/cli.err"
}
check_cli() { # out expected
	local ok
	ok=$(awk -F'\t' '$2 == "ok"' "$1" | wc -l)
	((ok == $2)) || die "shuxiang ingest: $ok of $2 ok; first other lines: $(awk -F'\t' '$2 != "ok"' "$1" | head -n 3) $(head -c 500 "$tmp/cli.err")"
}

log "epub cli: shuxiang ingest of $nbooks books into a fresh data dir"
new_data "$tmp/cli"
measure cli_ingest "$tmp/cli.out" "$tmp/cli" "${books[@]}" || true
check_cli "$tmp/cli.out" "$nbooks"
cli_wall=$M_WALL cli_cpu=$M_CPU cli_other=$M_OTHER
note_other "epub cli"
cli_db=$(du -sm "$tmp/cli/shuxiang.db" | cut -f1)
cli_media=$(du -sm "$tmp/cli/media" | cut -f1)
rm -rf "$tmp/cli"

unzip_all() {
	local i
	for ((i = 0; i < nbooks; i++)); do
		unzip -q -o "${books[i]}" -d "$tmp/unzip/$i" || return 1
	done
}
log "epub peer: unzip -q -o of the same $nbooks books (one directory each)"
rm -rf "$tmp/unzip"
mkdir -p "$tmp/unzip"
measure unzip_all || die "unzip failed"
unzip_wall=$M_WALL unzip_cpu=$M_CPU unzip_other=$M_OTHER
note_other "unzip"
rm -rf "$tmp/unzip"

# ---------------------------------------------------------------- server helpers
sx=
jar=
password=

stop_server() {
	stop_pid "$sx_pid" shuxiang
	sx_pid=
}

# Success when no job is queued or running (queued is asked first: a job only moves on).
jobs_idle() {
	local q r
	q=$(api "$sx/api/v1/staff/jobs?state=queued&limit=1") || return 1
	[[ $q == *'"items":[]'* ]] || return 1
	r=$(api "$sx/api/v1/staff/jobs?state=running&limit=1") || return 1
	[[ $r == *'"items":[]'* ]]
}
count_state() { # state → number of jobs in it
	local st=$1 cur='' n=0 page
	while :; do
		page=$(api "$sx/api/v1/staff/jobs?state=$st&limit=100${cur:+&cursor=$cur}") || return 1
		n=$((n + $(awk -v s="\"state\":\"$st\"" '{c += gsub(s, "")} END {print c + 0}' <<<"$page")))
		cur=$(sed -n 's/.*"next_cursor":"\([0-9]*\)".*/\1/p' <<<"$page")
		[[ -n $cur ]] || break
	done
	echo "$n"
}

# ---------------------------------------------------------------- epub: serve
upload_books() {
	local i j args code
	for ((i = 0; i < nbooks; i += batch)); do
		args=()
		for ((j = i; j < i + batch && j < nbooks; j++)); do
			args+=(-F "file=@${books[j]};type=application/epub+zip")
		done
		code=$(api -o "$tmp/upload.json" -w '%{http_code}' "${args[@]}" "$sx/api/v1/staff/uploads") ||
			return 1
		[[ $code == 202 ]] || { log "upload answered $code: $(head -c 300 "$tmp/upload.json")"; return 1; }
	done
}
wait_jobs() {
	local t0=$EPOCHREALTIME last=0
	while ! jobs_idle; do
		alive "$sx_pid" || return 1
		sleep 0.1
		if calc "exit !($EPOCHREALTIME - $t0 - $last >= 15)"; then
			last=$(calc "printf \"%d\", $EPOCHREALTIME - $t0")
			log "  … $(count_state 'done') jobs done after ${last}s"
		fi
	done
}
serve_run() {
	measure upload_books || die "upload failed"
	up_wall=$M_WALL
	measure wait_jobs || die "shuxiang died while ingesting"
	jobs_wall=$M_WALL
}

job_threads=$("$bin" serve --help 2>/dev/null | awk '$1 == "--job_threads" {print $2}')
log "epub serve: $((nbooks / batch)) uploads of $batch books, then the job workers ingest them"
new_data "$tmp/serve"
start_server "$tmp/serve"
serve_hwm0=$(hwm_kb)
measure serve_run
serve_wall=$M_WALL serve_cpu=$M_CPU serve_other=$M_OTHER
note_other "epub serve"
serve_done=$(count_state 'done')
serve_failed=$(count_state failed)
serve_hwm=$(hwm_kb)
((serve_done == nbooks)) || die "serve: $serve_done of $nbooks jobs done ($serve_failed failed): $(api "$sx/api/v1/staff/jobs?state=failed&limit=3" | head -c 600)"
stop_server
rm -rf "$tmp/serve"

# ---------------------------------------------------------------- txt
log "txt: a ${txt_mb} MiB GBK novel"
mkdir -p "$tmp/novel"
novel="$tmp/novel/长篇小说.txt"
txt_chapters=$("$tmp/mkbooks" txt "$corpus" "$tmp/novel.utf8" $((txt_mb * 1048576))) ||
	die "mkbooks txt failed"
iconv -f UTF-8 -t GBK "$tmp/novel.utf8" >"$novel" || die "iconv -t GBK failed"
rm -f "$tmp/novel.utf8"
novel_bytes=$(wc -c <"$novel")
txt_walls=() txt_cpus=() iconv_walls=()
txt_other=0
for ((r = 1; r <= txt_runs; r++)); do
	new_data "$tmp/txt"
	measure cli_ingest "$tmp/txt.out" "$tmp/txt" "$novel" || true
	check_cli "$tmp/txt.out" 1
	txt_walls+=("$M_WALL")
	txt_cpus+=("$M_CPU")
	note_other "txt run $r"
	txt_other=$(calc "printf \"%.2f\", ($M_OTHER > $txt_other) ? $M_OTHER : $txt_other")
	if ((r == 1)); then
		txt_found=$(command -v sqlite3 >/dev/null 2>&1 &&
			sqlite3 "$tmp/txt/shuxiang.db" 'SELECT chapters FROM resource' 2>/dev/null || echo '?')
		txt_passages=$(command -v sqlite3 >/dev/null 2>&1 &&
			sqlite3 "$tmp/txt/shuxiang.db" 'SELECT count(*) FROM passage' 2>/dev/null || echo '?')
		txt_epub=$(du -sk "$tmp/txt/media" | cut -f1)
	fi
	rm -rf "$tmp/txt"
done
to_null() { iconv -f GBK -t UTF-8 "$novel" >/dev/null; }
for ((r = 1; r <= txt_runs; r++)); do
	measure to_null || die "iconv -f GBK failed"
	iconv_walls+=("$M_WALL")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
txt_wall=$(median "${txt_walls[@]}")
txt_cpu=$(median "${txt_cpus[@]}")
iconv_wall=$(median "${iconv_walls[@]}")

# ---------------------------------------------------------------- profile
declare -A prof=()
# perf record of `shuxiang ingest FILES` → $tmp/perf-NAME.txt: one line per (library, symbol)
# with inclusive and self share. The Release build has no frame pointers, so the call graphs
# come from DWARF unwinding; 32 KiB of stack per sample reach main() through libwebp's frames.
profile() { # name data-dir files...
	local name=$1 data=$2
	shift 2
	new_data "$data"
	perf record -q -F 499 --call-graph dwarf,32768 -o "$tmp/perf-$name.data" -- \
		"$bin" ingest "$@" --data "$data" >"$tmp/perf-$name.out" 2>"$tmp/perf-$name.err" ||
		die "perf record of shuxiang ingest failed: $(head -c 300 "$tmp/perf-$name.err")"
	rm -rf "$data"
	perf report -i "$tmp/perf-$name.data" --children --sort dso,symbol -g none --stdio \
		2>/dev/null | grep '%' | grep -v '^#' >"$tmp/perf-$name.txt" || true
	rm -f "$tmp/perf-$name.data"
}
if ((have_perf)); then
	log "profile: perf record --call-graph dwarf of shuxiang ingest of $profile_books books"
	measure profile epub "$tmp/prof" "${books[@]:0:profile_books}"
	prof[epub_cpu]=$M_CPU
	log "profile: the same of the novel"
	measure profile txt "$tmp/prof" "$novel"
	prof[txt_cpu]=$M_CPU
fi

# ---------------------------------------------------------------- memory: bundles
# Bundle books are numbered from 10000: other books than the ones above, and all different.
log "generating $bundle_books illustrated books ($plates pictures each) for the bundles"
rm -rf "$tmp/books"
mkdir -p "$tmp/books"
: >"$tmp/books.txt"
"$tmp/mkbooks" epub "$corpus" "$tmp/books" 10000 "$bundle_books" "$ncpu" 1048576 "$plates" \
	>"$tmp/books.txt" || die "mkbooks failed"
bundle_stats=$(awk '{ n++; s += $2 } END { printf "%.1f MB on average", s / n / 1e6 }' "$tmp/books.txt")
pack() { # out count
	local names=() i
	for ((i = 0; i < $2; i++)); do
		names+=("book-$((10000 + i)).epub")
	done
	"$tmp/mkbooks" pack "$1" "$tmp/books" "${names[@]}"
}
upload_bundle() { # zip
	local code
	code=$(api -o "$tmp/upload.json" -w '%{http_code}' -F "file=@$1;type=application/zip" \
		"$sx/api/v1/staff/uploads") || return 1
	[[ $code == 202 ]] || { log "bundle upload answered $code: $(head -c 300 "$tmp/upload.json")"; return 1; }
}
wait_job() { # id
	local t0=$EPOCHREALTIME last=0 j st
	while :; do
		j=$(api "$sx/api/v1/staff/jobs/$1") || return 1
		st=$(sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' <<<"$j")
		[[ $st == 'done' || $st == failed || $st == cancelled ]] && break
		alive "$sx_pid" || return 1
		sleep 0.2
		if calc "exit !($EPOCHREALTIME - $t0 - $last >= 20)"; then
			last=$(calc "printf \"%d\", $EPOCHREALTIME - $t0")
			log "  … ${last}s: $(sed -n 's/.*"progress":\([0-9]*\).*/\1/p' <<<"$j")% done, VmRSS $(rss_kb) kB, VmHWM $(hwm_kb) kB"
		fi
	done
	printf '%s' "$j" >"$tmp/job.json"
}
declare -A mem=()
bundle_run() { # label count
	local label=$1 n=$2 zip=$tmp/bundle-$1.zip id counts
	pack "$zip" "$n" || die "mkbooks pack failed"
	mem[${label}_mb]=$(calc "printf \"%.0f\", $(wc -c <"$zip") / 1048576")
	log "memory: serve receives and ingests a ${mem[${label}_mb]} MiB bundle of $n EPUBs"
	new_data "$tmp/mem"
	start_server "$tmp/mem"
	mem[${label}_hwm0]=$(hwm_kb)
	measure upload_bundle "$zip" || die "bundle upload failed"
	mem[${label}_up]=$M_WALL
	mem[${label}_hwm_up]=$(hwm_kb)
	rm -f "$zip"
	id=$(sed -n 's/.*"job":{"id":\([0-9]*\).*/\1/p' "$tmp/upload.json")
	[[ -n $id ]] || die "no job id in the upload answer: $(head -c 300 "$tmp/upload.json")"
	measure wait_job "$id" || die "shuxiang died while ingesting the bundle"
	mem[${label}_wall]=$M_WALL
	mem[${label}_other]=$M_OTHER
	note_other "bundle $label"
	mem[${label}_hwm]=$(hwm_kb)
	counts=$(sed -n 's/.*"counts":{\([^}]*\)}.*/\1/p' "$tmp/job.json")
	mem[${label}_state]=$(sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' "$tmp/job.json")
	mem[${label}_ok]=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$counts")
	mem[${label}_counts]=$counts
	[[ ${mem[${label}_state]} == 'done' && ${mem[${label}_ok]} == "$n" ]] ||
		die "bundle $label: job $id ended ${mem[${label}_state]} with {$counts}: $(head -c 600 "$tmp/job.json")"
	mem[${label}_n]=$n
	stop_server
	rm -rf "$tmp/mem"
}
bundle_run small "$small_books"
bundle_run big "$bundle_books"
rm -rf "$tmp/books"

# ---------------------------------------------------------------- report
rate() { calc "printf \"%.1f\", $1 / $2"; }
verdict() { calc "exit !($1)" && echo PASS || echo MISSED; }
missed=0
cli_rate=$(rate "$nbooks" "$cli_wall")
unzip_rate=$(rate "$nbooks" "$unzip_wall")
serve_rate=$(rate "$nbooks" "$serve_wall")
cli_v=$(verdict "$cli_rate >= $target_rate")
serve_v=$(verdict "$serve_rate >= $target_rate")
txt_v=$(verdict "$txt_wall <= $target_txt")
small_hwm_mb=$(calc "printf \"%.1f\", ${mem[small_hwm]} / 1024")
big_hwm_mb=$(calc "printf \"%.1f\", ${mem[big_hwm]} / 1024")
flat=$(calc "printf \"%.2f\", ${mem[big_hwm]} / ${mem[small_hwm]}")
mem_v=$(verdict "$flat <= $target_flat")
for v in "$cli_v" "$serve_v" "$txt_v" "$mem_v"; do
	[[ $v == PASS ]] || missed=1
done

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
memtotal=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
fs=$(df -T "$tmp" 2>/dev/null | awk 'NR == 2 {print $2 " on " $1}')
echo
echo "Shuxiang ingest benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $ncpu CPUs, ${cpu:-unknown CPU}, ${memtotal:-? GiB}; kernel $(uname -srm); TMPDIR ${fs:-?}"
echo "binary:  $bin (modified $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'); git HEAD $rev)"
echo "loadavg: $load_start before the run (anything else running skews the figures)"
echo "books:   $book_stats; generated in ${gen_wall}s"
echo "novel:   $(calc "printf \"%.1f\", $novel_bytes / 1048576") MiB GBK, $txt_chapters chapters (第N章 every ~20 KB)"
echo
row() { printf '| %-10s | %-44s | %-36s | %6s | %-13s | %-6s |\n' "$@"; }
row case shuxiang peer ratio target result
echo "|------------|----------------------------------------------|--------------------------------------|-------:|---------------|--------|"
row "epub cli" "$cli_rate books/s ($cli_wall s, $(calc "printf \"%.0f\", $cli_cpu * 1000 / $nbooks") ms CPU/book)" \
	"unzip $unzip_rate books/s ($unzip_wall s)" "$(calc "printf \"%.3f\", $cli_rate / $unzip_rate")" \
	">= $target_rate books/s" "$cli_v"
row "epub serve" "$serve_rate books/s ($serve_wall s end to end)" \
	"unzip $unzip_rate books/s ($unzip_wall s)" "$(calc "printf \"%.3f\", $serve_rate / $unzip_rate")" \
	">= $target_rate books/s" "$serve_v"
row "txt" "$txt_wall s (median of $txt_runs; $txt_cpu s CPU)" "iconv $iconv_wall s (median of $txt_runs)" \
	"$(calc "printf \"%.1f\", $txt_wall / $iconv_wall")" "<= $target_txt s" "$txt_v"
row "memory" "VmHWM $big_hwm_mb MiB after ${mem[big_mb]} MiB bundle" \
	"VmHWM $small_hwm_mb MiB after ${mem[small_mb]} MiB bundle" "$flat" "flat, <= $target_flat" "$mem_v"
echo
echo "epub cli   = \`shuxiang ingest\` of the $nbooks files in one process into a fresh data dir: ${cli_cpu}s CPU in ${cli_wall}s ($(calc "printf \"%.0f\", 100 * $cli_cpu / $cli_wall")% of one CPU); database then ${cli_db} MB, media ${cli_media} MB"
echo "peer       = \`unzip -q -o BOOK -d DIR/i\` for each book, one after the other (${unzip_cpu}s CPU): the floor of only unpacking"
echo "epub serve = \`serve\` (job_threads=${job_threads:-?}) signed in as admin: $((nbooks / batch)) POST /api/v1/staff/uploads of $batch files (${up_wall}s), then GET /api/v1/staff/jobs every 0.1 s until none is queued or running (${jobs_wall}s more); $serve_done done, $serve_failed failed; server CPU ${serve_cpu}s; VmHWM ${serve_hwm} kB (${serve_hwm0} kB before)"
echo "txt        = \`shuxiang ingest\` of the novel (detect GBK → UTF-8 → chapters → EPUB 3 → unpack, passages, drawn cover, database), fresh data dir each run: ${txt_walls[*]} s; found ${txt_found:-?} chapters, ${txt_passages:-?} passages, media ${txt_epub:-?} KB. iconv runs: ${iconv_walls[*]} s"
echo "memory     = VmHWM of \`serve\` (/proc/PID/status) once the bundle (one POST; zip, stored: manifest.csv + illustrated EPUBs of $bundle_stats, 20 chapters + $plates pictures) was received and its job had finished. \"start\" is after the sign-in (argon2id hashing, 19 MiB, is most of it)."
for l in small big; do
	printf '             %-5s %4d books, %4s MiB: VmHWM %s kB at start, %s kB after the upload (%ss), %s kB at the end (+%s kB over start); ingest %ss = %s books/s {%s}\n' \
		"$l" "${mem[${l}_n]}" "${mem[${l}_mb]}" "${mem[${l}_hwm0]}" "${mem[${l}_hwm_up]}" "${mem[${l}_up]}" \
		"${mem[${l}_hwm]}" $((mem[${l}_hwm] - mem[${l}_hwm0])) "${mem[${l}_wall]}" \
		"$(rate "${mem[${l}_n]}" "${mem[${l}_wall]}")" "${mem[${l}_counts]}"
done
echo "ratio      = shuxiang ÷ peer: books/s for epub (below 1 = slower than unzip), seconds for txt (above 1 = slower than iconv), big ÷ small VmHWM for memory"
printf 'other processes, CPUs used on average: epub cli %s, unzip %s, epub serve %s, txt (highest of %d) %s, small bundle %s, big bundle %s\n' \
	"$cli_other" "$unzip_other" "$serve_other" "$txt_runs" "$txt_other" "${mem[small_other]}" "${mem[big_other]}"

if ((have_perf)); then
	# Inclusive share of the steps of one book, from the call graphs.
	steps=(ingest_blob blob_put_fd build_epub epub_read unpack read_opf write_book_json
		cover_from_image write_covers WebPEncode sws_scale cover_generate build_txt txt_to_epub
		txt_detect txt_to_utf8 txt_split deflate inflate resource_insert db_commit sqlite3_step
		fs_remove_tree)
	show_profile() { # name books cpu what
		local name=$1 n=$2 cpu=$3 s pct
		echo
		echo "Profile: \`shuxiang ingest\` of $n $4 — ${cpu}s CPU under perf, $(calc "printf \"%.0f\", $cpu * 1000 / $n") ms CPU per book"
		echo "(perf record -F 499 --call-graph dwarf,32768; % of all samples of the process, start-up included;"
		echo " ms = that share of the CPU time per book; a step's figure includes the steps it calls)"
		echo
		echo "| step (inclusive)     |      % | ms/book |"
		echo "|----------------------|-------:|--------:|"
		for s in "${steps[@]}"; do
			pct=$(awk -v s="$s" '$5 == s {gsub("%", "", $1); print $1; exit}' "$tmp/perf-$name.txt")
			[[ -n $pct ]] || continue
			printf '| %-20s | %5s%% | %7s |\n' "$s" "$pct" "$(calc "printf \"%.1f\", $pct / 100 * $cpu * 1000 / $n")"
		done
		echo
		echo "By library (self time):"
		awk '{gsub("%", "", $2); t[$3] += $2} END {for (d in t) printf "%6.2f%%  %s\n", t[d], d}' \
			"$tmp/perf-$name.txt" | sort -gr | awk 'NR <= 10 {print "    " $0}'
		echo
		echo "Top 15 symbols (self time; addresses = a library without symbols):"
		awk '{gsub("%", "", $2); sym = $5; for (i = 6; i <= NF && $i != "-"; i++) sym = sym " " $i
			printf "%6.2f%%  %-24s %s\n", $2, $3, sym}' "$tmp/perf-$name.txt" |
			sort -gr | awk 'NR <= 15 {print "    " $0}'
	}
	show_profile epub "$profile_books" "${prof[epub_cpu]}" "EPUBs (books 0–$((profile_books - 1)))"
	show_profile txt 1 "${prof[txt_cpu]}" "TXT novel ($(calc "printf \"%.1f\", $novel_bytes / 1048576") MiB GBK)"
fi

if ((${#disturbed[@]})); then
	echo
	echo "DISTURBED (other processes competed for the CPUs; kernel writeback of our own files counts here too):"
	printf '  %s\n' "${disturbed[@]}"
fi
echo
echo "total time of the benchmark: $(calc "printf \"%.0f\", $EPOCHREALTIME - $bench_start") s"
if ((missed)) && [[ $strict == 1 ]]; then
	exit 1
fi
exit 0
