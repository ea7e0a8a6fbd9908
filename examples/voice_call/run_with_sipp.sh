#!/usr/bin/env bash
# The test of the voice_call example (ctest example-voice_call): a real SIPp answers the call.
#
#   run_with_sipp.sh VOICE_CALL_BINARY SIPP_SCENARIO_DIR
#
# As root SIPp runs uas_dtmf.xml: it answers and presses 1 then # (RFC 4733 packets played from
# SIPp's pcaps, which needs a raw socket). Otherwise it runs uas_answer.xml, which answers without
# pressing keys, and no digits are expected. Passes when voice_call reports the call completed
# (with the digits, as root) and SIPp exits 0: its side of the call went as the scenario says.
# Everything listens on 127.0.0.1.
set -euo pipefail

voice_call="$1"
scenarios="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/voice-call-test.XXXXXX")"
sipp_pid=""
cleanup() {
    if [[ -n "$sipp_pid" ]] && kill -0 "$sipp_pid" 2>/dev/null; then kill -KILL "$sipp_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "---- sipp screen (tail)"; tail -n 40 "$work/sipp.out" 2>/dev/null || true
    echo "---- sipp errors"; cat "$work"/*_errors.log 2>/dev/null || true
    exit 1
}

command -v sipp >/dev/null || { echo "sipp is missing (Debian package sip-tester)"; exit 1; }
if [[ "$(id -u)" -eq 0 ]]; then
    scenario=uas_dtmf
    expected_digits='1#'
else
    scenario=uas_answer
    expected_digits=''
fi

# The prompt: 2 s of a 1 kHz tone, 8 kHz mono 16-bit WAV (one 8-sample period repeated).
wav="$work/prompt.wav"
{
    printf 'RIFF\x24\x7d\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00'
    printf 'data\x00\x7d\x00\x00'  # 32000 bytes of samples
    for _ in $(seq 2000); do printf '\x00\x00\x19\x16\x40\x1f\x19\x16\x00\x00\xe7\xe9\xc0\xe0\xe7\xe9'; done
} >"$wav"

# bound PORT: some process has a UDP socket on 127.0.0.1:PORT.
bound() { grep -qi "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") " /proc/net/udp; }

# SIPp in the background on random ports; a port someone else holds makes it exit at once, so
# try others then. Its working directory takes its logs.
for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    media_port=$((port + 2))  # SIPp binds the media port and the one 2 above it
    (cd "$work" && exec sipp -sf "$scenarios/$scenario.xml" -i 127.0.0.1 -p "$port" -mi 127.0.0.1 \
        -mp "$media_port" -m 1 -nostdin -timeout 30s -timeout_error -trace_err >"$work/sipp.out" 2>&1) &
    sipp_pid=$!
    for _ in $(seq 100); do
        bound "$port" && kill -0 "$sipp_pid" 2>/dev/null && break
        kill -0 "$sipp_pid" 2>/dev/null || break
        sleep 0.05
    done
    bound "$port" && kill -0 "$sipp_pid" 2>/dev/null && break
    kill -KILL "$sipp_pid" 2>/dev/null || true
    wait "$sipp_pid" 2>/dev/null || true
    sipp_pid=""
done
[[ -n "$sipp_pid" ]] || fail "sipp did not start"
echo "sipp ($scenario) listening on 127.0.0.1:$port"

status=0
"$voice_call" --sip "127.0.0.1:$port" --to 15551234567 --wav "$wav" --digit-wait 1 >"$work/call.out" 2>&1 || status=$?
cat "$work/call.out"
sipp_status=0
wait "$sipp_pid" || sipp_status=$?
sipp_pid=""

[[ $status -eq 0 ]] || fail "voice_call exited with $status"
grep -qx 'status: completed' "$work/call.out" || fail "voice_call did not report the call completed"
grep -qx "dtmf: $expected_digits" "$work/call.out" || fail "voice_call did not report the digits '$expected_digits'"
[[ $sipp_status -eq 0 ]] || fail "sipp exited with $sipp_status"
echo "PASS: call completed, digits '$expected_digits', sipp exited 0"
