#!/usr/bin/env python3
"""Benchmarks: this daemon against the references, same run.

The daemons: ours; ours with "sandbox = no" (what the seccomp filter
costs); with --baseline, another build of ours (before a change);
Debian's stunnel4 (5.68, threads); upstream 5.75 built for fork
and for threads (../shared/reference/stunnel-5.75, or $STUNNEL_575_DIR,
left out when absent). Each round runs every measurement on each daemon,
the order reversed every other round, with the daemon pinned to CPU 0
and its load generators and backends on CPU 1. The report gives, per
figure, the median of each daemon and the ratio of ours to each of the
others with its spread (min-max of the per-round ratios). Nothing here
is a pass/fail test: machines are noisy.

  bench.py [--rounds N] [--bytes N] [--seconds S] [--idle N]
           [--only FIGURE] [--daemons NAME,NAME...]

Figures (see ../../../shared/reference/PERFORMANCE.md for the anchors):
  bulk-server   MB/s and daemon CPU s/GiB, TLS client -> daemon -> sink
  bulk-client   the same through client mode, plain client -> daemon -> TLS sink
  handshakes    full TLS 1.3 handshakes with a tiny request (ECDSA P-256;
                -rsa: RSA-2048; -tls12: TLS 1.2 ECDSA): conn/s, CPU us/conn
  resume-*      resumed handshakes (TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2
                session ids only): conn/s, CPU us/conn, share resumed
  rtt           64-byte echo round trips: p50 and p99 in us
  first-byte    one client alone, one new TLS 1.3 connection at a time:
                connect() to the first byte back (the handshake, a 1-byte
                request echoed), p50 and p99 in us; CPU us/conn at that
                rate (ours forks its spare between connections)
  idle-memory   private memory + page tables per idle connection, KiB
"""
import argparse
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pin(cpu):
    def f():
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass
    return f


def cpu_seconds(pid):
    """utime+stime of PID and its reaped children."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / CLK


def descendants(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True,
                         text=True).stdout.split()
    kids = {}
    for p, pp in zip(out[0::2], out[1::2]):
        kids.setdefault(int(pp), []).append(int(p))
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(kids.get(p, []))
    return found


def private_kib(pid):
    """private memory (anonymous and file) plus page tables, KiB."""
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmPTE:"):
                    total += int(line.split()[1])
    except FileNotFoundError:
        pass
    return total


class Daemon:
    def __init__(self, name, binary, tmp, cert, extra=""):
        self.name, self.binary, self.tmp, self.cert = name, binary, tmp, cert
        self.extra = extra      # global options of this variant

    def start(self, sections):
        conf = os.path.join(self.tmp, self.name + ".conf")
        with open(conf, "w") as f:
            f.write("foreground = yes\nsyslog = no\ndebug = notice\n")
            f.write(self.extra)
            f.write("output = %s\n" % os.path.join(self.tmp, self.name + ".log"))
            f.write(sections)
        self.proc = subprocess.Popen([self.binary, conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=pin(0))
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise SystemExit("%s did not start; see %s" % (self.name, conf))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def section(name, accept, connect, cert, client=False):
    s = "[%s]\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:%d\n" % (name, accept, connect)
    return s + ("client = yes\n" if client else "cert = %s\n" % cert)


def spawn(cmd, **kw):
    return subprocess.Popen(cmd, preexec_fn=pin(1), stdin=kw.pop("stdin", subprocess.DEVNULL),
                            stdout=kw.pop("stdout", subprocess.DEVNULL),
                            stderr=subprocess.DEVNULL, **kw)


def bulk(d, nbytes, client_mode):
    """MB/s and CPU s/GiB moving NBYTES one way through one connection."""
    sink_port, acc = free_port(), free_port()
    if client_mode:
        sink = spawn(["socat", "-b", "131072", "-u",
                      "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,cert=%s,verify=0" %
                      (sink_port, d.cert), "OPEN:/dev/null"])
        target = "TCP:127.0.0.1:%d" % acc
    else:
        sink = spawn(["socat", "-b", "131072", "-u",
                      "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr" % sink_port, "OPEN:/dev/null"])
        target = "OPENSSL:127.0.0.1:%d,verify=0" % acc
    time.sleep(0.3)
    d.start(section("bulk", acc, sink_port, d.cert, client_mode))
    cpu0 = cpu_seconds(d.proc.pid)
    t0 = time.monotonic()
    src = spawn(["sh", "-c", "head -c %d /dev/zero | socat -b 131072 -u - %s" % (nbytes, target)])
    src.wait()
    sink.wait(60)
    elapsed = time.monotonic() - t0
    time.sleep(0.3)
    cpu = cpu_seconds(d.proc.pid) - cpu0
    d.stop()
    return {"MB/s": nbytes / elapsed / 1e6, "CPU s/GiB": cpu / (nbytes / 2**30)}


def start_echo(d, name):
    """A peers.py echo server pinned to CPU 1; returns (process, port)."""
    portfile = os.path.join(d.tmp, name + ".port")
    echo = spawn([sys.executable, os.path.join(TOP, "tests/integration/peers.py"), "echo",
                  "--port-file", portfile])
    while not os.path.exists(portfile):
        time.sleep(0.05)
    port = int(open(portfile).read())
    os.unlink(portfile)
    return echo, port


def client_worker(port, deadline, kind, results, idx):
    """Connections in a loop: KIND is "full13", "full12" (full handshakes)
    or "tls13-ticket", "tls12-ticket", "tls12-id" (offering the last
    session); results[idx] = (connections, resumed)."""
    os.sched_setaffinity(0, {1})
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if kind not in ("full13", "tls13-ticket"):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if kind == "tls12-id":
        ctx.options |= ssl.OP_NO_TICKET
    resume = not kind.startswith("full")
    session, n, reused = None, 0, 0
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            # else the request waits for the delayed ACK of the client's
            # Finished (Nagle) in TLS 1.2 resumptions: 40 ms each
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s = ctx.wrap_socket(raw, session=session)
            s.sendall(b"x")
            s.recv(1)
            if resume:
                reused += s.session_reused
                session = s.session
                try:
                    # a clean close: a server drops sessions ended without one
                    s.unwrap()
                except (OSError, ssl.SSLError):
                    pass
            s.close()
        n += 1
    results[idx] = (n, reused)


def run_clients(d, seconds, workers, kind, cert=None):
    """WORKERS client threads for SECONDS against a server section in
    front of an echo server: conn/s, CPU us/conn, and for resumption
    kinds the share resumed."""
    echo, echo_port = start_echo(d, "clients")
    acc = free_port()
    d.start(section("clients", acc, echo_port, cert or d.cert))
    cpu0 = cpu_seconds(d.proc.pid)
    deadline = time.monotonic() + seconds
    results = [(0, 0)] * workers
    threads = [threading.Thread(target=client_worker,
                                args=(acc, deadline, kind, results, i))
               for i in range(workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    time.sleep(0.5)
    cpu = cpu_seconds(d.proc.pid) - cpu0
    d.stop()
    echo.terminate()
    echo.wait()
    total = sum(r[0] for r in results)
    figures = {"conn/s": total / elapsed, "CPU us/conn": cpu / total * 1e6}
    if not kind.startswith("full"):
        # the first connection of each worker cannot resume
        figures["resumed %"] = 100.0 * sum(r[1] for r in results) / max(1, total - workers)
    return figures


def rtt(d, count):
    echo, echo_port = start_echo(d, "rtt")
    acc = free_port()
    d.start(section("rtt", acc, echo_port, d.cert))
    out = subprocess.run([sys.executable, os.path.join(TOP, "tests/integration/peers.py"),
                          "roundtrip", str(acc), str(count), "--tls"],
                         capture_output=True, text=True, preexec_fn=pin(1)).stdout.split()
    d.stop()
    echo.terminate()
    echo.wait()
    return {"p50 us": float(out[1]), "p99 us": float(out[2])}


def first_byte(d, count):
    """COUNT connections one after the other, each on an idle daemon (the
    previous connection's process has had time to end): connect() to the
    first byte echoed, p50 and p99 in us."""
    echo, echo_port = start_echo(d, "first")
    acc = free_port()
    d.start(section("first", acc, echo_port, d.cert))
    os.sched_setaffinity(0, {1})
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    times = []
    cpu0 = cpu_seconds(d.proc.pid)
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            raw = socket.create_connection(("127.0.0.1", acc))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s = ctx.wrap_socket(raw)
            s.sendall(b"x")
            s.recv(1)
            times.append((time.perf_counter() - t0) * 1e6)
            s.close()
            time.sleep(0.01)
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count())))
    time.sleep(0.3)
    # the connection processes reaped by now; a spare forked ahead is
    # counted with the connection it serves
    cpu = cpu_seconds(d.proc.pid) - cpu0
    d.stop()
    echo.terminate()
    echo.wait()
    times.sort()
    return {"p50 us": times[len(times) // 2], "p99 us": times[int(len(times) * 0.99)],
            "CPU us/conn": cpu / count * 1e6}


def idle_memory(d, nconn):
    """What NCONN more idle connections add to the private memory and page
    tables of all the daemon's processes. Measured from a first 10
    connections, not from none: a forking daemon's pages count as private
    while it is alone and as shared once it has a child, which would make
    each connection look some 60 KiB cheaper."""
    echo, echo_port = start_echo(d, "idle")
    acc = free_port()
    d.start(section("idle", acc, echo_port, d.cert))
    time.sleep(0.5)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns = []

    def open_idle(count):
        for _ in range(count):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", acc)))
            s.sendall(b"hello")
            s.recv(5)
            conns.append(s)
        time.sleep(1)
        return sum(private_kib(p) for p in descendants(d.proc.pid))

    base = open_idle(10)
    loaded = open_idle(nconn)
    for s in conns:
        s.close()
    d.stop()
    echo.terminate()
    echo.wait()
    return {"KiB/conn": (loaded - base) / nconn}


def reference_575():
    return os.environ.get("STUNNEL_575_DIR") or os.path.join(
        TOP, "..", "shared", "reference", "stunnel-5.75")


def make_daemons(args, tmp, cert):
    """The daemons to compare, the first being ours: those whose binary
    exists, restricted to --daemons when given."""
    ref = reference_575()
    known = [
        ("ours", args.ours, ""),
        ("ours-nosandbox", args.ours, "sandbox = no\n"),
        ("ours-nospares", args.ours, "spares = 0\n"),
        ("baseline", args.baseline, ""),
        ("stunnel4", args.reference, ""),
        ("5.75-fork", os.path.join(ref, "stunnel-fork"), ""),
        ("5.75-pthread", os.path.join(ref, "stunnel-pthread"), ""),
    ]
    wanted = args.daemons.split(",") if args.daemons else None
    if wanted:
        unknown = set(wanted) - {k[0] for k in known}
        if unknown:
            raise SystemExit("bench: unknown daemon(s) %s" % ", ".join(sorted(unknown)))
        if "ours" not in wanted:
            wanted.insert(0, "ours")
    daemons = []
    for name, binary, extra in known:
        if wanted and name not in wanted:
            continue
        if name == "baseline" and not binary:
            continue
        if not os.access(binary, os.X_OK):
            if wanted or name == "ours":
                raise SystemExit("bench: %s: %s not found" % (name, binary))
            print("bench: %s left out: %s not found" % (name, binary))
            continue
        daemons.append(Daemon(name, binary, tmp, cert, extra))
    return daemons


def report(results, names):
    """Per figure: each daemon's median, then ours/other ratios with spread."""
    others = names[1:]
    print("\nmedians")
    print("%-20s %-12s" % ("figure", "unit") + "".join("%15s" % n for n in names))
    for (name, unit), per in results.items():
        print("%-20s %-12s" % (name, unit) +
              "".join("%15.1f" % statistics.median(per[n]) for n in names))
    print("\nratio ours/other, median of medians [min-max of the per-round ratios]")
    print("%-20s %-12s" % ("figure", "unit") + "".join("%22s" % n for n in others))
    for (name, unit), per in results.items():
        cells = []
        for n in others:
            ratios = [a / b for a, b in zip(per["ours"], per[n]) if b]
            med = statistics.median(per[n])
            cells.append("%6.2f %s" % (statistics.median(per["ours"]) / med if med else 0,
                                       "[%.2f-%.2f]" % (min(ratios), max(ratios))
                                       if ratios else "-"))
        print("%-20s %-12s" % (name, unit) + "".join("%22s" % c for c in cells))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--rtt-count", type=int, default=5000)
    ap.add_argument("--idle", type=int, default=100)
    ap.add_argument("--first-count", type=int, default=300)
    ap.add_argument("--only", help="one figure, or several separated by commas")
    ap.add_argument("--daemons", help="among ours,ours-nosandbox,ours-nospares,baseline,stunnel4,"
                    "5.75-fork,5.75-pthread (ours always)")
    ap.add_argument("--ours", default=os.path.join(TOP, "src", "stunnel"))
    ap.add_argument("--reference", default="/usr/bin/stunnel4")
    ap.add_argument("--baseline", help="another build of ours (before a change), "
                    "measured as the daemon \"baseline\"")
    args = ap.parse_args()
    if subprocess.run(["sh", "-c", "command -v socat"], capture_output=True).returncode:
        raise SystemExit("bench: socat not found")
    tmp = tempfile.mkdtemp(prefix="stunnel-bench.")
    cert = os.path.join(tmp, "cert.pem")
    subprocess.run([os.path.join(TOP, "tools", "makecert.sh"), cert, "localhost"],
                   check=True, capture_output=True)
    rsa = os.path.join(tmp, "rsa.pem")
    subprocess.run([os.path.join(TOP, "tools", "makecert.sh"), rsa, "localhost"],
                   check=True, capture_output=True, env=dict(os.environ, MAKECERT_KEY="rsa"))
    daemons = make_daemons(args, tmp, cert)
    figures = {
        "bulk-server": lambda d: bulk(d, args.bytes, False),
        "bulk-client": lambda d: bulk(d, args.bytes, True),
        "handshakes": lambda d: run_clients(d, args.seconds, args.workers, "full13"),
        "handshakes-rsa": lambda d: run_clients(d, args.seconds, args.workers, "full13", rsa),
        "handshakes-tls12": lambda d: run_clients(d, args.seconds, args.workers, "full12"),
        "resume-tls13-ticket": lambda d: run_clients(d, args.seconds, args.workers, "tls13-ticket"),
        "resume-tls12-ticket": lambda d: run_clients(d, args.seconds, args.workers, "tls12-ticket"),
        "resume-tls12-id": lambda d: run_clients(d, args.seconds, args.workers, "tls12-id"),
        "rtt": lambda d: rtt(d, args.rtt_count),
        "first-byte": lambda d: first_byte(d, args.first_count),
        "idle-memory": lambda d: idle_memory(d, args.idle),
    }
    only = args.only.split(",") if args.only else None
    if only and set(only) - set(figures):
        raise SystemExit("bench: unknown figure(s) %s" %
                         ", ".join(sorted(set(only) - set(figures))))
    results = {}
    try:
        for rnd in range(args.rounds):
            order = daemons if rnd % 2 == 0 else daemons[::-1]
            for name, fn in figures.items():
                if only and name not in only:
                    continue
                for d in order:
                    r = fn(d)
                    for k, v in r.items():
                        results.setdefault((name, k), {}).setdefault(d.name, []).append(v)
                    print("round %d %-20s %-15s %s" % (rnd + 1, name, d.name,
                          "  ".join("%s %.1f" % kv for kv in r.items())), flush=True)
        report(results, [d.name for d in daemons])
    finally:
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
