#!/usr/bin/env bash
# Usage: ./run_load_test.sh [-v] [options] [CONFIG.json]     (./run_load_test.sh --help)
#        ./run_load_test.sh --master --expect-workers N ...   (with ECS_ENDPOINT)
#        ./run_load_test.sh --worker --master-host HOST       (on each worker machine)
#
# Sweeps concurrency levels with headless Locust against ECS_ENDPOINT or, when
# no endpoint is given, against a local ECS node that it starts, checks and
# stops itself. Prints a table per level and one across levels; everything a
# run makes lands in one results folder. Python (ecsload/) resolves the plan
# and does the statistics; this script runs the processes.
#
# Exit codes: `--help` lists them (the table is ecsload/exits.py; bash reads it
# as EXIT_* variables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/venv.sh
source "$ROOT/lib/venv.sh"
# shellcheck source=lib/process.sh
source "$ROOT/lib/process.sh"

readonly NODE_START_SECONDS=30
NODE_PID=""
LOCUST_PID=""
PROBE_PID=""
# Set by the plan (python -m ecsload.commands.plan), which main evals.
PY="" RUN_DIR="" LEVELS="" REQUESTS="" HATCH_RATE="" ENDPOINT="" CREDENTIALS=""
LEVEL_TIME_CAP="" VERBOSE="" HAPPY_IMAGE="" MISSING_IMAGE="" NEWRELIC_CONFIG=""
NODE_DEPLOYMENT=""
PROBE_RATE="" PROCESSES="" ROLE="" EXPECT_WORKERS="" MASTER_BIND_HOST="" MASTER_HOST="" MASTER_PORT=""
WORKER_WAIT=""

say() { printf '%s\n' "$*"; }
fail() {
  local code=$1
  shift
  printf 'run_load_test.sh: %s\n' "$*" >&2
  exit "$code"
}

wants_help() {
  local arg
  for arg in "$@"; do
    [[ $arg == -h || $arg == --help ]] && return 0
  done
  return 1
}

cleanup() {
  stop_group "$LOCUST_PID" 5
  LOCUST_PID=""
  stop_probe
  stop_group "$NODE_PID" 10
  NODE_PID=""
}

on_signal() {
  trap - INT TERM
  say "run_load_test.sh: interrupted; stopping Locust and the local node" >&2
  exit "$EXIT_INTERRUPTED"
}

# write_node_config DIR: the node's INI file, the format ECS itself reads.
write_node_config() {
  cat >"$1/ecs.conf" <<EOF
[ecs]
address = 127.0.0.1
port = 0
log_level = info
EOF
}

# node_failed: the node did not come up; show why and stop.
node_failed() {
  local dir=$RUN_DIR/node
  printf 'run_load_test.sh: the local ECS node did not start; last lines of its logs:\n' >&2
  tail -n 15 "$dir/stdout.txt" "$dir/ecs.log" >&2 2>/dev/null || true
  exit "$EXIT_NODE"
}

# node_announced READY_FILE: true once the node wrote its URL, or has exited (no point waiting).
node_announced() {
  [[ -s $1 ]] || pid_gone "$NODE_PID"
}

# start_local_node: credentials, the node on a free loopback port, a health
# check; sets ENDPOINT and CREDENTIALS to the node's.
start_local_node() {
  local dir=$RUN_DIR/node runner
  local -a agent=() limits=()
  mkdir -p "$dir"
  "$PY" -m ecsnode.creds 3 --htpasswd "$dir/.htpasswd" >"$dir/credentials.txt" 2>"$dir/creds.log" ||
    fail "$EXIT_NODE" "could not generate the local node's credentials: $(cat "$dir/creds.log")"
  CREDENTIALS=$dir/credentials.txt
  write_node_config "$dir"
  if [[ -n $NEWRELIC_CONFIG ]]; then
    # newrelic-admin execs the node, so NODE_PID stays the node's own; the
    # agent logs where the INI's log_file says (stdout: the node's stdout.txt).
    agent=(env "NEW_RELIC_CONFIG_FILE=$NEWRELIC_CONFIG" "$PY" -m newrelic.admin run-program)
    [[ $VERBOSE == 1 ]] && say "Running ECS under the New Relic agent; config file '$NEWRELIC_CONFIG'"
  fi
  [[ -z $NODE_DEPLOYMENT ]] || limits=(--deployment "$NODE_DEPLOYMENT")
  launch "$dir/stdout.txt" "${agent[@]}" "$PY" "$ROOT/ecservice.py" --config "$dir/ecs.conf" \
    --htpasswd "$dir/.htpasswd" "${limits[@]}" --images "$HAPPY_IMAGE" --log-file "$dir/ecs.log" \
    --ready-file "$dir/ready"
  NODE_PID=$LAUNCHED
  [[ $VERBOSE == 1 ]] && say "Started ECS - PID = $NODE_PID; config file '$dir/ecs.conf'"
  wait_for $((NODE_START_SECONDS * 10)) node_announced "$dir/ready" || true
  [[ -s $dir/ready ]] || node_failed
  ENDPOINT=$(<"$dir/ready")
  "$PY" -m ecsload.commands.ready "$ENDPOINT" --credentials "$CREDENTIALS" --timeout 10 \
    >>"$dir/stdout.txt" 2>&1 || node_failed
  runner=$(grep -o -m 1 'runner=[a-z]*' "$dir/ecs.log" | cut -d= -f2 || true)
  printf '%s\n' "${runner:-unknown}" >"$dir/runner"
  [[ $VERBOSE == 1 ]] && say "Local ECS node @ '$ENDPOINT' runs tasks with the ${runner:-unknown} runner"
  return 0
}

# spread_options LAST: Locust's options for more than one process (--processes,
# --master), one per line; LAST=1 tells a master's workers that the sweep ends.
spread_options() {
  if [[ $ROLE == master ]]; then
    printf '%s\n' --master --expect-workers "$EXPECT_WORKERS" --master-bind-host \
      "$MASTER_BIND_HOST" --master-bind-port "$MASTER_PORT" --expect-workers-max-wait "$WORKER_WAIT"
    [[ $1 == 1 ]] && printf '%s\n' --last-level
  elif [[ $PROCESSES != 1 ]]; then
    printf '%s\n' --processes "$PROCESSES" --expect-workers-max-wait "$WORKER_WAIT"
  fi
  return 0
}

# run_locust OUTPUT ARGS...: one Locust process with the locustfile, in its own process
# group, waited for and stopped whole; returns Locust's exit code.
run_locust() {
  local output=$1 rc=0
  shift
  launch "$output" "$PY" -m locust -f "$ROOT/locustfile.py" "$@"
  LOCUST_PID=$LAUNCHED
  wait "$LOCUST_PID" || rc=$?
  stop_group "$LOCUST_PID" 0
  LOCUST_PID=""
  return "$rc"
}

# start_probe DIR: the probe (paced GET _noop from a process of its own) beside the
# level, unless --probe-rate is 0. It stops itself after the time cap and a minute.
start_probe() {
  local -a credentials=()
  [[ $PROBE_RATE != 0 ]] || return 0
  [[ -z $CREDENTIALS ]] || credentials=(--credentials "$CREDENTIALS")
  launch "$1/probe.log" "$PY" -m ecsload.commands.probe "$ENDPOINT" --out "$1/probe.csv" \
    --rate "$PROBE_RATE" --max-seconds $((LEVEL_TIME_CAP + 60)) "${credentials[@]}"
  PROBE_PID=$LAUNCHED
}

stop_probe() {
  stop_group "$PROBE_PID" 2
  PROBE_PID=""
}

# run_level USERS LAST: one headless Locust run with the probe beside it, then its
# table (or, when Locust failed, one line saying why).
run_level() {
  local users=$1 dir=$RUN_DIR/level-$1 rc=0
  local -a spread
  mapfile -t spread < <(spread_options "$2")
  mkdir -p "$dir"
  if [[ $VERBOSE == 1 ]]; then
    say "Find locust log file @ '$dir/locust.log' for $users concurrency"
    say "Find locust output @ '$dir/output.txt' for $users concurrency"
  fi
  start_probe "$dir"
  run_locust "$dir/output.txt" --headless --host "$ENDPOINT" \
    -u "$users" -r "$HATCH_RATE" --run-time "${LEVEL_TIME_CAP}s" --exit-code-on-error 0 \
    --csv "$dir/locust" --html "$dir/report.html" --logfile "$dir/locust.log" \
    --stop-after-requests "$REQUESTS" --ecs-credentials "$CREDENTIALS" \
    --samples-file "$dir/samples.csv" --level-info "$dir/level.json" \
    --happy-image "$HAPPY_IMAGE" --missing-image "$MISSING_IMAGE" "${spread[@]}" || rc=$?
  stop_probe
  "$PY" -m ecsload.commands.summarize level "$dir" --concurrency "$users" --locust-exit "$rc" \
    --probe-rate "$PROBE_RATE"
}

# run_worker: Locust workers for each level of a master's sweep. The master runs
# one Locust process per level, so a worker process lasts one level; the next
# one connects to the next level's master, until the master says the sweep is
# over (worker.json). Bounded: a worker that hears from no master quits after
# Locust's connect window (5 minutes), one whose master vanishes after 60 s.
run_worker() {
  local level=0 dir rc state
  local -a processes=()
  [[ $PROCESSES == 1 ]] || processes=(--processes "$PROCESSES")
  while :; do
    level=$((level + 1)) rc=0 dir=$RUN_DIR/worker-$level
    mkdir -p "$dir"
    [[ $VERBOSE == 1 ]] && say "Find locust log file @ '$dir/locust.log' for level $level"
    run_locust "$dir/output.txt" --worker --master-host "$MASTER_HOST" \
      --master-port "$MASTER_PORT" "${processes[@]}" --logfile "$dir/locust.log" \
      --ecs-credentials "$CREDENTIALS" --worker-info "$dir/worker.json" || rc=$?
    state=$("$PY" -m ecsload.commands.worker_state "$dir/worker.json")
    case $state in
      next) ;;
      over) break ;;
      *)
        fail "$EXIT_LOCUST" "no master at $MASTER_HOST:$MASTER_PORT ended level $level" \
          "(exit $rc); see '$dir/output.txt'"
        ;;
    esac
  done
  [[ $VERBOSE == 1 ]] && say "The master's sweep is over after $level level(s)"
  return 0
}

main() {
  local plan level last exit_codes verdict=0
  export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} ECSLOAD_PROG=run_load_test.sh
  # The exit codes come from Python's table; only "no python3" (5, EXIT_NO_PYTHON) must be
  # known before Python runs (tests/test_exits.py holds the two together).
  exit_codes=$(python3 -m ecsload.exits) || fail 5 "python3 not found: install Python 3.11 or newer"
  eval "$exit_codes"
  if wants_help "$@"; then
    exec python3 -m ecsload.commands.plan --help
  fi
  PY=$(ecs_python "$ROOT" requirements.txt) || exit "$EXIT_NO_PYTHON"
  plan=$("$PY" -m ecsload.commands.plan "$@") || exit $?
  eval "$plan"
  trap cleanup EXIT
  trap on_signal INT TERM
  if [[ $ROLE == worker ]]; then
    run_worker
    return 0
  fi
  [[ -n $ENDPOINT ]] || start_local_node
  last=${LEVELS##* }
  for level in $LEVELS; do
    run_level "$level" "$([[ $level == "$last" ]] && echo 1 || echo 0)"
  done
  "$PY" -m ecsload.commands.summarize run "$RUN_DIR"
  # Thresholds and the baseline comparison: their exit code (6, 7) is the run's.
  "$PY" -m ecsload.commands.verdict "$RUN_DIR" || verdict=$?
  [[ $VERBOSE == 1 ]] && say "Find the results @ '$RUN_DIR'"
  return "$verdict"
}

main "$@"
