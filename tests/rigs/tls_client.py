#!/usr/bin/python3
"""A real TLS client for tests/http/test_tls.cpp (Python's ssl module, i.e. OpenSSL's client).

Every command verifies the server's certificate against --ca and the IP address 127.0.0.1
(unless it only probes the protocol) and prints one JSON object on stdout.

  requests   --port P --ca FILE --requests JSON
                                          the requests, sent in order over ONE connection while
                                          the server keeps it open (a new one after it closed):
                                          [{"method", "path", "body"?, "headers"?}, ...]
                                          -> {"version", "cipher", "responses": [{"status",
                                             "body", "headers", "local_port"}, ...]}
  handshake  --port P --ca FILE [--min V] [--max V] [--ciphers S] [--no-verify]
                                          -> {"ok", "version", "cipher"} or {"ok": false,
                                             "error", "reason"}  (V: TLSv1, TLSv1_1, TLSv1_2, TLSv1_3)
  hold       --port P --ca FILE --mode silent|hello|handshaken --wait S
                                          connects and then stalls: sends nothing (silent),
                                          only a ClientHello (hello) or completes the handshake
                                          and sends no request (handshaken); waits up to S seconds
                                          for the server to close.
                                          -> {"closed", "elapsed" (seconds since the stall began),
                                              "received" (bytes the server sent)}
  close      --port P --ca FILE --path PATH [--basic USER:PASSWORD] [--keep-alive] --wait S
                                          sends one GET (with "Connection: close" unless
                                          --keep-alive), reads the answer, then waits up to S
                                          seconds for the server to end the connection.
                                          -> {"status_line", "closed", "clean" (ended with
                                              close_notify, not a bare TCP close), "elapsed"
                                              (seconds from the answer to the end)}

A request of "requests" may carry "basic": [user, password] for an Authorization header.
"""

import argparse
import base64
import http.client
import json
import socket
import ssl
import sys
import time
import warnings

HOST = "127.0.0.1"


def context(args, verify=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(cafile=args.ca)
        ctx.check_hostname = True
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def do_requests(args):
    ctx = context(args)
    conn = http.client.HTTPSConnection(HOST, args.port, context=ctx, timeout=args.timeout)
    out = {"responses": []}
    for req in json.loads(args.requests):
        if conn.sock is None:
            conn.connect()
        local_port = conn.sock.getsockname()[1]
        out["version"] = conn.sock.version()
        out["cipher"] = conn.sock.cipher()[0]
        body = req.get("body")
        headers = dict(req.get("headers", {}))
        if "basic" in req:
            headers["Authorization"] = basic(*req["basic"])
        started = time.monotonic()
        conn.request(req["method"], req["path"], body=body.encode() if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out["responses"].append({
            "status": resp.status,
            "body": data.decode("utf-8", "replace"),
            "headers": {k.lower(): v for k, v in resp.getheaders()},
            "local_port": local_port,
            "elapsed": time.monotonic() - started,
        })
    conn.close()
    return out


VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1_1": ssl.TLSVersion.TLSv1_1,
    "TLSv1_2": ssl.TLSVersion.TLSv1_2,
    "TLSv1_3": ssl.TLSVersion.TLSv1_3,
}


def do_handshake(args):
    ctx = context(args, verify=not args.no_verify)
    old = args.max in ("TLSv1", "TLSv1_1") or args.min in ("TLSv1", "TLSv1_1")
    if old:
        # Debian's OpenSSL refuses TLS < 1.2 at its default security level: lower it so this
        # client really offers the old protocol and only the server can refuse it.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if args.ciphers:
        ctx.set_ciphers(args.ciphers + (":@SECLEVEL=0" if old else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if args.min:
            ctx.minimum_version = VERSIONS[args.min]
        if args.max:
            ctx.maximum_version = VERSIONS[args.max]
    sock = socket.create_connection((HOST, args.port), timeout=args.timeout)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=HOST)
    except ssl.SSLError as e:
        sock.close()
        return {"ok": False, "error": str(e), "reason": e.reason or ""}
    except OSError as e:
        sock.close()
        return {"ok": False, "error": str(e), "reason": type(e).__name__}
    out = {"ok": True, "version": tls.version(), "cipher": tls.cipher()[0], "compression": tls.compression()}
    tls.close()
    return out


def wait_closed(recv, deadline):
    """Reads until the peer closes; returns (closed, bytes received)."""
    received = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, received
        try:
            recv.settimeout(left)
            data = recv.recv(4096)
        except (socket.timeout, TimeoutError):
            return False, received
        except (ssl.SSLError, ConnectionError):
            return True, received
        if not data:
            return True, received
        received += len(data)


def do_hold(args):
    sock = socket.create_connection((HOST, args.port), timeout=args.timeout)
    start = time.monotonic()
    if args.mode == "silent":
        closed, received = wait_closed(sock, start + args.wait)
    elif args.mode == "hello":
        # A memory BIO yields the ClientHello without completing the handshake.
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = context(args).wrap_bio(incoming, outgoing, server_hostname=HOST)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        sock.sendall(outgoing.read())
        closed, received = wait_closed(sock, start + args.wait)
    else:
        tls = context(args).wrap_socket(sock, server_hostname=HOST)
        start = time.monotonic()
        closed, received = wait_closed(tls, start + args.wait)
        sock = tls
    elapsed = time.monotonic() - start
    sock.close()
    return {"closed": closed, "elapsed": elapsed, "received": received}


def do_close(args):
    ctx = context(args)
    sock = socket.create_connection((HOST, args.port), timeout=args.timeout)
    # Report an end without close_notify as such instead of as an ordinary end of stream.
    tls = ctx.wrap_socket(sock, server_hostname=HOST, suppress_ragged_eofs=False)
    head = f"GET {args.path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if args.basic:
        head += "Authorization: " + basic(*args.basic.split(":", 1)) + "\r\n"
    if not args.keep_alive:
        head += "Connection: close\r\n"
    tls.sendall((head + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    headers = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    length = 0
    for line in headers.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    while len(body) < length:
        chunk = tls.recv(4096)
        if not chunk:
            break
        body += chunk
    start = time.monotonic()
    deadline = start + args.wait
    closed, clean = False, False
    while time.monotonic() < deadline:
        try:
            tls.settimeout(max(0.01, deadline - time.monotonic()))
            if not tls.recv(4096):
                closed, clean = True, True
                break
        except (socket.timeout, TimeoutError):
            break
        except (ssl.SSLError, ConnectionError):
            closed = True
            break
    elapsed = time.monotonic() - start
    tls.close()
    return {"status_line": status_line, "closed": closed, "clean": clean, "elapsed": elapsed}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["requests", "handshake", "hold", "close"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--min")
    parser.add_argument("--max")
    parser.add_argument("--ciphers")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--mode", choices=["silent", "hello", "handshaken"], default="silent")
    parser.add_argument("--wait", type=float, default=5.0)
    parser.add_argument("--requests", default="[]")
    parser.add_argument("--path", default="/")
    parser.add_argument("--basic")
    parser.add_argument("--keep-alive", action="store_true")
    args = parser.parse_args()
    result = {"requests": do_requests, "handshake": do_handshake, "hold": do_hold,
              "close": do_close}[args.command](args)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
