#!/bin/sh
# Makes what perfcast-server needs for TLS and bearer tokens, as files, and prints the kubectl
# commands that load them into the Secrets the manifests in deploy/kubernetes/ mount
# (deploy/kubernetes/secrets.template.yaml describes them). Nothing here is committed: the output
# directory holds private keys and tokens.
#
#   deploy/make_secrets.sh [--out DIR] [--namespace NS] [--client NAME] [--days N]
#                          [--new-ca] [--new-tokens] [--add-token NAME:ROLE]... [--owner UID:GID]
#
# Files written to DIR (default ./perfcast-secrets, mode 0700):
#   ca.crt ca.key        a CA (kept and reused on later runs unless --new-ca)
#   tls.crt tls.key      server certificate, SANs: localhost, 127.0.0.1, ::1, perfcast and
#                        perfcast-headless with their .NS, .NS.svc, .NS.svc.cluster.local names
#   client.crt client.key  with --client NAME: a client certificate whose CN is NAME (mutual TLS)
#   tokens.csv           token,name,role: admin (admin), pipeline (write), reader (read), probe
#                        (read); kept on later runs unless --new-tokens; --add-token appends
#   probe.token          the probe's token alone, for the exec probes and the compose health check
#
# Rotation: run again on the same DIR. The server certificate is always reissued from the kept
# CA; --add-token NAME:ROLE adds a token beside the old ones (remove the old row by hand once its
# callers have the new one); then apply the printed commands and restart (kubectl rollout
# restart deployment/perfcast): the server reads these files at start only.
#
# For deploy/compose: --out deploy/compose/secrets, and, since compose bind-mounts the files as
# they are and the server runs as uid 65532, --owner 65532:65532 (as root) or chown them so.
set -eu

out=./perfcast-secrets
namespace=perfcast
client=""
days=365
new_ca=0
new_tokens=0
owner=""
add_tokens=""

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit "$1"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --new-ca) new_ca=1; shift ;;
    --new-tokens) new_tokens=1; shift ;;
    --add-token) add_tokens="$add_tokens $2"; shift 2 ;;
    --owner) owner=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "make_secrets.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "make_secrets.sh: openssl is required" >&2; exit 1; }
umask 077
mkdir -p "$out"
chmod 0700 "$out"
cd "$out"

# --- CA --------------------------------------------------------------------------------------
if [ "$new_ca" = 1 ] || [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days $((days * 5)) \
    -subj "/CN=perfcast CA" -keyout ca.key -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  echo "made a new CA: $out/ca.crt (clients must trust it: --tls-ca, tls_ca_file=)" >&2
else
  echo "kept the CA in $out/ca.crt" >&2
fi

# --- server certificate, always reissued ----------------------------------------------------
sans="DNS:localhost,IP:127.0.0.1,IP:::1"
for service in perfcast perfcast-headless; do
  for suffix in "" ".$namespace" ".$namespace.svc" ".$namespace.svc.cluster.local"; do
    sans="$sans,DNS:$service$suffix"
  done
done
cat > server.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans
EOF
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=perfcast" -keyout tls.key -out server.csr \
  2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
  -days "$days" -extfile server.ext -out tls.crt 2>/dev/null
rm -f server.csr server.ext

# --- optional client certificate ------------------------------------------------------------
if [ -n "$client" ]; then
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' \
    > client.ext
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$client" -keyout client.key \
    -out client.csr 2>/dev/null
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
    -days "$days" -extfile client.ext -out client.crt 2>/dev/null
  rm -f client.csr client.ext
fi

# --- tokens ---------------------------------------------------------------------------------
new_token() { openssl rand -hex 32; }
if [ "$new_tokens" = 1 ] || [ ! -s tokens.csv ]; then
  probe=$(new_token)
  {
    echo "token,name,role"
    echo "$(new_token),admin,admin"
    echo "$(new_token),pipeline,write"
    echo "$(new_token),reader,read"
    echo "$probe,probe,read"
  } > tokens.csv
  printf '%s' "$probe" > probe.token
  echo "made new tokens: $out/tokens.csv (hand each caller its row's token)" >&2
fi
for entry in $add_tokens; do
  name=${entry%%:*}
  role=${entry#*:}
  case "$role" in read|write|admin) ;; *)
    echo "make_secrets.sh: --add-token $name:$role: role must be read, write or admin" >&2
    exit 2 ;;
  esac
  token=$(new_token)
  echo "$token,$name,$role" >> tokens.csv
  [ "$name" = probe ] && printf '%s' "$token" > probe.token
  echo "added a token for $name ($role) to $out/tokens.csv" >&2
done

chmod 0600 ./*.key tokens.csv probe.token
chmod 0644 ./*.crt
if [ -n "$owner" ]; then
  chown "$owner" tls.key tls.crt ca.crt tokens.csv probe.token
fi

# --- kubectl commands (apply, so a rerun updates the Secrets in place) ----------------------
dir=$(pwd)
cat <<EOF
# Load into namespace $namespace (then: kubectl -n $namespace rollout restart deployment/perfcast)
kubectl -n $namespace create secret generic perfcast-tls \\
  --from-file=tls.crt=$dir/tls.crt --from-file=tls.key=$dir/tls.key \\
  --from-file=ca.crt=$dir/ca.crt \\
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n $namespace create secret generic perfcast-auth \\
  --from-file=tokens.csv=$dir/tokens.csv --from-file=probe.token=$dir/probe.token \\
  --dry-run=client -o yaml | kubectl apply -f -
EOF
if [ -n "$client" ]; then
  cat <<EOF
# For the pods of client $client (mutual TLS: the server also needs --tls_client_ca=/etc/perfcast-tls/ca.crt)
kubectl -n $namespace create secret tls perfcast-client-$client \\
  --cert=$dir/client.crt --key=$dir/client.key --dry-run=client -o yaml | kubectl apply -f -
EOF
fi
