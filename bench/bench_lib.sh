# bench/bench_lib.sh: helpers shared by bench/run.sh and bench/load.sh (sourced, not run).
# The caller defines die, log and the pids array (background processes its cleanup kills).

# stop_all: SIGTERM to every process in pids, SIGKILL to those still there 5 s later (for cleanup).
stop_all() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# start_server LOG COMMAND...: runs COMMAND (which prints "... listening on
# http://127.0.0.1:PORT") in the background; sets server_pid and server_port.
server_pid=""
server_port=""
start_server() {
    local out="$1"; shift
    "$@" >"$out" 2>"$out.err" &
    server_pid=$!
    pids+=("$server_pid")
    server_port=""
    for _ in $(seq 300); do
        server_port="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$out" | head -n 1)"
        [[ -n "$server_port" ]] && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$out" "$out.err" >&2
            die "$1 exited before listening"
        fi
        sleep 0.1
    done
    die "$1 did not report listening within 30 s"
}

# curl, only ever against this machine's loopback and never through a proxy. LCURL_MAX_TIME
# (seconds) bounds each request when set.
lcurl() {
    local arg
    for arg in "$@"; do
        if [[ "$arg" == *://* && "$arg" != http://127.0.0.1:* ]]; then
            die "refusing to send a request to $arg (loopback only)"
        fi
    done
    curl --noproxy '*' --proto '=http' -sS ${LCURL_MAX_TIME:+--max-time "$LCURL_MAX_TIME"} "$@"
}

json_id() {  # json_id KEY JSON: the first "KEY": number
    printf '%s' "$2" | sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p" | head -n 1
}

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }'; }
num() { LC_ALL=C awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); out = "";
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    printf "%s%s", s, out }'; }
