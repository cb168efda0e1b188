#!/usr/bin/env bash
# Usage: scripts/local-docker.sh start|stop [--clean]|status|--help
#
# A private Docker daemon and a loopback registry for the local ECS node and the docker tests,
# with no internet: Debian's dockerd (own data root, exec root, socket and config, no bridge, no
# iptables, so the host's network and any existing daemon are left alone), Debian's
# docker-registry on 127.0.0.1:5000, and an image made from busybox-static pushed there as
# 127.0.0.1:5000/ubuntu:14.04, 127.0.0.1:5000/busybox:latest and 127.0.0.1:5000/alpine:latest.
# 127.0.0.1:5000/bindle:berry does not exist (the not-found task).
#
#   start           start both (idempotent: what already runs is kept); prints DOCKER_HOST=...
#   stop [--clean]  stop both; --clean also deletes the state folder (images, logs)
#   status          say what runs; exit 0 only when both do
#
# Environment: ECS_DOCKER_STATE  state folder (default /tmp/ecs-local-docker): docker.sock,
#   dockerd.log, registry.log, data/ (images), registry/ (pushed images).
# Needs root and the Debian packages docker.io, docker-registry, busybox-static; installs nothing.
# Exit codes: 0 ok; 1 usage; 2 missing package or not root; 3 could not start (see the log named);
#   4 status: not running.
set -euo pipefail

# shellcheck source=lib/process.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib/process.sh"

readonly REGISTRY_ADDR="127.0.0.1:5000"
readonly IMAGES=("ubuntu:14.04" "busybox:latest" "alpine:latest")
readonly STATE_MARK=".ecs-local-docker"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

say() {
  printf 'local-docker: %s\n' "$*" >&2
}

die() {
  local code="$1"
  shift
  say "$*"
  exit "$code"
}

state_dir() {
  printf '%s\n' "${ECS_DOCKER_STATE:-/tmp/ecs-local-docker}"
}

# The pid in FILE when that process is alive and its command line mentions NEEDLE (so a pid
# reused by another program is never taken for ours); empty otherwise.
live_pid() {
  local file="$1" needle="$2" pid
  [[ -s "$file" ]] || return 0
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle"; then
    printf '%s\n' "$pid"
  fi
}

dockerd_pid() {
  local state="$1"
  live_pid "$state/dockerd.pid" "$state/docker.sock"
}

registry_pid() {
  local state="$1"
  live_pid "$state/registry.pid" "$state/registry.yml"
}

# dockerd's own containerd; it outlives a dockerd that was killed with SIGKILL.
containerd_pid() {
  local state="$1"
  live_pid "$state/exec/containerd/containerd.pid" "$state/exec/containerd"
}

docker_cli() {
  local state="$1"
  shift
  docker --host "unix://$state/docker.sock" "$@"
}

port_open() {
  local host="$1" port="$2"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

check_prerequisites() {
  local missing=() cmd
  for cmd in dockerd docker; do
    command -v "$cmd" >/dev/null || missing+=("docker.io")
  done
  command -v docker-registry >/dev/null || missing+=("docker-registry")
  # The image is a bare busybox: only the static build runs without a libc in the container.
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    missing+=("busybox-static")
  fi
  if ((${#missing[@]} > 0)); then
    die 2 "missing Debian packages: $(printf '%s\n' "${missing[@]}" | sort -u | paste -sd ' ');" \
      "install them: apt-get install -y docker.io docker-registry busybox-static"
  fi
  [[ "$(id -u)" == 0 ]] || die 2 "dockerd needs root: run this as root (e.g. sudo $0 start)"
}

start_dockerd() {
  local state="$1"
  [[ -n "$(dockerd_pid "$state")" ]] && return 0
  # What a killed daemon leaves behind: its pidfile, which stops a new dockerd from starting,
  # and perhaps its containerd (or that one's pidfile), which a new dockerd would wait for.
  stop_pid "$(containerd_pid "$state")" "containerd left by a killed dockerd"
  rm -f "$state/dockerd.pid" "$state/exec/containerd/containerd.pid"
  # An empty config file keeps a host /etc/docker/daemon.json out of this daemon.
  [[ -f "$state/daemon.json" ]] || printf '{}\n' >"$state/daemon.json"
  say "starting dockerd (log: $state/dockerd.log)"
  setsid dockerd \
    --config-file "$state/daemon.json" \
    --data-root "$state/data" \
    --exec-root "$state/exec" \
    --pidfile "$state/dockerd.pid" \
    --host "unix://$state/docker.sock" \
    --containerd-namespace ecs-load \
    --containerd-plugins-namespace ecs-load-plugins \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    </dev/null >>"$state/dockerd.log" 2>&1 9>&- &
  wait_started dockerd "$!" "$state/dockerd.log" 300 docker_cli "$state" version
}

# Wait (bounded: STEPS tenths of a second) until CHECK... succeeds; give up at once when the
# daemon PID has exited, with the last line of its LOG, which says why.
wait_started() {
  local name="$1" pid="$2" log="$3" steps="$4" i
  shift 4
  for ((i = 0; i < steps; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    pid_alive "$pid" || die 3 "$name exited at start: $(tail -n 1 "$log") (log: $log)"
    sleep 0.1
  done
  die 3 "$name did not answer within $((steps / 10)) s: see $log"
}

start_registry() {
  local state="$1"
  [[ -n "$(registry_pid "$state")" ]] && return 0
  if port_open 127.0.0.1 5000; then
    die 3 "$REGISTRY_ADDR is taken by another program: stop it, then run start again"
  fi
  cat >"$state/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  say "starting docker-registry on $REGISTRY_ADDR (log: $state/registry.log)"
  setsid docker-registry serve "$state/registry.yml" </dev/null >>"$state/registry.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"$state/registry.pid"
  wait_started docker-registry "$!" "$state/registry.log" 100 port_open 127.0.0.1 5000
}

# Import a busybox root filesystem once (a re-import would leave a dangling image each time).
build_image() {
  local state="$1" first="$REGISTRY_ADDR/${IMAGES[0]}" rootfs applet
  docker_cli "$state" image inspect "$first" >/dev/null 2>&1 && return 0
  say "building $first from busybox-static"
  rootfs="$(mktemp -d "$state/rootfs.XXXXXX")"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/:/bin/sh\n' >"$rootfs/etc/passwd"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . |
    docker_cli "$state" import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$first" >/dev/null ||
    die 3 "could not import $first (see $state/dockerd.log)"
  rm -rf "$rootfs"
}

# Push every name (cheap when the registry has it already, and it heals a wiped registry).
publish_images() {
  local state="$1" image
  for image in "${IMAGES[@]}"; do
    docker_cli "$state" tag "$REGISTRY_ADDR/${IMAGES[0]}" "$REGISTRY_ADDR/$image"
    docker_cli "$state" push "$REGISTRY_ADDR/$image" >>"$state/push.log" 2>&1 ||
      die 3 "could not push $REGISTRY_ADDR/$image: see $state/push.log"
  done
}

cmd_start() {
  local state
  state="$(state_dir)"
  check_prerequisites
  mkdir -p "$state"
  touch "$state/$STATE_MARK"
  # One start at a time (tests and the harness may call it together); the daemons do not
  # inherit the lock's descriptor (9>&- where they start), or they would hold it forever.
  exec 9>"$state/lock"
  flock -w 60 9 || die 3 "another start holds $state/lock for over 60 s"
  start_dockerd "$state"
  start_registry "$state"
  build_image "$state"
  publish_images "$state"
  say "ready: images ${IMAGES[*]/#/$REGISTRY_ADDR/}"
  printf 'DOCKER_HOST=unix://%s/docker.sock\n' "$state"
}

# SIGTERM PID, then wait (bounded) for it to exit; SIGKILL if it would not.
stop_pid() {
  local pid="$1" name="$2"
  [[ -n "$pid" ]] || return 0
  say "stopping $name (pid $pid)"
  terminate "$pid" 20 || say "$name did not stop within 20 s: killed it"
}

cmd_stop() {
  local clean="$1" state
  state="$(state_dir)"
  [[ -d "$state" ]] || {
    say "nothing to stop: no $state"
    return 0
  }
  stop_pid "$(registry_pid "$state")" docker-registry
  stop_pid "$(dockerd_pid "$state")" dockerd
  stop_pid "$(containerd_pid "$state")" "containerd left by a killed dockerd"
  if [[ "$clean" == 1 ]]; then
    [[ -f "$state/$STATE_MARK" ]] || die 3 "$state is not a local-docker state folder: not removing it"
    say "removing $state"
    rm -rf "$state"
  fi
}

cmd_status() {
  local state pid up=0
  state="$(state_dir)"
  pid="$(dockerd_pid "$state")"
  if [[ -n "$pid" ]]; then
    echo "dockerd: running (pid $pid), DOCKER_HOST=unix://$state/docker.sock"
    up=$((up + 1))
  else
    echo "dockerd: stopped"
  fi
  pid="$(registry_pid "$state")"
  if [[ -n "$pid" ]]; then
    echo "registry: running (pid $pid) on $REGISTRY_ADDR"
    up=$((up + 1))
  else
    echo "registry: stopped"
  fi
  ((up == 2)) || return 4
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start) [[ $# == 1 ]] || die 1 "start takes no arguments (see --help)"; cmd_start ;;
    stop)
      [[ $# -le 2 ]] || die 1 "too many arguments for stop (see --help)"
      case "${2:-}" in
        "") cmd_stop 0 ;;
        --clean) cmd_stop 1 ;;
        *) die 1 "unknown option for stop: $2 (use --clean or nothing)" ;;
      esac
      ;;
    status) cmd_status ;;
    -h | --help | help) usage ;;
    "") die 1 "missing command: use start, stop or status (see --help)" ;;
    *) die 1 "unknown command: $cmd (use start, stop or status; see --help)" ;;
  esac
}

main "$@"
