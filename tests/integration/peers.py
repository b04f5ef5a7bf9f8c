#!/usr/bin/env python3
"""Test peers for the integration tests (Python standard library only).

  peers.py echo [--tls CERT] [--half-close] [--port-file F]
      Echo server on 127.0.0.1, a free port (written to F, or stdout).
      Each connection: echo everything until EOF, then shut down writing.
  peers.py blast BYTES [--tls CERT] [--port-file F]
      Server that writes BYTES random bytes at once and closes, and
      prints the sha256 of what it sent for every connection (one line).
  peers.py client PORT BYTES [--tls [--ca CA] [--sni NAME] [--cert C]]
                  [--half-close] [--expect-bytes N] [--timeout S]
      Sends BYTES random bytes (from a thread, so both directions flow at
      once), reads until EOF, and prints "sent SHA received SHA COUNT".
  peers.py eof-client PORT BYTES [--tls ...] [--timeout S]
      Like client, but its writing outlives an EOF it reads (it sends all
      BYTES), and ends with a bare TCP half-close: shutdown(SHUT_WR) of
      the raw socket, so a TLS client sends a FIN and no close_notify;
      then it reads until EOF as before.
  peers.py eof-server BYTES --tls CERT [--port-file F]
      TLS server that sends BYTES random bytes, half-closes its raw
      socket (a FIN, no close_notify), reads until EOF, and prints
      "sent SHA received SHA COUNT" for every connection.
  peers.py sink PORT [--tls ...]
      Reads until EOF and prints "received SHA COUNT".
  peers.py roundtrip PORT COUNT [--tls ...]
      COUNT 64-byte round trips; prints "rtt p50_us p99_us".
  peers.py banner TEXT [--port-file F]
      Plain server that answers every connection with the line TEXT, then
      prints "TEXT got LINE" with the first line the client sent within a
      second (a PROXY header, say), or "TEXT got nothing", and closes.
  peers.py sessions PORT... [--cert C] [--tls-version 1.2|1.3] [--no-ticket]
      A TLS client that connects to each PORT in turn, offering the
      session of the connection before, and prints "new|reused LINE" for
      each, LINE being the first line the server sent (or "-").
  peers.py sessiond [--port-file F]
      A session cache server speaking stunnel's sessiond protocol on UDP
      127.0.0.1 (see src/sessiond.c); prints "TYPE ID_HEX LENGTH" for every
      request and answers "get" with the stored session or "not found".
"""
import argparse
import hashlib
import os
import selectors
import socket
import ssl
import sys
import threading
import time

CHUNK = 65536


def listen(port_file):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    port = s.getsockname()[1]
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, port_file)
    else:
        print(port, flush=True)
    return s


def server_context(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert)
    return ctx


def client_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.ca:
        ctx.load_verify_locations(args.ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if args.cert:
        ctx.load_cert_chain(args.cert)
    return ctx


def serve_forever(args, handler):
    s = listen(args.port_file)
    ctx = server_context(args.tls) if args.tls else None
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn, ctx, handler),
                         daemon=True).start()


def handle(conn, ctx, handler):
    try:
        if ctx:
            conn = ctx.wrap_socket(conn, server_side=True)
        handler(conn)
    except (OSError, ssl.SSLError) as e:
        print("peer error: %s" % e, file=sys.stderr, flush=True)
    finally:
        conn.close()


def shut_write(conn):
    if isinstance(conn, ssl.SSLSocket):
        # TLS has no half-close of its own: close_notify then keep reading
        try:
            conn.unwrap()
        except (OSError, ssl.SSLError):
            pass
    else:
        conn.shutdown(socket.SHUT_WR)


def raw_half_close(conn):
    """A FIN without close_notify: SSLSocket.shutdown() would drop the TLS
    state, the plain socket's method leaves it usable for reading."""
    socket.socket.shutdown(conn, socket.SHUT_WR)


def echo(conn):
    while True:
        data = conn.recv(CHUNK)
        if not data:
            break
        conn.sendall(data)
    shut_write(conn)


def make_blast(nbytes):
    def blast(conn):
        data = os.urandom(nbytes)
        print(hashlib.sha256(data).hexdigest(), flush=True)
        conn.sendall(data)
    return blast


def make_eof_server(nbytes):
    def eof_server(conn):
        data = os.urandom(nbytes)
        conn.sendall(data)
        raw_half_close(conn)
        received, count = hashlib.sha256(), 0
        while True:
            try:
                chunk = conn.recv(CHUNK)
            except ssl.SSLEOFError:
                chunk = b""
            if not chunk:
                break
            received.update(chunk)
            count += len(chunk)
        print("sent %s received %s %d" % (hashlib.sha256(data).hexdigest(),
                                           received.hexdigest(), count),
              flush=True)
    return eof_server


def connect(args):
    s = socket.create_connection(("127.0.0.1", args.port),
                                 timeout=args.timeout)
    if args.tls:
        s = client_context(args).wrap_socket(
            s, server_hostname=args.sni or "localhost")
    return s


def client(args):
    """One thread, non-blocking: an SSL object must not be shared by a
    reading and a writing thread."""
    s = connect(args)
    s.setblocking(False)
    sent, received = hashlib.sha256(), hashlib.sha256()
    left, count, pending = args.bytes, 0, b""
    write_open, deadline = True, time.monotonic() + args.timeout
    read_open, raw_eof = True, getattr(args, "raw_eof", False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    while True:
        if write_open and not pending and left > 0:
            pending = os.urandom(min(CHUNK, left))
            sent.update(pending)
            left -= len(pending)
        if write_open and not pending and left == 0:
            write_open = False
            if args.half_close and not isinstance(s, ssl.SSLSocket):
                s.shutdown(socket.SHUT_WR)
            elif raw_eof:
                raw_half_close(s)
        if not read_open and not write_open:
            break
        sel.modify(s, (selectors.EVENT_READ if read_open else 0) |
                   (selectors.EVENT_WRITE if pending else 0))
        if time.monotonic() > deadline:
            raise SystemExit("client: timed out after %d bytes" % count)
        if not sel.select(timeout=1) and not (
                isinstance(s, ssl.SSLSocket) and s.pending()):
            continue
        if pending:
            try:
                n = s.send(pending)
                pending = pending[n:]
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                    BlockingIOError):
                pass
        if not read_open:
            continue
        try:
            data = s.recv(CHUNK)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                BlockingIOError):
            continue
        if not data and raw_eof and write_open:
            read_open = False
            continue
        if not data:
            break
        received.update(data)
        count += len(data)
        if args.expect_bytes is not None and count >= args.expect_bytes:
            break
    s.close()
    print("sent %s received %s %d" % (sent.hexdigest(), received.hexdigest(),
                                       count), flush=True)


def sink(args):
    s = connect(args)
    received = hashlib.sha256()
    count = 0
    while True:
        data = s.recv(CHUNK)
        if not data:
            break
        received.update(data)
        count += len(data)
    s.close()
    print("received %s %d" % (received.hexdigest(), count), flush=True)


def roundtrip(args):
    s = connect(args)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64
    times = []
    for _ in range(args.count):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < len(msg):
            data = s.recv(len(msg) - got)
            if not data:
                raise SystemExit("connection closed during round trip")
            got += len(data)
        times.append(time.perf_counter() - t0)
    s.close()
    times.sort()
    p50 = times[len(times) // 2] * 1e6
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1e6
    print("rtt %.1f %.1f" % (p50, p99), flush=True)


def make_banner(text):
    def banner(conn):
        conn.sendall(text.encode() + b"\n")
        conn.settimeout(1)
        try:
            line = conn.makefile("rb").readline().rstrip(b"\r\n")
        except OSError:
            line = b""
        print("%s got %s" % (text, line.decode("ascii", "replace") or "nothing"),
              flush=True)
    return banner


def sessions(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if args.cert:
        ctx.load_cert_chain(args.cert)
    if args.tls_version:
        version = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
        ctx.minimum_version = ctx.maximum_version = version[args.tls_version]
    if args.no_ticket:
        ctx.options |= ssl.OP_NO_TICKET
    session = None
    for port in args.ports:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn = ctx.wrap_socket(raw, session=session)
        try:
            # TLS 1.3 tickets arrive after the handshake, with the data
            line = conn.makefile("rb").readline().rstrip(b"\r\n")
        except (OSError, ssl.SSLError):
            line = b""
        print("%s %s" % ("reused" if conn.session_reused else "new",
                         line.decode("ascii", "replace") or "-"), flush=True)
        session = conn.session
        try:
            # without close_notify a TLS 1.2 session is not resumable
            conn.unwrap()
        except (OSError, ssl.SSLError):
            pass
        conn.close()


def sessiond(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    store = {}
    names = {0: "new", 1: "get", 2: "remove"}
    while True:
        packet, peer = s.recvfrom(4096)
        if len(packet) < 36 or packet[0] != 1 or packet[1] not in names:
            print("malformed %d" % len(packet), flush=True)
            continue
        kind, key, value = packet[1], packet[4:36], packet[36:]
        print("%s %s %d" % (names[kind], key.hex().upper(), len(value)), flush=True)
        if kind == 0:
            store[key] = value
        elif kind == 2:
            store.pop(key, None)
        elif key in store:
            s.sendto(bytes([1, 0x81]) + packet[2:36] + store[key], peer)
        else:
            s.sendto(bytes([1, 0x80]) + packet[2:36], peer)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("echo", "blast", "eof-server"):
        p = sub.add_parser(name)
        if name in ("blast", "eof-server"):
            p.add_argument("bytes", type=int)
        p.add_argument("--tls")
        p.add_argument("--port-file")
    for name in ("client", "eof-client", "sink", "roundtrip"):
        p = sub.add_parser(name)
        p.add_argument("port", type=int)
        if name in ("client", "eof-client"):
            p.add_argument("bytes", type=int)
            p.add_argument("--half-close", action="store_true")
            p.add_argument("--expect-bytes", type=int)
        if name == "roundtrip":
            p.add_argument("count", type=int)
        p.add_argument("--tls", action="store_true")
        p.add_argument("--ca")
        p.add_argument("--cert")
        p.add_argument("--sni")
        p.add_argument("--timeout", type=float, default=30)
    p = sub.add_parser("sessions")
    p.add_argument("ports", type=int, nargs="+")
    p.add_argument("--cert")
    p.add_argument("--tls-version", choices=("1.2", "1.3"))
    p.add_argument("--no-ticket", action="store_true")
    p = sub.add_parser("banner")
    p.add_argument("text")
    p.add_argument("--tls")
    p.add_argument("--port-file")
    sub.add_parser("sessiond").add_argument("--port-file")
    args = ap.parse_args()
    if args.cmd == "sessiond":
        sessiond(args)
    elif args.cmd == "sessions":
        sessions(args)
    elif args.cmd == "banner":
        serve_forever(args, make_banner(args.text))
    elif args.cmd == "echo":
        serve_forever(args, echo)
    elif args.cmd == "blast":
        serve_forever(args, make_blast(args.bytes))
    elif args.cmd == "eof-server":
        serve_forever(args, make_eof_server(args.bytes))
    elif args.cmd == "client":
        client(args)
    elif args.cmd == "eof-client":
        args.raw_eof = True
        client(args)
    elif args.cmd == "sink":
        sink(args)
    else:
        roundtrip(args)


if __name__ == "__main__":
    main()
