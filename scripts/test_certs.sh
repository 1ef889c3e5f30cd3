#!/bin/sh
# Certificates for the TLS tests and the TLS lab, made fresh in DIR:
#   ca.crt/key          the test CA every node, sentinel and client trusts
#   server.crt/key      for redis-server and redis-sentinel: 127.0.0.1, localhost, redis.test
#   client.crt/key      a client certificate (for tls-auth-clients yes)
#   expired.crt/key     signed by the CA, valid only in January 2020
#   other-ca.crt/key    a CA nobody trusts, and other-server.crt/key signed by it
# Usage: scripts/test_certs.sh DIR    (2048-bit RSA: about a second in all)
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "test_certs: failed: $*" >&2; "$@"; exit 1; }; }

ca() {  # name subject
  quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 30 \
    -subj "/O=redis-ha-proxy tests/CN=$2" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
}

signed() {  # name ca subject extensions [ca options...]
  name=$1 issuer=$2 subject=$3 extensions=$4
  shift 4
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "/O=redis-ha-proxy tests/CN=$subject"
  printf '%s\n' "$extensions" > "$name.ext"
  # `openssl ca` rather than `x509 -req`: only it can date a certificate in the past.
  rm -rf "ca-$name" && mkdir "ca-$name" && : > "ca-$name/index.txt"
  cat > "ca-$name/ca.cnf" <<CONF
[ca]
default_ca = test
[test]
database = ca-$name/index.txt
new_certs_dir = ca-$name
serial = ca-$name/serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
CONF
  openssl rand -hex 8 > "ca-$name/serial"
  quiet openssl ca -batch -notext -config "ca-$name/ca.cnf" -cert "$issuer.crt" -keyfile "$issuer.key" \
    -in "$name.csr" -out "$name.crt" -extfile "$name.ext" "$@"
  rm -rf "ca-$name" "$name.csr" "$name.ext"
  chmod 644 "$name.key"
}

server_ext='subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:redis.test
extendedKeyUsage=serverAuth,clientAuth'
ca ca "test CA"
ca other-ca "untrusted CA"
signed server ca redis.test "$server_ext" -days 30
signed client ca client "extendedKeyUsage=clientAuth" -days 30
signed expired ca expired "$server_ext" -startdate 20200101000000Z -enddate 20200131000000Z
signed other-server other-ca redis.test "$server_ext" -days 30
