"""deploy/k8s/: every manifest is valid against the Kubernetes schemas (kubernetes-validate,
whose schemas ship inside the package: no cluster, no network), and the manifests agree with
each other and with the image (the master's Service, the workers' count, the image's user).
"""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = sorted((ROOT / "deploy" / "k8s").rglob("*.yaml"))
KUBERNETES_VERSION = "1.37.0"
IMAGE_USER = 10001  # the Dockerfile's USER


def resources() -> dict[str, dict]:
    """Every manifest's resources, by kind/name."""
    found = {}
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_manifest_is_valid_kubernetes(path: Path) -> None:
    docs = list(yaml.safe_load_all(path.read_text()))
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_refuses_a_broken_manifest() -> None:
    job = resources()["Job/ecs-load-worker"]
    broken = {**job, "spec": {**job["spec"], "parallelism": "four"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    unknown = {**job, "spec": {**job["spec"], "replicas": 4}}  # a Deployment's field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, KUBERNETES_VERSION, strict=True)


def test_the_master_waits_for_as_many_workers_as_the_worker_job_runs() -> None:
    found = resources()
    master = found["Job/ecs-load-master"]["spec"]["template"]["spec"]["containers"][0]
    workers = found["Job/ecs-load-worker"]["spec"]
    expected = int(master["args"][master["args"].index("--expect-workers") + 1])
    assert workers["parallelism"] == workers["completions"] == expected


def test_the_workers_find_the_master_through_its_service_and_only_they_may() -> None:
    found = resources()
    service = found["Service/ecs-load-master"]
    worker_pod = found["Job/ecs-load-worker"]["spec"]["template"]
    master_pod = found["Job/ecs-load-master"]["spec"]["template"]
    args = worker_pod["spec"]["containers"][0]["args"]
    assert args[args.index("--master-host") + 1] == service["metadata"]["name"]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= master_pod["metadata"]["labels"].items()
    assert [p["port"] for p in service["spec"]["ports"]] == [5557]
    policy = found["NetworkPolicy/ecs-load-master"]["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= master_pod["metadata"]["labels"].items()
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    assert source["podSelector"]["matchLabels"].items() <= worker_pod["metadata"]["labels"].items()
    assert source["podSelector"]["matchLabels"] != policy["podSelector"]["matchLabels"]


def test_the_pods_run_as_the_image_user_with_the_credentials_from_the_secret() -> None:
    found = resources()
    secret = found["Secret/ecs-load-credentials"]
    for name in ("Job/ecs-load-master", "Job/ecs-load-worker"):
        pod = found[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == IMAGE_USER
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert "value" in env["ECS_CREDENTIALS"]  # a path, never the pairs themselves
        (volume,) = [v for v in pod["volumes"] if "secret" in v]
        assert volume["secret"]["secretName"] == secret["metadata"]["name"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
        credentials = Path(env["ECS_CREDENTIALS"]["value"])
        assert credentials.parent == Path(mount["mountPath"])
        assert credentials.name in secret["stringData"]
