# shellcheck shell=bash
# Finds a Python that has a requirements file's pins, making .venv when none has.
# Sourced by run_load_test.sh and run_tests.sh; defines ecs_python only.

# ecs_python ROOT REQUIREMENTS: print the path of a Python with every pin of
# ROOT/REQUIREMENTS and of ROOT/requirements-nodeps.txt (installed without their
# declared dependencies) installed. Tries ROOT/.venv, then python3; otherwise creates
# or updates ROOT/.venv (saying so on stderr). Returns 1 when that fails.
ecs_python() {
  local root=$1 requirements=$1/$2 candidate venv=$1/.venv
  for candidate in "$venv/bin/python" "$(command -v python3 || true)"; do
    if [[ -x $candidate ]] && "$candidate" "$root/lib/check_requirements.py" "$requirements" \
      "$root/requirements-nodeps.txt"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  if ! command -v python3 >/dev/null; then
    echo "ecs-load: python3 not found: install Python 3.11 or newer" >&2
    return 1
  fi
  if [[ -e $venv && ! ( -x $venv/bin/python && -w $venv ) ]]; then
    echo "ecs-load: $venv exists but user $(id -un) cannot use it (its owner:" \
      "$(stat -c %U "$venv")): run as that user, or remove $venv to make a new one" >&2
    return 1
  fi
  echo "ecs-load: installing $2 into $venv (first run, or the pins changed) ..." >&2
  if [[ ! -x $venv/bin/python ]] && ! python3 -m venv "$venv" >&2; then
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
      echo "ecs-load: could not create $venv: this python3 has no venv support;" \
        "install python3-venv (Debian) and try again" >&2
    else
      echo "ecs-load: could not create $venv: see the error above" >&2
    fi
    return 1
  fi
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --requirement "$requirements" >&2 ||
    ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      --requirement "$root/requirements-nodeps.txt" >&2; then
    echo "ecs-load: could not install $2 into $venv: see pip's message above" >&2
    return 1
  fi
  printf '%s\n' "$venv/bin/python"
}
