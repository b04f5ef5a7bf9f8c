#!/bin/bash
# certs.sh DIR: the certificates of every oracle scenario: those of
# tests/certs/mkcerts.sh (lib_make_certs), plus, made with lib_issue:
#   staple-good.pem staple-revoked.pem  servers whose AIA names the OCSP
#                       responder the scenarios start on 127.0.0.1:8800
#   aia-client.pem      a client certificate whose AIA names it too
#   email.pem           a client with the e-mail user@example.org
#   ocsp-index.txt      the responder's index: cert.pem and staple-good
#                       good, revoked.crt and staple-revoked revoked
. "$(dirname "$0")/../integration/lib.sh"
d=$1
lib_make_certs "$d" >/dev/null 2>&1 || { echo "certs.sh: mkcerts failed" >&2; exit 1; }
aia="authorityInfoAccess=OCSP;URI:http://127.0.0.1:8800"
lib_issue "$d" staple-good /CN=localhost "subjectAltName=DNS:localhost" "$aia" &&
lib_issue "$d" staple-revoked /CN=localhost "subjectAltName=DNS:localhost" "$aia" &&
lib_issue "$d" aia-client /CN=aia-client "$aia" &&
lib_issue "$d" email /CN=mailer "subjectAltName=email:user@example.org" ||
    { echo "certs.sh: lib_issue failed" >&2; exit 1; }
cd "$d" || exit 1
exp=$(date -u -d '+2 days' +%y%m%d%H%M%SZ)
now=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
entry() {  # V|R CERT
    local serial
    serial=$(openssl x509 -in "$2" -noout -serial | cut -d= -f2)
    if [ "$1" = V ]; then
        printf 'V\t%s\t\t%s\tunknown\t/CN=x\n' "$exp" "$serial"
    else
        printf 'R\t%s\t%s\t%s\tunknown\t/CN=x\n' "$exp" "$now" "$serial"
    fi
}
echo "unique_subject = no" >ocsp-index.txt.attr
{
    entry V cert.pem
    entry V staple-good.crt
    entry V client.crt
    entry V aia-client.crt
    entry R revoked.crt
    entry R staple-revoked.crt
} >ocsp-index.txt
