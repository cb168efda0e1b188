# The ecs-load image: one image for the sweep (master), a worker and the local ECS node.
# Build it with scripts/build-image.sh, which prepares the build context (the project's
# runtime files in app/, the pinned wheels in wheels/) and, by default, the base image:
# a Debian root filesystem made by mmdebstrap from Debian's packages, imported into Docker.
#
# BASE_IMAGE: the image to start from. It needs python3 with venv (ensurepip), bash and
# coreutils. Where a registry is reachable, an official image does:
#   scripts/build-image.sh --from python:3.11-slim-bookworm
# Nothing is fetched while building: pip installs from wheels/ only (--no-index), and no pip
# configuration or certificate of the build machine enters the image (--isolated).
ARG BASE_IMAGE=ecs-load-base:bookworm

FROM ${BASE_IMAGE} AS venv
# build-image.sh removes this stage's image once the build is done (it holds the wheels).
LABEL org.ecs-load.stage=venv
COPY app/requirements.txt app/requirements-nodeps.txt /opt/ecs-load/
COPY wheels/ /tmp/wheels/
# requirements-nodeps.txt without its dependencies, as lib/venv.sh installs it.
RUN python3 -m venv /opt/ecs-load/.venv \
 && /opt/ecs-load/.venv/bin/python -m pip install --isolated --no-index --find-links /tmp/wheels \
      --no-cache-dir --disable-pip-version-check --quiet --requirement /opt/ecs-load/requirements.txt \
 && /opt/ecs-load/.venv/bin/python -m pip install --isolated --no-index --find-links /tmp/wheels \
      --no-cache-dir --disable-pip-version-check --quiet --no-deps \
      --requirement /opt/ecs-load/requirements-nodeps.txt \
 && /opt/ecs-load/.venv/bin/python -m pip uninstall --isolated --yes --quiet pip

FROM ${BASE_IMAGE}
# The wheels stay in the first stage: only the installed venv is copied.
COPY --from=venv /opt/ecs-load/.venv /opt/ecs-load/.venv
COPY app/ /opt/ecs-load/
RUN printf 'ecsload:x:10001:10001:ecs-load:/ecs-load:/bin/bash\n' >>/etc/passwd \
 && printf 'ecsload:x:10001:\n' >>/etc/group \
 && mkdir -p /ecs-load/results \
 && chown -R 10001:10001 /ecs-load \
 && /opt/ecs-load/.venv/bin/python -m compileall -q /opt/ecs-load/ecsload /opt/ecs-load/ecsnode >/dev/null
ENV HOME=/ecs-load MPLCONFIGDIR=/tmp/matplotlib PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /ecs-load
# Every run's folder lands here (the script's default ./results).
VOLUME /ecs-load/results
ENTRYPOINT ["/opt/ecs-load/run_load_test.sh"]
CMD ["--help"]
