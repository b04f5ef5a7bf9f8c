#!/usr/bin/env python3
"""Test peers for the integration tests (Python standard library only).

Every server listens on 127.0.0.1 and a free port, or on --bind ADDR
(an IPv6 address too) and --port N, or on the Unix socket --unix PATH,
and writes its port (0 for a Unix socket) to --port-file F once it
listens, or else to stdout. lib.sh's lib_peer starts one and waits.

  peers.py echo [--tls CERT] [--half-close] [--port-file F]
      Echo server. Each connection: echo everything until EOF, then shut
      down writing.
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
  peers.py rev-client PORT BYTES [--timeout S]
      Plain client for "openssl s_server -rev": sends BYTES of text lines
      (a-z0-9, 1 to 8000 characters, each ending in LF) while it reads,
      shuts down writing, reads until EOF, and prints "sent SHA expected
      SHA received SHA COUNT", "expected" being every line reversed.
  peers.py stall MODE PORT [SECONDS] [--ca CA]
      A client that stalls as the daemon's timeouts must end. It prints
      "local PORT" (its own port), then one result line; AFTER is the
      time since its handshake (since its connect for plain):
        idle     TLS, sends nothing: "closed AFTER" or "open AFTER"
        active   TLS, one byte echoed each 0.5 s for SECONDS: "ok N"
                 (N round trips) or "broken AFTER"
        plain    TCP only, sends nothing: "closed AFTER" or "open AFTER"
        close    TLS, reads to the daemon's close_notify, never answers
                 it, then times the TCP close: "data TEXT fin AFTER" or
                 "data TEXT open AFTER"
        rst      TLS, waits 0.5 s without reading, then closes with data
                 unread (the kernel sends a reset): "done"
  peers.py sink PORT [--tls ...]
      Reads until EOF and prints "received SHA COUNT".
  peers.py roundtrip PORT COUNT [--tls ...]
      COUNT 64-byte round trips; prints "rtt p50_us p99_us".
  peers.py banner TEXT [--close] [--port-file F]
      Plain server that answers every connection with the line TEXT, then
      prints "TEXT got LINE" with the first line the client sent within a
      second (a PROXY header, say), or "TEXT got nothing", and closes;
      with --close it closes right after the line, reading nothing.
  peers.py chat STEP... [--port-file F] [--rcvbuf N]
  peers.py chat-client PORT STEP... [--timeout S] [--rcvbuf N]
      A scripted peer, server (every connection) or client, that goes
      through the STEPs and prints what it reads, one line per step:
      "S:TEXT" sends TEXT (Python escapes: \\r\\n, \\x20 for a space),
      "D:TEXT" sends it a byte at a time, 5 ms apart (in TLS a record
      each), "HASH:COUNT" reads COUNT bytes and prints "hash COUNT SHA256",
      "R:" reads a line and prints "read B" (B a Python bytes literal),
      "H:" reads up to an empty line (an HTTP header), "N:COUNT" reads
      COUNT bytes, "TLS:CERT" (server) or "TLS" (client, no checks)
      starts TLS and prints "TLS VERSION CIPHER", "ECHO" echoes until EOF
      and prints "echoed B", "EOF" prints "got B then EOF", "SHUT"
      half-closes, "W:SECONDS" waits. A step that meets EOF prints
      "EOF", a reset "reset", and the script stops; a server prints
      "end" after each connection. With --rcvbuf N its socket's receive
      buffer is N bytes (a slow reader: the other side's writes come back
      short). The dialogues of protocol = ...
  peers.py chats FILE --dir DIR
      Many chat peers in one process, a line of FILE each (shell words;
      # comments): "server NAME [--bind A] [--port P] [--rcvbuf N]
      STEP..." listens (its port in DIR/NAME.port) and serves every
      connection K with the STEPs, what it says in DIR/NAME.K ("end"
      last); "client NAME PORT [--source A] [--rcvbuf N] STEP..."
      connects from A and says it in DIR/NAME.client. Runs until every
      client is done, or forever if there is none.
  peers.py identd USER [--port 113]
      RFC 1413 ident server: answers every query "Q" with
      "Q : USERID : UNIX : USER" (USER any bytes but NUL) and closes.
  peers.py ocsp-replay FILE
      HTTP server that answers every request with FILE as an OCSP
      response (a replay), and prints "request nonce" or "request
      no-nonce" for each, whether the request carried a nonce extension.
  peers.py http DIR
      HTTP server of the files in DIR.
  peers.py silent
      Accepts every connection, prints "connection", and neither answers
      nor closes it.
  peers.py blackhole
      A listener whose accept queue is full: a connect() to it never
      completes (its SYNs are dropped). Exits with an error where the
      kernel does not drop them.
  peers.py inetd PROGRAM CONF --err FILE
      Accepts one connection and runs PROGRAM CONF on it, as inetd does
      (standard input and output the socket, standard error to FILE);
      prints "peer ADDR:PORT", then "exit STATUS" when it ends.
  peers.py syslog PATH [--until TEXT] [--timeout S]
      Syslog receiver on the Unix datagram socket PATH: prints every
      message, and ends after one that contains TEXT or S seconds (10)
      without any.
  peers.py read PORT [--tls ...] [--send TEXT] [--expect-bytes N]
                [--connections N] [--show-port] [--timeout S]
      A client that, N times in turn (1), connects, sends TEXT, reads
      until EOF (or N bytes) and, in TLS, answers the close_notify; it
      prints "local PORT" (its own port) with --show-port, then the text
      it received (CRs removed, blanks around it stripped), "EOF" for
      nothing, and "ERR EXCEPTION" when the connection failed.
  peers.py hold PORT [--tls ...] [--while FILE] [--timeout S]
      A client that sends "ping" and prints "held" when it comes back
      (else "no echo"), then holds the connection: while FILE exists,
      else until the other side ends it ("eof", or "timeout" and exit
      status 1 after S seconds of silence).
  peers.py hammer PORT --while FILE [--tls ...]
      A client that connects again and again while FILE exists, one
      "ping" round trip each, and prints "OK FAILED" (the counts) at the
      end; each failure is described on stderr.
  peers.py sessions PORT... [--cert C] [--tls-version 1.2|1.3] [--no-ticket]
                    [--send TEXT]
      A TLS client that connects to each PORT in turn, offering the
      session of the connection before, sends TEXT if given, and prints
      "new|reused LINE" for each, LINE being the first line the server
      sent (or "-").
  peers.py sessiond [--port-file F]
      A session cache server speaking stunnel's sessiond protocol on UDP
      127.0.0.1 (see src/sessiond.c); prints "TYPE ID_HEX LENGTH" for every
      request and answers "get" with the stored session or "not found".
"""
import argparse
import functools
import hashlib
import http.server
import os
import random
import select
import selectors
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

CHUNK = 65536


def announce(port_file, port):
    """the port, written whole (a reader never sees half of it)"""
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, port_file)
    else:
        print(port, flush=True)


def bind(args, backlog=128):
    """a listening socket on --unix PATH, or on --bind ADDR and --port N"""
    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(args.unix)
    else:
        s = socket.socket(socket.AF_INET6 if ":" in args.bind else
                          socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.bind, args.listen_port))
    if getattr(args, "rcvbuf", None):     # accepted sockets inherit it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    s.listen(backlog)
    return s


def listen(args):
    s = bind(args)
    announce(args.port_file, 0 if args.unix else s.getsockname()[1])
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
    s = listen(args)
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
    read_open, raw_eof = True, args.raw_eof
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


def rev_client(args):
    alpha = b"abcdefghijklmnopqrstuvwxyz0123456789"
    table = bytes(alpha[i % len(alpha)] for i in range(256))
    total = args.bytes
    data = bytearray(os.urandom(total).translate(table))
    expected = hashlib.sha256()
    pos = 0
    while pos < total:
        end = min(pos + random.randint(2, 8001), total) - 1
        if total - end - 1 < 2:
            end = total - 1
        data[end] = 10
        expected.update(bytes(data[pos:end])[::-1] + b"\n")
        pos = end + 1
    data = bytes(data)
    received = hashlib.sha256()
    s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    off, count, deadline = 0, 0, time.monotonic() + args.timeout
    while True:
        if time.monotonic() > deadline:
            raise SystemExit("rev-client: timed out after %d bytes" % count)
        for _, ev in sel.select(timeout=1):
            if ev & selectors.EVENT_WRITE:
                try:
                    off += s.send(data[off:off + CHUNK])
                except BlockingIOError:
                    pass
                if off == total:
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    print("sent %s expected %s received %s %d" % (
                        hashlib.sha256(data).hexdigest(), expected.hexdigest(),
                        received.hexdigest(), count), flush=True)
                    return
                received.update(chunk)
                count += len(chunk)

def wait_close(fd, limit):
    """until EOF or reset on the raw descriptor"""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                if not os.read(fd, 65536):
                    return True
            except ConnectionResetError:
                return True
    return False


def stall(args):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=15)
    print("local %d" % raw.getsockname()[1], flush=True)
    t0 = time.monotonic()

    def since():
        return "%.1f" % (time.monotonic() - t0)
    if args.mode == "plain":
        print(("closed " if wait_close(raw.fileno(), 15) else "open ") + since())
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.ca)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    t0 = time.monotonic()
    if args.mode == "idle":
        try:
            while s.recv(100):
                pass
            print("closed " + since())
        except TimeoutError:
            print("open " + since())
        except (OSError, ssl.SSLError):
            print("closed " + since())
    elif args.mode == "active":
        n = 0
        try:
            while time.monotonic() - t0 < args.seconds:
                s.sendall(b"x")
                if s.recv(1) != b"x":
                    raise OSError("no echo")
                n += 1
                time.sleep(0.5)
            print("ok %d" % n)
        except (OSError, ssl.SSLError):
            print("broken " + since())
        try:
            s.unwrap()
        except (OSError, ssl.SSLError):
            pass
    elif args.mode == "close":
        data = b""
        try:
            while True:
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
        except (OSError, ssl.SSLError) as e:
            print("error %s" % e)
            return
        t0 = time.monotonic()
        # the daemon's close_notify is in; ours is never sent
        print("data %s %s %s" % (data.decode().strip(),
              "fin" if wait_close(s.fileno(), 15) else "open", since()))
    else:
        time.sleep(0.5)
        s.close()  # no close_notify; unread data: the kernel sends a reset
        print("done")

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


def make_banner(text, close):
    def banner(conn):
        conn.sendall(text.encode() + b"\n")
        if close:
            return
        conn.settimeout(1)
        try:
            line = conn.makefile("rb").readline().rstrip(b"\r\n")
        except OSError:
            line = b""
        print("%s got %s" % (text, line.decode("ascii", "replace") or "nothing"),
              flush=True)
    return banner


def chat_text(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def chat_read(conn, count=None, until=None):
    """COUNT bytes, or bytes up to and with UNTIL; EOFError on EOF"""
    got = b""
    while (count is None or len(got) < count) and \
            (until is None or not got.endswith(until)):
        chunk = conn.recv(1 if until else count - len(got))
        if not chunk:
            raise EOFError(got)
        got += chunk
    return got


def chat(conn, steps, server, say=None):
    """run the chat STEPs on CONN; one line said per step that reads"""
    if say is None:
        def say(text):
            print(text, flush=True)
    conn.settimeout(10)
    try:
        for step in steps:
            kind, _, text = step.partition(":")
            if kind == "S":
                conn.sendall(chat_text(text))
            elif kind == "D":
                for byte in chat_text(text):
                    conn.sendall(bytes([byte]))
                    time.sleep(0.005)
            elif kind == "HASH":
                got = chat_read(conn, int(text))
                say("hash %d %s" % (len(got), hashlib.sha256(got).hexdigest()))
            elif kind in ("R", "H", "N"):
                got = chat_read(conn, int(text) if kind == "N" else None,
                                {"R": b"\n", "H": b"\r\n\r\n"}.get(kind))
                say("read %r" % got)
            elif kind == "TLS":
                if server:
                    ctx = server_context(text)
                else:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                conn = ctx.wrap_socket(conn, server_side=server)
                say("TLS %s %s" % (conn.version(), conn.cipher()[0]))
            elif kind == "ECHO":
                got = b""
                while True:
                    chunk = conn.recv(CHUNK)
                    if not chunk:
                        break
                    got += chunk
                    conn.sendall(chunk)
                say("echoed %r" % got)
            elif kind == "EOF":
                got = b""
                try:
                    while True:
                        chunk = conn.recv(CHUNK)
                        if not chunk:
                            break
                        got += chunk
                except ConnectionResetError:
                    say("got %r then reset" % got)
                    return conn
                say("got %r then EOF" % got)
            elif kind == "SHUT":    # a FIN (in TLS, no close_notify)
                socket.socket.shutdown(conn, socket.SHUT_WR)
            elif kind == "W":
                time.sleep(float(text))
            else:
                raise SystemExit("chat: unknown step %s" % step)
    except EOFError as e:
        say("EOF" if not e.args[0] else "EOF after %r" % e.args[0])
    except ConnectionResetError:
        say("reset")
    except (OSError, ssl.SSLError) as e:
        say("error %s" % e)
    return conn


def make_chat(steps):
    def chat_server(conn):
        chat(conn, steps, True).close()
        print("end", flush=True)
    return chat_server


def chat_client(args):
    conn = socket.socket()
    if args.rcvbuf:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    conn.settimeout(args.timeout)
    conn.connect(("127.0.0.1", args.port))
    chat(conn, args.steps, False).close()


def chats(args):
    """many chat peers in one process, each a line of ARGS.FILE"""
    def transcript(path):
        f = open(path, "w")
        def say(text):
            f.write(text + "\n")
            f.flush()
        return f, say

    def serve(name, s, steps):
        n = 0
        while True:
            conn, _ = s.accept()
            n += 1
            threading.Thread(target=serve_one, daemon=True,
                             args=(conn, "%s/%s.%d" % (args.dir, name, n),
                                   steps)).start()

    def serve_one(conn, path, steps):
        f, say = transcript(path)
        chat(conn, steps, True, say).close()
        say("end")
        f.close()

    def run_client(name, port, opts, steps):
        f, say = transcript("%s/%s.client" % (args.dir, name))
        conn = socket.socket()
        try:
            if opts["--rcvbuf"]:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                int(opts["--rcvbuf"]))
            if opts["--source"]:
                conn.bind((opts["--source"], 0))
            conn.settimeout(10)
            conn.connect(("127.0.0.1", port))
            conn = chat(conn, steps, False, say)
        except OSError as e:
            say("error %s" % e)
        conn.close()
        f.close()

    clients = []
    with open(args.file) as lines:
        for line in lines:
            words = shlex.split(line, comments=True)
            if not words:
                continue
            role, name, rest = words[0], words[1], words[2:]
            port = int(rest.pop(0)) if role == "client" else None
            opts = {"--rcvbuf": None, "--bind": "127.0.0.1", "--port": 0,
                    "--source": None}
            while rest and rest[0] in opts:
                opts[rest[0]] = rest[1]
                rest = rest[2:]
            if role == "client":
                clients.append(threading.Thread(
                    target=run_client, args=(name, port, opts, rest)))
                continue
            ns = argparse.Namespace(unix=None, bind=opts["--bind"],
                                    listen_port=int(opts["--port"]),
                                    rcvbuf=opts["--rcvbuf"] and int(opts["--rcvbuf"]))
            s = bind(ns)
            announce("%s/%s.port" % (args.dir, name), s.getsockname()[1])
            threading.Thread(target=serve, args=(name, s, rest),
                             daemon=True).start()
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    if not clients:
        signal.pause()


def make_identd(user):
    def identd(conn):
        conn.settimeout(10)
        query = conn.makefile("rb").readline().strip()
        conn.sendall(query + b" : USERID : UNIX : " + user + b"\r\n")
    return identd


# the OID of the OCSP nonce extension, 1.3.6.1.5.5.7.48.1.2, in DER
OCSP_NONCE = b"\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02"


def make_ocsp_replay(path):
    with open(path, "rb") as f:
        body = f.read()

    def ocsp_replay(conn):
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, request = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(request) < length:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        print("request", "nonce" if OCSP_NONCE in request else "no-nonce",
              flush=True)
        conn.sendall(b"HTTP/1.0 200 OK\r\n"
                     b"Content-Type: application/ocsp-response\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return ocsp_replay


def web(args):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=args.dir)

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = Server((args.bind, args.listen_port), handler)
    announce(args.port_file, srv.server_address[1])
    srv.serve_forever()


def silent(args):
    s = listen(args)
    held = []
    while True:
        conn, _ = s.accept()
        print("connection", flush=True)
        held.append(conn)


def blackhole(args):
    """A backlog of 0 and a connection of its own that it never accepts:
    the queue is full, later SYNs are dropped."""
    s = bind(args, 0)
    port = s.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=5)
    probe = socket.socket()
    probe.setblocking(False)
    probe.connect_ex(("127.0.0.1", port))
    if select.select([], [probe], [], 0.5)[1]:
        raise SystemExit("blackhole: a full accept queue does not drop "
                         "connections here")
    probe.close()
    announce(args.port_file, port)
    while filler.fileno() >= 0:  # the queue stays full as long as it is open
        time.sleep(3600)


def inetd(args):
    s = listen(args)
    s.settimeout(20)
    conn, peer = s.accept()
    s.close()
    print("peer %s:%d" % peer[:2], flush=True)
    with open(args.err, "wb") as err:
        p = subprocess.Popen([args.program, args.conf], stdin=conn,
                             stdout=conn, stderr=err, close_fds=True)
    conn.close()

    def stop(*_):  # the test's cleanup: take the program along
        p.kill()
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "timeout"
    print("exit %s" % rc, flush=True)


def syslog(args):
    """Unix datagrams (syslog, systemd's NOTIFY_SOCKET); "@NAME" is in the
    abstract namespace; --oneline shows a datagram's lines joined by " | "."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + args.path[1:] if args.path.startswith("@") else args.path)
    s.settimeout(args.timeout)
    try:
        while True:
            msg = s.recv(4096).decode(errors="replace")
            if args.oneline:
                msg = msg.replace("\n", " | ")
            print(msg, flush=True)
            if args.until is not None and args.until in msg:
                break
    except socket.timeout:
        pass


def read_once(args):
    try:
        raw = socket.create_connection(("127.0.0.1", args.port),
                                       timeout=args.timeout)
    except OSError as e:
        print("ERR %s" % e.__class__.__name__, flush=True)
        return
    if args.show_port:
        print("local %d" % raw.getsockname()[1], flush=True)
    s, data, error = raw, b"", None
    try:
        if args.tls:
            s = client_context(args).wrap_socket(
                raw, server_hostname=args.sni or "localhost")
        if args.send is not None:
            s.sendall(os.fsencode(args.send))
        while args.expect_bytes is None or len(data) < args.expect_bytes:
            chunk = s.recv(CHUNK)
            if not chunk:
                break
            data += chunk
        if args.tls:
            try:  # ours after the other side's close_notify: no reset
                s.unwrap()
            except (OSError, ssl.SSLError):
                pass
    except (OSError, ssl.SSLError) as e:
        error = e
    s.close()
    text = data.decode("utf-8", "replace").replace("\r", "").strip()
    if text:
        print(text, flush=True)
    if error:
        print("ERR %s" % error.__class__.__name__, flush=True)
    elif not text:
        print("EOF", flush=True)


def read(args):
    for _ in range(args.connections):
        read_once(args)


def hold(args):
    s = connect(args)
    s.sendall(b"ping\n")
    got = b""
    while len(got) < 5:
        chunk = s.recv(5 - len(got))
        if not chunk:
            break
        got += chunk
    print("held" if got == b"ping\n" else "no echo", flush=True)
    if args.while_file:
        while os.path.exists(args.while_file):
            time.sleep(0.05)
        s.close()
        return
    try:
        while s.recv(100):
            pass
    except socket.timeout:
        print("timeout", flush=True)
        sys.exit(1)
    except (OSError, ssl.SSLError):
        pass
    print("eof", flush=True)


def hammer(args):
    ok = failed = 0
    while os.path.exists(args.while_file):
        try:
            s = connect(args)
            s.sendall(b"ping\n")
            if s.recv(16) == b"ping\n":
                ok += 1
            else:
                failed += 1
            s.close()
        except (OSError, ssl.SSLError) as e:
            failed += 1
            print("connection failed: %s" % e, file=sys.stderr, flush=True)
    print(ok, failed, flush=True)

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
            if args.send is not None:
                conn.sendall(os.fsencode(args.send))
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
    if args.port_file:
        announce(args.port_file, s.getsockname()[1])
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
    servers = {}
    for name in ("echo", "blast", "eof-server", "banner", "identd",
                 "ocsp-replay", "http", "silent", "blackhole", "inetd",
                 "chat"):
        p = servers[name] = sub.add_parser(name)
        p.add_argument("--port-file")
        p.add_argument("--bind", default="127.0.0.1")
        p.add_argument("--port", dest="listen_port", type=int, default=0)
        p.add_argument("--unix")
        if name not in ("http", "silent", "blackhole", "inetd"):
            p.add_argument("--tls")
    for name in ("blast", "eof-server"):
        servers[name].add_argument("bytes", type=int)
    servers["banner"].add_argument("text")
    servers["banner"].add_argument("--close", action="store_true")
    servers["chat"].add_argument("steps", nargs="+")
    servers["chat"].add_argument("--rcvbuf", type=int)
    servers["identd"].add_argument("user", type=os.fsencode)
    servers["ocsp-replay"].add_argument("file")
    servers["http"].add_argument("dir")
    servers["inetd"].add_argument("program")
    servers["inetd"].add_argument("conf")
    servers["inetd"].add_argument("--err", required=True)
    for name in ("client", "eof-client", "sink", "roundtrip", "read", "hold",
                 "hammer", "rev-client"):
        p = sub.add_parser(name)
        p.add_argument("port", type=int)
        if name in ("client", "eof-client", "rev-client"):
            p.add_argument("bytes", type=int)
        if name in ("client", "eof-client"):
            p.add_argument("--half-close", action="store_true")
        if name in ("client", "eof-client", "read"):
            p.add_argument("--expect-bytes", type=int)
        if name == "roundtrip":
            p.add_argument("count", type=int)
        if name == "read":
            p.add_argument("--send")
            p.add_argument("--connections", type=int, default=1)
            p.add_argument("--show-port", action="store_true")
        if name in ("hold", "hammer"):
            p.add_argument("--while", dest="while_file",
                           required=name == "hammer")
        p.add_argument("--tls", action="store_true")
        p.add_argument("--ca")
        p.add_argument("--cert")
        p.add_argument("--sni")
        p.add_argument("--timeout", type=float, default=30)
    p = sub.add_parser("chat-client")
    p.add_argument("port", type=int)
    p.add_argument("steps", nargs="+")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--rcvbuf", type=int)
    p = sub.add_parser("chats")
    p.add_argument("file")
    p.add_argument("--dir", required=True)
    p = sub.add_parser("sessions")
    p.add_argument("ports", type=int, nargs="+")
    p.add_argument("--cert")
    p.add_argument("--tls-version", choices=("1.2", "1.3"))
    p.add_argument("--no-ticket", action="store_true")
    p.add_argument("--send")
    sub.add_parser("sessiond").add_argument("--port-file")
    p = sub.add_parser("stall")
    p.add_argument("mode", choices=("idle", "active", "plain", "close", "rst"))
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float, nargs="?", default=0)
    p.add_argument("--ca")
    p = sub.add_parser("syslog")
    p.add_argument("path")
    p.add_argument("--until")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--oneline", action="store_true")
    args = ap.parse_args()
    handlers = {
        "echo": lambda: echo,
        "blast": lambda: make_blast(args.bytes),
        "eof-server": lambda: make_eof_server(args.bytes),
        "banner": lambda: make_banner(args.text, args.close),
        "chat": lambda: make_chat(args.steps),
        "identd": lambda: make_identd(args.user),
        "ocsp-replay": lambda: make_ocsp_replay(args.file),
    }
    modes = {
        "sessiond": sessiond, "sessions": sessions, "http": web,
        "silent": silent, "blackhole": blackhole, "inetd": inetd,
        "syslog": syslog, "client": client, "eof-client": client,
        "sink": sink, "roundtrip": roundtrip, "read": read, "hold": hold,
        "hammer": hammer, "rev-client": rev_client, "stall": stall,
        "chat-client": chat_client, "chats": chats,
    }
    args.raw_eof = args.cmd == "eof-client"
    if args.cmd in handlers:
        serve_forever(args, handlers[args.cmd]())
    else:
        modes[args.cmd](args)

if __name__ == "__main__":
    main()
