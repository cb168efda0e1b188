# shellcheck shell=bash
# Process helpers shared by the project's scripts: is it alive, wait (bounded), start a
# child detached, stop it. Sourced; defines functions only.

# How children are started: in a process group of their own, so that Ctrl-C reaches only
# the script, which stops them in order; and with a parent-death signal, so that the kernel
# stops them if the script dies without cleaning up (SIGKILL, a CI job's timeout).
readonly -a DETACHED=(setsid setpriv --pdeathsig TERM --)

# pid_alive PID: true while PID exists and is not a zombie (exited, not yet reaped). The
# state is the field after the last ')', so a command name with spaces cannot fool it. No
# fork (a CHLD trap calls it).
pid_alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

pid_gone() {
  ! pid_alive "$1"
}

# wait_for STEPS COMMAND...: run COMMAND every 0.1 s until it succeeds, at most STEPS
# times; false when it never did.
wait_for() {
  local steps=$1 i
  shift
  for ((i = 0; i < steps; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# launch OUTPUT COMMAND...: start COMMAND detached (above), stdout and stderr to OUTPUT
# (-: the caller's own stderr, a terminal stays a terminal); its pid (the leader of its
# process group) goes into LAUNCHED, for the caller to read.
LAUNCHED=""
launch() {
  local output=$1
  shift
  if [[ $output == - ]]; then
    "${DETACHED[@]}" "$@" >&2 &
  else
    "${DETACHED[@]}" "$@" >"$output" 2>&1 &
  fi
  # shellcheck disable=SC2034  # read by the scripts that source this file
  LAUNCHED=$!
}

# terminate PID SECONDS: SIGTERM PID and wait up to SECONDS for it to go; SIGKILL it if it
# would not. For a process that is not this script's child (a daemon); false if killed.
terminate() {
  local pid=$1 seconds=$2
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_for $((seconds * 10)) pid_gone "$pid" && return 0
  kill -KILL "$pid" 2>/dev/null || true
  return 1
}

# stop_group PID SECONDS: ask a launched child to stop, give it SECONDS, then kill whatever
# is left of its process group and reap it.
stop_group() {
  local pid=$1 seconds=$2
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_for $((seconds * 10)) pid_gone "$pid" || true
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
