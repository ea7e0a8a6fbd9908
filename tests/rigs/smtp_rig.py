#!/usr/bin/python3
"""A real SMTP server for the e-mail gateway's tests (aiosmtpd, from Debian's python3-aiosmtpd).

usage: smtp_rig.py MAILDIR [--port N] [--auth USER PASSWORD]
Listens on 127.0.0.1 on PORT (default: a free one) and prints "listening PORT" once ready;
stops on SIGTERM. Each connection's EHLO/HELO adds a line to MAILDIR/connections.log.
Messages are stored as received in MAILDIR (a Maildir). The recipient's local part scripts
the answer:
  temp-*      451 at RCPT, every time            perm-*      550 at RCPT
  flaky-*     451 the first time, then accepted   datafail-*  554 after DATA
With --auth, AUTH is required (no TLS)."""
import argparse
import mailbox
import os
import signal
import socket
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("maildir")
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
args = parser.parse_args()
credentials = (args.auth[0].encode(), args.auth[1].encode()) if args.auth else None
box = mailbox.Maildir(args.maildir, create=True)
connections = os.path.join(args.maildir, "connections.log")
refused_once = set()


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with open(connections, "a") as log:
            log.write(f"{hostname}\n")
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with open(connections, "a") as log:
            log.write(f"{hostname}\n")
        session.host_name = hostname
        return "250 {}".format(server.hostname)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("temp-"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        if local.startswith("perm-"):
            return "550 5.1.1 No such user here"
        if local.startswith("flaky-") and address not in refused_once:
            refused_once.add(address)
            return "451 4.4.1 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].lower().startswith("datafail-") for r in envelope.rcpt_tos):
            return "554 5.6.0 Message rejected"
        box.add(envelope.original_content or envelope.content)
        return "250 OK queued"


def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == credentials
    # handled=False lets the server answer 535 itself; True would leave the client waiting.
    return AuthResult(success=ok, handled=False)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# aiosmtpd's Controller checks it is up by connecting to its port, so it cannot take port 0:
# pick a free one, and another if it was taken meanwhile.
for attempt in range(10):
    port = args.port or free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=False,
                            authenticator=authenticate if credentials else None,
                            auth_required=bool(credentials), auth_require_tls=False)
    try:
        controller.start()
        break
    except OSError:
        if attempt == 9 or args.port:
            raise
print(f"listening {port}", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
