#!/usr/bin/env bash
# Usage: ./run_tests.sh [PYTEST_ARGS...]
#
# Runs every linter (ruff check, ruff format --check, shellcheck) and every
# test (pytest). On a fresh machine it first makes .venv with
# requirements-dev.txt. Extra arguments go to pytest, e.g. ./run_tests.sh -k
# plan. Exit code: that of the first step that failed, 0 when all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/venv.sh
source "$ROOT/lib/venv.sh"

# The shell scripts of the project, for shellcheck.
shell_scripts() {
  git -C "$ROOT" ls-files '*.sh' .ci/run 2>/dev/null || ls "$ROOT"/*.sh "$ROOT"/lib/*.sh "$ROOT"/scripts/*.sh
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
  echo "== pytest"
  "$py" -m pytest "$@"
}

main "$@"
