#!/usr/bin/env bash
# Usage: scripts/build-image.sh [--tag NAME:VERSION] [--from IMAGE | --rebuild-base] [--help]
#
# Builds the ecs-load image (Dockerfile): one image for the sweep (--master), the workers
# (--worker) and the local ECS node. It needs no container registry:
#   1. the base: a Debian root filesystem (python3, python3-venv, libstdc++6, ca-certificates) made by
#      mmdebstrap from Debian's packages and imported as ecs-load-base:SUITE (kept and reused
#      by later builds unless --rebuild-base);
#   2. the pinned wheels of requirements.txt, downloaded here with this machine's own pip
#      and its configuration (index, proxy, certificates), which stay out of the image;
#   3. docker build with no network: pip installs from those wheels only.
# The image is tagged NAME:VERSION and NAME:latest, and its size printed.
#
#   --tag NAME:VERSION  default ecs-load:VERSION, VERSION from `git describe --always --dirty`
#   --from IMAGE        start from IMAGE instead of the mmdebstrap base (it needs python3 with
#                       venv, bash, coreutils, util-linux), e.g. python:3.11-slim-bookworm where
#                       a registry is reachable; its Python must be the one the wheels are for
#                       (3.11 by default, see ECS_LOAD_PYTHON)
#   --rebuild-base      make the mmdebstrap base again even if ecs-load-base:SUITE exists
#
# Environment: DOCKER_HOST (the daemon to build with); ECS_LOAD_SUITE (Debian suite, default
#   bookworm); ECS_LOAD_MIRROR (default http://deb.debian.org/debian); ECS_LOAD_PYTHON (the
#   base's Python version the wheels are downloaded for, default 3.11).
# Needs: docker (client and a daemon), python3 with pip, and, for the base, root and the
#   Debian package mmdebstrap.
# Exit codes: 0 built; 1 usage; 2 a missing tool or no root; 3 a step failed (its output
#   is shown).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
# The project's files the image runs (requirements.txt also pins its wheels).
readonly APP_FILES=(run_load_test.sh locustfile.py ecservice.py requirements.txt requirements-nodeps.txt
  lib ecsload ecsnode)
readonly BASE_PACKAGES=python3,python3-venv,libstdc++6,ca-certificates
SUITE=${ECS_LOAD_SUITE:-bookworm}
MIRROR=${ECS_LOAD_MIRROR:-http://deb.debian.org/debian}
PYTHON_VERSION=${ECS_LOAD_PYTHON:-3.11}
WORK=""
CONTEXT_PID="" # the build context's preparation, in the background

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

say() {
  printf 'build-image: %s\n' "$*" >&2
}

die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

# step LOG WHAT COMMAND...: run COMMAND with its output in LOG; on failure show LOG's end.
step() {
  local log=$1 what=$2
  shift 2
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die 3 "$what failed (above: the end of its output)"
  fi
}

cleanup() {
  [[ -z $CONTEXT_PID ]] || kill "$CONTEXT_PID" 2>/dev/null || true
  [[ -z $WORK ]] || rm -rf "$WORK"
}

# make_base IMAGE: the Debian root filesystem, without documentation, imported as IMAGE. The
# IMAGE it replaces is removed unless an image still uses it.
make_base() {
  local image=$1 old
  old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  command -v mmdebstrap >/dev/null || die 2 "mmdebstrap not found: apt-get install -y mmdebstrap"
  [[ $(id -u) == 0 ]] || die 2 "mmdebstrap makes the base as root here: run as root, or use --from"
  say "making the base $image with mmdebstrap ($SUITE: $BASE_PACKAGES)"
  step "$WORK/mmdebstrap.log" mmdebstrap mmdebstrap --variant=essential --include="$BASE_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$SUITE" "$WORK/base.tar" "$MIRROR"
  step "$WORK/import.log" "docker import" docker import --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$WORK/base.tar" "$image"
  [[ -z $old ]] || docker rmi "$old" >/dev/null 2>&1 || true
}

# download_wheels DIR: the pinned wheels for the base's Python on this machine's architecture,
# binary only (nothing is compiled in the image). pip takes only the platforms it is given:
# every manylinux that bookworm's glibc (2.36) runs.
download_wheels() {
  local arch minor
  local -a options=()
  arch=$(uname -m)
  for minor in $(seq 36 -1 5); do
    options+=(--platform "manylinux_2_${minor}_$arch")
  done
  options+=(--platform "manylinux2014_$arch" --platform "manylinux2010_$arch" --platform "manylinux1_$arch")
  options+=(--only-binary=:all: --python-version "$PYTHON_VERSION" --implementation cp
    --abi "cp${PYTHON_VERSION/./}" --abi abi3 --abi none --dest "$1")
  say "downloading the wheels of requirements.txt for Python $PYTHON_VERSION"
  step "$WORK/pip.log" "pip download" python3 -m pip download --quiet --disable-pip-version-check \
    "${options[@]}" --requirement "$ROOT/requirements.txt"
  # Installed without their dependencies, as lib/venv.sh does (requirements-nodeps.txt says why).
  step "$WORK/pip.log" "pip download" python3 -m pip download --quiet --disable-pip-version-check \
    "${options[@]}" --no-deps --requirement "$ROOT/requirements-nodeps.txt"
}

# build_context DIR: the Dockerfile, the project's runtime files in app/, the wheels in wheels/.
build_context() {
  local context=$1
  mkdir -p "$context/app" "$context/wheels"
  cp "$ROOT/Dockerfile" "$context/"
  (cd "$ROOT" && cp -r "${APP_FILES[@]}" "$context/app/")
  find "$context/app" -name __pycache__ -prune -exec rm -rf {} +
  download_wheels "$context/wheels"
}

default_tag() {
  printf 'ecs-load:%s\n' "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo dev)"
}

main() {
  local tag="" from="" rebuild=0 base started size
  while (($#)); do
    case $1 in
      --tag) [[ $# -ge 2 && $2 == *:* ]] || die 1 "--tag needs NAME:VERSION"; tag=$2; shift ;;
      --from) [[ $# -ge 2 && -n $2 ]] || die 1 "--from needs an image name"; from=$2; shift ;;
      --rebuild-base) rebuild=1 ;;
      -h | --help) usage; return 0 ;;
      *) die 1 "unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  [[ -z $from || $rebuild == 0 ]] || die 1 "--from and --rebuild-base exclude each other"
  command -v docker >/dev/null || die 2 "docker not found: apt-get install -y docker.io"
  docker version >/dev/null 2>&1 || die 2 "no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset})"
  python3 -m pip --version >/dev/null 2>&1 || die 2 "python3 has no pip: apt-get install -y python3-pip"
  tag=${tag:-$(default_tag)}
  started=$SECONDS
  WORK=$(mktemp -d)
  trap cleanup EXIT
  base=${from:-ecs-load-base:$SUITE}
  # The wheels download while mmdebstrap works: both wait mostly on the network.
  build_context "$WORK/context" &
  CONTEXT_PID=$!
  if [[ -z $from ]] && { ((rebuild)) || ! docker image inspect "$base" >/dev/null 2>&1; }; then
    make_base "$base"
  fi
  wait "$CONTEXT_PID" || exit $?
  CONTEXT_PID=""
  say "building $tag from $base (no network while building)"
  # The classic builder: it runs with --network none on any daemon, BuildKit or not.
  step "$WORK/build.log" "docker build" env DOCKER_BUILDKIT=0 docker build --network none \
    --build-arg "BASE_IMAGE=$base" --tag "$tag" --tag "${tag%:*}:latest" "$WORK/context"
  docker image prune --force --filter label=org.ecs-load.stage=venv >/dev/null
  size=$(docker image inspect --format '{{.Size}}' "$tag")
  say "built $tag in $((SECONDS - started)) s: $((size / 1000000)) MB"
  printf '%s\n' "$tag"
}

main "$@"
