"""Image names: the plan takes only Docker image references, so what passes the plan runs.

The API's own pattern, `(.+/)?.+:.+`, let through "--x:1" (the local node took it for an
option and did not start, exit 3) and "HOST/ubuntu:14.04,evil:1" (the node's catalog split
it at the comma: 74% errors, exit 0). The plan runs for real (in-process), and what
reaches Locust is its command line built from the plan.
"""

import pytest

from ecsload.exits import EXIT_USAGE
from tests.ecsload_support import assert_refused, evaluated, locust_argv, locust_reads, plan

GOOD = [
    "ubuntu:14.04",
    "127.0.0.1:5000/ubuntu:14.04",
    "registry.example/team/api-server_2:v1.2-rc.3",
    "[::1]:5000/busybox:latest",
    "busybox@sha256:" + "0123456789abcdef" * 4,
]
BAD = [
    ("ECS_HAPPY_IMAGE", "--x:1"),
    ("ECS_HAPPY_IMAGE", "127.0.0.1:5000/ubuntu:14.04,evil:1"),
    ("ECS_HAPPY_IMAGE", "Ubuntu:14.04"),
    ("ECS_HAPPY_IMAGE", "ubuntu:-rc"),
    ("ECS_MISSING_IMAGE", "bindle:berry x"),
    ("ECS_MISSING_IMAGE", "/bindle:berry"),
]


@pytest.mark.parametrize("image", GOOD)
def test_docker_image_references_pass(tmp_path, image: str) -> None:
    result = plan(tmp_path, ECS_HAPPY_IMAGE=image, ECS_MISSING_IMAGE=image)
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["HAPPY_IMAGE"] == image  # the local node's catalog
    locust = locust_reads(locust_argv(result, 10))
    assert locust.happy_image == locust.missing_image == image


@pytest.mark.parametrize(("variable", "image"), BAD)
def test_names_that_are_no_docker_image_reference_are_refused(
    tmp_path, variable: str, image: str
) -> None:
    result = plan(tmp_path, **{variable: image})
    assert_refused(result, tmp_path, EXIT_USAGE, f"{image!r} is not an image name with a tag")
