# shellcheck shell=bash
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
