#!/usr/bin/env python3
"""The oracle: one scenario, run under this daemon and under stunnel 5.75,
with the same peers; what the peers saw and the daemon's log events at
"debug = debug" must agree, except where tests/oracle/DIFFERENCES says why.

  oracle.py run [-v] [--jobs N] [--keep DIR] FAMILY[/SCENARIO]...
      compare; exit 0 (agree or listed), 1 (a difference not listed, or a
      listed one seen nowhere), 77 (no stunnel 5.75 reference)
  oracle.py table RESULTS...
      after every family ran: table entries whose scope spans families
      and that matched nothing; options of our -help used by no scenario
  oracle.py side BINARY SCENARIO-ID DIR CERTS
      internal: one side of one scenario, inside its own namespaces

Read tests/oracle/README first: scenario syntax, steps, the table.
Python standard library only.
"""
import difflib
import fnmatch
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import concurrent.futures

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
TABLE = os.path.join(HERE, "DIFFERENCES")
UNCOVERED = os.path.join(HERE, "UNCOVERED")
SKIP = 77
# the longest wait for one thing the daemon must do (start, reload, end
# a connection): far above what it takes, even on a loaded machine under
# a sanitizer; a step that reaches it shows as a difference, not a hang
LIMIT = float(os.environ.get("ORACLE_LIMIT", "20"))

# ---------------------------------------------------------------------
# Normalisation: the only place where log lines and peer lines are
# changed before the comparison. Each rule says what legitimately varies
# from one run (or one daemon) to the other; nothing else is touched.
# ---------------------------------------------------------------------
LOG_LINE = re.compile(
    r"^(?:\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d )?LOG(\d)\[([^\]]*)\]: ?(.*)$")
RULES = [
    # descriptor numbers depend on what each daemon opened before
    (re.compile(r"\bFD=\d+"), "FD=#"),
    (re.compile(r"\bfd=\d+"), "fd=#"),
    # process ids
    (re.compile(r"\b(Process|process|PID|pid|Child process)( |=)\d+"),
     r"\1\2#"),
    # the peers' ephemeral ports (scenario ports are below 30000)
    (re.compile(r"((?:\d+\.){3}\d+|\]|::1):(?:3[2-9]\d{3}|[4-6]\d{4})\b"),
     r"\1:#port"),
    # the same in a PROXY protocol line
    (re.compile(r"(PROXY TCP[46] \S+ \S+ )\d+ "), r"\1#port "),
    # ... and in an RFC 1413 (ident) request
    (re.compile(r"\b(?:3[2-9]\d{3}|[4-6]\d{4}) , "), "#port , "),
    # session ids, ticket bytes, digests, nonces
    (re.compile(r"\b[0-9A-Fa-f]{32,}\b"), "#hex"),
    # whether poll() saw the hang-up before read() saw the EOF is timing
    (re.compile(r"(Read|Write) socket closed \((read|write) hangup\)"),
     r"\1 socket closed (\2socket)"),
    (re.compile(r"TLS socket closed \(read hangup\)"), "TLS socket closed (SSL_read)"),
    # times inside messages (OCSP "This update", "Revoked at"): the
    # clock, and the certificates are made anew for each run
    (re.compile(r"\b\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d\b"), "#time"),
    # the terminal a pty = yes program gets is the first one free
    (re.compile(r"/dev/pts/\d+"), "/dev/pts/#"),
    # stunnel 5.75's debug allocator names its own source files
    (re.compile(r"/tmp/st575/src/"), "#src/"),
]


def normalise(text, paths):
    for path, name in paths:
        text = text.replace(path, name)
    for pattern, repl in RULES:
        text = pattern.sub(repl, text)
    return text


def parse_log(raw, paths):
    """Log text -> {stream: [event]}. An event is "LOGn[id]: text";
    stream "ui" (the parent), one stream per connection id, and "stderr"
    for lines that are not log lines (configuration errors, programs)."""
    streams = {}
    for line in raw.splitlines():
        m = LOG_LINE.match(line)
        if m:
            level, ident, text = m.groups()
            ident = normalise(ident, paths)
            stream = "ui" if ident in ("ui", "main") else ident
            event = "LOG%s[%s]: %s" % (level, ident, normalise(text, paths))
        else:
            stream, event = "stderr", normalise(line, paths)
        streams.setdefault(stream, []).append(event)
    return streams


def merge_reaping(events):
    """Children that end together are reaped by one SIGCHLD or by two,
    as the signals happen to come: a reaping pass right after another
    one ("Processing SIGCHLD", "Retrieving pid statuses with waitpid()"
    after a "Process # finished" line, once the table took its lines
    out) is taken into the first."""
    i = 0
    while i + 1 < len(events):
        if (i and events[i].endswith("]: Processing SIGCHLD") and
                events[i + 1].endswith("]: Retrieving pid statuses with waitpid()") and
                re.search(r"\]: Process # finished with code \d+$", events[i - 1])):
            del events[i:i + 2]
        else:
            i += 1


# ---------------------------------------------------------------------
# Scenario files: tests/oracle/scenarios/FAMILY.scn
# ---------------------------------------------------------------------
class Scenario:
    def __init__(self, family, name, options, lineno):
        self.family, self.name, self.lineno = family, name, lineno
        self.id = "%s/%s" % (family, name)
        self.options = options      # ref=pthread, settle=N
        self.confs = {}             # name -> text
        self.steps = []             # (lineno, words)
        self.files = {}             # name -> text (file NAME blocks)


def load_family(family):
    path = os.path.join(SCENARIOS, family + ".scn")
    result, cur, block, shared = [], None, None, {}
    with open(path) as f:
        lines = f.read().splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            if block and block[0] in ("conf", "file"):
                block[2].append("")
            continue
        if line[0] == "#":
            continue
        if line[0] not in " \t":
            words = line.split()
            if words[0] == "scenario":
                opts = dict(w.split("=", 1) for w in words[2:])
                cur = Scenario(family, words[1], opts, lineno)
                result.append(cur)
                block = None
            elif words[0] == "file" and not cur:    # for every scenario
                block = ("file", words[1], [])
                shared[words[1]] = block[2]
            elif words[0] in ("conf", "file", "run") and cur:
                name = words[1] if len(words) > 1 else "main"
                block = (words[0], name, [])
                if words[0] == "conf":
                    cur.confs[name] = block[2]
                elif words[0] == "file":
                    cur.files[name] = block[2]
            else:
                raise SystemExit("%s:%d: unknown line" % (path, lineno))
            continue
        body = line[2:] if line.startswith("  ") else line.lstrip()
        if block is None:           # indented comment under "scenario"
            continue
        if block[0] == "run":
            if body.lstrip().startswith("#"):
                continue
            lex = shlex.shlex(body, posix=True)
            lex.whitespace_split, lex.escape = True, ""
            cur.steps.append((lineno, list(lex)))
        else:
            block[2].append(body)
    for s in result:
        s.files = dict(shared, **s.files)
        s.confs = {k: "\n".join(v).strip("\n") + "\n" for k, v in s.confs.items()}
        s.files = {k: "\n".join(v).strip("\n") + "\n" for k, v in s.files.items()}
    return result


def families():
    return sorted(f[:-4] for f in os.listdir(SCENARIOS) if f.endswith(".scn"))


def select(args):
    chosen = []
    for arg in args or families():
        fam, _, name = arg.partition("/")
        for s in load_family(fam):
            if not name or fnmatch.fnmatchcase(s.name, name):
                chosen.append(s)
    return chosen


HEADER = ("foreground", "yes"), ("syslog", "no"), ("debug", "debug")


def with_header(conf):
    """Prepend the options every scenario needs unless its global part
    sets them itself."""
    glob = conf.split("\n[", 1)[0] if not conf.startswith("[") else ""
    keys = {l.split("=", 1)[0].strip() for l in glob.splitlines() if "=" in l}
    head = "".join("%s = %s\n" % kv for kv in HEADER if kv[0] not in keys)
    return head + conf


# ---------------------------------------------------------------------
# One side of a scenario: runs inside fresh net, pid and mount namespaces
# (so both daemons use the scenario's fixed ports), writes DIR/log (the
# daemon's stderr), DIR/peers.json (what the peers saw, per stream).
# ---------------------------------------------------------------------
class Side:
    def __init__(self, binary, scen, d, certs):
        self.binary, self.scen, self.dir, self.certs = binary, scen, d, certs
        self.events = {}
        self.lock = threading.Lock()
        self.daemon = None
        self.base_threads = 1
        self.logf = open(os.path.join(d, "log"), "ab")
        self.sessions = {}
        self.vars = {"CERTS": certs, "TMP": d, "SRC": os.path.dirname(HERE)}
        self.procs = []
        self.cert_names = cert_fingerprints(certs)
        self.conf_path = os.path.join(d, "stunnel.conf")
        self.finished = {}          # backend port -> connections ended
        self.clients = 0            # clients started so far
        with open(os.path.join(certs, "psk.txt")) as f:
            for i, line in enumerate(f, 1):
                self.vars["PSK%d" % i] = line.strip().split(":", 1)[1]

    def record(self, stream, text):
        if stream == "client":      # one stream per client, numbered
            stream = "client %d" % self.clients
        with self.lock:
            self.events.setdefault(stream, []).append(text)

    def subst(self, text):
        return re.sub(r"@([A-Z0-9_]+)@",
                      lambda m: self.vars.get(m.group(1), m.group(0)), text)

    def write_conf(self, name):
        with open(self.conf_path, "w") as f:
            f.write(self.subst(with_header(self.scen.confs[name])))

    def run(self):
        for name, text in self.scen.files.items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(self.subst(text))
            os.chmod(path, 0o700)
        try:
            for lineno, words in self.scen.steps:
                verb, args = words[0], words[1:]
                pos = [a for a in args if "=" not in a or a.startswith("=")]
                kw = dict(a.split("=", 1) for a in args if a not in pos)
                kw = {k: self.subst(v) for k, v in kw.items()}
                pos = [self.subst(a) for a in pos]
                for pos, kw in expand(verb, pos, kw):
                    if verb in CLIENTS:
                        self.clients += 1
                    getattr(self, "do_" + verb.replace("-", "_"))(*pos, **kw)
                    self.settle()
        except Exception as e:      # a bug of the runner or of a scenario
            self.record("runner", "line %d: %s: %s" % (lineno, type(e).__name__, e))
            raise
        finally:
            self.do_stop()
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
            with open(os.path.join(self.dir, "peers.json"), "w") as f:
                json.dump(self.events, f, indent=1)

    # --- the daemon ---------------------------------------------------
    def log_text(self):
        with open(os.path.join(self.dir, "log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, limit=None):
        end = time.monotonic() + (limit or LIMIT)
        while time.monotonic() < end:
            if re.search(pattern, self.log_text()):
                return True
            if self.daemon and self.daemon.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def log_size(self):
        n = 0
        for name in ("log", "output.log"):
            try:
                n += os.path.getsize(os.path.join(self.dir, name))
            except OSError:
                pass
        return n

    def settle(self):
        """Wait until the daemon is quiet: no connection left (no child
        process but our spares, not even one waiting to be reaped, in a fork build; no
        thread beyond those it had once started, in a thread build) and
        nothing logged for a moment."""
        quiet = float(self.scen.options.get("settle", "0.25"))
        end = time.monotonic() + LIMIT
        size, since = -1, time.monotonic()
        while time.monotonic() < end:
            now_size = self.log_size()
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif time.monotonic() - since >= quiet and not self.busy():
                return
            time.sleep(0.03)

    def busy(self):
        if not self.daemon or self.daemon.poll() is not None:
            return False
        if self.scen.options.get("children") == "keep":
            return False
        if self.threads() > self.base_threads:
            return True
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    head, tail = f.read().rsplit(")", 1)
            except OSError:
                continue
            # a spare forked ahead waits for a connection: it is not one
            if int(tail.split()[1]) == self.daemon.pid and \
                    not head.endswith(": spare"):
                return True     # running, or a zombie not reaped yet
        return False

    def threads(self):
        try:
            return len(os.listdir("/proc/%d/task" % self.daemon.pid))
        except OSError:
            return 0

    def wait_count(self, pattern, before, limit=None):
        """until PATTERN is in the log more than BEFORE times"""
        end = time.monotonic() + (limit or LIMIT)
        while time.monotonic() < end:
            if self.count(pattern) > before:
                return True
            if self.daemon and self.daemon.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def count(self, pattern):
        text = self.log_text()
        try:
            with open(os.path.join(self.dir, "output.log"), "rb") as f:
                text += f.read().decode("utf-8", "replace")
        except OSError:
            pass
        return len(re.findall(pattern, text, re.M))

    def do_start(self, conf="main", stdin=None):
        self.write_conf(conf)
        env = dict(os.environ)
        if re.search(r"^\s*chroot\s*=", self.scen.confs[conf], re.M):
            # a sanitizer build: LeakSanitizer needs /proc, which a jail
            # lacks (it would stall the exit)
            env["ASAN_OPTIONS"] = ":".join(
                filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        self.daemon = subprocess.Popen(
            [self.binary, self.conf_path], cwd=self.dir, env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdin if stdin is not None else self.logf, stderr=self.logf)
        if stdin is None:
            self.wait_log(r"Accepting new connections|Configuration failed")
        # a thread build starts its own threads (cron) before accepting
        self.base_threads = self.threads()

    def do_stop(self):
        d = self.daemon
        if d is None:
            return
        self.daemon = None
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(LIMIT)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait()
        self.record("daemon", "exit %d" % d.returncode)

    def do_hup(self, conf="main"):
        self.write_conf(conf)
        done = r"Configuration successful|Failed to reload|Configuration failed"
        before = self.count(done)
        self.signal_and_wait(signal.SIGHUP)
        self.wait_count(done, before)

    def do_signal(self, name):
        self.signal_and_wait(getattr(signal, "SIG" + name))

    # what both daemons log at debug level when their main loop takes a
    # signal (in the log file of "output =" if there is one)
    SIGNAL_LINES = {signal.SIGHUP: "SIGNAL_RELOAD_CONFIG",
                    signal.SIGUSR1: "SIGNAL_REOPEN_LOG",
                    signal.SIGUSR2: "SIGUSR2", signal.SIGTERM: "SIGNAL_TERMINATE"}

    def signal_and_wait(self, sig):
        """send SIG and wait until the daemon has taken it (settle() then
        waits for what follows)"""
        pattern = r"Processing " + self.SIGNAL_LINES.get(sig, "SIG")
        before = self.count(pattern)
        self.daemon.send_signal(sig)
        self.wait_count(pattern, before)

    def do_wait_backend(self, port, count="1"):
        """until the backend on PORT has ended COUNT connections"""
        end = time.monotonic() + 15
        while self.finished.get(port, 0) < int(count) and time.monotonic() < end:
            time.sleep(0.02)

    def do_sleep(self, seconds):
        time.sleep(float(seconds))

    # --- backends (servers the daemon connects to) ----------------------
    def listen(self, port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(port)))
        s.listen(16)
        return s

    def serve(self, port, handler, count=0):
        s = self.listen(port)
        def loop():
            n = 0
            while not count or n < int(count):
                conn, _ = s.accept()
                n += 1
                stream = "backend %s %d" % (port, n)   # one per connection
                self.record(stream, "accepted")
                try:
                    conn.settimeout(LIMIT)
                    handler(conn, stream)
                except (OSError, ssl.SSLError) as e:
                    self.record(stream, "error %s" % describe(e))
                finally:
                    conn.close()
                    with self.lock:
                        self.finished[port] = self.finished.get(port, 0) + 1
            s.close()
        threading.Thread(target=loop, daemon=True).start()

    def do_backend(self, kind, port, *args, **kw):
        """backend echo|hello|close|tls-echo|chat PORT [...]"""
        late = kw.get("late") == "yes"
        if kind == "echo":
            self.serve(port, lambda c, st: self.echo(c, st, late),
                       kw.get("count", 0))
        elif kind == "hello":
            text = unescape(kw.get("text", "hello from backend\n"))

            def hello(c, st):
                # then a half-close, and read to the end: closing with
                # bytes unread would reset the connection, or not,
                # depending on when the daemon's bytes arrive
                c.sendall(text)
                c.shutdown(socket.SHUT_WR)
                self.record(st, "sent %r, then EOF" % text)
                self.record(st, "got %s" % drain(c, 10, digest=False))
            self.serve(port, hello)
        elif kind in ("close", "reset"):
            def close(c, st):
                if kw.get("read") == "tls":     # the first TLS record
                    self.record(st, "read %s" % read_record(c))
                if kind == "reset":
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
            self.serve(port, close)
        elif kind == "tls-echo":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.certs, kw.get("cert", "server.pem")))
            if "ca" in kw:
                ctx.load_verify_locations(os.path.join(self.certs, kw["ca"]))
                ctx.verify_mode = (ssl.CERT_OPTIONAL if kw.get("optional")
                                   else ssl.CERT_REQUIRED)
            if "ver" in kw:
                ctx.maximum_version = TLS_VERSIONS[kw["ver"]]
            if kw.get("tickets") == "no":
                ctx.options |= ssl.OP_NO_TICKET
            names = []
            ctx.sni_callback = lambda sock, name, c: names.append(name)

            def tls_echo(c, st):
                t = ctx.wrap_socket(c, server_side=True)
                self.record(st, "TLS %s sni=%s client-cert=%s reused=%s" % (
                    t.version(), names.pop() if names else None,
                    self.cert_name(t), yesno(t.session_reused)))
                self.echo(t, st, late)
            self.serve(port, tls_echo, kw.get("count", 0))
        elif kind == "chat":
            self.serve(port, lambda c, st: self.chat(c, st, args))
        else:
            raise SystemExit("unknown backend %s" % kind)

    def echo(self, conn, stream, late=False):
        """echo at once, or (late) all of it after the EOF: a half-close"""
        got = b""
        while True:
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                self.record(stream, "got %s, then reset" % show_bytes(got))
                return
            except (OSError, ssl.SSLError) as e:
                self.record(stream, "got %s, then %s" % (show_bytes(got), describe(e)))
                return
            if not data:
                break
            got += data
            if not late:
                conn.sendall(data)
        self.record(stream, "got %s, then EOF" % show_bytes(got))
        if late:
            conn.sendall(b"late:" + got)
        if isinstance(conn, ssl.SSLSocket):
            try:
                conn.unwrap()
            except (OSError, ssl.SSLError):
                pass
        else:
            conn.shutdown(socket.SHUT_WR)

    def chat(self, conn, stream, script):
        """S:TEXT sends, R: reads one line, N:COUNT reads COUNT bytes,
        H: reads an HTTP header,
        TLS:CERT starts TLS as the server, ECHO echoes the rest."""
        for item in script:
            kind, _, text = item.partition(":")
            if kind == "S":
                conn.sendall(unescape(self.subst(text)))
            elif kind == "R":
                line = b""
                while not line.endswith(b"\n"):
                    c = conn.recv(1)
                    if not c:
                        break
                    line += c
                self.record(stream, "read %s" % show_bytes(line))
                if not line:
                    return
            elif kind == "TLS":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.subst(text))
                conn = ctx.wrap_socket(conn, server_side=True)
                self.record(stream, "TLS %s" % conn.version())
            elif kind == "N":
                got = b""
                while len(got) < int(text):
                    c = conn.recv(int(text) - len(got))
                    if not c:
                        break
                    got += c
                self.record(stream, "read %s" % show_bytes(got))
            elif kind == "H":
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    c = conn.recv(1)
                    if not c:
                        break
                    head += c
                self.record(stream, "read %s" % show_bytes(head))
            elif kind == "ECHO":
                self.echo(conn, stream)

    def do_ocsp(self, port, index="ocsp-index.txt"):
        """an OCSP responder (openssl ocsp) on PORT for the test CA"""
        c = self.certs
        out = open(os.path.join(self.dir, "ocsp.out"), "wb")
        p = subprocess.Popen(
            ["openssl", "ocsp", "-index", os.path.join(c, index), "-port",
             port, "-rsigner", c + "/ca.pem", "-rkey", c + "/ca.key",
             "-CA", c + "/ca.pem", "-nmin", "5"],
            stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        # not a probe connection: the responder serves one at a time
        for _ in range(250):
            with open(out.name, "rb") as f:
                if b"waiting for OCSP client connections" in f.read():
                    break
            time.sleep(0.02)

    def do_sessiond(self, port_var="SESSIOND"):
        """a sessiond cache server (peers.py sessiond); its port in @VAR@"""
        pf = os.path.join(self.dir, "sessiond.port")
        p = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(HERE),
                                          "integration", "peers.py"),
             "sessiond", "--port-file", pf],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        for _ in range(200):
            if os.path.exists(pf):
                break
            time.sleep(0.02)
        with open(pf) as f:
            self.vars[port_var] = f.read().strip()

    # --- clients --------------------------------------------------------
    def cert_name(self, t):
        der = t.getpeercert(binary_form=True)
        if not der:
            return "none"
        return self.cert_names.get(hashlib.sha256(der).hexdigest(), "unknown")

    def do_tls(self, port, send="hello\n", expect=None, sni=None, cert=None,
               ca=None, ver=None, session=None, tickets="yes", close="notify",
               stream="client", host=None, wait=None, pre=None, preread="0"):
        """a TLS client: handshake, send, read the echo (or until EOF with
        expect=eof, or N bytes), then close_notify and wait for the end;
        pre=TEXT is sent in plain first and preread=N bytes read (an
        opening before TLS: HTTP CONNECT, a NetBIOS session request)"""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if session in self.sessions:    # a session needs its context
            ctx = self.sessions[session][1]
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if ca:
            ctx.load_verify_locations(os.path.join(self.certs, ca))
            ctx.verify_mode = ssl.CERT_REQUIRED
        if cert:
            ctx.load_cert_chain(os.path.join(self.certs, cert))
        if ver:
            ctx.minimum_version = ctx.maximum_version = TLS_VERSIONS[ver]
        if tickets == "no":
            ctx.options |= ssl.OP_NO_TICKET
        data = unescape(send)
        try:
            raw = socket.create_connection((host or "127.0.0.1", int(port)),
                                           timeout=LIMIT)
        except OSError as e:
            self.record(stream, "connect %s: %s" % (port, describe(e)))
            return
        if pre is not None:
            raw.sendall(unescape(pre))
            got = b""
            try:
                while len(got) < int(preread):
                    chunk = raw.recv(int(preread) - len(got))
                    if not chunk:
                        break
                    got += chunk
            except OSError as e:
                self.record(stream, "before TLS got %s (%s)" % (show_bytes(got), describe(e)))
                raw.close()
                return
            self.record(stream, "before TLS got %s" % show_bytes(got))
        keep = raw.dup()    # wrap_socket() takes raw, and closes it on failure
        try:
            t = ctx.wrap_socket(raw, server_hostname=sni,
                                session=self.sessions.get(session, [None])[0])
        except (OSError, ssl.SSLError) as e:
            self.record(stream, "handshake %s: %s" % (port, describe(e)))
            self.record(stream, "then %s" % drain(keep))
            keep.close()
            return
        keep.close()
        self.record(stream, "handshake %s: %s server-cert=%s reused=%s" % (
            port, t.version(), self.cert_name(t), yesno(t.session_reused)))
        end = self.exchange(t, data, expect, stream, wait)
        if session:
            self.sessions[session] = (t.session, ctx)
        if close == "notify" and end == "ok":
            try:
                t.unwrap()
                self.record(stream, "close_notify answered")
            except (OSError, ssl.SSLError, ValueError) as e:
                self.record(stream, "close_notify: %s" % describe(e))
        t.close()

    def exchange(self, s, data, expect, stream, wait=None):
        got = b""
        if wait:        # read until the peer has said WAIT, then send
            wait = unescape(wait)
            while wait not in got:
                try:
                    chunk = s.recv(65536)
                except (OSError, ssl.SSLError):
                    break
                if not chunk:
                    break
                got += chunk
        if data:
            try:
                s.sendall(data)
            except (OSError, ssl.SSLError):
                # The peer ended the connection before or while we wrote
                # (e.g. a TLS 1.3 server refusing our certificate after
                # our Finished): whether the write notices depends on
                # when its alert arrives. What it sent is still there to
                # read, so the read below tells how it ended.
                pass
        want = len(data) if expect is None else (
            -1 if expect == "eof" else int(expect))
        end = "ok"
        while want < 0 or len(got) < want:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                end = "timeout"
                break
            except (OSError, ssl.SSLError) as e:
                end = describe(e)
                break
            if not chunk:
                end = "EOF"
                break
            got += chunk
        self.record(stream, "got %s (%s)" % (show_bytes(got), end))
        return end

    def do_plain(self, port, send="hello\n", expect=None, half="no",
                 stream="client"):
        """a plain TCP client (client mode sections, non-TLS bytes)"""
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=LIMIT)
        except ConnectionRefusedError as e:
            self.record(stream, "connect %s: %s" % (port, describe(e)))
            return
        except OSError as e:    # reset before connect() returned: a race
            self.record(stream, "got b'' (%s)" % describe(e))
            return
        s.settimeout(LIMIT)
        data = unescape(send)
        if half == "yes":
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            data = b""
        end = self.exchange(s, data, expect, stream)
        if end == "ok":
            s.shutdown(socket.SHUT_WR)
            self.record(stream, "then %s" % drain(s))
        s.close()

    def do_sclient(self, port, *args, send="hello\n", stream="client"):
        """openssl s_client (PSK, which Python's ssl lacks): prints the
        -brief lines that do not vary and the data received"""
        cmd = ["openssl", "s_client", "-connect", "127.0.0.1:" + port,
               "-brief"] + list(args)
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(unescape(send), timeout=LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        keep = ("CONNECTION ESTABLISHED", "Protocol version", "Ciphersuite",
                "Verification", "Reused")
        for line in err.decode(errors="replace").splitlines():
            if line.startswith(keep) or "alert" in line:
                self.record(stream, "s_client: " + re.sub(r"^[0-9A-F]+:", "", line))
        self.record(stream, "s_client got %s" % show_bytes(out))

    def do_inetd(self, mode="tls", conf="main", **kw):
        """inetd mode: the daemon started on one end of a socket pair, a
        client on the other"""
        a, b = socket.socketpair()
        self.do_start(conf, stdin=b)
        b.close()
        if mode == "tls":
            self.tls_on(a, **kw)
        else:
            self.exchange(a, unescape(kw.get("send", "hello\n")), kw.get("expect"),
                          "client")
            a.shutdown(socket.SHUT_WR)
            self.record("client", "then %s" % drain(a))
        a.close()
        try:
            self.daemon.wait(LIMIT)
        except subprocess.TimeoutExpired:
            pass

    def tls_on(self, sock, send="hello\n", expect=None, stream="client"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock.settimeout(LIMIT)
        try:
            t = ctx.wrap_socket(sock, server_hostname=None)
        except (OSError, ssl.SSLError) as e:
            self.record(stream, "handshake: %s" % describe(e))
            return
        self.record(stream, "handshake: %s server-cert=%s" % (
            t.version(), self.cert_name(t)))
        if self.exchange(t, unescape(send), expect, stream) != "ok":
            return
        try:
            t.unwrap()
            self.record(stream, "close_notify answered")
        except (OSError, ssl.SSLError, ValueError) as e:
            self.record(stream, "close_notify: %s" % describe(e))

    def do_raw(self, port, send, stream="client"):
        """send raw bytes and close at once (a peer that gives up in the
        middle of the handshake)"""
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=LIMIT)
        except OSError as e:
            self.record(stream, "connect %s: %s" % (port, describe(e)))
            return
        s.sendall(unescape(send))
        s.close()
        self.record(stream, "sent and closed")

    def do_shell(self, *cmd):
        """a command (e.g. to make a file); its output is not compared"""
        subprocess.run(list(cmd), cwd=self.dir, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)


def expand(verb, pos, kw):
    """tls and plain take lists: "tls 2000,2001 cert=A,B" is four
    clients, one after the other (each port with each certificate);
    cert "none" is no certificate"""
    if verb not in ("tls", "plain") or not pos:
        return [(pos, kw)]
    runs = []
    for port in pos[0].split(","):
        for cert in kw.get("cert", "").split(",") if "cert" in kw else [None]:
            k = dict(kw)
            if cert is not None:
                k.pop("cert")
                if cert != "none":
                    k["cert"] = cert if "/" in cert else cert + ".pem"
            runs.append(([port] + pos[1:], k))
    return runs


CLIENTS = ("tls", "plain", "sclient", "raw", "inetd")
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def yesno(b):
    return "yes" if b else "no"


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def show_bytes(data):
    if len(data) <= 200:
        return repr(data)
    return "%d bytes sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()[:16])


def describe(e):
    if isinstance(e, ssl.SSLError) and e.reason:
        return "TLS error %s" % e.reason
    if isinstance(e, socket.timeout):
        return "timeout"
    return type(e).__name__


def drain(s, limit=10, digest=True):
    """read what is left until EOF: "EOF", "reset" or "timeout" (and the
    bytes, if any; only their size if not DIGEST, e.g. a ClientHello)"""
    def show(data):
        return show_bytes(data) if digest or len(data) <= 200 else "%d bytes" % len(data)
    got = b""
    s.settimeout(limit)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return "EOF" + (" after %s" % show(got) if got else "")
            got += d
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "reset" + (" after %s" % show(got) if got else "")
    except OSError as e:
        return describe(e)


def read_record(s):
    """one TLS record (a ClientHello): "TLS record TYPE", or what came
    that is not one"""
    head = b""
    while len(head) < 5:
        c = s.recv(5 - len(head))
        if not c:
            return "EOF after %s" % show_bytes(head)
        head += c
    if head[0] not in (20, 21, 22, 23):
        return "not TLS: %s" % show_bytes(head)
    left = struct.unpack("!H", head[3:5])[0]
    while left:
        c = s.recv(left)
        if not c:
            return "EOF in a TLS record"
        left -= len(c)
    return "a TLS record of type %d" % head[0]


def cert_fingerprints(certs):
    """sha256 of each certificate's DER -> file name, so that a peer can
    say which certificate it was shown"""
    names = {}
    for n in sorted(os.listdir(certs)):
        if not n.endswith((".pem", ".crt")):
            continue
        try:
            with open(os.path.join(certs, n)) as f:
                text = f.read()
        except OSError:
            continue
        m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                      text, re.S)
        if m:
            der = ssl.PEM_cert_to_DER_cert(m.group(0))
            names.setdefault(hashlib.sha256(der).hexdigest(), n)
    return names


def side_main(binary, scen_id, d, certs):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    fam, name = scen_id.split("/", 1)
    scen = [s for s in load_family(fam) if s.name == name][0]
    Side(binary, scen, d, certs).run()


# ---------------------------------------------------------------------
# The table of differences (tests/oracle/DIFFERENCES)
# ---------------------------------------------------------------------
class Entry:
    def __init__(self, lineno):
        self.lineno, self.scopes, self.patterns, self.why = lineno, [], [], ""
        self.optional = set()       # indexes of "ref?:" lines

    def in_scope(self, scen_id):
        """scope: words are globs; one starting with ! takes out what it
        matches"""
        def match(s):
            return fnmatch.fnmatchcase(scen_id, s.lstrip("!"))
        return (any(match(s) for s in self.scopes if s[0] != "!") and
                not any(match(s) for s in self.scopes if s[0] == "!"))

    def families(self):
        return {s.split("/", 1)[0] for s in self.scopes if s[0] != "!"}


KINDS = ("deliberate", "environment", "openssl", "debug-detail", "open")


def load_table(path=None):
    entries, cur = [], None
    with open(path or TABLE) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                cur = None if not line.strip() else cur
                continue
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "scope":
                cur = Entry(lineno)
                entries.append(cur)
                for s in value.replace(",", " ").split():
                    cur.scopes.append(s if "/" in s else s + "/*")
            elif cur is None:
                raise SystemExit("DIFFERENCES:%d: entry must start with scope:" % lineno)
            elif key.rstrip("?") in ("ours", "ref", "moved") and not cur.why:
                if key.endswith("?"):   # may explain nothing in a run
                    cur.optional.add(len(cur.patterns))
                try:
                    cur.patterns.append((key.rstrip("?"), re.compile(value), value))
                except re.error as e:
                    raise SystemExit("DIFFERENCES:%d: %s" % (lineno, e))
            elif key == "why" and not cur.why:
                cur.why = value
            elif line.startswith(" ") and cur.why:
                cur.why += " " + line.strip()
            else:
                raise SystemExit("DIFFERENCES:%d: unknown line" % lineno)
    for e in entries:
        e.kind = e.why.split(":", 1)[0]
        if e.kind not in KINDS or not e.patterns:
            raise SystemExit("DIFFERENCES:%d: needs ref/ours/moved lines, then "
                             "why: KIND: reason (KIND: %s)" % (e.lineno, ", ".join(KINDS)))
    return entries


def pattern_key(entry, i):
    return "%d:%s" % (entry.lineno, entry.patterns[i][2])


# ---------------------------------------------------------------------
# Comparing the two sides of one scenario
# ---------------------------------------------------------------------
def collect(d, paths):
    with open(os.path.join(d, "log"), "rb") as f:
        streams = parse_log(f.read().decode("utf-8", "replace"), paths)
    if os.path.exists(os.path.join(d, "output.log")):   # output = @TMP@/output.log
        with open(os.path.join(d, "output.log"), "rb") as f:
            more = parse_log(f.read().decode("utf-8", "replace"), paths)
        streams.update({"output " + k: v for k, v in more.items()})
    try:
        with open(os.path.join(d, "peers.json")) as f:
            peers = json.load(f)
    except (OSError, ValueError):
        peers = {"runner": ["no peers.json: the side did not finish"]}
    for k, v in peers.items():
        streams["peer " + k] = [normalise(x, paths) for x in v]
    return streams


def connection_streams(streams):
    return [k for k in streams if k not in ("ui", "stderr")
            and not k.startswith(("peer ", "output "))]


def pair_connections(ref, ours, mine):
    """order=any (e.g. failover = rr, whose first target is random in
    both daemons): a connection of ours whose events are those of a
    connection of 5.75's (but for lines that may move), whatever its
    number, takes that number"""
    def body(stream, events):
        return [e.replace("[%s]" % stream, "[#]", 1) for e in events
                if not moved_key(stream, e, mine)]
    free = {k: body(k, v) for k, v in ours.items() if k in connection_streams(ours)}
    out = {k: v for k, v in ours.items() if k not in free}
    renamed = {}
    for k in connection_streams(ref):
        want = body(k, ref[k])
        for o, b in free.items():
            if b == want:
                renamed[k] = [e.replace("[%s]" % o, "[%s]" % k, 1) for e in ours[o]]
                del free[o]
                break
    for o in list(free):            # unpaired: by their own number
        renamed[o if o not in renamed else o + "?"] = ours[o]
    out.update(renamed)
    return out


def compare(scen, ref, ours, table, used):
    """-> list of unexplained lines: (stream, side, event). The lines a
    table entry explains are taken out of their side first ("ref:" from
    5.75's, "ours:" from ours); what is left must be the same sequence on
    both sides, stream by stream, except that a line of a "moved:" entry
    may stand elsewhere in its stream (as many times on each side)."""
    mine = [e for e in table if e.in_scope(scen.id)]
    a = {k: [ev for ev in v if not explain(k, "ref", ev, mine, used)]
         for k, v in ref.items()}
    b = {k: [ev for ev in v if not explain(k, "ours", ev, mine, used)]
         for k, v in ours.items()}
    for events in list(a.values()) + list(b.values()):
        merge_reaping(events)
    if scen.options.get("order") == "any":
        b = pair_connections(a, b, mine)
    unexplained = []
    for stream in sorted(set(a) | set(b)):
        x, y = a.get(stream, []), b.get(stream, [])
        moved = {}                  # "moved:" pattern key -> its events
        for ev in set(x) & set(y):
            key = moved_key(stream, ev, mine)
            if key and x.count(ev) == y.count(ev):
                moved.setdefault(key, set()).add(ev)
        if moved:
            # a pattern counts as used where taking its lines out makes
            # the streams agree better: they did stand elsewhere
            before = differing(x, y)
            for key, evs in moved.items():
                if differing([e for e in x if e not in evs],
                             [e for e in y if e not in evs]) < before:
                    used[key] = used.get(key, 0) + 1
            gone = set().union(*moved.values())
            x = [e for e in x if e not in gone]
            y = [e for e in y if e not in gone]
        for op, i1, i2, j1, j2 in opcodes(x, y):
            if op != "equal":
                unexplained += [(stream, "ref", ev) for ev in x[i1:i2]]
                unexplained += [(stream, "ours", ev) for ev in y[j1:j2]]
    return unexplained


def differing(x, y):
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in opcodes(x, y)
               if op != "equal")


def opcodes(x, y):
    return difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes()


def line_text(stream, ev):
    return ev if not stream.startswith("peer") else "%s: %s" % (stream, ev)


def explain(stream, side, ev, entries, used):
    text = line_text(stream, ev)
    for e in entries:
        for i, (s, pat, _) in enumerate(e.patterns):
            if s == side and pat.search(text):
                key = pattern_key(e, i)
                used[key] = used.get(key, 0) + 1
                return True
    return False


def moved_key(stream, ev, entries):
    text = line_text(stream, ev)
    for e in entries:
        for i, (s, pat, _) in enumerate(e.patterns):
            if s == "moved" and pat.search(text):
                return pattern_key(e, i)
    return None


# ---------------------------------------------------------------------
# run: both sides of each scenario, in parallel, then the verdict
# ---------------------------------------------------------------------
def reference_dir():
    d = os.environ.get("STUNNEL_575_DIR")
    if d:
        return d
    top = os.environ.get("abs_top_srcdir") or os.path.dirname(os.path.dirname(HERE))
    return os.path.join(top, "..", "shared", "reference", "stunnel-5.75")


def ours_binary():
    b = os.environ.get("STUNNEL")
    if b:
        return os.path.abspath(b)
    for d in (os.environ.get("abs_top_builddir"), os.path.dirname(os.path.dirname(HERE))):
        if d and os.access(os.path.join(d, "src", "stunnel"), os.X_OK):
            return os.path.join(d, "src", "stunnel")
    raise SystemExit("SKIP: our stunnel binary is not built (set STUNNEL)")


def run_side(binary, scen, d, certs):
    if os.environ.get("ORACLE_REUSE") and os.path.exists(d + "/peers.json"):
        return                  # compare the kept run again (table work)
    subprocess.run(["rm", "-rf", d])
    os.makedirs(d)
    # a guard only: each wait inside is bounded by LIMIT
    cmd = ["timeout", "-k", "2", "300", "unshare", "--net", "--pid", "--fork",
           "--kill-child", "--mount-proc", sys.executable, os.path.abspath(__file__),
           "side", binary, scen.id, d, certs]
    with open(os.path.join(d, "runner.err"), "wb") as err:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)


def make_certs(d):
    subprocess.run(["bash", os.path.join(HERE, "certs.sh"), d], check=True,
                   stdout=subprocess.DEVNULL)


def cmd_run(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    jobs, keep = int(os.environ.get("ORACLE_JOBS", "3")), None
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--jobs":
            jobs = int(argv.pop(0))
        elif opt == "--keep":
            keep = os.path.abspath(argv.pop(0))
    ref_dir = os.path.abspath(reference_dir())
    fork, pthread = ref_dir + "/stunnel-fork", ref_dir + "/stunnel-pthread"
    if not os.access(fork, os.X_OK):
        print("SKIP: stunnel 5.75 reference not found at %s" % ref_dir)
        return SKIP
    if subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc",
                       "true"], stderr=subprocess.DEVNULL).returncode:
        print("SKIP: cannot create network/pid namespaces (not root?)")
        return SKIP
    ours = ours_binary()
    scens = select(argv)
    table = load_table()
    import tempfile
    top = keep or tempfile.mkdtemp(prefix="stunnel-oracle.")
    certs = os.path.join(top, "certs")
    if not os.environ.get("ORACLE_REUSE") or not os.path.isdir(certs):
        make_certs(certs)
    t0 = time.monotonic()

    def one(scen, attempt=""):
        ref_bin = pthread if scen.options.get("ref") == "pthread" else fork
        base = os.path.join(top, scen.family, scen.name + attempt)
        pair = concurrent.futures.ThreadPoolExecutor(2)
        r = pair.submit(run_side, ref_bin, scen, base + "/ref", certs)
        o = pair.submit(run_side, ours, scen, base + "/ours", certs)
        r.result(), o.result()
        pair.shutdown()
        return scen, base

    def judge(scen, base):
        paths = lambda side: [(base + "/" + side, "@TMP@"), (certs, "@CERTS@"),
                              (ours, "@STUNNEL@"), (fork, "@STUNNEL@"),
                              (pthread, "@STUNNEL@"),
                              (os.path.dirname(HERE), "@SRC@")]
        ref = collect(base + "/ref", paths("ref"))
        mine = collect(base + "/ours", paths("ours"))
        bad = compare(scen, ref, mine, table, used) + [
            ("peer runner", side, e) for side, s in (("ref", ref), ("ours", mine))
            for e in s.get("peer runner", [])]
        return ref, mine, bad

    used, failed, n_events = {}, [], [0, 0]
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs // 2 + jobs % 2)) as pool:
        for scen, base in pool.map(one, scens):
            ref, mine, bad = judge(scen, base)
            if bad:
                # a loaded machine can upset either side's timing (5.75
                # waits 200 ms for sessiond, say): a real difference
                # shows twice
                print("again    %s (it differed once)" % scen.id)
                scen, base = one(scen, ".again")
                ref, mine, bad = judge(scen, base)
            for i, s in enumerate((ref, mine)):
                n_events[i] += sum(len(v) for k, v in s.items() if not k.startswith("peer"))
            if os.environ.get("ORACLE_DUMP"):   # for writing table entries
                with open(os.environ["ORACLE_DUMP"], "a") as f:
                    for b_ in bad:
                        f.write(json.dumps([scen.id] + list(b_)) + "\n")
            status = "ok" if not bad else "DIFFERS"
            print("%-8s %s (%d/%d log events)" % (
                status, scen.id, sum(len(v) for k, v in ref.items() if not k.startswith("peer")),
                sum(len(v) for k, v in mine.items() if not k.startswith("peer"))))
            if bad:
                failed.append(scen.id)
                for stream, side, ev in bad[:40 if not verbose else 10000]:
                    print("    %-4s %-12s %s" % (side, stream, ev))
                if len(bad) > 40 and not verbose:
                    print("    ... %d more (-v shows all)" % (len(bad) - 40))
                print("    logs: %s/{ref,ours}/log" % base if keep else
                      "    (--keep DIR keeps the logs)")
    # stale: an entry pattern, whose scope lies within the families run
    # here, that explained nothing
    ran = {s.family for s in scens}
    full = not any("/" in a and not a.endswith("/*") for a in argv)
    stale = [e for e in table if full and e.families() <= ran and
             any(e.in_scope(s.id) for s in scens) and check_stale(e, used)]
    results = os.environ.get("ORACLE_RESULTS")
    if results:
        with open(results, "w") as f:
            json.dump({"families": sorted(ran), "table": table_digest(),
                       "used": used, "scenarios": len(scens),
                       "events": n_events}, f)
    print("%d scenario(s), %d log events compared (5.75: %d, ours: %d), "
          "%d differ, %d stale table entries, %.0f s" % (
              len(scens), sum(n_events), n_events[0], n_events[1], len(failed),
              len(stale), time.monotonic() - t0))
    if not keep and not failed:
        subprocess.run(["rm", "-rf", top])
    elif not keep:
        print("logs kept in %s" % top)
    return 1 if failed or stale else 0


def check_stale(e, used):
    """Every line of an entry must explain something in the scenarios of
    its scope, or the entry (or that line) is stale: its difference is
    gone, and it must leave the table."""
    unused = [p for i, p in enumerate(e.patterns)
              if pattern_key(e, i) not in used and i not in e.optional]
    for side, _, text in unused:
        print("STALE    DIFFERENCES:%d (scope %s) %s: %s explained nothing: "
              "remove it" % (e.lineno, " ".join(e.scopes), side, text))
    return bool(unused)


def table_digest():
    with open(TABLE, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------------
# table: after all families ran (599-oracle-table.sh)
# ---------------------------------------------------------------------
def cmd_table(argv):
    used, fams, scen_n, events, runs = {}, set(), 0, [0, 0], []
    for path in argv:
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if r["table"] != table_digest():
            continue
        fams |= set(r["families"])
        runs.append(set(r["families"]))
        scen_n += r["scenarios"]
        events = [events[0] + r["events"][0], events[1] + r["events"][1]]
        for k, v in r["used"].items():
            used[k] = used.get(k, 0) + v
    fail = 0
    if fams == set(families()):
        for e in load_table():
            if any(e.families() <= run for run in runs):
                continue        # checked by the run of its families
            fail |= check_stale(e, used)
        print("all families: %d scenarios, %d log events compared (5.75: %d, ours: %d)"
              % (scen_n, sum(events), events[0], events[1]))
    else:
        print("NOTE: not every family ran (%s): table staleness across families "
              "not checked" % (", ".join(sorted(fams)) or "none"))
    return max(fail, coverage())


def coverage():
    """every option of our -help is in some scenario's configuration, or
    in UNCOVERED with its reason"""
    out = subprocess.run([ours_binary(), "-help"], capture_output=True,
                         text=True).stderr + ""
    out += subprocess.run([ours_binary(), "-help"], capture_output=True,
                          text=True).stdout
    names = re.findall(r"^([A-Za-z][A-Za-z0-9]*)\s+= ", out, re.M)
    used = set()
    for fam in families():
        for s in load_family(fam):
            for text in s.confs.values():
                used |= set(re.findall(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*=", text, re.M))
    used |= {k for k, _ in HEADER}
    excused = {}
    with open(UNCOVERED) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                excused[name] = why.strip()
    missing = [n for n in names if n not in used and n not in excused]
    for n in missing:
        print("UNCOVERED option %s: in no scenario and not in UNCOVERED" % n)
    needless = [n for n in excused if n in used]
    for n in needless:
        print("UNCOVERED lists %s, which a scenario now uses: remove it" % n)
    print("options: %d in -help, %d used by scenarios, %d listed in UNCOVERED" % (
        len(names), len([n for n in names if n in used]), len(excused)))
    return 1 if missing or needless else 0


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "side":
        side_main(*argv)
        return 0
    if cmd == "run":
        return cmd_run(argv)
    if cmd == "table":
        return cmd_table(argv)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
