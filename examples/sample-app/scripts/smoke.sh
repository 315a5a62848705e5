#!/bin/sh
# Smoke-check a running deployment: scripts/smoke.sh BASE_URL [EXPECTED_PR]
#   BASE_URL     e.g. http://127.0.0.1:8000
#   EXPECTED_PR  when given, /api/version must report this pr_number
set -eu

base_url="${1:?usage: scripts/smoke.sh BASE_URL [EXPECTED_PR]}"
expected_pr="${2:-}"
attempts="${SMOKE_ATTEMPTS:-30}"

i=0
until curl --fail --silent --show-error --max-time 2 "$base_url/health" | grep -q '"status":"ok"'; do
  i=$((i + 1))
  if [ "$i" -ge "$attempts" ]; then
    echo "smoke: $base_url/health did not become healthy after $attempts attempts" >&2
    exit 1
  fi
  sleep 1
done
echo "smoke: /health ok"

curl --fail --silent --show-error --max-time 5 "$base_url/" | grep -q '<h1>sample-app'
echo "smoke: / ok"

version="$(curl --fail --silent --show-error --max-time 5 "$base_url/api/version")"
echo "smoke: /api/version $version"
if [ -n "$expected_pr" ]; then
  echo "$version" | grep -q "\"pr_number\":\"$expected_pr\"" || {
    echo "smoke: expected pr_number $expected_pr" >&2
    exit 1
  }
fi
