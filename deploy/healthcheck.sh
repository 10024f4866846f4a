#!/usr/bin/env bash
# Health of a deployment (docs/operations.md): the webserver answers and the daemon has sent heartbeats
# recently. Exit 0 when both are well; otherwise says which is not, exit 1. Run it with the services'
# environment, e.g. `set -a; . /etc/police-data/police.env; set +a; deploy/healthcheck.sh`.
set -uo pipefail
BIN=${POLICE_VENV:-$(dirname "$0")/../.venv}/bin
HOST=${DAGSTER_WEBSERVER_HOST:-127.0.0.1}
PORT=${DAGSTER_WEBSERVER_PORT:-3000}
status=0
if "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()" \
    "http://$HOST:$PORT/server_info" 2>/dev/null; then
  echo "webserver: up at http://$HOST:$PORT"
else
  echo "webserver: NOT answering at http://$HOST:$PORT/server_info"; status=1
fi
if "$BIN/dagster-daemon" liveness-check >/dev/null 2>&1; then
  echo "daemon: heartbeats are recent"
else
  echo "daemon: NO recent heartbeat (is police-dagster-daemon running? journalctl -u police-dagster-daemon)"; status=1
fi
exit $status
