#!/usr/bin/env bash
# bench/load.sh: the load figure of issue 8 (by hand only: never in CI, never as a test).
#
#   bench/load.sh [--duration SECONDS] [--baseline-duration SECONDS] [--connections N]
#                 [--timeout SECONDS] [--build-dir DIR] [--no-build] [--log-level LEVEL] [--keep]
#
# Starts a Release ictcore-server on 127.0.0.1 with a fresh data directory, makes a user, a
# group of 1,000 contacts (CSV import), an SMS text, an e-mail template and a voice recording
# with a program each (sent through the seeded loopback providers), then runs
#   wrk -t2 -c256 -d60s --latency -s bench/load_mix.lua
# a fixed mix of 60 % reads (GET /contacts/{id}, a filtered GET /contacts page,
# GET /transmissions/{id}), 30 % writes (POST /contacts, PUT /contacts/{id}) and 10 % sends
# (POST /transmissions, then POST /transmissions/{id}/send). Prints requests, req/s,
# p50/p90/p99/max latency, answers by status class and wrk's socket errors; then checks that
# the server is still up and that every accepted send was delivered (completed through the
# engine), and prints that. The baseline, measured in the same run with the same client
# script: bench-minimal-server (as in bench/run.sh) under the same connections, for
# --baseline-duration (default: --duration); ratios of throughput and of p99.
#
# --log-level info makes the server write its access log (each request with its time in the
# server) and --keep keeps it, with the data directory, in the printed temporary directory.
#
# Exits 1 on any 5xx, any socket error (connect, read, write, timeout), any other non-2xx
# answer, a server that died or stopped answering, or a send that was not delivered.
#
# Needs wrk (scripts/install-deps --bench), curl and awk. Builds ictcore-server and
# bench-minimal-server in DIR (default build-bench/ beside bench/) when needed: a new DIR is
# configured as a Release build; an existing one must already be Release (it gets
# -DICTCORE_BUILD_BENCH=ON and is otherwise left as configured).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build_dir="$repo/build-bench"
duration=60
baseline_duration=""
connections=256
wrk_threads=2
timeout=2
do_build=1
log_level=warn
keep_tmp=0
seed_contacts=1000
jobs="${ICTCORE_BENCH_JOBS:-2}"

usage() { sed -n '2,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --build-dir) build_dir="$(realpath -m "$2")"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --baseline-duration) baseline_duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --log-level) log_level="$2"; shift 2 ;;
        --keep) keep_tmp=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "load.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
baseline_duration="${baseline_duration:-$duration}"
for value in "$duration" "$baseline_duration" "$connections" "$timeout"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: durations, --connections and --timeout want positive integers" >&2; exit 2; }
done

log() { printf '[load] %s\n' "$*" >&2; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------------------
missing=0
for tool in wrk curl awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "load.sh: $tool is missing: scripts/install-deps --bench installs wrk and curl" >&2
        missing=1
    fi
done
if [[ $do_build -eq 1 ]] && ! command -v cmake >/dev/null 2>&1; then
    echo "load.sh: cmake is missing: scripts/install-deps installs it" >&2
    missing=1
fi
[[ $missing -eq 0 ]] || exit 1
# Each connection is a descriptor in wrk and in the server (which inherits this limit).
if (( $(ulimit -n) < connections + 200 )); then
    ulimit -n $((connections + 200)) 2>/dev/null \
        || die "ulimit -n is $(ulimit -n): too low for $connections connections"
fi

# ---- build -------------------------------------------------------------------------------
server_bin="$build_dir/server/ictcore-server"
minimal_bin="$build_dir/bench/bench-minimal-server"
if [[ $do_build -eq 1 ]]; then
    if [[ -f "$build_dir/CMakeCache.txt" ]]; then
        build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"
        [[ "$build_type" == Release ]] || die "$build_dir is a '$build_type' build, not Release: name another --build-dir"
        log "reusing the Release build in $build_dir"
        cmake -S "$repo" -B "$build_dir" -DICTCORE_BUILD_BENCH=ON -DICTCORE_BUILD_SERVER=ON >&2
    else
        log "configuring a Release build in $build_dir"
        cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DICTCORE_BUILD_BENCH=ON \
            -DICTCORE_BUILD_SERVER=ON -DICTCORE_BUILD_TESTS=OFF -DICTCORE_BUILD_EXAMPLES=OFF >&2
    fi
    log "building ictcore-server and bench-minimal-server (-j$jobs)"
    cmake --build "$build_dir" -j "$jobs" --target ictcore-server bench-minimal-server >&2
fi
for bin in "$server_bin" "$minimal_bin"; do
    [[ -x "$bin" ]] || die "$bin is missing (build without --no-build)"
done

# ---- temporary files and servers, cleaned up on exit --------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ictcore-load.XXXXXX")"
pids=()
cleanup() {
    stop_all
    if [[ $keep_tmp -eq 1 ]]; then
        echo "load.sh: the server's log and data are kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export ICTCORE_ADMIN_PASSWORD="load-$$-$RANDOM"

# start_server, lcurl, json_id, ratio, num
source "$here/bench_lib.sh"
LCURL_MAX_TIME=30

# stop_server PID: SIGTERM, then wait for it to exit (SIGKILL after 20 s); sets stop_status.
stop_status=0
stop_server() {
    local pid="$1" kept=() p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -KILL "$pid" 2>/dev/null; then
        log "server $pid did not stop within 20 s of SIGTERM"
    fi
    stop_status=0
    wait "$pid" 2>/dev/null || stop_status=$?
    for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
    pids=("${kept[@]+"${kept[@]}"}")
}



api() {  # api METHOD PATH [JSON]: prints the body; dies unless 200
    local method="$1" path="$2" data="${3:-}" out status
    out="$tmp/api.out"
    status="$(lcurl -X "$method" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        ${data:+--data "$data"} -o "$out" -w '%{http_code}' "http://127.0.0.1:$port$path")"
    [[ "$status" == 200 ]] || die "$method $path answered $status: $(head -c 400 "$out")"
    cat "$out"
}

total_of() {  # total_of PATH: the X-Total-Count of a GET
    lcurl -H "Authorization: Bearer $token" -D - -o /dev/null "http://127.0.0.1:$port$1" \
        | sed -n 's/^[Xx]-[Tt]otal-[Cc]ount: *\([0-9]*\).*/\1/p'
}

login() {  # login USER PASSWORD -> prints the token
    local answer t
    answer="$(lcurl -X POST -H 'Content-Type: application/json' \
        --data "{\"username\":\"$1\",\"password\":\"$2\"}" "http://127.0.0.1:$port/authentication")"
    t="$(printf '%s' "$answer" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')"
    [[ -n "$t" ]] || die "login of $1 failed: $answer"
    printf '%s' "$t"
}

# load_value FILE KEY: the value of KEY=... on the script's "load:" lines.
load_value() {
    sed -n "s/^load:.* $2=\([^ ]*\).*/\1/p; s/^load: $2=\([^ ]*\).*/\1/p" "$1" | head -n 1
}

# run_wrk NAME URL SECONDS [env...]: wrk with load_mix.lua; output in $tmp/NAME.wrk.
run_wrk() {
    local name="$1" url="$2" seconds="$3"; shift 3
    [[ "$url" == http://127.0.0.1:* ]] || die "wrk only against 127.0.0.1"
    env "$@" wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout "${timeout}s" --latency \
        -s "$here/load_mix.lua" "$url" >"$tmp/$name.wrk" 2>&1 \
        || { cat "$tmp/$name.wrk" >&2; die "wrk failed for $name"; }
    cat "$tmp/$name.wrk" >&2
    grep -q '^load: requests=' "$tmp/$name.wrk" || die "load_mix.lua printed no summary for $name"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
problems=()

# ---- baseline: bench-minimal-server -------------------------------------------------------
log "baseline: bench-minimal-server, wrk -t$wrk_threads -c$connections -d${baseline_duration}s"
start_server "$tmp/minimal.out" "$minimal_bin" 0
run_wrk baseline "http://127.0.0.1:$server_port/" "$baseline_duration" ICTCORE_LOAD_BASELINE=1
stop_server "$server_pid"

# ---- ictcore-server and what the mix needs -----------------------------------------------------
data="$tmp/data"
start_server "$tmp/server.out" "$server_bin" --listen 127.0.0.1:0 --data "$data" \
    --password-cost minimal --log-level "$log_level"
port="$server_port"
ictcore_pid="$server_pid"
token="$(login admin "$ICTCORE_ADMIN_PASSWORD")"
user_password="load-user-$RANDOM$RANDOM"
api POST /users "{\"username\":\"load\",\"passwd\":\"$user_password\",\"first_name\":\"Load\",\"active\":1}" >/dev/null
token="$(login load "$user_password")"

group_id="$(json_id group_id "$(api POST /groups '{"name":"load"}')")"
[[ -n "$group_id" ]] || die "POST /groups gave no group_id"
awk -v n="$seed_contacts" 'BEGIN {
    for (i = 1; i <= n; i++) printf "+1415%07d,Seed%d,Contact,seed%d@example.com\n", 5550000 + i, i, i
}' >"$tmp/seed.csv"
answer="$(lcurl -X POST -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
    --data-binary "@$tmp/seed.csv" "http://127.0.0.1:$port/groups/$group_id/csv")"
[[ "$(json_id imported "$answer")" == "$seed_contacts" ]] || die "CSV import of the seed contacts: $answer"
contacts="$(api GET "/contacts?limit=$seed_contacts&sort=contact_id" | grep -o '"contact_id":[0-9]*' | cut -d: -f2 | paste -sd,)"
[[ -n "$contacts" ]] || die "no contact ids listed"

# One program per service the loopback gateway delivers here: SMS, e-mail and voice.
text_id="$(json_id text_id "$(api POST /messages/texts '{"name":"load","data":"Load test message"}')")"
template_id="$(json_id template_id "$(api POST /messages/templates \
    '{"name":"load","subject":"Load","body":"<p>Load test</p>","body_alt":"Load test"}')")"
recording_id="$(json_id recording_id "$(api POST /messages/recordings '{"name":"load"}')")"
[[ -n "$text_id" && -n "$template_id" && -n "$recording_id" ]] || die "creating the messages failed"
# One second of silence as an 8 kHz mono 16-bit PCM WAV (the telephony format).
{
    printf 'RIFF\xa4\x3e\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00'
    printf 'data\x80\x3e\x00\x00'
    head -c 16000 /dev/zero
} >"$tmp/silence.wav"
status="$(lcurl -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: audio/wav' \
    --data-binary "@$tmp/silence.wav" -o "$tmp/media.out" -w '%{http_code}' \
    "http://127.0.0.1:$port/messages/recordings/$recording_id/media")"
[[ "$status" == 200 ]] || die "recording upload answered $status: $(head -c 400 "$tmp/media.out")"
programs=""
for spec in "sendsms text_id $text_id" "sendemail template_id $template_id" "voicemessage recording_id $recording_id"; do
    read -r type field id <<<"$spec"
    [[ -n "$id" ]] || die "no $field for $type"
    program="$(json_id program_id "$(api POST "/programs/$type" "{\"name\":\"load-$type\",\"$field\":$id}")")"
    [[ -n "$program" ]] || die "POST /programs/$type gave no program_id"
    programs="${programs:+$programs,}$program"
done

# Transmissions to read during the run: one per program per ten contacts, sent now.
transmissions=""
IFS=, read -r -a contact_list <<<"$contacts"
IFS=, read -r -a program_list <<<"$programs"
for ((i = 0; i < 30; i++)); do
    body="{\"contact_id\":${contact_list[i]},\"program_id\":${program_list[i % 3]}}"
    id="$(json_id transmission_id "$(api POST /transmissions "$body")")"
    [[ -n "$id" ]] || die "POST /transmissions gave no transmission_id"
    api POST "/transmissions/$id/send" '{}' >/dev/null
    transmissions="${transmissions:+$transmissions,}$id"
done
# The seeded sends must be delivered before the run starts, or the check after it is muddled.
for _ in $(seq 100); do
    [[ "$(total_of '/transmissions?status=processing&limit=1')" == 0 ]] && break
    sleep 0.1
done
completed_before="$(total_of '/transmissions?status=completed&limit=1')"
[[ "$completed_before" == 30 ]] || die "the 30 seeded sends were not all completed ($completed_before)"

# ---- the mix ------------------------------------------------------------------------------
log "mix: ictcore-server, wrk -t$wrk_threads -c$connections -d${duration}s ($seed_contacts seeded contacts)"
run_wrk mix "http://127.0.0.1:$port" "$duration" ICTCORE_LOAD_TOKEN="$token" ICTCORE_LOAD_CONTACTS="$contacts" \
    ICTCORE_LOAD_PROGRAMS="$programs" ICTCORE_LOAD_TRANSMISSIONS="$transmissions"

# ---- after the mix: alive, delivered ------------------------------------------------------------
alive=yes
if ! kill -0 "$ictcore_pid" 2>/dev/null; then
    alive="no: the process is gone"
else
    status="$(lcurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/statistics" || true)"
    [[ "$status" == 200 ]] || alive="no: GET /statistics answered '$status'"
fi
[[ "$alive" == yes ]] || problems+=("server not alive after the run ($alive)")

sent="$(load_value "$tmp/mix.wrk" sent)"
created="$(load_value "$tmp/mix.wrk" created)"
processing="?"; completed="?"; failed="?"; pending="?"; total="?"; other="?"; drain_seconds="?"
if [[ "$alive" == yes ]]; then
    drain_start="$(date +%s.%N)"
    for _ in $(seq 1200); do
        processing="$(total_of '/transmissions?status=processing&limit=1')"
        [[ "$processing" == 0 ]] && break
        sleep 0.1
    done
    drain_seconds="$(awk -v a="$drain_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
    # Counted in the server, not from wrk's answers: requests still in flight when wrk stops
    # are served (a create makes a transmission, a send delivers one) but not counted by wrk.
    # So every transmission of the run must be either completed (sent) or pending (never
    # sent), and at least as many completed as wrk saw sends accepted.
    total="$(($(total_of '/transmissions?limit=1') - completed_before))"
    completed="$(($(total_of '/transmissions?status=completed&limit=1') - completed_before))"
    failed="$(total_of '/transmissions?status=failed&limit=1')"
    pending="$(total_of '/transmissions?status=pending&limit=1')"
    other=$((total - completed - pending - failed - processing))
    [[ "$processing" == 0 ]] || problems+=("$processing transmissions still processing 120 s after the run")
    (( completed >= sent )) || problems+=("$sent sends were accepted but only $completed transmissions completed")
    [[ "$failed" == 0 ]] || problems+=("$failed transmissions failed")
    [[ "$other" == 0 ]] || problems+=("$other transmissions are neither completed, pending, failed nor processing")
fi

load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
stop_server "$ictcore_pid"
[[ "$stop_status" == 0 ]] || problems+=("ictcore-server exited with status $stop_status after SIGTERM")

# ---- judge and report -----------------------------------------------------------------------------
for name in baseline mix; do
    f="$tmp/$name.wrk"
    for key in 5xx connect read write timeout; do
        value="$(load_value "$f" "$key")"
        [[ "$value" == 0 ]] || problems+=("$name: $key=$value")
    done
    for key in 1xx 3xx 4xx; do
        value="$(load_value "$f" "$key")"
        [[ "$value" == 0 ]] || problems+=("$name: $value unexpected $key answers")
    done
done
non2xx="$(sed -n 's/^load: non2xx *//p' "$tmp/mix.wrk")"
samples="$(sed -n 's/^load: samples *//p' "$tmp/mix.wrk")"
log_lines="$(grep -c -E '\[(error|critical)\]' "$tmp/server.out.err" 2>/dev/null || true)"
[[ "${log_lines:-0}" == 0 ]] || problems+=("the server logged ${log_lines} error/critical line(s)")

v() { load_value "$tmp/$1.wrk" "$2"; }
row() {  # row NAME LABEL
    printf '| %s | %s | %s | %s ms | %s ms | %s ms | %s ms | %s / %s / %s | %s / %s / %s / %s |\n' "$2" \
        "$(num "$(v "$1" requests)")" "$(num "$(v "$1" rps)")" "$(v "$1" p50_ms)" "$(v "$1" p90_ms)" \
        "$(v "$1" p99_ms)" "$(v "$1" max_ms)" "$(num "$(v "$1" 2xx)")" "$(v "$1" 4xx)" "$(v "$1" 5xx)" \
        "$(v "$1" connect)" "$(v "$1" read)" "$(v "$1" write)" "$(v "$1" timeout)"
}

cpu_model="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain 2>/dev/null | head -n 1)" ]]; then commit="$commit (uncommitted changes)"; fi
echo
echo "Load run of $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPU(s), ${cpu_model:-unknown CPU}; commit $commit;"
echo "Release build; wrk -t$wrk_threads -c$connections --timeout ${timeout}s; mix ${duration} s, baseline ${baseline_duration} s;"
echo "load average $load_start at the start, $load_end at the end."
echo
echo "| Run | Requests | Req/s | p50 | p90 | p99 | max | 2xx / 4xx / 5xx | socket errors connect / read / write / timeout |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
row baseline "baseline: bench-minimal-server, GET / (fixed JSON)"
row mix "ictcore-server: 60 % reads, 30 % writes, 10 % sends"
echo
echo "- throughput ratio mix/baseline: $(ratio "$(v mix rps)" "$(v baseline rps)")"
echo "- p99 ratio mix/baseline: $(ratio "$(v mix p99_ms)" "$(v baseline p99_ms)") (p50: $(ratio "$(v mix p50_ms)" "$(v baseline p50_ms)"))"
echo "- non-2xx answers of the mix by status: ${non2xx:-none}${samples:+ (first: $samples)}"
echo "- sends: wrk saw $created creates and $sent sends answered; the server holds $total transmissions" \
     "of the run: $completed completed (delivered by the engine through loopback; ≥ $sent, the rest were" \
     "sends in flight when wrk stopped), $pending pending (created, not sent), $failed failed, $processing" \
     "processing ($drain_seconds s after the run), $other in another state"
echo "- server alive after the run: $alive"
if [[ ${#problems[@]} -gt 0 ]]; then
    keep_tmp=1
    echo
    echo "FAILED:"
    for p in "${problems[@]}"; do echo "- $p"; done
    if [[ -s "$tmp/server.out.err" ]]; then
        echo
        echo "last lines of the server log ($tmp/server.out.err):"
        tail -n 20 "$tmp/server.out.err"
    fi
    exit 1
fi
echo
echo "PASSED: no 5xx, no socket errors, every accepted send delivered."
