#!/usr/bin/env bash
# bench/run.sh: the ictcore benchmark, in one run (by hand only: never in CI, never as a test).
#
#   bench/run.sh [--build-dir DIR] [--duration SECONDS] [--rows N] [--transmissions N]
#                [--campaign-contacts N] [--no-build] [--no-readme]
#
# Measures, with wrk -t2 -c64 on loopback:
#   (a) bench-minimal-server: a minimal Beast server answering a fixed JSON body (baseline)
#   (b) ictcore-server GET /contacts/{id} with a Bearer token
#   (c) ictcore-server POST /contacts (bench/post_contact.lua)
# and
#   (d) bench-sqlite-insert: raw SQLite single-row transactions with the store's pragmas, one
#       connection (SQLite has one writer: this is what (c) gets if it is fair) (baseline)
# then imports a generated CSV of N rows (default 1,000,000) into a group of a fresh server
# (rows/s, peak RSS from VmHWM; for reference the upload alone and the SQLite floor of the
# same inserts, bench-sqlite-insert --import), restarts that server on the same data and
# lists all N contacts with one GET /contacts (time, peak RSS). Then bench-delivery measures
# the delivery engine in-process:
#   (e) N transmissions (default 100,000) created and sent through loopback: completed/s, peak RSS
#   (f) raw SQLite doing the same row changes with the store's schema and pragmas (baseline)
#   (g) 10,000 deliveries with 1 s latency in flight at once: wall time, threads
# and bench-campaign a campaign in-process:
#   (h) a group of N contacts (default 1,000,000) through loopback, delay 0: completed/s, peak RSS
#   (i) raw SQLite doing the same row changes with the store's schema and pragmas (baseline)
# and the real gateways against the servers the tests use (tests/rigs):
#   (j) bench-email: 1,000 e-mails through the SMTP gateway to a local aiosmtpd
#   (k) the same messages from a plain libcurl loop (baseline)
#   (l) bench-kannel: 10,000 SMS through the Kannel gateway to bearerbox + fakesmsc
#   (m) the same sendsms requests posted straight to Kannel with libcurl multi (baseline)
#   (n) bench-sip: 100 simultaneous 10 s voicemessage calls through the SIP gateway to SIPp
#   (o) the same calls on the library's SIP layer alone (baseline): CPU n/o, RTP pacing
#   (p) a 3-page fax over G.711 and (q) over T.38 through a Core calling itself, against two
#       FaxSessions back to back in memory (baseline): seconds per page
# Prints the figures with the ratios b/a, c/d and e/f against their targets and writes the same
# table into bench/README.md.
#
# Needs wrk (scripts/install-deps --bench), curl and awk; builds ictcore-server and the bench
# programs in DIR (default build-bench/ beside bench/) as a Release build when needed.
# Every server listens on 127.0.0.1 on a free port; every request goes to 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build_dir="$repo/build-bench"
duration=10
connections=64
wrk_threads=2
rows=1000000
transmissions=100000
campaign_contacts=1000000
do_build=1
write_readme=1
jobs="${ICTCORE_BENCH_JOBS:-2}"

usage() { sed -n '2,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --build-dir) build_dir="$(realpath -m "$2")"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --rows) rows="$2"; shift 2 ;;
        --transmissions) transmissions="$2"; shift 2 ;;
        --campaign-contacts) campaign_contacts="$2"; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --no-readme) write_readme=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --duration wants whole seconds" >&2; exit 2; }
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rows wants a positive integer" >&2; exit 2; }
[[ "$transmissions" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --transmissions wants a positive integer" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------------------
missing=0
if ! command -v wrk >/dev/null 2>&1; then
    echo "run.sh: wrk is missing: scripts/install-deps --bench installs it (Debian package wrk)" >&2
    missing=1
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "run.sh: curl is missing: it is a Debian package (apt-get install curl);" \
         "scripts/install-deps --bench installs it" >&2
    missing=1
fi
command -v awk >/dev/null 2>&1 || { echo "run.sh: awk is missing" >&2; missing=1; }
if [[ $do_build -eq 1 ]] && ! command -v cmake >/dev/null 2>&1; then
    echo "run.sh: cmake is missing: scripts/install-deps installs it" >&2
    missing=1
fi
[[ $missing -eq 0 ]] || exit 1

# ---- build -------------------------------------------------------------------------------
server_bin="$build_dir/server/ictcore-server"
minimal_bin="$build_dir/bench/bench-minimal-server"
insert_bin="$build_dir/bench/bench-sqlite-insert"
delivery_bin="$build_dir/bench/bench-delivery"
campaign_bin="$build_dir/bench/bench-campaign"
email_bin="$build_dir/bench/bench-email"
kannel_bin="$build_dir/bench/bench-kannel"
sip_bin="$build_dir/bench/bench-sip"
if [[ $do_build -eq 1 ]]; then
    # Configure every time (cheap when nothing changed): a build dir made before a bench
    # target existed would not know it.
    log "configuring a Release build in $build_dir"
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DICTCORE_BUILD_BENCH=ON \
        -DICTCORE_BUILD_SERVER=ON -DICTCORE_BUILD_TESTS=OFF -DICTCORE_BUILD_EXAMPLES=OFF >&2
    log "building (cmake --build, -j$jobs)"
    cmake --build "$build_dir" -j "$jobs" --target ictcore-server bench-minimal-server bench-sqlite-insert \
        bench-delivery bench-campaign bench-email bench-kannel bench-sip >&2
fi
for bin in "$server_bin" "$minimal_bin" "$insert_bin" "$delivery_bin" "$campaign_bin" "$email_bin" "$kannel_bin" "$sip_bin"; do
    [[ -x "$bin" ]] || die "$bin is missing (build without --no-build)"
done

# ---- temporary files and servers, cleaned up on exit --------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ictcore-bench.XXXXXX")"
pids=()
cleanup() {
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export ICTCORE_ADMIN_PASSWORD="bench-$$-$RANDOM"

# start_server, lcurl, json_id, ratio, num
source "$here/bench_lib.sh"

# stop_server PID: SIGTERM, then wait for it to exit (SIGKILL after 20 s).
stop_server() {
    local pid="$1" kept=() p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null && notes+=("server $pid did not stop within 20 s of SIGTERM")
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
    pids=("${kept[@]+"${kept[@]}"}")
}

start_ictcore() {  # start_ictcore NAME DATA_DIR [extra options...]
    local name="$1" data="$2"; shift 2
    start_server "$tmp/$name.out" "$server_bin" --listen 127.0.0.1:0 --data "$data" \
        --password-cost minimal --log-level warn "$@"
}


login() {  # login PORT -> prints the token
    local answer token
    answer="$(lcurl -X POST -H 'Content-Type: application/json' \
        --data "{\"username\":\"admin\",\"password\":\"$ICTCORE_ADMIN_PASSWORD\"}" \
        "http://127.0.0.1:$1/authentication")"
    token="$(printf '%s' "$answer" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')"
    [[ -n "$token" ]] || die "login failed: $answer"
    printf '%s' "$token"
}


hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb * 1024 / 1e6 }'; }  # kB (KiB) -> MB (10^6 B)

# run_wrk NAME URL [wrk options...]: sets wrk_rps (req/s); the full output goes to
# $tmp/NAME.wrk and problems (non-2xx answers, socket errors) to the notes. Not to be called in
# a command substitution: it records into notes and invalid.
notes=()
declare -A invalid=()
wrk_rps=""
run_wrk() {
    local name="$1" url="$2"; shift 2
    [[ "$url" == http://127.0.0.1:* ]] || die "wrk only against 127.0.0.1"
    wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" "$@" "$url" >"$tmp/$name.wrk" 2>&1 \
        || { cat "$tmp/$name.wrk" >&2; die "wrk failed for $name"; }
    cat "$tmp/$name.wrk" >&2
    local rps non2xx errors
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/$name.wrk")"
    non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$tmp/$name.wrk")"
    errors="$(sed -n 's/^ *Socket errors: *//p' "$tmp/$name.wrk")"
    [[ -n "$rps" ]] || die "no Requests/sec in the wrk output of $name"
    if [[ -n "$non2xx" && "$non2xx" != 0 ]]; then
        notes+=("$name: $non2xx answers were not 2xx: the figure is not valid")
        invalid["$name"]=1
    fi
    [[ -z "$errors" ]] || notes+=("$name: wrk socket errors: $errors")
    wrk_rps="$rps"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- (a) minimal Beast server ----------------------------------------------------------------
log "(a) bench-minimal-server, wrk -t$wrk_threads -c$connections -d${duration}s"
start_server "$tmp/minimal.out" "$minimal_bin" 0
run_wrk a "http://127.0.0.1:$server_port/"
rps_a="$wrk_rps"
stop_server "$server_pid"

# ---- (b), (c) ictcore-server --------------------------------------------------------------------
start_ictcore http "$tmp/data-http"
port="$server_port"
http_pid="$server_pid"
token="$(login "$port")"
answer="$(lcurl -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"first_name":"Bench","last_name":"Mark","phone":"+14155550123","email":"bench@example.com"}' \
    "http://127.0.0.1:$port/contacts")"
contact_id="$(json_id contact_id "$answer")"
[[ -n "$contact_id" ]] || die "POST /contacts failed: $answer"
status="$(lcurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/contacts/$contact_id")"
[[ "$status" == 200 ]] || die "GET /contacts/$contact_id answered $status"

log "(b) ictcore-server GET /contacts/$contact_id"
run_wrk b "http://127.0.0.1:$port/contacts/$contact_id" -H "Authorization: Bearer $token"
rps_b="$wrk_rps"
log "(c) ictcore-server POST /contacts"
export ICTCORE_BENCH_TOKEN="$token"
run_wrk c "http://127.0.0.1:$port/contacts" -s "$here/post_contact.lua"
rps_c="$wrk_rps"
stop_server "$http_pid"

# ---- (d) raw SQLite inserts ----------------------------------------------------------------------
# In $tmp, the file system of the server's data directories: each commit waits for an fsync.
log "(d) bench-sqlite-insert --seconds $duration (one connection, one transaction per row)"
insert_out="$("$insert_bin" --seconds "$duration" --dir "$tmp")"
echo "$insert_out" >&2
rps_d="$(printf '%s' "$insert_out" | sed -n 's/.*inserts_per_second=\([0-9][0-9]*\).*/\1/p')"
[[ -n "$rps_d" ]] || die "bench-sqlite-insert printed no rate"

# ---- CSV import ---------------------------------------------------------------------------------
csv="$tmp/contacts.csv"
log "generating $rows CSV rows"
awk -v n="$rows" 'BEGIN {
    for (i = 1; i <= n; i++) printf "+1415%07d,First%d,Last,user%d@example.com\n", i % 10000000, i, i
}' >"$csv"
csv_bytes="$(stat -c %s "$csv")"
max_import=$((256 * 1024 * 1024))
(( csv_bytes < max_import )) || max_import=$((csv_bytes + 1024 * 1024))

data_import="$tmp/data-import"
start_ictcore import "$data_import" --max-import "$max_import"
port="$server_port"
import_pid="$server_pid"
token="$(login "$port")"
answer="$(lcurl -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"name":"bench"}' "http://127.0.0.1:$port/groups")"
group_id="$(json_id group_id "$answer")"
[[ -n "$group_id" ]] || die "POST /groups failed: $answer"

import_hwm_before="$(hwm_kb "$import_pid")"
log "importing $rows rows ($(mb $((csv_bytes / 1024))) MB) into group $group_id"
# "Expect:" stops curl from waiting for a 100 Continue before sending a large body.
timing="$(lcurl -X POST -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' -H 'Expect:' \
    --data-binary "@$csv" -o "$tmp/import.json" -w '%{http_code} %{time_total}' \
    "http://127.0.0.1:$port/groups/$group_id/csv")"
import_hwm_after="$(hwm_kb "$import_pid")"
read -r import_status import_seconds <<<"$timing"
import_answer="$(head -c 400 "$tmp/import.json")"
[[ "$import_status" == 200 ]] || die "CSV import answered $import_status: $import_answer"
imported="$(json_id imported "$import_answer")"
[[ "$imported" == "$rows" ]] || notes+=("import: $imported of $rows rows imported: $import_answer")
import_rate="$(awk -v n="$imported" -v s="$import_seconds" 'BEGIN { printf "%.0f", n / s }')"
# For reference, the share of the body transfer: the same upload to a group that does not
# exist is read completely and then answered 404 without touching the database.
timing="$(lcurl -X POST -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' -H 'Expect:' \
    --data-binary "@$csv" -o /dev/null -w '%{http_code} %{time_total}' \
    "http://127.0.0.1:$port/groups/999999999/csv")"
read -r upload_status upload_seconds <<<"$timing"
[[ "$upload_status" == 404 ]] || notes+=("upload-only reference answered $upload_status, not 404")
stop_server "$import_pid"

# ---- SQLite floor of the import ----------------------------------------------------------------
log "bench-sqlite-insert --import $rows (one transaction, contact + group_contact per row)"
floor_out="$("$insert_bin" --import "$rows" --dir "$tmp")"
echo "$floor_out" >&2
floor_rate="$(printf '%s' "$floor_out" | sed -n 's/.*rows_per_second=\([0-9][0-9]*\).*/\1/p')"
[[ -n "$floor_rate" ]] || die "bench-sqlite-insert --import printed no rate"

# ---- listing of all contacts, on a restarted server -----------------------------------------------
start_ictcore list "$data_import"
port="$server_port"
list_pid="$server_pid"
token="$(login "$port")"
list_hwm_before="$(hwm_kb "$list_pid")"
log "GET /contacts ($rows contacts)"
timing="$(lcurl -H "Authorization: Bearer $token" -D "$tmp/list.headers" -o /dev/null \
    -w '%{http_code} %{time_total} %{size_download}' "http://127.0.0.1:$port/contacts")"
list_hwm_after="$(hwm_kb "$list_pid")"
read -r list_status list_seconds list_bytes <<<"$timing"
[[ "$list_status" == 200 ]] || die "GET /contacts answered $list_status"
list_total="$(sed -n 's/^[Xx]-[Tt]otal-[Cc]ount: *\([0-9]*\).*/\1/p' "$tmp/list.headers")"
[[ "$list_total" == "$imported" ]] || notes+=("listing: X-Total-Count is '$list_total', $imported were imported")
list_rate="$(awk -v n="${list_total:-0}" -v s="$list_seconds" 'BEGIN { printf "%.0f", n / s }')"
stop_server "$list_pid"

# ---- delivery engine (bench-delivery: embedded Core, its own table rows) -------------------------
# In $tmp as well, so its commits wait for the same file system's fsyncs as the servers' did.
log "(e)-(g) bench-delivery --transmissions $transmissions"
delivery_out="$("$delivery_bin" --transmissions "$transmissions" --dir "$tmp")" \
    || die "bench-delivery failed: $delivery_out"
echo "$delivery_out" >&2
delivery_rows="$(printf '%s\n' "$delivery_out" | grep '^| ' | grep -v '^| Measurement ' || true)"
[[ -n "$delivery_rows" ]] || die "bench-delivery printed no table"
delivery_info="$(printf '%s\n' "$delivery_out" | sed -n 's/^info: /- bench-delivery: /p')"

# ---- campaign (bench-campaign: embedded Core) ---------------------------------------------------
log "(h)-(i) bench-campaign --contacts $campaign_contacts"
campaign_out="$("$campaign_bin" --contacts "$campaign_contacts" --dir "$tmp")" \
    || die "bench-campaign failed: $campaign_out"
echo "$campaign_out" >&2
campaign_rows="$(printf '%s\n' "$campaign_out" | grep '^| ' || true)"
[[ -n "$campaign_rows" ]] || die "bench-campaign printed no table"
campaign_info="$(printf '%s\n' "$campaign_out" | sed -n 's/^info: /- bench-campaign: /p')"

# ---- gateways (bench-email, bench-kannel: real servers from tests/rigs) ----------------------------
log "(j)-(k) bench-email"
email_out="$("$email_bin" --dir "$tmp")" || die "bench-email failed: $email_out"
echo "$email_out" >&2
email_rows="$(printf '%s\n' "$email_out" | grep '^| ' || true)"
[[ -n "$email_rows" ]] || die "bench-email printed no table"
log "(l)-(m) bench-kannel"
kannel_out="$("$kannel_bin" --dir "$tmp" 2>/dev/null)" || die "bench-kannel failed: $kannel_out"
echo "$kannel_out" >&2
kannel_rows="$(printf '%s\n' "$kannel_out" | grep '^| ' || true)"
[[ -n "$kannel_rows" ]] || die "bench-kannel printed no table"
log "(n)-(q) bench-sip"
command -v sipp >/dev/null 2>&1 || die "sipp is missing: it is the Debian package sip-tester (scripts/install-deps)"
sip_out="$("$sip_bin" --dir "$tmp" 2>/dev/null)" || die "bench-sip failed: $sip_out"
echo "$sip_out" >&2
sip_rows="$(printf '%s\n' "$sip_out" | grep '^| ' || true)"
[[ -n "$sip_rows" ]] || die "bench-sip printed no table"

# ---- report ----------------------------------------------------------------------------------------
# verdict VALUE OP TARGET [NAME]: MET / NOT MET (INVALID when NAME's measurement had errors)
verdict() {
    local name
    for name in "${@:4}"; do
        [[ -z "${invalid[$name]:-}" ]] || { printf 'INVALID'; return; }
    done
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=" ? v >= t : v < t); printf "%s", (ok ? "MET" : "NOT MET") }'
}

ratio_ba="$(ratio "$rps_b" "$rps_a")"
ratio_cd="$(ratio "$rps_c" "$rps_d")"
ratio_import="$(ratio "$import_rate" "$floor_rate")"
secs() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
import_mb="$(mb "$import_hwm_after")"
list_mb="$(mb "$list_hwm_after")"

cpu_model="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
mem_total="$(awk '/^MemTotal:/ { printf "%.1f GB", $2 * 1024 / 1e9 }' /proc/meminfo)"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain 2>/dev/null | head -n 1)" ]]; then commit="$commit (uncommitted changes)"; fi
fs_type="$(stat -f -c %T "$tmp")"

table="$tmp/table.md"
{
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPU(s), ${cpu_model:-unknown CPU}, $mem_total RAM;"
    echo "commit $commit; Release build; data on $fs_type; wrk -t$wrk_threads -c$connections -d${duration}s;"
    echo "load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
    echo
    echo "| Measurement | Result | Target | Verdict |"
    echo "|---|---:|---|---|"
    echo "| (a) minimal Beast server, fixed JSON body | $(num "$rps_a") req/s | baseline | |"
    echo "| (b) \`GET /contacts/{id}\`, Bearer token | $(num "$rps_b") req/s | | |"
    echo "| (c) \`POST /contacts\` | $(num "$rps_c") req/s | | |"
    echo "| (d) SQLite single-row inserts, store pragmas, 1 connection | $(num "$rps_d") rows/s | baseline | |"
    echo "| **b/a** | **$ratio_ba** | ≥ 0.5 | $(verdict "$ratio_ba" ">=" 0.5 a b) |"
    echo "| **c/d** | **$ratio_cd** | ≥ 0.8 | $(verdict "$ratio_cd" ">=" 0.8 c) |"
    echo "| CSV import, $(num "$rows") rows ($(mb $((csv_bytes / 1024))) MB), \`POST /groups/{id}/csv\` | $(num "$import_rate") rows/s ($(secs "$import_seconds") s) | ≥ 300,000 rows/s | $(verdict "$import_rate" ">=" 300000) |"
    echo "| of which the body upload alone (same POST to a missing group: 404) | $(secs "$upload_seconds") s | | |"
    echo "| reference: SQLite floor of the import (same schema and pragmas, 1 transaction, contact + group_contact insert per row) | $(num "$floor_rate") rows/s | | |"
    echo "| import / SQLite floor | $ratio_import | (information) | |"
    echo "| peak RSS of the server during the import (VmHWM; $(mb "$import_hwm_before") MB before) | $import_mb MB | < 200 MB | $(verdict "$import_mb" "<" 200) |"
    echo "| \`GET /contacts\`, $(num "${list_total:-0}") contacts in one response ($(mb $((list_bytes / 1024))) MB) | $(secs "$list_seconds") s ($(num "$list_rate") rows/s) | | |"
    echo "| peak RSS of the restarted server during the listing (VmHWM; $(mb "$list_hwm_before") MB before) | $list_mb MB | < 100 MB | $(verdict "$list_mb" "<" 100) |"
    printf '%s\n' "$delivery_rows"
    printf '%s\n' "$campaign_rows"
    printf '%s\n' "$email_rows"
    printf '%s\n' "$kannel_rows"
    printf '%s\n' "$sip_rows"
    if [[ ${#notes[@]} -gt 0 ]]; then
        echo
        for note in "${notes[@]}"; do echo "- $note"; done
    fi
    echo
    echo "MB = 10^6 bytes. (d) runs after (c), alone, for ${duration} s. (e)-(i) run in-process"
    echo "(bench-delivery, then bench-campaign; no HTTP) after the listing; where their time went:"
    echo
    printf '%s\n' "$delivery_info"
    printf '%s\n' "$campaign_info"
} >"$table"

echo
cat "$table"

if [[ $write_readme -eq 1 ]]; then
    readme="$here/README.md"
    begin='<!-- bench:figures:begin -->'
    end='<!-- bench:figures:end -->'
    if [[ -f "$readme" ]] && grep -qF "$begin" "$readme" && grep -qF "$end" "$readme"; then
        awk -v table="$table" -v begin="$begin" -v end="$end" '
            $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip' "$readme" >"$tmp/README.md"
    else
        { [[ -f "$readme" ]] && cat "$readme" && echo
          echo "## Latest figures"; echo; echo "$begin"; cat "$table"; echo "$end"; } >"$tmp/README.md"
    fi
    cp "$tmp/README.md" "$readme"
    log "figures written to $readme"
fi
