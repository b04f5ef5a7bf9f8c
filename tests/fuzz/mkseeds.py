#!/usr/bin/env python3
"""tests/fuzz/mkseeds.py [TARGET...]: write the seed corpora of
fuzz_protocol, fuzz_addr, fuzz_psk, fuzz_sessiond, fuzz_ident and
fuzz_ocsp (default: all of them; real dialogues and files, in the input
layouts the targets' comments describe) into corpus/. Run it again
after changing a layout; fuzz_conffile's seeds come from tests/corpus,
fuzz_handshake's are captured ClientHellos (see README.md). fuzz_ocsp's
are OCSP responses made with "openssl ocsp" about the certificate of
the test CA in fuzz_ocsp.c, new signatures on each run."""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = b"=====\n"

# the order of fuzz_protocol.c's table; a seed's first byte is 72 + index
VARIANTS = ["smtp-server", "smtp-client", "smtp-client-plain",
            "smtp-client-login", "pop3-server", "pop3-client", "imap-server",
            "imap-client", "nntp-client", "ldap-client", "pgsql-server",
            "pgsql-client", "connect-server", "connect-client",
            "connect-client-basic", "connect-client-ntlm", "socks-server",
            "socks-client", "proxy-server", "cifs-server", "cifs-client",
            "capwin-server", "capwin-client", "capwinctrl-client"]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def proto(name, local=b"", remote=b"", tls=b"", conn=b"", speaks_first=False,
          tag=""):
    sel = 72 + VARIANTS.index(name)
    if speaks_first:
        sel |= 0x80
    data = bytes([sel]) + MARK.join([local, remote, tls, conn])
    write("fuzz_protocol", name + (("-" + tag) if tag else ""), data)


def ntlm_type2():
    msg = b"NTLMSSP\0" + struct.pack("<I", 2)
    msg += struct.pack("<HHI", 12, 12, 48)          # target name
    msg += struct.pack("<I", 0x00828205)            # flags
    msg += bytes.fromhex("0123456789abcdef") + bytes(8)
    msg += struct.pack("<HHI", 0, 0, 60)            # target info
    msg += "DOMAIN".encode("utf-16-le")
    import base64
    return base64.b64encode(msg)


def protocol_seeds():
    ehlo = b"250-mail.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n" \
        b"250 8BITMIME\r\n"
    proto("smtp-server", b"EHLO client.example.org\r\nSTARTTLS\r\n",
          b"220 mail.example.org ESMTP Postfix\r\n")
    proto("smtp-server", b"EHLO x\r\nSTARTTLS\r\n",
          b"220-mail.example.org ESMTP\r\n220-more\r\n220 last\r\n",
          tag="multiline")
    proto("smtp-server", b"\x16\x03\x01\x00\x05hello", b"220 x\r\n",
          speaks_first=True, tag="smtps")
    proto("smtp-client", b"", b"220 mail.example.org ESMTP\r\n" + ehlo +
          b"220 2.0.0 Ready to start TLS\r\n")
    proto("smtp-client-plain", b"", b"220 mail ESMTP\r\n" + ehlo +
          b"220 go\r\n", ehlo.replace(b"STARTTLS", b"AUTH PLAIN LOGIN") +
          b"235 2.7.0 Authentication successful\r\n")
    proto("smtp-client-login", b"", b"220 mail ESMTP\r\n" + ehlo +
          b"220 go\r\n", ehlo.replace(b"STARTTLS", b"AUTH LOGIN") +
          b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n")
    proto("pop3-server", b"CAPA\r\nSTLS\r\n", b"+OK POP3 server ready\r\n")
    proto("pop3-client", b"", b"+OK POP3 ready\r\n+OK Begin TLS\r\n")
    proto("imap-server", b"a001 CAPABILITY\r\na002 STARTTLS\r\n",
          b"* OK IMAP4rev1 ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
          b"stunnel OK done\r\n* BYE logging out\r\nstunnel OK LOGOUT\r\n")
    proto("imap-client", b"", b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"
          b"stunnel OK Begin TLS negotiation now\r\n")
    proto("nntp-client", b"", b"200 news.example.org ready\r\n"
          b"382 Continue with TLS negotiation\r\n")
    proto("ldap-client", b"", bytes.fromhex("300c02010178070a010004000400"))
    proto("ldap-client", b"", bytes.fromhex(
        "302402010178840000001b0a0100040004000a8a1631"
        "2e332e362e312e342e312e313436362e3230303337"), tag="long-form")
    proto("pgsql-server", bytes.fromhex("0000000804d2162f"))
    proto("pgsql-server", bytes.fromhex("0000000804d21630"), tag="gssenc")
    proto("pgsql-client", b"", b"S")
    proto("connect-server", b"CONNECT 192.0.2.1:8080 HTTP/1.1\r\n"
          b"Host: 192.0.2.1:8080\r\nUser-Agent: x\r\n\r\n", b"", b"hello\n",
          b"backend banner\r\n")
    proto("connect-server", b"CONNECT [::1]:22 HTTP/1.0\r\n\r\n",
          tag="ipv6")
    ok = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n"
    proto("connect-client", b"", ok)
    proto("connect-client-basic", b"", ok)
    proto("connect-client-ntlm", b"", b"HTTP/1.1 407 Proxy Authentication "
          b"Required\r\nProxy-Authenticate: NTLM " + ntlm_type2() +
          b"\r\nContent-Length: 0\r\n\r\n" + ok)
    proto("socks-server", tls=b"\x05\x01\x00\x05\x01\x00\x01\xc0\x00\x02\x01"
          b"\x1f\x90", conn=b"backend", tag="v5-ipv4")
    proto("socks-server", tls=b"\x05\x02\x00\x02\x05\x01\x00\x03\x0b"
          b"example.org\x00\x50", tag="v5-name")
    proto("socks-server", tls=b"\x05\x01\x00\x05\x01\x00\x04" + bytes(15) +
          b"\x01\x01\xbb", tag="v5-ipv6")
    proto("socks-server", tls=b"\x04\x01\x1f\x90\xc0\x00\x02\x01user\x00",
          conn=b"x", tag="v4")
    proto("socks-server", tls=b"\x04\x01\x00\x50\x00\x00\x00\x01user\x00"
          b"example.org\x00", tag="v4a")
    proto("socks-client", tls=b"\x05\x00\x05\x00\x00\x01\xc0\x00\x02\x01"
          b"\x01\xbb")
    proto("socks-client", tls=b"\x05\x00\x05\x00\x00\x03\x0bexample.org"
          b"\x01\xbb", tag="name")
    proto("proxy-server")
    proto("cifs-server", b"\x81\x00\x00\x44" + b"\x20" + b"A" * 32 + b"\x00" +
          b"\x20" + b"B" * 32 + b"\x00")
    proto("cifs-client", b"", b"\x83\x00\x00\x01\x8e")
    bind_ok = bytes.fromhex("308400000010020101618400000007"
                            "0a0100040004 00".replace(" ", ""))
    proto("capwin-server", tls=b"AUTH\x1fuser\x1fpassword\x1f\x1cdata",
          conn=bind_ok)
    proto("capwin-client", b"AUTH\x1fuser\x1fpassword\x1f\x1c", tls=b"BINGO")
    proto("capwinctrl-client", b"AUTH\x1fuser\x1fpassword\x1f\x1c")


def addr_seeds():
    specs = [(0, b"127.0.0.1:443"), (1, b"443"), (2, b"8080"),
             (1, b":::443"), (0, b"::1:443"), (0, b"[::1]:443"),
             (0, b"/run/stunnel.sock"), (0, b"localhost:https"),
             (0, b"127.0.0.1:65536"), (1, b"0.0.0.0:imaps"),
             (4, b"127.0.0.1"), (4, b"*"), (4, b"::1"),
             (8, struct.pack("=H", 1) + b"/tmp/sock\0"),
             (8, struct.pack("=H", 2) + struct.pack(">H", 443) +
              bytes([127, 0, 0, 1]) + bytes(8)),
             (8, struct.pack("=H", 10) + struct.pack(">H", 443) + bytes(4) +
              bytes(15) + b"\x01" + bytes(4))]
    for i, (flags, spec) in enumerate(specs):
        write("fuzz_addr", "seed-%02d" % i, bytes([flags]) + spec)


def psk_seeds():
    write("fuzz_psk", "hex-and-ascii",
          b"test:0123456789abcdef0123456789abcdef\n"
          b"other.identity:this-is-a-long-ascii-secret\n")
    write("fuzz_psk", "crlf-blank", b"\r\n  id1 : 00112233445566778899aabbccddeeff"
          b"  \r\n\r\nid2:abcdefghijklmnopqrstuvwxyz\r\n")
    write("fuzz_psk", "short-key", b"id:0011\n")
    write("fuzz_psk", "no-colon", b"identity-without-key\n")


def sessiond_seeds():
    sid = bytes(range(1, 33))
    head = b"\x01\x81\x00\x00" + sid
    # a TLS 1.2 PSK session without ticket, DER, as "openssl sess_id"
    # writes it (test key of psk.txt)
    der = bytes.fromhex(
        "30818302010102020303040200a804202f4d1d195fc86f3ee81ba0d2f09f4576"
        "1a2601007804680a7953cf3ded263ec104306c74d06ff9c29ac819f675f4effc"
        "e9569ee41931029aa308ee99399121190de0bd6cd682b03bcb42c071156b8a2d"
        "2094a10602046b16a1eaa20402021c20a4020400a806040474657374ad030201"
        "01b303020100")
    write("fuzz_sessiond", "found", bytes([32]) + sid + head + der)
    write("fuzz_sessiond", "not-found", bytes([32]) + sid +
          b"\x01\x80\x00\x00" + sid)
    write("fuzz_sessiond", "short-id", bytes([4]) + sid[:4] +
          b"\x01\x81\x00\x00" + sid[:4] + bytes(28) + der)
    write("fuzz_sessiond", "malformed", bytes([32]) + sid + b"\x02\x81")


def ident_seeds():
    replies = {
        "passed": b"40000 , 0 : USERID : UNIX : fuzzuser\r\n",
        "refused": b"40000 , 0 : USERID : OTHER : mallory\r\n",
        "charset": b"40000 , 0 : USERID : UNIX,UTF-8 :  fuzzuser\r\n",
        "tight": b"40000,0:USERID:UNIX:fuzzuser\r\n",
        "trailing-space": b"40000 , 0 : USERID : UNIX : fuzzuser \r\n",
        "tab-user": b"40000 , 0 : USERID : UNIX :\tfuzzuser\r\n",
        "colon-in-user": b"40000 , 0 : USERID : UNIX : fuzz:user\r\n",
        "error": b"40000 , 0 : ERROR : NO-USER\r\n",
        "malformed": b"40000 , 0\r\n",
        "lf-only": b"40000 , 0 : USERID : UNIX : fuzzuser\n",
        "no-eol": b"40000 , 0 : USERID : UNIX : fuzzuser",
        "nul": b"40000 , 0 : USERID : UNIX : fuzz\0user\r\n",
        "long": b"40000 , 0 : USERID : UNIX : " + b"u" * 1200 + b"\r\n",
        "empty": b"",
    }
    for name, reply in replies.items():
        write("fuzz_ident", name, reply)


# the order of fuzz_ocsp.c's table: a seed's first byte is the index
OCSP_SECTIONS = ["server", "server-nonce", "server-aia", "server-nosigs",
                 "client", "client-staple", "staple-server"]


def ocsp_pki(tmp):
    """fuzz_ocsp.c's certificates and keys as files in TMP, a responder
    certificate of its CA and a responder of no CA's"""
    with open(os.path.join(HERE, "fuzz_ocsp.c")) as f:
        text = f.read()
    for name, body in re.findall(r'static const char pem_(\w+)\[\] =\n'
                                 r'((?:\s*".*"\n)+)', text):
        pem = "".join(re.findall(r'"(.*)"', body)).replace("\\n", "\n")
        with open(os.path.join(tmp, name + ".pem"), "w") as f:
            f.write(pem)

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(tmp, "resp.ext"), "w") as f:
        f.write("basicConstraints = CA:FALSE\n"
                "keyUsage = critical, digitalSignature\n"
                "extendedKeyUsage = OCSPSigning\n")
    for who in ("resp", "rogue"):
        run("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-subj",
            "/CN=fuzz OCSP responder", "-keyout", who + "-key.pem",
            "-out", who + ".csr")
    run("x509", "-req", "-in", "resp.csr", "-CA", "ocsp_ca.pem", "-CAkey",
        "ocsp_ca_key.pem", "-set_serial", "0x1002", "-days", "36500",
        "-extfile", "resp.ext", "-out", "resp.pem")
    run("x509", "-req", "-in", "rogue.csr", "-key", "rogue-key.pem",
        "-days", "36500", "-extfile", "resp.ext", "-out", "rogue.pem")
    run("ocsp", "-issuer", "ocsp_ca.pem", "-cert", "ocsp_leaf.pem",
        "-no_nonce", "-reqout", "req.der")
    run("ocsp", "-issuer", "ocsp_ca.pem", "-cert", "ocsp_leaf.pem",
        "-nonce", "-reqout", "req-nonce.der")
    run("ocsp", "-issuer", "ocsp_ca.pem", "-cert", "ocsp_ca.pem",
        "-no_nonce", "-reqout", "req-other.der")
    return run


def ocsp_response(tmp, run, status="good", signer="ocsp_ca", req="req",
                  extra=()):
    """the DER answer of "openssl ocsp" (its responder mode) to REQ"""
    lines = {
        "good": "V\t21261113000000Z\t\t1001\tunknown\t/CN=localhost\n",
        "revoked": "R\t21261113000000Z\t261201000000Z,keyCompromise\t1001"
                   "\tunknown\t/CN=localhost\n",
        "unknown": "",
    }
    with open(os.path.join(tmp, "index.txt"), "w") as f:
        f.write(lines[status])
    key = "ocsp_ca_key" if signer == "ocsp_ca" else signer + "-key"
    run("ocsp", "-index", "index.txt", "-CA", "ocsp_ca.pem", "-rsigner",
        signer + ".pem", "-rkey", key + ".pem", "-reqin", req + ".der",
        "-respout", "resp.der", *extra)
    with open(os.path.join(tmp, "resp.der"), "rb") as f:
        return f.read()


def http(der, head=b"HTTP/1.0 200 OK\r\n"
         b"Content-Type: application/ocsp-response\r\n", length=True):
    if length:
        head += b"Content-Length: %d\r\n" % len(der)
    return head + b"\r\n" + der


def ocsp_seed(section, name, reply=b"", staple=None):
    data = bytes([OCSP_SECTIONS.index(section)]) + reply
    if staple is not None:
        data += MARK + staple
    write("fuzz_ocsp", section + "." + name, data)


def ocsp_seeds():
    with tempfile.TemporaryDirectory() as tmp:
        run = ocsp_pki(tmp)
        long = ("-ndays", "36500")
        resp = {
            "good": ocsp_response(tmp, run, extra=long),
            "revoked": ocsp_response(tmp, run, "revoked", extra=long),
            "unknown": ocsp_response(tmp, run, "unknown", extra=long),
            "delegated": ocsp_response(tmp, run, signer="resp", extra=long),
            "delegated-nocerts": ocsp_response(
                tmp, run, signer="resp", extra=long + ("-resp_no_certs",)),
            "keyid": ocsp_response(tmp, run, "revoked",
                                   extra=long + ("-resp_key_id",)),
            "rogue": ocsp_response(tmp, run, signer="rogue", extra=long),
            "other-cert": ocsp_response(tmp, run, req="req-other",
                                        extra=long),
            "nonce": ocsp_response(tmp, run, req="req-nonce", extra=long),
            "no-next-update": ocsp_response(tmp, run),
            # nextUpdate a minute after making it: expired when fuzzed
            "expired": ocsp_response(tmp, run, extra=("-nmin", "1")),
        }
    # responseStatus alone: malformedRequest, internalError, tryLater,
    # sigRequired, unauthorized
    errors = {"malformed": 1, "internal": 2, "try-later": 3,
              "sig-required": 5, "unauthorized": 6}
    for name, der in resp.items():
        for section in ("server", "server-nosigs"):
            ocsp_seed(section, name, http(der))
        ocsp_seed("client-staple", name, staple=der)
    for name, code in errors.items():
        der = bytes([0x30, 0x03, 0x0a, 0x01, code])
        ocsp_seed("server", name, http(der))
        ocsp_seed("client-staple", name, staple=der)
    good = resp["good"]
    ocsp_seed("server-nonce", "nonce", http(resp["nonce"]))
    ocsp_seed("server-nonce", "no-nonce", http(good))
    ocsp_seed("server-aia", "good", http(good))
    ocsp_seed("server-aia", "unknown", http(resp["unknown"]))
    ocsp_seed("client", "responder-good", http(good))
    ocsp_seed("client", "responder-revoked", http(resp["revoked"]))
    ocsp_seed("client", "staple-unknown-responder-good", http(good),
              resp["unknown"])
    ocsp_seed("client", "staple-garbage-responder-good", http(good),
              b"\x30\x82\xff\xff")
    ocsp_seed("staple-server", "good", http(good))
    ocsp_seed("staple-server", "try-later", http(b"\x30\x03\x0a\x01\x03"))
    # the HTTP around a good answer, as responders and proxies send it
    ctype = b"Content-Type: application/ocsp-response\r\n"
    chunks = b"%x\r\n" % 16 + good[:16] + b"\r\n" + \
        b"%x\r\n" % (len(good) - 16) + good[16:] + b"\r\n0\r\n\r\n"
    variants = {
        "http11-close-no-length": http(good, b"HTTP/1.1 200 OK\r\n" + ctype +
                                       b"Connection: close\r\n", False),
        "chunked": http(b"", b"HTTP/1.1 200 OK\r\n" + ctype +
                        b"Transfer-Encoding: chunked\r\n", False) + chunks,
        "odd-headers": http(good, b"HTTP/1.1 200 Fine\r\n"
                            b"content-type:application/ocsp-response\r\n"
                            b"X-Folded: one\r\n  two\r\n"
                            b"Cache-Control: max-age=3600, public\r\n"
                            b"X-Long: " + b"x" * 300 + b"\r\n"),
        "lf-only": b"HTTP/1.0 200 OK\nContent-Type: application/ocsp-"
                   b"response\nContent-Length: %d\n\n" % len(good) + good,
        "no-reason": http(good, b"HTTP/1.0 200\r\n" + ctype),
        "continue": b"HTTP/1.1 100 Continue\r\n\r\n" + http(good),
        "length-short": http(good, b"HTTP/1.0 200 OK\r\n" + ctype +
                             b"Content-Length: 10\r\n", False),
        "length-long": http(good, b"HTTP/1.0 200 OK\r\n" + ctype +
                            b"Content-Length: 100000\r\n", False),
        "length-negative": http(good, b"HTTP/1.0 200 OK\r\n" + ctype +
                                b"Content-Length: -1\r\n", False),
        "text-html": http(good, b"HTTP/1.0 200 OK\r\n"
                          b"Content-Type: text/html\r\n"),
        "500": http(b"<html>Internal Server Error</html>\n",
                    b"HTTP/1.1 500 Internal Server Error\r\n"
                    b"Content-Type: text/html\r\n"),
        "301": http(b"", b"HTTP/1.1 301 Moved Permanently\r\n"
                    b"Location: http://127.0.0.1:9/elsewhere\r\n"),
        "not-http": b"SSH-2.0-OpenSSH_9.2\r\n",
        "headers-only": b"HTTP/1.0 200 OK\r\n" + ctype,
    }
    for name, reply in variants.items():
        ocsp_seed("server", "http-" + name, reply)


SEEDS = {"fuzz_protocol": protocol_seeds, "fuzz_addr": addr_seeds,
         "fuzz_psk": psk_seeds, "fuzz_sessiond": sessiond_seeds,
         "fuzz_ident": ident_seeds, "fuzz_ocsp": ocsp_seeds}

if __name__ == "__main__":
    for target in sys.argv[1:] or SEEDS:
        SEEDS[target]()
