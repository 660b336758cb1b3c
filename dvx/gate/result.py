"""What the gate found: one row per failing check, one verdict per dataset version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Validation verdicts.
PASSED, FAILED, NONE, ERROR = "passed", "failed", "none", "error"
# Drift verdicts (ERROR too). ACCEPTED: drifted, and this (data id, baseline id) is in expectations/accepted.toml.
OK, DRIFTED, NEW, UNCHANGED, SKIPPED, ACCEPTED = "ok", "drifted", "new", "unchanged", "skipped", "accepted"


@dataclass
class Failure:
    """One failing check: a row of the gate's table."""

    check: str  # validation / drift / pointer / data
    name: str  # expectation type, drift metric, "schema", "row_count"
    column: str | None
    observed: str
    expected: str

    def line(self, dataset: str) -> str:
        """The failure as one line naming the dataset."""
        col = f" [{self.column}]" if self.column else ""
        return f"{dataset}: {self.check} {self.name}{col}: {self.observed}, expected {self.expected}"


@dataclass
class DatasetGate:
    """The gate's verdict on one dataset version."""

    path: str
    data_id: str | None = None
    baseline_id: str | None = None
    validation: str = NONE  # passed / failed / none (no suite bound) / error
    drift: str = SKIPPED  # ok / drifted / new / unchanged / skipped / accepted / error
    suites: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cached: bool = True  # every answer came from the stores
    accepted: dict[str, Any] | None = None  # drift ACCEPTED: the acceptance (Acceptance.to_json())
    version: str | None = None  # what was measured: "workspace", "workspace (modified since dvx add)", "staged <id12>", "<rev> <id12>"
    baseline_version: str | None = None  # the baseline: "HEAD <id12>" (None: new dataset)
    because: str | None = None  # re-checked by a commit that changes expectations/ only: why

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def unparsable(self) -> list[str]:
        """Messages of pointer files that do not parse (bad input, not a failed check)."""
        return [f.observed for f in self.failures if f.check == "pointer" and f.name == "parse"]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


@dataclass
class GateResult:
    """The verdict on every dataset checked."""

    datasets: list[DatasetGate] = field(default_factory=list)
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)  # about the run, not one dataset (expectations/ not staged)

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.datasets)

    @property
    def failures(self) -> list[str]:
        """Every failing check as one line (what DataGateError carries)."""
        return [f.line(d.path) for d in self.datasets for f in d.failures]

    @property
    def unparsable(self) -> list[str]:
        """Messages of the pointer files that do not parse."""
        return [m for d in self.datasets for m in d.unparsable]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "baseline": self.baseline, "datasets": [d.to_json() for d in self.datasets],
                "notes": list(self.notes)}
