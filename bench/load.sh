#!/usr/bin/env bash
# Load test: wrk against POST /api/v1/predict, real production models (linear backend),
# gunicorn with deploy/gunicorn.conf.py and production settings (DEBUG=false).
#
#   bench/load.sh                                   # 30 s, 32 connections, 2 wrk threads
#   DURATION=60s CONNECTIONS=128 GUNICORN_WORKERS=4 bench/load.sh
#   PROFILE=1 bench/load.sh                         # + py-spy profile of one worker (needs py-spy)
#   REPLY_INDEX=0 bench/load.sh                     # answers without reply suggestions (no index)
#   PROFILE=1 PY_SPY_ARGS=--gil bench/load.sh       # only the thread holding the GIL: the CPU view
#                                                   # (the default samples every thread, waits included)
#
# Needs: wrk (apt-get install -y wrk), PostgreSQL and Redis on 127.0.0.1 (defaults below).
# The first run seeds demo data and trains the models into its own database (a few minutes);
# later runs reuse them. Prints a RESULT line (JSON) and writes it to $VAR_DIR/load-*.json.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"
BIN="$(dirname "$PY")"

DURATION="${DURATION:-30s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-8011}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-400}"
SEED_CONVERSATIONS="${SEED_CONVERSATIONS:-3000}"

export VAR_DIR="${VAR_DIR:-/tmp/var_bench}"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/csp_bench}"
export CELERY_BROKER_URL="${BENCH_BROKER_URL:-redis://127.0.0.1:6379/10}"
export CACHE_URL="${BENCH_CACHE_URL:-redis://127.0.0.1:6379/11}"
export MODEL_STORE="${MODEL_STORE:-$VAR_DIR/models}"
export DJANGO_SETTINGS_MODULE=csplatform.settings
# Production settings: what check --deploy passes with.
export DEBUG=false
export SECRET_KEY="${SECRET_KEY:-bench-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 60)}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"
export GUNICORN_BIND="127.0.0.1:$PORT"
export GUNICORN_ACCESSLOG="${GUNICORN_ACCESSLOG:-off}"
export GUNICORN_LOGLEVEL=warning
mkdir -p "$VAR_DIR"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }

if [[ "$DATABASE_URL" == postgres* ]]; then
  db="${DATABASE_URL##*/}"
  base="${DATABASE_URL%/*}"
  psql "$base/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
    || psql "$base/postgres" -qc "CREATE DATABASE \"$db\""
fi
"$PY" manage.py migrate --noinput -v0

has_models=$("$PY" - <<'PYEOF'
import django; django.setup()
from apps.registry.models import ModelVersion
print(ModelVersion.objects.filter(status=ModelVersion.Status.PRODUCTION).count())
PYEOF
)
if [ "$has_models" -lt 2 ]; then
  echo "== seeding demo data and training linear models (first run only)" >&2
  "$PY" manage.py seed_demo --conversations "$SEED_CONVERSATIONS" >&2
  "$PY" manage.py bootstrap_models --backend linear --no-score >&2
fi
# The answer carries reply suggestions from the reply index, as in production (and `make demo`):
# build it once (incremental: a no-op when nothing changed). REPLY_INDEX=0 measures without it.
if [ "${REPLY_INDEX:-1}" = "1" ]; then
  "$PY" manage.py rebuild_reply_index >&2
else
  "$PY" - <<'PYEOF'
import django; django.setup()
import shutil
from apps.scoring.services.retrieval import reply_index_path
shutil.rmtree(reply_index_path(), ignore_errors=True)
PYEOF
fi
export API_KEY="$("$PY" manage.py create_api_key "load-test-$(date +%s)" --scopes predict 2>/dev/null)"

"$BIN/gunicorn" -c deploy/gunicorn.conf.py csplatform.wsgi --daemon --pid "$VAR_DIR/gunicorn.pid" \
  --error-logfile "$VAR_DIR/gunicorn.log"
cleanup() {
  if [ -n "${SPY_PID:-}" ]; then kill "$SPY_PID" 2>/dev/null || true; fi
  if [ -n "${SPY_RAW_PID:-}" ]; then kill "$SPY_RAW_PID" 2>/dev/null || true; fi
  [ -f "$VAR_DIR/gunicorn.pid" ] || return 0
  local master children
  master="$(cat "$VAR_DIR/gunicorn.pid")"
  children="$(pgrep -P "$master" || true)"
  kill "$master" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$master" 2>/dev/null || break; sleep 0.5; done
  # Still there after 10 s (a stuck worker): stop our processes hard.
  kill -9 "$master" $children 2>/dev/null || true
  rm -f "$VAR_DIR/gunicorn.pid"
}
trap cleanup EXIT
URL="http://127.0.0.1:$PORT/api/v1/predict"
for _ in $(seq 1 60); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/health" && break
  sleep 1
done

sleep 2
workers="$(pgrep -P "$(cat "$VAR_DIR/gunicorn.pid")" | wc -l)"
echo "== warm-up ($WARMUP_REQUESTS requests: every worker loads the models once)" >&2
API_KEY="$API_KEY" wrk -t1 -c"$((workers * 2))" -d5s -s bench/load_predict.lua "$URL" >/dev/null 2>&1 || true

if [ "${PROFILE:-0}" = "1" ]; then
  target="$(pgrep -P "$(cat "$VAR_DIR/gunicorn.pid")" | head -1)"
  "$BIN/py-spy" record --pid "$target" --duration 20 --rate 200 ${PY_SPY_ARGS:-} --format speedscope \
    --output "$VAR_DIR/profile-predict.speedscope.json" --nonblocking >/dev/null 2>&1 &
  SPY_PID=$!
  "$BIN/py-spy" record --pid "$target" --duration 20 --rate 200 ${PY_SPY_ARGS:-} --format raw \
    --output "$VAR_DIR/profile-predict.txt" --nonblocking >/dev/null 2>&1 &
  SPY_RAW_PID=$!
fi

cores="$(nproc)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency POST $URL ($workers gunicorn workers, $cores cores: $cpu)" >&2
out="$(API_KEY="$API_KEY" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency \
  -s bench/load_predict.lua "$URL")"
echo "$out" >&2
result="$(echo "$out" | sed -n 's/^RESULT //p')"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
echo "$result" | "$PY" -c "
import json, sys
r = json.load(sys.stdin)
r.update(machine={'cores': $cores, 'cpu': '''$cpu'''}, gunicorn_workers=$workers,
         command='wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/load_predict.lua $URL')
print(json.dumps(r))
" | tee "$VAR_DIR/load-$stamp.json"
if [ "${PROFILE:-0}" = "1" ]; then
  # Both profilers: the summary reads the raw one, which must be complete.
  wait "$SPY_PID" "$SPY_RAW_PID" 2>/dev/null || true
  echo "== profile: $VAR_DIR/profile-predict.speedscope.json (open in https://speedscope.app)" >&2
  "$PY" bench/load_profile_summary.py "$VAR_DIR/profile-predict.txt" >&2 || true
fi
