"""Review chains as data: which stages a kind of case goes through, and who reviews each.

The chains come from ``chains.yaml`` (or a file named by ``BANSOS_CHAINS_FILE``). A case
copies its chain when it is submitted, so a later edit of the file changes new cases
only and every stored case replays exactly as it was decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from bansos_contracts.enums import CaseEffect, CaseKind, ReviewStage
from bansos_libs.auth import Role

__all__ = ["CHAINS_FILE", "ChainBook", "KindRules", "Stage", "load_chains"]

CHAINS_FILE: Final = Path(__file__).resolve().parent.parent / "chains.yaml"


@dataclass(frozen=True)
class Stage:
    """One step of a chain: the stage, the roles that may review it, its service level."""

    stage: ReviewStage
    roles: frozenset[Role]
    sla_days: int

    def as_dict(self) -> dict[str, Any]:
        """The stage as stored in a case's ``Submitted`` event."""
        return {
            "stage": self.stage.value,
            "roles": sorted(role.value for role in self.roles),
            "sla_days": self.sla_days,
        }


@dataclass(frozen=True)
class KindRules:
    """What a kind of case may be about and where it goes."""

    kind: CaseKind
    chain_name: str
    stages: tuple[Stage, ...]
    effects: tuple[CaseEffect, ...]
    """The effects its final stage may give an upheld case; the first is the default."""
    reasons: tuple[str, ...]
    """The reason codes a submitter may choose."""


@dataclass(frozen=True)
class ChainBook:
    """The rules of every kind of case."""

    kinds: dict[CaseKind, KindRules]
    source: str

    def rules(self, kind: CaseKind) -> KindRules:
        """The rules of ``kind``."""
        return self.kinds[kind]


def load_chains(path: Path | None = None) -> ChainBook:
    """Read and check a chains file; ValueError names the file and what is wrong."""
    path = path or CHAINS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the review chains: {error}") from None
    try:
        return ChainBook(_kinds(data), str(path))
    except KeyError as error:
        raise ValueError(
            f"{path}: the entry {error} is missing (a chain needs stages; a stage needs stage,"
            " roles and sla_days; a kind needs chain, effects and reasons)"
        ) from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


def _kinds(data: Any) -> dict[CaseKind, KindRules]:
    if not isinstance(data, dict) or not isinstance(data.get("chains"), dict):
        raise ValueError("the file needs a 'chains' mapping and a 'kinds' mapping")
    if not isinstance(data.get("kinds") or {}, dict):
        raise ValueError("the file needs a 'kinds' mapping (kind: its chain, effects, reasons)")
    chains = {name: _stages(name, chain) for name, chain in data["chains"].items()}
    kinds: dict[CaseKind, KindRules] = {}
    for name, rules in (data.get("kinds") or {}).items():
        kind = CaseKind(name)
        chain_name = rules["chain"]
        if chain_name not in chains:
            raise ValueError(f"kind {name} names an unknown chain {chain_name!r}")
        effects = tuple(CaseEffect(effect) for effect in rules["effects"])
        if not effects or CaseEffect.NONE in effects:
            raise ValueError(f"kind {name} needs at least one effect other than NONE")
        reasons = tuple(str(reason) for reason in rules["reasons"])
        if not reasons:
            raise ValueError(f"kind {name} needs at least one reason code")
        kinds[kind] = KindRules(kind, chain_name, chains[chain_name], effects, reasons)
    missing = [kind.value for kind in CaseKind if kind not in kinds]
    if missing:
        raise ValueError(f"no rules for the kind(s) {', '.join(missing)}")
    return kinds


def _stages(name: str, chain: Any) -> tuple[Stage, ...]:
    stages = tuple(
        Stage(
            stage=ReviewStage(step["stage"]),
            roles=frozenset(Role.parse(role) for role in step["roles"]),
            sla_days=int(step["sla_days"]),
        )
        for step in chain["stages"]
    )
    if not stages:
        raise ValueError(f"chain {name} has no stages")
    if len({stage.stage for stage in stages}) != len(stages):
        raise ValueError(f"chain {name} names a stage twice")
    if any(stage.sla_days < 1 or not stage.roles for stage in stages):
        raise ValueError(f"every stage of chain {name} needs roles and sla_days of 1 or more")
    return stages
