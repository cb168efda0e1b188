"""The local node's file formats that the harness reads too: the one place ecsload imports ecsnode.

The node owns both formats (its creds command writes the key:secret pairs file; a node
reads deployment.json); the harness reads the same files with the node's own readers, so
what is signed is what the node checks. ecsnode imports nothing of ecsload
(tests/test_import_layers.py checks both directions). Standard library only at import
time: `--help` runs on bare python3.
"""

from ecsnode.pairs import PairsError, parse_pairs

__all__ = ["PairsError", "deployment_problem", "parse_pairs"]


def deployment_problem(path: str) -> str | None:
    """Why a node would refuse the deployment.json at `path` (one line), or None. The node's
    reader is imported only here, when called: it needs jsonschema, from the venv."""
    from ecsnode.deployment import DeploymentError, read_deployment

    try:
        read_deployment(path)
    except DeploymentError as error:
        return str(error)
    return None
