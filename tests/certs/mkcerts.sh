#!/bin/sh
# mkcerts.sh DIR: the certificates the tests use, made at test time.
#
#   ca.pem ca.key           root CA (EC P-256), "Test CA"
#   key.pem cert.pem        server, CN=localhost (SAN localhost, 127.0.0.1,
#   server.pem              ::1), signed by the root; server.pem = both
#   inter.pem inter.key     intermediate CA signed by the root
#   chain-server.pem        server key, leaf signed by the intermediate,
#                           then the intermediate: a chain to send
#   rsa-server.pem          RSA-2048 server key and certificate (root)
#   client.pem              client key and certificate, CN=client (root)
#   inter-client.pem        client signed by the intermediate, with it
#   revoked.pem crl-revoked.pem  a client revoked by the root's CRL
#   crl.pem                 the root's empty CRL
#   expired.pem             server, CN=localhost, expired in 2020 (root)
#   wronghost.pem           server for wrong.example only (root)
#   stranger.pem            self-signed client nobody trusts
#   server.p12              server.pem and the root as PKCS#12, password
#                           "p12pass"
#   psk.txt                 two PSK identities with 32-byte hex keys
#   HASH.0, HASH.r0         CApath/CRLpath links to ca.pem and crl.pem
#
# Every key is EC P-256 (fast) but rsa-server's. Private files are 0600.
set -e
d=$1
[ -n "$d" ] || { echo "usage: mkcerts.sh DIR" >&2; exit 2; }
mkdir -p "$d"
cd "$d"
umask 077

ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
leaf="basicConstraints=CA:FALSE"
localhost="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

# shellcheck disable=SC2086
{
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj "/CN=Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req $ec -keyout key.pem -out cert.pem -days 30 -subj "/CN=localhost" \
    -CA ca.pem -CAkey ca.key -addext "$localhost" -addext "$leaf"
cat key.pem cert.pem >server.pem

openssl req $ec -keyout inter.key -out inter.pem -days 30 -subj "/CN=Test Intermediate" \
    -CA ca.pem -CAkey ca.key -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req $ec -keyout chain.key -out chain.crt -days 30 -subj "/CN=localhost" \
    -CA inter.pem -CAkey inter.key -addext "$localhost" -addext "$leaf"
cat chain.key chain.crt inter.pem >chain-server.pem
openssl req $ec -keyout ic.key -out ic.crt -days 30 -subj "/CN=inter-client" \
    -CA inter.pem -CAkey inter.key -addext "$leaf"
cat ic.key ic.crt inter.pem >inter-client.pem

openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 30 -subj "/CN=localhost" \
    -CA ca.pem -CAkey ca.key -addext "$localhost" -addext "$leaf"
cat rsa.key rsa.crt >rsa-server.pem

for n in client revoked; do
    openssl req $ec -keyout $n.key -out $n.crt -days 30 -subj "/CN=$n" \
        -CA ca.pem -CAkey ca.key -addext "$leaf"
    cat $n.key $n.crt >$n.pem
done
openssl req $ec -keyout wh.key -out wh.crt -days 30 -subj "/CN=wrong.example" \
    -CA ca.pem -CAkey ca.key -addext "subjectAltName=DNS:wrong.example" -addext "$leaf"
cat wh.key wh.crt >wronghost.pem
openssl req -x509 $ec -keyout st.key -out st.crt -days 30 -subj "/CN=stranger"
cat st.key st.crt >stranger.pem

# the root as a small "openssl ca": CRLs, a revocation, dates in the past
: >index.txt
echo 01 >crlnumber
echo 1000 >serial
cat >ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
crlnumber = crlnumber
serial = serial
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_days = 30
policy = any
copy_extensions = copy
[ any ]
commonName = supplied
EOF
openssl ca -batch -config ca.cnf -gencrl -out crl.pem
openssl ca -batch -config ca.cnf -revoke revoked.crt
openssl ca -batch -config ca.cnf -gencrl -out crl-revoked.pem
openssl req -new $ec -keyout ex.key -out ex.csr -subj "/CN=localhost" -addext "$localhost"
openssl ca -batch -config ca.cnf -in ex.csr -out ex.crt -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z
cat ex.key ex.crt >expired.pem

openssl pkcs12 -export -in cert.pem -inkey key.pem -certfile ca.pem \
    -passout pass:p12pass -out server.p12
{
    echo "client1:$(openssl rand -hex 32)"
    echo "client2:$(openssl rand -hex 32)"
} >psk.txt
} >/dev/null 2>&1

ln -sf ca.pem "$(openssl x509 -hash -noout -in ca.pem).0"
ln -sf crl.pem "$(openssl crl -hash -noout -in crl.pem).r0"
rm -f index.txt* crlnumber* serial* ca.cnf ./*.csr ./[0-9A-F]*.pem 2>/dev/null || true
chmod 600 ./*.key ./*.pem psk.txt server.p12
chmod 644 cert.pem ca.pem crl.pem crl-revoked.pem inter.pem
