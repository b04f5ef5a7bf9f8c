#!/bin/sh
# makecert.sh: create a self-signed certificate and its private key in one
# PEM file, for testing the stunnel-compatible TLS tunnel daemon.
#
#   makecert.sh OUTFILE [CN]
#
# CN is the common name, also written as the subject alternative name
# (default: localhost).  The key is EC P-256, or RSA 2048 when the
# environment variable MAKECERT_KEY is set to "rsa".  The certificate is
# valid for 1461 days (four years) and the file is created with mode 600:
# readable by its owner only.  A daemon that switches to another user
# ("setuid") cannot read it again when SIGHUP reloads the configuration;
# MAKECERT_GROUP=GROUP gives the file to that group with mode 640 (the
# group of "setgid", e.g. stunnel).  An existing OUTFILE is never
# overwritten.  OPENSSL may name the openssl program to use.
#
# A self-signed certificate is only good for tests and for peers that pin
# it (verifyPeer); services used by others need one from a real CA.
set -eu

prog=${0##*/}
OPENSSL=${OPENSSL:-openssl}
DAYS=1461

die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    echo "usage: $prog OUTFILE [CN]" >&2
    echo "  writes a self-signed certificate and key (PEM, mode 600) to OUTFILE;" >&2
    echo "  CN defaults to localhost; MAKECERT_KEY=rsa selects RSA 2048 instead of EC P-256;" >&2
    echo "  MAKECERT_GROUP=GROUP makes it readable by GROUP (mode 640)" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
case $1 in -h|--help|-help) usage ;; esac

out=$1
cn=${2:-localhost}

[ -n "$out" ] || die "the output file name is empty"
[ -n "$cn" ] || die "the common name is empty"
case $cn in
    */*|*,*|*=*|*+*|*\\*|*\"*)
        die "common name \"$cn\" contains one of / , = + \\ \": use a plain host name or address" ;;
esac
case $cn in
    *[!A-Za-z0-9.:*_-]*) die "common name \"$cn\" is not a host name or IP address" ;;
esac

command -v "$OPENSSL" >/dev/null 2>&1 ||
    die "cannot find the \"$OPENSSL\" program (install OpenSSL or set OPENSSL)"

if [ -e "$out" ] || [ -L "$out" ]; then
    die "$out already exists: remove it first if you want a new certificate"
fi
outdir=$(dirname -- "$out")
[ -d "$outdir" ] || die "directory $outdir does not exist"
[ -w "$outdir" ] || die "directory $outdir is not writable"

case ${MAKECERT_KEY:-ec} in
    ec|EC)   keyopts="-newkey ec -pkeyopt ec_paramgen_curve:P-256"; keydesc="EC P-256" ;;
    rsa|RSA) keyopts="-newkey rsa:2048"; keydesc="RSA 2048" ;;
    *) die "MAKECERT_KEY must be \"ec\" or \"rsa\", not \"$MAKECERT_KEY\"" ;;
esac

# A name made of digits and dots, or containing a colon, is an address.
case $cn in
    *:*) san="IP:$cn" ;;
    *[!0-9.]*) san="DNS:$cn" ;;
    *) san="IP:$cn" ;;
esac

umask 077
tmp=$(mktemp -d "${TMPDIR:-/tmp}/makecert.XXXXXX") ||
    die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# shellcheck disable=SC2086 # $keyopts holds several words on purpose
if ! "$OPENSSL" req -x509 $keyopts -nodes -sha256 -days "$DAYS" \
        -subj "/CN=$cn" -addext "subjectAltName=$san" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
        -addext "extendedKeyUsage=serverAuth,clientAuth" \
        -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/err"; then
    cat "$tmp/err" >&2
    die "openssl could not create the certificate (see the messages above)"
fi

cat "$tmp/key.pem" "$tmp/cert.pem" > "$tmp/out.pem"
chmod 600 "$tmp/out.pem"
if [ -n "${MAKECERT_GROUP:-}" ]; then
    chgrp "$MAKECERT_GROUP" "$tmp/out.pem" || die "cannot give the file to group $MAKECERT_GROUP"
    chmod 640 "$tmp/out.pem"
fi
# Refuse to follow a file or link created meanwhile under the same name.
if [ -e "$out" ] || [ -L "$out" ]; then
    die "$out appeared while the certificate was being made; not overwritten"
fi
mv "$tmp/out.pem" "$out" || die "cannot write $out"

echo "$prog: wrote $out ($keydesc key, self-signed, $DAYS days, mode $(stat -c %a "$out"))"
"$OPENSSL" x509 -in "$out" -noout -subject -enddate -fingerprint -sha256
