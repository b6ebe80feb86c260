#!/usr/bin/env bash
# make demo: the database and the demo catalog, the agencies' stand-in, a worker, the demo
# data, the server — and a kiosk window where there is a screen. Ctrl-C stops them all.
#   HOST, PORT          where the server listens (127.0.0.1:5000)
#   STANDIN_PORT        where the agencies' stand-in listens (5077)
set -euo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
STANDIN_PORT="${STANDIN_PORT:-5077}"
PY=.venv/bin/python
FLASK=(.venv/bin/flask --app counter_server)
INSTANCE="$PWD/instance"

children=()
stop_children() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_children EXIT
trap 'exit 130' INT TERM

"${FLASK[@]}" init-db
"${FLASK[@]}" catalog import assets/catalog
# The seal key and a self-signed signing certificate for delivered documents (kept if there).
"${FLASK[@]}" keys init

# The other agencies (civil registry, Shahkar, post, judiciary …) as a stand-in with demo
# citizens; Miz trusts the signing key it publishes at start.
export MIZ_INQUIRY_TOKEN="${MIZ_INQUIRY_TOKEN:-miz-demo-bus-credential}"
rm -f "$INSTANCE/agency-standin-keys.json"
"${FLASK[@]}" agency-standin --host 127.0.0.1 --port "$STANDIN_PORT" &
children+=($!)
for _ in $(seq 600); do  # up to a minute: a busy machine imports slowly
  [ -s "$INSTANCE/agency-standin-keys.json" ] && break
  sleep 0.1
done
[ -s "$INSTANCE/agency-standin-keys.json" ] || { echo "the agencies' stand-in did not start" >&2; exit 1; }
export MIZ_INQUIRY_URL="http://127.0.0.1:$STANDIN_PORT"
# What each agency allows a day and charges a call (the government service bus is metered).
DEMO_TARIFFS='{"shahkar": {"daily_quota": 20000, "cost_rials": 1500}, "sabt-ahval": {"daily_quota": 20000, "cost_rials": 2000}, "post": {"cost_rials": 500}, "judiciary": {"daily_quota": 5000, "cost_rials": 5000}, "nezam-vazifeh": {"cost_rials": 2000}, "tax": {"cost_rials": 3000}, "mojavez": {"cost_rials": 1000}}'
export MIZ_INQUIRY_TARIFFS="${MIZ_INQUIRY_TARIFFS:-$DEMO_TARIFFS}"
export MIZ_INQUIRY_KEYS="$INSTANCE/agency-standin-keys.json"

"${FLASK[@]}" demo-seed --host "$HOST" --port "$PORT"
"${FLASK[@]}" worker &
children+=($!)

if [ -n "${DISPLAY:-}" ] && [ -f instance/kiosk-demo.toml ]; then
  echo "Kiosk window: $PY -m kiosk --config instance/kiosk-demo.toml"
  (sleep 3; exec "$PY" -m kiosk --config instance/kiosk-demo.toml) &
  children+=($!)
fi

MIZ_SESSION_COOKIE_SECURE=false MIZ_REMEMBER_COOKIE_SECURE=false MIZ_ENFORCE_QUEUE_HOURS=false \
  "${FLASK[@]}" run --host "$HOST" --port "$PORT"
