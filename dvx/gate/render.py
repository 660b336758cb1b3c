"""The gate's verdict for people: one summary line per dataset, its notes, and
the rows of the table of failing checks (the CLI aligns them; ``--json`` is
``GateResult.to_json()``). Used by ``dvx check`` and the pre-commit hook.
"""

from __future__ import annotations

from typing import Any

from dvx.gate.result import GateResult

FAILURE_HEADERS = ("dataset", "check", "name", "column", "observed", "expected")


def failure_rows(result: GateResult) -> list[tuple[str, ...]]:
    """One row per failing check, in the order of :data:`FAILURE_HEADERS`."""
    return [(d.path, f.check, f.name, f.column or "", f.observed, f.expected) for d in result.datasets for f in d.failures]


def versions(version: str | None, baseline: str | None) -> str:
    """`` [VERSION vs BASELINE]``: what a check measured and against what (empty when neither is known)."""
    if not version:
        return ""
    return f" [{version} vs {baseline}]" if baseline else f" [{version}]"


def summary_lines(result: GateResult, quiet: bool = False) -> list[str]:
    """One line per dataset (verdict, validation, drift), then its notes unless ``quiet``.

    ``quiet`` keeps the summaries only when something failed.
    """
    out = []
    if not quiet or not result.ok:
        for d in result.datasets:
            verdict = "ok" if d.ok else "FAILED"
            suites = f" ({', '.join(d.suites)})" if d.suites else ""
            why = f" (re-checked: {d.because})" if d.because else ""
            out.append(f"{verdict:6} {d.path}{versions(d.version, d.baseline_version)}{why}: validation {d.validation}"
                       f"{suites}, drift {d.drift}" + (f" ({accepted_by(d.accepted)})" if d.accepted else "")
                       + (" [stored]" if d.cached else ""))
    if not quiet:
        out += [f"note: {n}" for d in result.datasets for n in d.notes]
        out += [f"note: {n}" for n in result.notes]
    return out


def refusal(result: GateResult) -> str:
    """The one line a failed gate ends with."""
    n = len(result.failures)
    bad = [d.path for d in result.datasets if not d.ok]
    shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    return f"{n} failing check(s) in {len(bad)} dataset(s): {shown}"


def accepted_by(acc: dict[str, Any]) -> str:
    """``by NAME <EMAIL> at WHEN: REASON`` of an acceptance (``DatasetGate.accepted``)."""
    return f"by {acc['by']} at {acc['at']}: {' '.join(str(acc['reason']).split())}"


def accepted_lines(result: GateResult) -> list[str]:
    """One line per dataset whose drift passed because it was accepted (a commit says so even when it goes through)."""
    return [f"dvx: {d.path}: drift from {(d.baseline_id or '')[:12]} accepted {accepted_by(d.accepted)}"
            for d in result.datasets if d.accepted]
