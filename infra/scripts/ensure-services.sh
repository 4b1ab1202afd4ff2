#!/usr/bin/env bash
# Makes sure the local PostgreSQL and Redis the tests use are up: starts them when installed but
# stopped, and fails with a clear message when they are missing.
set -uo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 50); do
    if $check; then return 0; fi
    sleep 0.2
  done
  echo "error: $what did not come up" >&2
  return 1
}

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "error: PostgreSQL client tools are not installed (need pg_isready and a server on $PG_HOST:$PG_PORT)." >&2
  echo "       On Debian: apt-get install postgresql" >&2
  exit 1
fi
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_for PostgreSQL pg_up || exit 1
  else
    echo "error: PostgreSQL is not running on $PG_HOST:$PG_PORT and no local cluster is installed." >&2
    exit 1
  fi
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "error: Redis is not installed (need redis-server and redis-cli). On Debian: apt-get install redis-server" >&2
  exit 1
fi
if ! redis_up; then
  echo "starting the local Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_for Redis redis_up || exit 1
fi
echo "PostgreSQL and Redis are up"
