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

# launch OUTPUT COMMAND...: start COMMAND detached (above) under a supervisor
# (ecsload/commands/supervise.py; needs PY), stdout and stderr to OUTPUT (-: the caller's
# own stderr, a terminal stays a terminal). The supervisor's pid goes into LAUNCHED, for
# the caller to `wait` on; it lives until COMMAND and everything COMMAND started are gone,
# and exits with COMMAND's code. The script holds a pipe to its stdin: stop_group writes
# to it. This script never signals what it launched, so a PID that bash has reaped and
# the kernel has given to another process is never touched.
LAUNCHED=""
declare -gA LAUNCH_PIPES=() # pid -> the fd of the pipe to its supervisor's stdin
launch() {
  local output=$1 fd
  shift
  if [[ $output == - ]]; then
    exec {fd}> >(exec "${DETACHED[@]}" "$PY" -m ecsload.commands.supervise -- "$@" >&2)
  else
    exec {fd}> >(exec "${DETACHED[@]}" "$PY" -m ecsload.commands.supervise -- "$@" >"$output" 2>&1)
  fi
  LAUNCHED=$!
  LAUNCH_PIPES[$LAUNCHED]=$fd
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

# stop_group PID SECONDS: stop a launched child (its pid from LAUNCHED): tell its
# supervisor to SIGTERM it and, after SECONDS, SIGKILL what is left of its process group;
# wait until it is gone. A child that has ended already is only waited for (again): no
# signal goes anywhere from here. Writing to the pipe of a supervisor that has exited fails
# quietly (SIGPIPE is ignored in that subshell only).
stop_group() {
  local pid=$1
  [[ -n $pid ]] || return 0
  ask_to_stop "$@"
  wait "$pid" 2>/dev/null || true
}

# ask_to_stop PID SECONDS: stop_group's request alone, not waited for (to stop several
# children at once, then stop_group each); asked once, later requests are no-ops.
ask_to_stop() {
  local pid=$1 seconds=$2 fd
  [[ -n $pid ]] || return 0
  fd=${LAUNCH_PIPES[$pid]:-}
  [[ -n $fd ]] || return 0
  (
    trap '' PIPE
    printf '%s\n' "$seconds" >&"$fd"
  ) 2>/dev/null || true
  exec {fd}>&-
  unset "LAUNCH_PIPES[$pid]"
}
