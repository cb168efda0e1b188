"""The local node's file formats that the harness reads too: the one place ecsload imports ecsnode.

The node owns both formats (its creds command writes the key:secret pairs file; a node
reads deployment.json); the harness reads the same files with the node's own readers, so
what is signed is what the node checks. ecsnode imports nothing of ecsload
(tests/test_import_layers.py checks both directions). Standard library only at import
time: `--help` runs on bare python3.
"""

from ecsnode.pairs import PairsError, parse_pairs

__all__ = ["PairsError", "deployment_problem", "deployment_rates", "parse_pairs"]


def deployment_problem(path: str) -> str | None:
    """Why a node would refuse the deployment.json at `path` (one line), or None. The node's
    reader is imported only here, when called: it needs jsonschema, from the venv."""
    from ecsnode.deployment import DeploymentError, read_deployment

    try:
        read_deployment(path)
    except DeploymentError as error:
        return str(error)
    return None


def deployment_rates(path: str) -> dict[str, float]:
    """The request rates (per second) a node applies from the deployment.json at `path`, by
    zone (`per_key`, `per_ip`), as the node reads them; {} when it has none or cannot be read
    (the plan checked it before the run)."""
    from ecsnode.deployment import DeploymentError, read_deployment

    try:
        limits = read_deployment(path)
    except DeploymentError:
        return {}
    zones = (("per_key", limits.per_key), ("per_ip", limits.per_ip))
    return {name: limit.rate_per_s for name, limit in zones if limit and limit.rate_per_s}
