"""Render the kustomize overlays and validate every object offline.

Built-in kinds are checked against the Kubernetes OpenAPI schemas that the
``kubernetes-validate`` package bundles, strictly (an unknown field is an error, as
``kubectl apply --validate=strict`` would say). Strimzi, CloudNativePG and KEDA objects
are checked against their CustomResourceDefinitions' schemas, read from
``BANSOS_CRDS_DIR`` or ``../shared/crds`` beside the checkout (never copied into the
project), made strict the same way: where a schema lists properties and does not say
``x-kubernetes-preserve-unknown-fields``, no other property is allowed, since the API
server would silently drop it.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.31"
CUSTOM_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io", "keda.sh")

Manifest = dict[str, Any]


def _origin_checkout() -> Path | None:
    """The checkout this one was cloned from, when that is a local folder."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True
    )
    origin = Path(done.stdout.strip()) if done.returncode == 0 else None
    return origin if origin is not None and origin.is_absolute() and origin.is_dir() else None


def crds_dir() -> Path:
    """Where the CRD schemas are: ``BANSOS_CRDS_DIR``, else ``../shared/crds`` beside the
    checkout (or beside the local checkout it was cloned from)."""
    origin = _origin_checkout()
    candidates = [
        os.environ.get("BANSOS_CRDS_DIR"),
        ROOT.parent / "shared" / "crds",
        origin.parent / "shared" / "crds" if origin else None,
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise FileNotFoundError(
        "no CRD schemas: set BANSOS_CRDS_DIR to the folder of Strimzi, CloudNativePG and "
        f"KEDA CRDs (looked in {', '.join(str(c) for c in candidates if c)})"
    )


def kustomize() -> str:
    """The kustomize binary: ``make`` builds it into ``.local/bin``."""
    found = ROOT / ".local" / "bin" / "kustomize"
    if found.is_file():
        return str(found)
    on_path = shutil.which("kustomize")
    if on_path is None:
        raise FileNotFoundError("kustomize is not installed: run `make setup`")
    return on_path


def render(folder: Path) -> list[Manifest]:
    """``kustomize build`` of a folder, as objects; ``RuntimeError`` with its message."""
    done = subprocess.run(
        [kustomize(), "build", str(folder)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"kustomize build {folder}: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@cache
def rendered(overlay: str) -> tuple[Manifest, ...]:
    """The objects of one overlay (rendered once per test session)."""
    return tuple(render(K8S / "overlays" / overlay))


@cache
def crd_schemas() -> dict[tuple[str, str, str], dict[str, Any]]:
    """Strict schemas by (group, version, kind), from every CRD file."""
    schemas = {}
    for path in sorted(crds_dir().glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if schema is not None:
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = strict(schema)
    return schemas


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI schema in which listed properties are the only ones allowed."""
    schema = copy.deepcopy(schema)
    for node in _nodes(schema):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        if node.get("nullable") and "type" in node:
            node["type"] = [node["type"], "null"]
    return schema


def _nodes(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _nodes(value)


def problems(manifest: Manifest) -> list[str]:
    """What is wrong with one object (empty when it is valid)."""
    api_version = manifest.get("apiVersion", "")
    kind = manifest.get("kind", "")
    name = f"{kind}/{manifest.get('metadata', {}).get('name', '?')}"
    group, _, version = api_version.rpartition("/")
    if group in CUSTOM_GROUPS:
        schema = crd_schemas().get((group, version, kind))
        if schema is None:
            return [f"{name}: no CRD schema for {api_version} {kind}"]
        # metadata is checked by the API server's own rules, not the CRD's.
        schema = {**schema, "properties": {**schema.get("properties", {}), "metadata": {}}}
        return [
            f"{name}: {'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
            for error in jsonschema.Draft7Validator(schema).iter_errors(manifest)
        ]
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(map(str, error.path)) or "(top)"
        return [f"{name}: {where}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no Kubernetes {KUBERNETES_VERSION} schema for {api_version} {kind}"]
    return []
