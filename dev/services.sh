# Sourced by dev/test.sh and dev/run.sh: starts DynamoDB Local and moto on free ports unless
# DYNAMODB_ENDPOINT / MOTO_ENDPOINT are already set, and stops them when the shell exits.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "services: $2 did not open port $1" >&2; return 1
}
OMS_PIDS=()
stop_services() { for p in "${OMS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
start_services() {
  trap stop_services EXIT INT TERM
  if [ -z "${DYNAMODB_ENDPOINT:-}" ]; then
    local port; port=$(free_port)
    (cd .local/dynamodb/package/emulator && exec java -Xmx1536m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -disableTelemetry -port "$port") >.local/dynamodb-local.log 2>&1 &
    OMS_PIDS+=($!)
    wait_port "$port" "DynamoDB Local"
    export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  fi
  if [ -z "${MOTO_ENDPOINT:-}" ]; then
    local mport; mport=$(free_port)
    .venv/bin/moto_server -H 127.0.0.1 -p "$mport" >.local/moto.log 2>&1 &
    OMS_PIDS+=($!)
    wait_port "$mport" "moto server"
    export MOTO_ENDPOINT="http://127.0.0.1:$mport"
  fi
  echo "services: DynamoDB Local at $DYNAMODB_ENDPOINT, moto at $MOTO_ENDPOINT"
}
