#!/usr/bin/env bash
# Health of a deployment (docs/operations.md): the webserver answers, the daemon is alive, and no run of this
# machine is marked in progress with its process gone. The daemon beats every 30 s, and Dagster counts it alive
# until 30 s plus POLICE_HEARTBEAT_TOLERANCE_SECONDS (default 60) after its last beat: a dead daemon fails this
# within 90 s (Dagster's own default tolerance would take half an hour). Exit 0 when all are well; otherwise
# says which is not, exit 1. Run it as the services' user with their environment, e.g.
#   sudo -u police bash -c 'set -a; . /etc/police-data/police.env; set +a; /srv/police-data/app/deploy/healthcheck.sh'

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
TOLERANCE=${POLICE_HEARTBEAT_TOLERANCE_SECONDS:-60}
if DAGSTER_DAEMON_HEARTBEAT_TOLERANCE=$TOLERANCE "$BIN/dagster-daemon" liveness-check >/dev/null 2>&1; then
  echo "daemon: heartbeats are recent (within $((30 + TOLERANCE))s)"
else
  echo "daemon: NO heartbeat in $((30 + TOLERANCE))s (is police-dagster-daemon running? journalctl -u police-dagster-daemon)"
  status=1
fi
if ! "$BIN/python" -m police_assets.automation.health; then
  status=1
fi
exit $status
