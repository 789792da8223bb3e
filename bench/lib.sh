# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # globals set or read by the scripts that source this file
# Shared by the benchmark scripts (sourced): logging, and stopping a process we started.

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: ERROR: %s\n' "$*" >&2
	exit 1
}

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID NAME: SIGTERM, up to 10 s, then SIGKILL; reaps it.
stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$2 (pid $pid) did not stop within 10 s of SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# CPU accounting for measure(): sx_pid (the server a script started, if any) counts as ours.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# "busy-ticks our-ticks": CPU time of the whole machine (user+nice+system) and of this benchmark
# (children this shell has reaped, plus the running server).
cpu_now() {
	local u n sy busy ours f fields
	read -r _ u n sy _ </proc/stat
	busy=$((u + n + sy))
	f=$(<"/proc/$$/stat")
	read -r -a fields <<<"${f##*) }"
	ours=$((fields[13] + fields[14])) # cutime + cstime
	if [[ -n $sx_pid ]] && f=$(<"/proc/$sx_pid/stat") 2>/dev/null; then
		read -r -a fields <<<"${f##*) }"
		ours=$((ours + fields[11] + fields[12])) # utime + stime
	fi
	echo "$busy $ours"
}

# measure CMD...: runs CMD in this shell; sets M_WALL (s), M_CPU (CPU s of CMD, its children
# and the server) and M_OTHER (CPUs other processes used on average meanwhile).
M_WALL=0 M_CPU=0 M_OTHER=0
measure() {
	local b0 c0 b1 c1 t0 t1 rc=0
	read -r b0 c0 <<<"$(cpu_now)"
	t0=$EPOCHREALTIME
	"$@" || rc=$?
	t1=$EPOCHREALTIME
	read -r b1 c1 <<<"$(cpu_now)"
	read -r M_WALL M_CPU M_OTHER < <(awk -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" \
		-v c0="$c0" -v c1="$c1" -v hz="$clk_tck" 'BEGIN {
		w = t1 - t0; if (w <= 0) w = 1e-6
		o = ((b1 - b0) - (c1 - c0)) / hz / w; if (o < 0) o = 0
		printf "%.3f %.2f %.2f\n", w, (c1 - c0) / hz, o }')
	return "$rc"
}

calc() { awk "BEGIN { $1 }"; }

# remove_tmp RC: the end of every script's cleanup: on failure the tail of the server's log
# ($tmp/shuxiang.err), then $tmp removed (kept when $keep is 1).
remove_tmp() {
	[[ -n $tmp && -d $tmp ]] || return 0
	if (($1 != 0)) && [[ -s $tmp/shuxiang.err ]]; then
		log "last lines of the shuxiang log ($tmp/shuxiang.err):"
		tail -n 20 "$tmp/shuxiang.err" >&2 || true
	fi
	if [[ $keep == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}

# start_server DATA: migrate DATA, add the staff admin "bench" ($password), start `serve` on a
# free port ($sx_pid, $sx; its output in $tmp/shuxiang.{out,err}) and sign in (cookie jar $jar).
start_server() { # data
	local data=$1 i port=
	"$bin" migrate --data "$data" >/dev/null || die "shuxiang migrate --data $data failed"
	password=$("$bin" user add --kind staff --role admin --login bench --name 基准 --data "$data" |
		tail -n 1) || die "shuxiang user add failed"
	[[ -n $password ]] || die "shuxiang user add printed no password"
	: >"$tmp/shuxiang.out"
	: >"$tmp/shuxiang.err"
	local launcher=()
	command -v stdbuf >/dev/null 2>&1 && launcher=(stdbuf -oL)
	SHUXIANG_ACCESS_LOG=0 "${launcher[@]}" "$bin" serve --data "$data" --bind 127.0.0.1 --port 0 \
		>"$tmp/shuxiang.out" 2>"$tmp/shuxiang.err" </dev/null &
	sx_pid=$!
	for ((i = 0; i < 300; i++)); do
		port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p;T;q' "$tmp/shuxiang.out")
		[[ -n $port ]] && break
		alive "$sx_pid" || die "shuxiang exited before listening (stdout: $(tr '\n' ' ' <"$tmp/shuxiang.out"))"
		sleep 0.1
	done
	[[ -n $port ]] || die "shuxiang printed no 'listening on http://127.0.0.1:PORT' line within 30 s"
	sx=http://127.0.0.1:$port
	jar=$tmp/cookies.txt
	rm -f "$jar"
	local code
	code=$(curl -s -o "$tmp/login.json" -w '%{http_code}' -c "$jar" -H "Origin: $sx" \
		-H 'Content-Type: application/json' \
		--data "{\"login\":\"bench\",\"password\":\"$password\"}" "$sx/api/v1/auth/login") ||
		die "curl login failed"
	[[ $code == 200 ]] || die "login answered $code: $(cat "$tmp/login.json")"
}

# api CURL-ARGS…: a request with the session and the Origin; VmHWM / VmRSS of the server in kB.
api() { curl -s -S --max-time 60 -b "$jar" -H "Origin: $sx" "$@"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$sx_pid/status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$sx_pid/status"; }
