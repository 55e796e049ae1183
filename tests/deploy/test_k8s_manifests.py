"""deploy/k8s: every overlay renders, every object validates offline, and what the
manifests say about topics, consumer groups and ACLs is what the code does."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from bansos_contracts import topics
from bansos_libs.runtime import ROLES, ServiceDefinition
from bansosctl.replay import definition_of
from tests.deploy.manifests import OVERLAYS, Manifest, problems, rendered

SERVICES = ("registry", "objections", "eligibility", "payout")
PARTITIONS = 6
"""What the Makefile and the tests create locally; Kubernetes must match."""
SECRET_ENV = {
    "BANSOS_DATABASE_URL", "BANSOS_CIPHER_KEY", "BANSOS_KAFKA_SASL_PASSWORD", "BANSOS_CODE_KEY",
    "BANSOS_SERVICE_TOKEN",
}  # fmt: skip


def of_kind(overlay: str, kind: str) -> list[Manifest]:
    return [m for m in rendered(overlay) if m["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> Manifest:
    [found] = [m for m in of_kind(overlay, kind) if m["metadata"]["name"] == name]
    return found


def definition(service: str) -> ServiceDefinition:
    return definition_of(service)


def containers(deployment: Manifest) -> Iterator[dict[str, Any]]:
    pod = deployment["spec"]["template"]["spec"]
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_every_overlay_is_valid(overlay: str) -> None:
    found = [problem for manifest in rendered(overlay) for problem in problems(manifest)]
    assert not found, "\n".join(found)
    kinds = {m["kind"] for m in rendered(overlay)}
    assert {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "NetworkPolicy",
            "KafkaTopic", "KafkaUser", "Kafka", "Cluster", "ScaledObject"} <= kinds  # fmt: skip


def _broken(overlay: str) -> Iterator[tuple[str, Manifest]]:
    deployment = copy.deepcopy(named(overlay, "Deployment", "registry-api"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = {
        "not": "a port"
    }
    yield "a probe's port is not a port", deployment
    deployment = copy.deepcopy(named(overlay, "Deployment", "payout-relay"))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    yield "a misspelt field", deployment
    topic = copy.deepcopy(of_kind(overlay, "KafkaTopic")[0])
    topic["spec"]["partitions"] = "six"
    yield "a KafkaTopic with partitions as text", topic
    user = copy.deepcopy(of_kind(overlay, "KafkaUser")[0])
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Scribble"]
    yield "a KafkaUser ACL with an unknown operation", user
    scaled = copy.deepcopy(of_kind(overlay, "ScaledObject")[0])
    scaled["spec"]["maxReplicaCount"] = "many"
    yield "a ScaledObject with a non-numeric cap", scaled
    cluster = copy.deepcopy(of_kind(overlay, "Cluster")[0])
    cluster["spec"]["instances"] = -1
    yield "a CloudNativePG cluster of -1 instances", cluster
    yield "an unknown kind", {"apiVersion": "apps/v1", "kind": "Deploymint", "metadata": {}}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_broken_manifest_fails_validation(overlay: str) -> None:
    for what, manifest in _broken(overlay):
        assert problems(manifest), f"{what} was not caught"


# --- what the manifests say matches what the code does ------------------------------------


def _acls(user: Manifest) -> set[tuple[str, str, str]]:
    """(resource type, name, operation) of every ACL of a KafkaUser."""
    found = set()
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        for operation in acl.get("operations", [acl.get("operation")]):
            found.add((resource["type"], resource.get("name", "*"), operation))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_of_the_interface_is_declared_and_kept(overlay: str) -> None:
    declared = {m["spec"].get("topicName", m["metadata"]["name"]): m
                for m in of_kind(overlay, "KafkaTopic")}  # fmt: skip
    assert set(declared) == set(topics.ALL)
    for name in topics.PRODUCERS:  # event topics: every event forever, in append-time order
        spec = declared[name]["spec"]
        assert spec["partitions"] == PARTITIONS
        assert str(spec["config"]["retention.ms"]) == "-1"
        assert spec["config"]["message.timestamp.type"] == "LogAppendTime"
    if overlay == "production":
        for topic in declared.values():
            assert topic["spec"]["replicas"] == 3
            assert str(topic["spec"]["config"]["min.insync.replicas"]) == "2"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_may_write_only_its_topic_and_read_what_it_consumes(
    overlay: str, service: str
) -> None:
    code = definition(service)
    acls = _acls(named(overlay, "KafkaUser", service))
    writes = {name for kind, name, op in acls if kind == "topic" and op == "Write"}
    reads = {name for kind, name, op in acls if kind == "topic" and op == "Read"}
    groups = {name for kind, name, op in acls if kind == "group" and op == "Read"}
    assert code.publisher is not None
    consumed = set(code.subscriber.topics) if code.subscriber else set()
    dead_letters = {topics.DEADLETTER} if code.subscriber else set()
    assert writes == {code.publisher.topic} | dead_letters
    # The relay reads the last message of each partition of its own topic on restart.
    assert reads == consumed | {code.publisher.topic}
    assert groups == ({code.subscriber.group_id} if code.subscriber else set())
    assert all(op != "All" for _, _, op in acls)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_consumers_scale_on_their_own_group_capped_at_the_partitions(
    overlay: str, service: str
) -> None:
    code = definition(service)
    scaled = [s for s in of_kind(overlay, "ScaledObject")
              if s["spec"]["scaleTargetRef"]["name"] == f"{service}-consume"]  # fmt: skip
    if code.subscriber is None:
        assert not scaled
        assert not [d for d in of_kind(overlay, "Deployment")
                    if d["metadata"]["name"] == f"{service}-consume"]  # fmt: skip
        return
    [scaled_object] = scaled
    spec = scaled_object["spec"]
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= PARTITIONS
    # KEDA's kafka scaler watches one topic per trigger: one trigger per consumed topic.
    triggers = spec["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {t["metadata"]["consumerGroup"] for t in triggers} == {code.subscriber.group_id}
    assert sorted(t["metadata"]["topic"] for t in triggers) == sorted(code.subscriber.topics)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_run_the_image_command_safely(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        if name.startswith("otel"):
            continue
        service, role = name.rsplit("-", 1)
        pod = deployment["spec"]["template"]["spec"]
        assert role in ROLES and service in SERVICES, name
        if role == "relay":  # one relay per topic: it is the topic's only writer
            assert deployment["spec"]["replicas"] == 1, name
            assert deployment["spec"]["strategy"]["type"] == "Recreate", name
        [init] = pod["initContainers"]
        assert init["args"] == ["migrate"], name
        [main] = pod["containers"]
        assert main["args"] == [role], name
        assert main["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert main["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert pod["terminationGracePeriodSeconds"] >= 30
        for container in containers(deployment):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert container["resources"]["limits"], name
            for env in container.get("env", []):
                if env["name"] in SECRET_ENV:  # by reference, never a value
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], env
        assert pod["securityContext"]["runAsNonRoot"] is True, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_maps_hold_no_secret_and_only_settings_the_code_reads(overlay: str) -> None:
    from bansos_libs.auth.settings import AuthSettings
    from bansos_libs.kafka import KafkaSecurity
    from bansos_libs.settings import ServiceSettings

    known = {f"BANSOS_{name.upper()}" for name in ServiceSettings.model_fields}
    known |= {f"BANSOS_AUTH_{name.upper()}" for name in AuthSettings.model_fields}
    known |= {f"BANSOS_KAFKA_{name.upper()}" for name in KafkaSecurity.model_fields}
    for service in SERVICES:  # each service's own settings (``BANSOS_`` prefix)
        module = importlib.import_module(f"bansos_{service}.application")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings):
                known |= {f"BANSOS_{name.upper()}" for name in value.model_fields}
    for config in of_kind(overlay, "ConfigMap"):
        if config["metadata"]["name"].startswith("otel"):
            continue
        data = config.get("data", {})
        assert not SECRET_ENV & set(data), config["metadata"]["name"]
        unknown = {k for k in data if k.startswith("BANSOS_") and k not in known}
        assert not unknown, f"{config['metadata']['name']}: no setting reads {sorted(unknown)}"
