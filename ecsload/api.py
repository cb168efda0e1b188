"""The facts of the ECS API (docs/ecs-api.md) that the harness relies on, in one place.

Standard library only: `--help` runs on bare python3 and imports the plan, which
imports this.
"""

API_ROOT = "/v1.1"
QUICK_HEALTH_PATH = f"{API_ROOT}/_health?quick=true"
NOOP_PATH = f"{API_ROOT}/_noop"

DEFAULT_HAPPY_IMAGE = "ubuntu:14.04"
DEFAULT_MISSING_IMAGE = "bindle:berry"  # an image that exists in no registry: a 404

# The local node's images live in the loopback registry (scripts/local-docker.sh):
# a bare name would make a Docker runner pull from Docker Hub, off this machine.
LOCAL_HAPPY_IMAGE = f"127.0.0.1:5000/{DEFAULT_HAPPY_IMAGE}"
LOCAL_MISSING_IMAGE = f"127.0.0.1:5000/{DEFAULT_MISSING_IMAGE}"
