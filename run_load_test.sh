#!/usr/bin/env bash
# Usage: ./run_load_test.sh [-v] [options] [CONFIG.json]     (./run_load_test.sh --help)
#        ./run_load_test.sh --master --expect-workers N ...   (with ECS_ENDPOINT)
#        ./run_load_test.sh --worker --master-host HOST       (on each worker machine)
#        ./run_load_test.sh capacity --slo EXPR [--min-rate R] [--max-rate R] [options]
#        ./run_load_test.sh report RUN_DIR [--graphs FILE.pdf]
#        ./run_load_test.sh history [--last N] [--json] | history import DIR... | history prune --keep N
#
# Sweeps concurrency levels with headless Locust against ECS_ENDPOINT or, when
# no endpoint is given, against a local ECS node that it starts, checks and
# stops itself. Shows a live line while each level runs, then a line per level,
# a short table across levels and the answers (-v: every table), and writes
# report.html; everything a run makes lands in one results folder (`report`
# rewrites the report of one). Python
# (ecsload/) resolves the plan and does the statistics; this script runs the
# processes.
#
# Exit codes: `--help` lists them (the table is ecsload/exits.py; the plan gives it to
# bash as EXIT_* variables; only EXIT_NO_PYTHON must be known before).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/venv.sh
source "$ROOT/lib/venv.sh"
# shellcheck source=lib/process.sh
source "$ROOT/lib/process.sh"

readonly NODE_START_SECONDS=30
readonly REPORT_SECONDS=120
EXIT_NO_PYTHON=5 # the one exit code needed before Python runs (tests/test_exits.py)
NODE_PID=""
LOCUST_PID="" # a worker machine's Locust
SERVER_PIDS=() SERVER_DIR="" # the level servers (levels, run-end) and their sockets' folder
CLIENT=() CLIENT_PID="" # a server's client (ecsload/commands/level_client.py), the running one
TELLING_PID="" # the client telling the levels server the run (start_servers)
SUMMARY_WRITTEN=0 # set once the run's summary and verdict are written: a Ctrl-C then
VERDICT=0         # exits with the verdict's code (0, 6 or 7), not 130
NODE_STAGE="" # while the local node is watched: "during level 5", "after level 5"
REPORT_PID=""
REPORTED=0
INTERRUPTED=0 # set by a Ctrl-C or SIGTERM: the run is summarised as far as it went
# Set by the plan (python -m ecsload.commands.plan), which main evals: the settings bash
# uses, the run's files it names, the exit codes. Each level's own come from plan.json
# (ecsload/commands/level.py), not from these.
PY="" RUN_DIR="" LEVELS="" REPEAT="" ENDPOINT="" CREDENTIALS="" VERBOSE="" HAPPY_IMAGE=""
NEWRELIC_CONFIG="" NODE_DEPLOYMENT="" CA_BUNDLE="" INSECURE="" ROLE="" MASTER_HOST=""
MASTER_PORT="" GRAPHS="" RATES="" HISTORY="" NODE_DELAY="" REPORT_FILE=""
NODE_DIR="" NODE_CONFIG="" NODE_HTPASSWD="" NODE_CREDS_LOG="" NODE_PAIRS="" NODE_STDOUT=""
NODE_LOG="" NODE_STATUS="" # the local node's files
SEARCH="" # "capacity": a capacity search (ecsload/commands/capacity.py decides its steps)
TLS=()    # how every client verifies an https endpoint: --ca-bundle FILE, --insecure, or nothing
SHORT=()  # the terminal's short form (a line per level, the answers) unless -v: --short

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

# cleanup: on every exit, stop what runs; a run that ended early (Locust failed, Ctrl-C, a
# verdict's exit code) still gets the report of the levels that finished. Nothing here may
# fail: a failing command in an EXIT trap would replace the run's exit code.
cleanup() {
  trap - CHLD # the node is stopped below: that is no news
  stop_group "$LOCUST_PID" 5
  LOCUST_PID=""
  stop_servers
  stop_group "$NODE_PID" 10
  NODE_PID=""
  stop_group "$REPORT_PID" 0
  REPORT_PID=""
  if ((INTERRUPTED && !SUMMARY_WRITTEN)) && [[ -n $RUN_DIR && $ROLE != worker ]]; then
    # As far as it went: the levels (and repeats) that finished, marked interrupted.
    "$PY" -m ecsload.commands.summarize partial "$RUN_DIR" || true
  fi
  write_report || true
}

on_signal() {
  trap - INT TERM
  INTERRUPTED=1
  if ((SUMMARY_WRITTEN)); then
    local unfinished=""
    [[ -z $REPORT_PID ]] || unfinished="; the report was not: write it with $0 report $RUN_DIR"
    say "run_load_test.sh: interrupted after the summary was written: summary.txt and" \
      "summary.json are complete$unfinished" >&2
    exit "$VERDICT"
  fi
  say "run_load_test.sh: interrupted; stopping Locust and the local node" >&2
  exit "$EXIT_INTERRUPTED"
}

# write_node_config: the node's INI file, the format ECS itself reads.
write_node_config() {
  cat >"$NODE_CONFIG" <<EOF
[ecs]
address = 127.0.0.1
port = 0
log_level = info
EOF
}

# node_failed: the node did not come up; show why and stop.
node_failed() {
  printf 'run_load_test.sh: the local ECS node did not start; last lines of its logs:\n' >&2
  tail -n 15 "$NODE_STDOUT" "$NODE_LOG" >&2 2>/dev/null || true
  exit "$EXIT_NODE"
}

# node_credentials: the pairs the local node accepts, hashed into its .htpasswd: the
# user's own ECS_CREDENTIALS when given, else three new pairs in the node's credentials.txt.
node_credentials() {
  if [[ -n $CREDENTIALS ]]; then
    "$PY" -m ecsnode.creds --from-pairs "$CREDENTIALS" --htpasswd "$NODE_HTPASSWD" \
      >"$NODE_CREDS_LOG" 2>&1
  else
    CREDENTIALS=$NODE_PAIRS
    "$PY" -m ecsnode.creds 3 --htpasswd "$NODE_HTPASSWD" --pairs "$CREDENTIALS" \
      >"$NODE_CREDS_LOG" 2>&1
  fi
}

# start_local_node: credentials, the node on a free loopback port, a health
# check; sets ENDPOINT (and CREDENTIALS, unless the user gave theirs).
start_local_node() {
  local NODE_RUNNER node delay
  local -a agent=() limits=()
  # The node's folder, made 0700 (it holds the credentials: nobody else may read it).
  mkdir -m 700 "$NODE_DIR" || fail "$EXIT_NODE" "cannot make the node's folder $NODE_DIR"
  node_credentials ||
    fail "$EXIT_NODE" "could not make the local node's credentials: $(cat "$NODE_CREDS_LOG")"
  write_node_config
  if [[ -n $NEWRELIC_CONFIG ]]; then
    # newrelic-admin execs the node, so NODE_PID stays the node's own; the
    # agent logs where the INI's log_file says (stdout: the node's stdout.txt).
    agent=(env "NEW_RELIC_CONFIG_FILE=$NEWRELIC_CONFIG" "$PY" -m newrelic.admin run-program)
    [[ $VERBOSE == 1 ]] && say "Running ECS under the New Relic agent; config file '$NEWRELIC_CONFIG'"
  fi
  [[ -z $NODE_DEPLOYMENT ]] || limits=(--deployment "$NODE_DEPLOYMENT")
  for delay in $NODE_DELAY; do # NAME=MS words (--node-delay), checked by the plan
    limits+=(--delay "$delay")
  done
  launch "$NODE_STDOUT" "${agent[@]}" "$PY" "$ROOT/ecservice.py" --config "$NODE_CONFIG" \
    --htpasswd "$NODE_HTPASSWD" "${limits[@]}" --images="$HAPPY_IMAGE" --log-file "$NODE_LOG" \
    --status-file "$NODE_STATUS"
  NODE_PID=$LAUNCHED
  [[ $VERBOSE == 1 ]] && say "Started ECS - PID = $NODE_PID; config file '$NODE_CONFIG'"
  node=$("$PY" -m ecsload.commands.ready --node-status "$NODE_STATUS" --pid "$NODE_PID" \
    --credentials "$CREDENTIALS" --timeout "$NODE_START_SECONDS" 2>>"$NODE_STDOUT") ||
    node_failed
  { read -r ENDPOINT && read -r NODE_RUNNER; } <<<"$node"
  [[ $VERBOSE == 1 ]] && say "Local ECS node @ '$ENDPOINT' runs tasks with the $NODE_RUNNER runner"
  return 0
}

# watch_node: from now on, the local node's exit ends the sweep at once (node_exited), with
# NODE_STAGE saying when. The node is this script's child (its supervisor's, whose exit is
# the node's): bash runs the CHLD trap whenever a child ends, also while it waits for Locust.
watch_node() {
  [[ -n $NODE_PID ]] || return 0
  NODE_STAGE="before the first level"
  trap node_exited CHLD
}

# node_exited: the CHLD trap; when the child that ended is the local node, one line and exit
# 3 (the cleanup stops Locust and writes the report of the levels that finished). No fork
# here (pid_alive reads /proc with a builtin): a command substitution would be a child too.
node_exited() {
  local rc=0 how
  [[ -n $NODE_PID ]] || return 0
  pid_alive "$NODE_PID" && return 0
  trap - CHLD
  wait "$NODE_PID" || rc=$? # bash has reaped it: this is its saved status
  NODE_PID=""
  how="exit code $rc"
  ((rc <= 128)) || how="signal $((rc - 128))"
  fail "$EXIT_NODE" "the local ECS node exited ($how) $NODE_STAGE: the sweep stops; see" \
    "$RUN_DIR/node/ecs.log"
}

# check_endpoint: the endpoint's certificate verified (a TLS handshake, no request) before
# anything sends it credentials; the check says what is wrong and exits 2 when it does not.
check_endpoint() {
  local said
  said=$("$PY" -m ecsload.commands.tls_check "$ENDPOINT" "${TLS[@]}") || exit $?
  [[ $VERBOSE == 1 ]] && say "$said"
  return 0
}

# run_locust OUTPUT ARGS...: one Locust process with the locustfile and the command line that
# `python -m ecsload.commands.locust_args ARGS...` builds from the plan, in its own process
# group, waited for and stopped whole; returns Locust's exit code.
run_locust() {
  local output=$1 rc=0
  local -a options
  shift
  mapfile -d '' -t options < <("$PY" -m ecsload.commands.locust_args "$@")
  wait "$!" || fail "$EXIT_LOCUST" "could not build Locust's command line from $RUN_DIR/plan.json"
  launch "$output" "$PY" -m locust -f "$ROOT/locustfile.py" "${options[@]}"
  LOCUST_PID=$LAUNCHED
  wait "$LOCUST_PID" || rc=$?
  stop_group "$LOCUST_PID" 0 # only closes the pipe: Locust's supervisor has cleared its group
  LOCUST_PID=""
  return "$rc"
}

# write_report: the run's report.html (and --graphs' PDF), bounded in time, once per run
# and only once a level has a summary: by the run-end server, or, when the run ended
# before its end (the servers are stopped then), by a process of its own. A report that
# fails or times out is a note on stderr: it never changes the run's exit code.
write_report() {
  local rc=0
  local -a report=(-q) # its options
  [[ $REPORTED == 0 && -n $RUN_DIR && $ROLE != worker ]] || return 0
  REPORTED=1
  [[ -z $GRAPHS ]] || report+=(--graphs "$GRAPHS")
  if ((${#SERVER_PIDS[@]})); then # the sweep's end: every level has its summary
    timeout --kill-after=5 "$REPORT_SECONDS" "${CLIENT[@]}" "$SERVER_DIR/run-end.sock" report \
      "${report[@]}" &
    REPORT_PID=$!
    wait "$REPORT_PID" || rc=$?
  else
    "$PY" -m ecsload.run_folder summarized "$RUN_DIR" || return 0
    # The URL (its password) reaches the report in the environment, never on a command line.
    local -x ECS_LOAD_HISTORY=$HISTORY
    launch - timeout --kill-after=5 "$REPORT_SECONDS" "$PY" -m ecsload.commands.report \
      "$RUN_DIR" "${report[@]}"
    REPORT_PID=$LAUNCHED
    wait "$REPORT_PID" || rc=$?
    stop_group "$REPORT_PID" 0
  fi
  REPORT_PID=""
  if [[ $rc == 124 || $rc == 137 ]]; then
    say "run_load_test.sh: note: the report took over $REPORT_SECONDS s and was stopped;" \
      "write it with: $0 report '$RUN_DIR'" >&2
  elif [[ $rc != 0 ]]; then
    say "run_load_test.sh: note: the report could not be written (exit $rc)" >&2
  else
    say "Find the report @ '$REPORT_FILE'"
  fi
  return 0
}

# record_history: add the run to its history (none with --no-history). A history that
# fails is one line; its exit code (8, only for a history the run was told to use)
# becomes the run's when no verdict failed. The run-end server adds it.
record_history() {
  local rc=0
  [[ -n $HISTORY ]] || return 0
  in_server run-end history || rc=$?
  if ((rc != 0 && VERDICT == 0)); then
    VERDICT=$rc
  fi
  return 0
}

# start_levels_server, start_servers: the two processes that run the sweep's commands
# (ecsload/commands/level_server.py): `levels` (each level, a capacity search's next step)
# and `run-end` (the run's summary, verdict, history entry and report). The levels server
# starts first, before the plan, so that its imports (Locust's) overlap the plan, the
# endpoint's check or the local node and are done by the first level; it learns the run
# from its first request, `run RUN_DIR` (sent in the background: it is answered once the
# imports are done; tell_run waits for it). The run-end server starts after the plan, its
# imports at idle priority. Their sockets are in a folder of their own that only this
# user can open; in_server asks one to run a command.
start_levels_server() {
  SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecs-load.XXXXXX") ||
    fail "$EXIT_USAGE" "cannot make a folder in ${TMPDIR:-/tmp}: set TMPDIR to a folder you can write"
  launch - "$PY" -m ecsload.commands.level_server "$SERVER_DIR/levels.sock" - levels
  SERVER_PIDS+=("$LAUNCHED")
  CLIENT=("$PY" -S -m ecsload.commands.level_client)
}

start_servers() {
  # The URL (its password) reaches the verdict, the history and the report in the environment.
  local -x ECS_LOAD_HISTORY=$HISTORY
  launch - "$PY" -m ecsload.commands.level_server "$SERVER_DIR/run-end.sock" "$RUN_DIR" run-end
  SERVER_PIDS+=("$LAUNCHED")
  # Quiet: a run that ends before its first level (a certificate that does not verify, a
  # node that would not start) stops the server under it, and its one line is the run's.
  "${CLIENT[@]}" "$SERVER_DIR/levels.sock" run "$RUN_DIR" 2>/dev/null &
  TELLING_PID=$!
}

# tell_run: the levels server has been told the run (before the first level).
tell_run() {
  local rc=0
  wait "$TELLING_PID" || rc=$?
  TELLING_PID=""
  ((rc == 0)) || fail "$EXIT_LOCUST" "the levels server did not start (exit $rc);" \
    "its error, if it said one, is above"
}

# in_server levels|run-end COMMAND ARG...: that server runs COMMAND (its arguments, the run
# folder added: commands/level_server.py) on this script's stdin, stdout and stderr. Its
# client is waited for in the background, so that the traps run meanwhile; COMMAND's exit
# code is the function's.
in_server() {
  local rc=0
  "${CLIENT[@]}" "$SERVER_DIR/$1.sock" "${@:2}" &
  CLIENT_PID=$!
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  return "$rc"
}

# stop_servers: the running command, if any, stops as a Ctrl-C stops it (a level's Locust
# keeps what it measured), then the servers, both asked at once; a client ends with them.
stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    ask_to_stop "$pid" 20
  done
  for pid in "${SERVER_PIDS[@]}"; do
    stop_group "$pid" 20
  done
  SERVER_PIDS=()
  [[ -z $CLIENT_PID ]] || wait "$CLIENT_PID" 2>/dev/null || true
  [[ -z $TELLING_PID ]] || wait "$TELLING_PID" 2>/dev/null || true
  CLIENT_PID="" TELLING_PID=""
  [[ -z $SERVER_DIR ]] || rm -rf "$SERVER_DIR"
  SERVER_DIR=""
}

# run_level KEY I N R [SECONDS]: level I of N (counting every repeat), repeat R of the plan's,
# whose users (with --rates, arrival rate) are KEY; a capacity search's step has its
# SECONDS. The level server runs it: the probe and the live line beside Locust, then its
# table (or, when Locust failed, one line saying why); ecsload/commands/level.py. Its exit
# code, if not 0, is the run's.
run_level() {
  local rc=0
  NODE_STAGE="during level $1"
  in_server levels level "$1" "$2" "$3" "$4" "$ENDPOINT" "$CREDENTIALS" ${5:+"$5"} || rc=$?
  NODE_STAGE="after level $1"
  ((rc == 0)) || exit "$rc"
}

# run_search: a capacity search: each step an arrival-rate level; after each, Python judges
# it (in the level server) and says the next (its rate, seconds, repeat, index, the most
# steps) or, once it has the answer, nothing.
run_search() {
  local rate seconds repeat index at_most next
  while :; do
    next=$("${CLIENT[@]}" "$SERVER_DIR/levels.sock" capacity next) || exit $?
    read -r rate seconds repeat index at_most <<<"$next"
    [[ -n $rate ]] || return 0
    run_level "$rate" "$index" "$at_most" "$repeat" "$seconds"
  done
}

# run_worker: Locust workers for each level of a master's sweep. The master runs
# one Locust process per level, so a worker process lasts one level; the next
# one connects to the next level's master, until the master says the sweep is
# over (worker.json). Bounded: a worker that hears from no master quits after
# Locust's connect window (5 minutes), one whose master vanishes after 60 s.
run_worker() {
  local level=0 rc state
  local -a paths # the level's worker.json, Locust's output, its log
  while :; do
    level=$((level + 1)) rc=0
    mapfile -d '' -t paths < <("$PY" -m ecsload.run_folder worker "$RUN_DIR" "$level")
    wait "$!" || fail "$EXIT_LOCUST" "cannot make the folder of level $level"
    [[ $VERBOSE == 1 ]] && say "Find locust log file @ '${paths[2]}' for level $level"
    run_locust "${paths[1]}" worker "$RUN_DIR" "$level" || rc=$?
    state=$("$PY" -m ecsload.commands.worker_state "${paths[0]}")
    case $state in
      next) ;;
      over) break ;;
      *)
        fail "$EXIT_LOCUST" "no master at $MASTER_HOST:$MASTER_PORT ended level $level" \
          "(exit $rc); see '${paths[1]}'"
        ;;
    esac
  done
  [[ $VERBOSE == 1 ]] && say "The master's sweep is over after $level level(s)"
  return 0
}

# hide_history_url ARGS...: a --history URL (and its password) leaves the command line,
# where every user of the machine sees it: the script runs again without it, the URL in
# the environment (ECSLOAD_HISTORY_OPTION), which the plan and the history command read
# as the option (ecsload/history_location.py).
hide_history_url() {
  local found="" arg
  local -a kept=()
  while (($#)); do
    arg=$1
    shift
    case $arg in
      --history=*://*) found=${arg#--history=} ;;
      --history)
        if [[ ${1:-} == *://* ]]; then
          found=$1
          shift
        else
          kept+=("$arg")
        fi
        ;;
      *) kept+=("$arg") ;;
    esac
  done
  [[ -n $found ]] || return 0
  export ECSLOAD_HISTORY_OPTION=$found
  exec "$ROOT/run_load_test.sh" "${kept[@]}"
}

main() {
  local plan level index=0 repeat
  local -a levels
  hide_history_url "$@"
  # PYTHONSAFEPATH: `python -m` must not import an ecsload of the current folder first.
  export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} PYTHONSAFEPATH=1 ECSLOAD_PROG=run_load_test.sh
  command -v python3 >/dev/null ||
    fail "$EXIT_NO_PYTHON" "python3 not found: install Python 3.11 or newer"
  if [[ ${1:-} == report ]]; then
    shift
    PY=$(ecs_python "$ROOT" requirements.txt) || exit "$EXIT_NO_PYTHON"
    ECSLOAD_PROG="run_load_test.sh report" exec "$PY" -m ecsload.commands.report "$@"
  fi
  if [[ ${1:-} == history ]]; then
    shift
    PY=$(ecs_python "$ROOT" requirements.txt) || exit "$EXIT_NO_PYTHON"
    ECSLOAD_PROG="run_load_test.sh history" exec "$PY" -m ecsload.commands.history "$@"
  fi
  if [[ ${1:-} == capacity ]]; then
    SEARCH=capacity
    shift
  fi
  if wants_help "$@"; then
    exec python3 -m ecsload.commands.plan ${SEARCH:+"$SEARCH"} --help
  fi
  PY=$(ecs_python "$ROOT" requirements.txt) || exit "$EXIT_NO_PYTHON"
  trap cleanup EXIT
  start_levels_server
  plan=$("$PY" -m ecsload.commands.plan ${SEARCH:+"$SEARCH"} "$@") || exit $?
  eval "$plan"
  trap on_signal INT TERM
  [[ $VERBOSE == 1 ]] || SHORT=(--short)
  if [[ $INSECURE == true ]]; then
    TLS=(--insecure)
  elif [[ -n $CA_BUNDLE ]]; then
    TLS=(--ca-bundle "$CA_BUNDLE")
  fi
  if [[ $ROLE == worker ]]; then
    stop_servers # a worker's Locust is started by bash (run_worker)
    run_worker
    return 0
  fi
  start_servers
  if [[ -n $ENDPOINT ]]; then
    check_endpoint
  else
    start_local_node
  fi
  read -ra levels <<<"${RATES:-$LEVELS}"
  watch_node
  tell_run
  if [[ -n $SEARCH ]]; then
    run_search
  else
    # Repeats interleave (10 15 20, 10 15 20, …): a slow drift falls on every level alike.
    for ((repeat = 1; repeat <= REPEAT; repeat++)); do
      for level in "${levels[@]}"; do
        index=$((index + 1))
        run_level "$level" "$index" $((${#levels[@]} * REPEAT)) "$repeat"
      done
    done
  fi
  trap - CHLD # every level is measured: the node's end no longer matters
  in_server run-end summarize "${SHORT[@]}"
  # Thresholds and the baseline comparison: their exit code (6, 7) is the run's.
  in_server run-end verdict "${SHORT[@]}" || VERDICT=$?
  SUMMARY_WRITTEN=1
  record_history
  write_report
  [[ $VERBOSE == 1 ]] && say "Find the results @ '$RUN_DIR'"
  return "$VERDICT"
}

main "$@"
