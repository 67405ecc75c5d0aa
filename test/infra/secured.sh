#!/usr/bin/env bash
# A secured Kafka and a secured Elasticsearch for the security tests (make test-secured),
# beside (not instead of) the plain pair of services.sh, whose helpers this reuses.
#
#   secured.sh up | down | status | env | kafka-restart
#
# Kafka 3.9 (KRaft, one node, ACLs on with StandardAuthorizer):
#   SASL_SSL  $SEC_KAFKA_SASL_PORT  PLAIN (users in the JAAS config), SCRAM-SHA-256/512
#             (users made by StorageTool format --add-scram), OAUTHBEARER (Kafka's built-in
#             unsecured JWT validator: test only)
#   SSL       $SEC_KAFKA_MTLS_PORT  mutual TLS, principal = the certificate's CN
#   PLAINTEXT $SEC_KAFKA_ADMIN_PORT internal and admin listener; its ANONYMOUS principal is
#             a super user (the broker's own requests and the tests' set-up use it)
# Elasticsearch 8.x with security on: TLS on HTTP and transport (PEM settings), file-realm
# users (bin/elasticsearch-users) with roles from roles.yml, a PKI realm, API keys (with the
# test-only analysis plugin in es-analysis-plugin/, built by services.sh with javac and cached).
#
# Certificates (openssl) and random passwords are made per run in the run dir, never
# committed. `env` prints them as KEY=VALUE lines for the tests. Only 127.0.0.1.
set -euo pipefail

SECURED_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SEC_KAFKA_SASL_PORT="${SEC_KAFKA_SASL_PORT:-9192}"
SEC_KAFKA_MTLS_PORT="${SEC_KAFKA_MTLS_PORT:-$((SEC_KAFKA_SASL_PORT + 1))}"
SEC_KAFKA_ADMIN_PORT="${SEC_KAFKA_ADMIN_PORT:-$((SEC_KAFKA_SASL_PORT + 2))}"
SEC_ES_PORT="${SEC_ES_PORT:-9201}"
BASE_RUN_DIR="${KES_RUN_DIR:-${KES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer}/run}"

# services.sh reads these when sourced: the secured pair has its own ports and run dir.
export KES_RUN_DIR="$BASE_RUN_DIR/secured"
export KAFKA_PORT="$SEC_KAFKA_ADMIN_PORT"
export KAFKA_CONTROLLER_PORT="${SEC_KAFKA_CONTROLLER_PORT:-$((SEC_KAFKA_SASL_PORT + 3))}"
export ES_PORT="$SEC_ES_PORT"
export ES_TRANSPORT_PORT="${SEC_ES_TRANSPORT_PORT:-$((SEC_ES_PORT + 100))}"
export ES_HEAP="${ES_HEAP:-512m}"
export ES_SECURITY_ENABLED=true
# the secured suites need no schema registry
export KES_WITH_REGISTRY=0
# The node runs with the test-only analysis plugin (built and installed by services.sh).
export ES_TEST_PLUGINS=es-analysis-plugin
# shellcheck source=services.sh
source "$SECURED_DIR/services.sh"

CERTS="$KES_RUN_DIR/certs"
SECRETS="$KES_RUN_DIR/secrets.env"

slog() { printf '%s\n' "secured.sh: $*" >&2; }

# ---------------------------------------------------------------- secrets and certificates
make_secrets() {
  [[ -s "$SECRETS" ]] && return 0
  mkdir -p "$KES_RUN_DIR"
  local name
  (
    umask 077
    for name in KAFKA_WORKER_PASSWORD KAFKA_STRANGER_PASSWORD ES_ADMIN_PASSWORD ES_WORKER_PASSWORD \
                ES_STRANGER_PASSWORD CLIENT_KEY_PASSPHRASE; do
      echo "$name=$(openssl rand -hex 16)"
    done >"$SECRETS"
  )
}
secret() { sed -n "s/^$1=//p" "$SECRETS"; }

# sign NAME SUBJECT EXT: key NAME.key (PKCS#8) and certificate NAME.pem signed by the CA
sign_cert() {
  local name="$1" subject="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$CERTS/$name.key" -subj "$subject" \
    -out "$CERTS/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$CERTS/$name.ext"
  openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$CERTS/$name.ext" -out "$CERTS/$name.pem" 2>/dev/null
  rm -f "$CERTS/$name.csr" "$CERTS/$name.ext"
}

make_certs() {
  [[ -s "$CERTS/.complete" ]] && return 0
  rm -rf "$CERTS"; mkdir -p "$CERTS"
  local ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -keyout "$CERTS/$ca.key" \
      -subj "/CN=kes-test-$ca" -addext "$(head -1 <<<"$ca_ext")" -addext "$(tail -1 <<<"$ca_ext")" \
      -out "$CERTS/$ca.pem" 2>/dev/null
  done
  sign_cert server "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
  sign_cert client "/CN=worker" "extendedKeyUsage=clientAuth"
  sign_cert stranger "/CN=stranger" "extendedKeyUsage=clientAuth"
  # the client key again, encrypted, for the passphrase settings
  openssl pkcs8 -topk8 -in "$CERTS/client.key" -v2 aes-256-cbc -passout "pass:$(secret CLIENT_KEY_PASSPHRASE)" \
    -out "$CERTS/client-encrypted.key"
  # Kafka's PEM key store: the key and its certificate chain in one file
  cat "$CERTS/server.key" "$CERTS/server.pem" "$CERTS/ca.pem" >"$CERTS/server-keystore.pem"
  # the chain the servers present, as Elasticsearch's own auto-configuration does
  cat "$CERTS/server.pem" "$CERTS/ca.pem" >"$CERTS/server-chain.pem"
  date -u +%FT%TZ >"$CERTS/.complete"
}

# ---------------------------------------------------------------- Kafka
# JAAS of one listener mechanism, as a server.properties line
jaas_line() { # mechanism login-module options
  echo "listener.name.sasl_ssl.$1.sasl.jaas.config=$2 required $3;"
}

kafka_write_config() {
  mkdir -p "$KRUN/data" "$KRUN/logs"
  local pw; pw="$(secret KAFKA_WORKER_PASSWORD)"
  cat >"$KRUN/server.properties" <<EOF
# generated by test/infra/secured.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=SASL_SSL://$HOST:$SEC_KAFKA_SASL_PORT,SSL://$HOST:$SEC_KAFKA_MTLS_PORT,INTERNAL://$HOST:$SEC_KAFKA_ADMIN_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://$HOST:$SEC_KAFKA_SASL_PORT,SSL://$HOST:$SEC_KAFKA_MTLS_PORT,INTERNAL://$HOST:$SEC_KAFKA_ADMIN_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:admin
allow.everyone.if.no.acl.found=false
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
$(jaas_line plain org.apache.kafka.common.security.plain.PlainLoginModule "user_worker=\"$pw\" user_stranger=\"$(secret KAFKA_STRANGER_PASSWORD)\"")
$(jaas_line scram-sha-256 org.apache.kafka.common.security.scram.ScramLoginModule "")
$(jaas_line scram-sha-512 org.apache.kafka.common.security.scram.ScramLoginModule "")
$(jaas_line oauthbearer org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule 'unsecuredLoginStringClaim_sub="admin"')
# re-authentication makes kafkajs ask for a fresh token on open connections too; above
# kafkajs' re-authentication threshold (10 s), which it subtracts from the session's life
listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms=30000
ssl.keystore.type=PEM
ssl.keystore.location=$CERTS/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
listener.name.ssl.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+).*\$/\$1/,DEFAULT
$(kafka_single_node_settings)
auto.create.topics.enable=false
EOF
  kafka_write_logging
  # SCRAM credentials live in the metadata log: written once, when the storage is formatted
  local s
  KAFKA_FORMAT_ARGS=()
  for s in "SCRAM-SHA-512=[name=worker,password=$pw]" "SCRAM-SHA-256=[name=worker,password=$pw]" \
           "SCRAM-SHA-512=[name=stranger,password=$(secret KAFKA_STRANGER_PASSWORD)]"; do
    KAFKA_FORMAT_ARGS+=(--add-scram "$s")
  done
}

# ---------------------------------------------------------------- Elasticsearch
es_url() { echo "https://$HOST:$ES_PORT"; }
es_curl() { curl -s --cacert "$CERTS/ca.pem" -u "admin:$(secret ES_ADMIN_PASSWORD)" "$@"; }

es_write_config() {
  local conf="$ERUN/config"
  rm -rf "$conf"; mkdir -p "$ERUN/logs"; cp -R "$ES_HOME/config" "$conf"
  mkdir -p "$conf/certs"
  cp "$CERTS/ca.pem" "$CERTS/server-chain.pem" "$CERTS/server.key" "$conf/certs/"
  cat >>"$conf/elasticsearch.yml" <<EOF
# added by test/infra/secured.sh
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate: certs/server-chain.pem
xpack.security.http.ssl.certificate_authorities: [certs/ca.pem]
xpack.security.http.ssl.client_authentication: optional
xpack.security.transport.ssl.enabled: true
xpack.security.transport.ssl.key: certs/server.key
xpack.security.transport.ssl.certificate: certs/server-chain.pem
xpack.security.transport.ssl.certificate_authorities: [certs/ca.pem]
xpack.security.transport.ssl.verification_mode: certificate
xpack.license.self_generated.type: trial
xpack.security.authc.api_key.enabled: true
xpack.security.authc.token.enabled: true
xpack.security.authc.realms.file.file1.order: 0
xpack.security.authc.realms.pki.pki1.order: 1
xpack.security.authc.realms.pki.pki1.certificate_authorities: [certs/ca.pem]
EOF
  # The least privileges the README documents (index needs "index" for op_type index,
  # "create_doc" is enough for op_type create), and one role with nothing useful.
  cat >"$conf/roles.yml" <<EOF
kes_writer:
  indices:
    - names: ['sec-*']
      privileges: ['index', 'create_index', 'auto_configure']
kes_creator:
  indices:
    - names: ['sec-*']
      privileges: ['create_doc', 'create_index', 'auto_configure']
kes_nothing:
  indices:
    - names: ['elsewhere-*']
      privileges: ['read']
EOF
  printf 'kes_writer:\n  - "CN=worker"\n' >"$conf/role_mapping.yml"
  local users=(admin:superuser worker:kes_writer stranger:kes_nothing) u
  for u in "${users[@]}"; do
    local name="${u%%:*}" role="${u#*:}" pw
    pw="$(secret "ES_${name^^}_PASSWORD")"
    ES_JAVA_HOME="$(es_java_home)" ES_PATH_CONF="$conf" "$ES_HOME/bin/elasticsearch-users" useradd "$name" -p "$pw" -r "$role" \
      >>"$ERUN/logs/users.log" 2>&1 || { show_tail "$ERUN/logs/users.log"; die "elasticsearch-users useradd $name failed"; }
  done
}

# ---------------------------------------------------------------- commands
sec_env() {
  cat <<EOF
SEC_KAFKA_SASL_BROKERS=$HOST:$SEC_KAFKA_SASL_PORT
SEC_KAFKA_MTLS_BROKERS=$HOST:$SEC_KAFKA_MTLS_PORT
SEC_KAFKA_ADMIN_BROKERS=$HOST:$SEC_KAFKA_ADMIN_PORT
SEC_ES_NODE=$(es_url)
SEC_CERTS=$CERTS
SEC_CA_FINGERPRINT=$(openssl x509 -noout -fingerprint -sha256 -in "$CERTS/ca.pem" | cut -d= -f2)
EOF
  sed 's/^/SEC_/' "$SECRETS"
}

sec_up() {
  local t0=$SECONDS
  state_lock
  ensure_kafka_dist
  ensure_es_dist
  use_test_plugins
  kafka_preflight
  es_preflight
  make_secrets
  make_certs
  KAFKA_LAUNCHED=0
  trap up_cleanup EXIT
  kafka_launch
  [[ -n "$(es_pid)" ]] || es_write_config
  es_start
  kafka_wait
  trap - EXIT
  kafka_describe
  es_describe
  slog "secured pair ready in $((SECONDS - t0))s (run dir $KES_RUN_DIR)"
}

sec_down() {
  state_lock
  kafka_stop
  es_stop
  rm -rf "$KRUN" "$ERUN" "$CERTS" "$SECRETS"
  echo "secured kafka: stopped"
  echo "secured elasticsearch: stopped"
}

case "${1:-}" in
  up) sec_up ;;
  down) sec_down ;;
  status) cmd_status ;;
  kafka-restart) state_lock; kafka_stop; kafka_launch; kafka_wait; kafka_describe ;;
  env) [[ -s "$SECRETS" ]] || die "not up (no $SECRETS)"; sec_env ;;
  *) echo "usage: $(basename "$0") up | down | status | env | kafka-restart" >&2; exit 2 ;;
esac
