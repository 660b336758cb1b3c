"""The gate: validation of the bound suites plus drift against a baseline version.

``run_gate`` is what the pre-commit hook, ``dvx check``, CI and
``dvx.require_valid`` run. For each dataset version (a pointer: in the index,
the workspace or a commit) it validates the data against the suites
``expectations/dvx.toml`` binds to its path, then compares its profile with
the baseline's (the same path at ``HEAD``, or at the commit's parent) using
the thresholds of the ``[drift]`` table. Answers are stored by content id
(:mod:`dvx.quality.stores`), so a rerun on unchanged data reads no data; data
that must be read streams through :mod:`dvx.versions`, never copied.

Modules: ``policy`` (what is checked, for which versions), ``reading`` (which
version a command reads: disk, staged, committed), ``data`` (a
version's data), ``profiles`` (profiling a version), ``checks`` (validation
and drift of a version), ``result`` (verdicts), ``render`` (verdicts as
text), ``run`` (entry points), ``hooks`` (the git hooks), ``staged`` (the
datasets a commit that changes ``expectations/`` re-checks), ``accepted`` (the
accepted-drift file, ``expectations/accepted.toml``), ``accept`` (``dvx accept``).
"""

from dvx.gate.checks import drift_failures, gate_version, validate_version, validation_failures
from dvx.gate.policy import Policy
from dvx.gate.profiles import attach_profile, name_stored_profile, profile_rows, profile_version, stored_profile, stores
from dvx.gate.result import (
    ACCEPTED,
    DRIFTED,
    ERROR,
    FAILED,
    NEW,
    NONE,
    OK,
    PASSED,
    SKIPPED,
    UNCHANGED,
    DatasetGate,
    Failure,
    GateResult,
)
from dvx.gate.run import require_valid, run_gate

__all__ = [
    "ACCEPTED", "DRIFTED", "ERROR", "FAILED", "NEW", "NONE", "OK", "PASSED", "SKIPPED", "UNCHANGED",
    "DatasetGate", "Failure", "GateResult", "Policy",
    "attach_profile", "drift_failures", "gate_version", "name_stored_profile", "profile_rows", "profile_version", "require_valid",
    "run_gate", "stored_profile", "stores", "validate_version", "validation_failures",
]
