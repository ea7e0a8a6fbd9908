#!/usr/bin/python3
"""A real Kannel (Debian's bearerbox + smsbox + fakesmsc) for the Kannel SMS gateway's tests.

usage: kannel_rig.py DIR [--get-url URL] [--user U] [--password P] [--http-smsc-delay-ms N] [--debug]

DIR must be a fresh directory (bearerbox keeps queued messages in DIR/kannel.store across
restarts). The rig picks free loopback ports, writes DIR/kannel.conf, starts bearerbox, smsbox
and one interactive fakesmsc, and once sendsms answers prints (stdout, flushed):
    sendsms PORT / admin PORT / listening SENDSMS_PORT
DIR/rig.json holds every port. Logs: DIR/bearerbox.log, smsbox.log, fakesmsc.out, *.out.

Sending (MT): http://127.0.0.1:SENDSMS/cgi-bin/sendsms?username=..&password=..&smsc=fake1|http1
&from=..&to=..&text=..[&coding=2&charset=UTF-8][&dlr-mask=..&dlr-url=..]. Every SMSC sets
allowed-smsc-id, so a message without smsc= gets "Not routable".
  fake1  Kannel's fake SMSC; fakesmsc receives the MT. Kannel itself sends DLR 8 ("ACK/") and
         then 1 (%A empty) right away; it never fails a message.
  http1  Kannel's generic HTTP SMSC pointed at a test SMSC inside this rig. The destination
         number scripts the outcome (dlr-url %d / %A as ictcore receives them, measured):
           1999...  answer "ERR number barred": DLR 16, %A "NACK/ERR number barred" (no 8 first)
           1888...  answer "OK <id>": DLR 8 (%A "ACK/"), then DLR 2, %A "undelivered: handset rejected"
           1777...  answer "OK <id>": DLR 8, then DLR 4 (%A "buffered: handset out of coverage");
                    never a final one
           others   answer "OK <id>": DLR 8, then DLR 1, %A "delivered"
         The test SMSC passes its text in the callback's text=, which Kannel 1.4.5 puts in %A.
         --http-smsc-delay-ms delays those callbacks (not the answer).
Every MT that reaches an SMSC is appended (one write(2) per line, at once) to DIR/mt.jsonl:
  {"smsc":"fake1"|"http1","from":..,"to":..,"coding":0|1|2,"text":UTF-8 text,"raw":as received}
(fake1 also "type": fakesmsc's text|data|ucs-2|udh). A coding-0 text holding a newline cannot
pass fake1's line protocol intact (Kannel writes it raw): use coding 2 or http1 for those.

Receiving (MO): write lines "FROM TO TEXT\n" (UTF-8; one write per line, each < 4 KiB) to the
FIFO DIR/mo.in; the rig keeps it open, so a writer never blocks or gets EPIPE. Text made only
of GSM 03.38 characters goes to fakesmsc as type text (Kannel: coding 0), anything else as
ucs2 (coding 2); with mo-recode the get-url gets UTF-8 either way. Lines written while Kannel is
stopped are delivered after it starts again. DIR/mo.log lists what was forwarded.
get-url: --get-url URL (Kannel escapes allowed, e.g. %p %P %a %i %c %C %t %I); without it a
catch-all service answers "OK" and nothing is called.

Signals: SIGUSR1 stops fakesmsc, smsbox and bearerbox (waits for them) and prints
"kannel stopped"; SIGUSR2 starts them again on the same ports and prints "kannel started"
once ready. SIGTERM/SIGINT: everything stops, exit 0. The children die with the rig
(PR_SET_PDEATHSIG), and the rig stops itself when its parent goes away."""
import argparse
import collections
import ctypes
import heapq
import http.client
import http.server
import itertools
import json
import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
ADMIN_PASSWORD = "adminpw"
STATUS_PASSWORD = "statuspw"

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--get-url")
parser.add_argument("--user", default="ictcore")
parser.add_argument("--password", default="secret")
parser.add_argument("--http-smsc-delay-ms", type=int, default=0)
parser.add_argument("--debug", action="store_true", help="Kannel log files at debug level")
args = parser.parse_args()
work = os.path.abspath(args.dir)
os.makedirs(work, exist_ok=True)
rig_pid = os.getpid()
parent_pid = os.getppid()


def path(name):
    return os.path.join(work, name)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- MT log -------------------------------------------------------------------------------
# O_APPEND + one write(2) per record: a reader polling the file never sees half a line.
mt_fd = os.open(path("mt.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
mt_lock = threading.Lock()


def log_mt(record):
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    with mt_lock:
        os.write(mt_fd, line)


def url_decode(value):
    """Kannel's octstr_url_encode writes a space as '+', which unquote_to_bytes keeps."""
    return urllib.parse.unquote_to_bytes(value.replace(b"+", b" "))


def decode_text(data, coding):
    if coding == 2:
        return data.decode("utf-16-be", errors="replace")
    if coding == 1:
        return data.decode("latin-1")
    return data.decode("utf-8", errors="replace")


# ---- test SMSC (Kannel's "generic" HTTP SMSC talks to it) -----------------------------------
dlr_delay = args.http_smsc_delay_ms / 1000.0
foreign_ids = itertools.count(1000)
dlr_queue = []  # heap of (due, seq, query)
dlr_seq = itertools.count()
dlr_cond = threading.Condition()
ports = {}


def schedule_dlr(mid, to, mask, text):
    query = urllib.parse.urlencode({"dlr-mask": mask, "dlr-mid": mid, "to": to, "text": text})
    with dlr_cond:
        heapq.heappush(dlr_queue, (time.monotonic() + dlr_delay, next(dlr_seq), query, 0))
        dlr_cond.notify()


def dlr_sender():
    # One keep-alive connection to bearerbox's generic port. Kannel stores the DLR entry only
    # after it parsed our "OK <id>" answer, so an early callback gets "Unknown DLR": retry it.
    conn = None
    while True:
        with dlr_cond:
            while not dlr_queue or dlr_queue[0][0] > time.monotonic():
                dlr_cond.wait(None if not dlr_queue else dlr_queue[0][0] - time.monotonic())
            due, seq, query, attempt = heapq.heappop(dlr_queue)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", ports["generic"], timeout=5)
            conn.request("GET", "/?" + query)
            response = conn.getresponse()
            body = response.read()
            # That race lasts milliseconds: 50 tries 20 ms apart.
            retry = (b"Unknown DLR" in body or b"Not accepted" in body) and attempt < 50
            retry_in = 0.02
        except (OSError, http.client.HTTPException):
            conn = None
            retry = attempt < 300  # Kannel stopped: keep trying for about a minute
            retry_in = 0.2
        if retry:
            with dlr_cond:
                heapq.heappush(dlr_queue, (time.monotonic() + retry_in, seq, query, attempt + 1))


class TestSmsc(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        raw_query = urllib.parse.urlsplit(self.path).query
        fields = {}
        for pair in raw_query.split("&"):
            name, _, value = pair.partition("=")
            fields[name] = value
        to = urllib.parse.unquote_plus(fields.get("to", ""))
        coding = int(fields.get("coding") or 0)
        data = url_decode(fields.get("text", "").encode())
        log_mt({"smsc": "http1", "from": urllib.parse.unquote_plus(fields.get("from", "")), "to": to,
                "coding": coding, "text": decode_text(data, coding), "raw": fields.get("text", "")})
        # Kannel only keeps a DLR entry for the types the sender's dlr-mask asked for.
        # (%d is -1 when the sender set none.)
        mask = max(0, int(fields.get("mask") or 0))
        if to.startswith("1999"):
            answer = "ERR number barred"
        else:
            mid = next(foreign_ids)
            answer = f"OK {mid}"
            if to.startswith("1888"):
                report = (2, "undelivered: handset rejected")
            elif to.startswith("1777"):
                report = (4, "buffered: handset out of coverage")
            else:
                report = (1, "delivered")
            if mask & report[0]:
                schedule_dlr(mid, to, *report)
        body = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *unused):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # bearerbox opens up to max-pending-submits connections at once; socketserver's default
    # backlog of 5 would leave the rest in SYN retries (seconds each).
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # bearerbox going away mid-request is expected on stop


test_smsc = QuietServer(("127.0.0.1", 0), TestSmsc)
threading.Thread(target=test_smsc.serve_forever, daemon=True).start()
threading.Thread(target=dlr_sender, daemon=True).start()

# ---- configuration -----------------------------------------------------------------------
ports.update(test_smsc=test_smsc.server_address[1], admin=free_port(), smsbox=free_port(),
             fake=free_port(), generic=free_port(), sendsms=free_port())
log_level = 0 if args.debug else 1
get_url = args.get_url
service = (f'get-url = "{get_url}"' if get_url else 'text = "OK"')
config = f"""# Written by tests/rigs/kannel_rig.py
group = core
admin-port = {ports['admin']}
admin-interface = 127.0.0.1
admin-password = {ADMIN_PASSWORD}
status-password = {STATUS_PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = {ports['smsbox']}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{path('bearerbox.log')}"
log-level = {log_level}
access-log = "{path('access.log')}"
dlr-storage = internal
store-type = file
store-location = "{path('kannel.store')}"
# no queue limits: a benchmark queues 10,000 MTs at once
sms-incoming-queue-limit = -1
sms-outgoing-queue-limit = -1
smsbox-max-pending = 10000

group = smsc
smsc = fake
smsc-id = fake1
allowed-smsc-id = fake1
port = {ports['fake']}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsc
smsc = http
smsc-id = http1
allowed-smsc-id = http1
system-type = generic
# in a send-url %p is the handset (the receiver), %P our sender id
send-url = "http://127.0.0.1:{ports['test_smsc']}/send?to=%p&from=%P&text=%b&coding=%c&mask=%d"
port = {ports['generic']}
connect-allow-ip = 127.0.0.1
status-success-regex = "^OK"
status-permfail-regex = "^ERR"
status-tempfail-regex = "^RETRY"
generic-foreign-id-regex = "^OK ([0-9]+)"
max-pending-submits = 100

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports['smsbox']}
sendsms-port = {ports['sendsms']}
sendsms-interface = 127.0.0.1
log-file = "{path('smsbox.log')}"
log-level = {log_level}
access-log = "{path('smsbox-access.log')}"
# MO ucs2 reaches the get-url as UTF-8
mo-recode = true
max-pending-requests = 1000

group = sendsms-user
username = {args.user}
password = {args.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
{service}
accept-x-kannel-headers = true
# never send the get-url's answer back as an SMS
max-messages = 0
omit-empty = true
concatenation = true
"""
with open(path("kannel.conf"), "w") as conf_file:
    conf_file.write(config)
with open(path("rig.json"), "w") as ports_file:
    json.dump(ports, ports_file)

# ---- child processes ---------------------------------------------------------------------
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_rig():
    # Runs in the child between fork and exec: SIGKILL it when the rig dies, however it dies.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != rig_pid:
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def spawn(argv, out_name, **extra):
    with open(path(out_name), "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=work,
                                preexec_fn=die_with_rig, **extra)


GOT_MESSAGE = re.compile(rb"Got message \d+: <(.*)>\s*$")
FAKESMSC_TYPES = (b"text", b"data", b"ucs-2", b"udh")


def fakesmsc_record(fields):
    sender, receiver, kind, data = fields
    if kind == b"ucs-2":
        coding, payload = 2, url_decode(data)
    elif kind == b"data":
        coding, payload = 1, url_decode(data)
    elif kind == b"udh":
        coding, payload = 1, url_decode(data.partition(b" data ")[2])
    else:
        coding, payload = 0, data
    return {"smsc": "fake1", "from": sender.decode(errors="replace"),
            "to": receiver.decode(errors="replace"), "coding": coding,
            "type": kind.decode(errors="replace"), "text": decode_text(payload, coding),
            "raw": data.decode(errors="replace")}


def read_fakesmsc(stream, transcript):
    """Turns fakesmsc's 'Got message N: <from to type data>' debug lines into mt.jsonl records.

    Kannel writes a coding-0 text raw, so a newline in it reaches fakesmsc as a second line
    ("Got message N+1: <rest>"). A record is therefore held until the next message line (or
    20 ms of quiet) shows whether such a continuation follows, and the rest is joined back."""
    fd = stream.fileno()
    pending = None  # [sender, receiver, kind, data] of the last message, not yet written
    buffered = b""
    with open(transcript, "ab") as out:
        while True:
            readable, _, _ = select.select([fd], [], [], 0.02 if pending else None)
            if not readable:
                log_mt(fakesmsc_record(pending))
                pending = None
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out.write(chunk)
            out.flush()
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                found = GOT_MESSAGE.search(line)
                if not found:
                    continue
                fields = found.group(1).split(b" ", 3)
                if len(fields) >= 3 and fields[2] in FAKESMSC_TYPES:
                    if pending:
                        log_mt(fakesmsc_record(pending))
                    pending = (fields + [b""])[:4]
                elif pending and pending[2] == b"text":
                    pending[3] += b"\n" + found.group(1)
    if pending:
        log_mt(fakesmsc_record(pending))


# GSM 03.38 default alphabet and its extension table: what a handset sends as 7-bit (coding 0).
GSM_CHARS = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")


def mo_line(line):
    """'FROM TO TEXT' (UTF-8) -> a fakesmsc line, or None when malformed."""
    parts = line.split(" ", 2)
    if len(parts) < 3:
        return None
    sender, receiver, text = parts
    if all(c in GSM_CHARS and c not in "\r\n" for c in text):
        return f"{sender} {receiver} text {text}\n".encode()
    encoded = urllib.parse.quote_from_bytes(text.encode("utf-16-be"), safe="")
    return f"{sender} {receiver} ucs2 {encoded}\n".encode()


class Kannel:
    def __init__(self):
        self.bearerbox = self.smsbox = self.fakesmsc = None
        self.fakesmsc_reader = None
        self.mo_lock = threading.Lock()
        self.mo_backlog = []

    def running(self):
        return self.bearerbox is not None

    def _status(self):
        url = f"http://127.0.0.1:{ports['admin']}/status.txt?password={STATUS_PASSWORD}"
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode(errors="replace")

    def _wait(self, what, ready, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for child in (self.bearerbox, self.smsbox):
                if child is not None and child.poll() is not None:
                    raise RuntimeError(f"{child.args[0]} exited ({child.returncode}) waiting for {what}")
            try:
                if ready():
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"timed out waiting for {what}")

    def _smscs_online(self):
        status = self._status()
        smsc_lines = [line for line in status.splitlines() if line.strip().startswith(("fake1", "http1"))]
        online = [line for line in smsc_lines if "(online" in line]
        return len(online) == 2 and "on-line" in status.split("Box connections:")[-1]

    def _sendsms_answers(self):
        conn = http.client.HTTPConnection("127.0.0.1", ports["sendsms"], timeout=2)
        try:
            conn.request("GET", "/cgi-bin/sendsms")
            conn.getresponse().read()
            return True
        finally:
            conn.close()

    def _start_fakesmsc(self):
        # -i: the pause between MOs it reads; -v 0: it logs each received MT at debug level.
        # stdbuf -i0: fakesmsc select()s on stdin but fgets() it, so lines that stdio buffered
        # behind the first one would wait for the next write.
        self.fakesmsc = subprocess.Popen(
            ["stdbuf", "-i0", FAKESMSC, "-H", "127.0.0.1", "-r", str(ports["fake"]), "-i", "0.001", "-v", "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
            preexec_fn=die_with_rig)
        self.fakesmsc_reader = threading.Thread(
            target=read_fakesmsc, args=(self.fakesmsc.stdout, path("fakesmsc.out")), daemon=True)
        self.fakesmsc_reader.start()
        with self.mo_lock:
            backlog, self.mo_backlog = self.mo_backlog, []
            for line in backlog:
                self._write_mo(line)

    def start(self):
        conf = path("kannel.conf")
        self.bearerbox = spawn([BEARERBOX, "-v", "4", conf], "bearerbox.out")
        self._wait("bearerbox admin port", lambda: bool(self._status()))
        self.smsbox = spawn([SMSBOX, "-v", "4", conf], "smsbox.out")
        self._start_fakesmsc()
        self._wait("both SMSCs online and smsbox connected", self._smscs_online)
        self._wait("sendsms", self._sendsms_answers)

    def stop(self, gracefully=True):
        boxes = [c for c in (self.smsbox, self.bearerbox) if c is not None]
        with self.mo_lock:
            fakesmsc, self.fakesmsc = self.fakesmsc, None
        for child in boxes + ([] if gracefully or fakesmsc is None else [fakesmsc]):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM if gracefully else signal.SIGKILL)
        deadline = time.monotonic() + 10
        for child in boxes:
            self._reap(child, deadline)
        if fakesmsc is not None:
            # fakesmsc exits by itself once bearerbox closed the connection, after logging every
            # MT bearerbox wrote to it (SIGTERM first could lose one bearerbox counts as sent).
            self._reap(fakesmsc, time.monotonic() + 3)
        if self.fakesmsc_reader is not None:
            self.fakesmsc_reader.join(5)  # every MT fakesmsc got is in mt.jsonl
        self.bearerbox = self.smsbox = self.fakesmsc_reader = None

    @staticmethod
    def _reap(child, deadline):
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdin:
            child.stdin.close()

    def check_fakesmsc(self):
        # fakesmsc sometimes exits on its own (seen: "double free"); bearerbox takes a new client.
        if self.running() and self.fakesmsc is not None and self.fakesmsc.poll() is not None:
            with open(path("mo.log"), "a") as log:
                log.write(f"fakesmsc exited ({self.fakesmsc.returncode}); restarted\n")
            self.fakesmsc_reader.join(5)
            self._start_fakesmsc()

    def _write_mo(self, line):
        try:
            self.fakesmsc.stdin.write(line)
            self.fakesmsc.stdin.flush()
        except (OSError, ValueError):
            self.mo_backlog.append(line)

    def send_mo(self, line):
        with self.mo_lock:
            if self.fakesmsc is None:
                self.mo_backlog.append(line)
            else:
                self._write_mo(line)


kannel = Kannel()


def forward_mo():
    fifo = path("mo.in")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o666)
    elif not stat.S_ISFIFO(os.stat(fifo).st_mode):
        raise RuntimeError(f"{fifo} exists and is not a FIFO")
    # O_RDWR: the rig is a writer too, so the FIFO never reports EOF between test writers.
    with open(os.open(fifo, os.O_RDWR), "rb", buffering=0) as source, open(path("mo.log"), "a") as log:
        pending = b""
        while True:
            chunk = source.read(65536)
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                text = raw.decode(errors="replace").rstrip("\r")
                line = mo_line(text)
                log.write(("forwarded " if line else "malformed ") + repr(line or text) + "\n")
                log.flush()
                if line:
                    kannel.send_mo(line)


# ---- main loop: signals are queued by the handlers and acted on here ------------------------
def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


wake_read, wake_write = os.pipe()
os.set_blocking(wake_read, False)
os.set_blocking(wake_write, False)
signal.set_wakeup_fd(wake_write)
requests = collections.deque()
for signum in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, lambda s, frame: requests.append(s))

threading.Thread(target=forward_mo, daemon=True).start()
try:
    kannel.start()
except RuntimeError as failure:
    kannel.stop(gracefully=False)
    say(f"failed {failure}")
    sys.exit(1)
say(f"sendsms {ports['sendsms']}")
say(f"admin {ports['admin']}")
say(f"listening {ports['sendsms']}")

while True:
    select.select([wake_read], [], [], 0.5)
    try:
        os.read(wake_read, 512)
    except BlockingIOError:
        pass
    if os.getppid() != parent_pid:
        requests.append(signal.SIGTERM)
    kannel.check_fakesmsc()
    while requests:
        signum = requests.popleft()
        if signum in (signal.SIGTERM, signal.SIGINT):
            # DIR is disposable: no need to wait ~2 s for Kannel's graceful shutdown.
            kannel.stop(gracefully=False)
            sys.exit(0)
        if signum == signal.SIGUSR1:
            if kannel.running():
                kannel.stop()
            say("kannel stopped")
        elif signum == signal.SIGUSR2:
            if not kannel.running():
                try:
                    kannel.start()
                except RuntimeError as failure:
                    kannel.stop(gracefully=False)
                    say(f"failed {failure}")
                    continue
            say("kannel started")
