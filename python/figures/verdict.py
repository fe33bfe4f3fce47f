# SPDX-License-Identifier: MIT
"""What a reproduction shows against the paper's claim: the verdict of one target's run.

Each target module states the paper's claim as a list of checks, each a criterion with the numbers
it was judged on, and says which settings are the paper's and which are ours. The outcome follows
from the checks (all hold: reproduced; some: partly reproduced; none: not reproduced), so no module
can call a result reproduced while one of its own criteria fails. `write` stores the verdict as
DIR/figures/verdict.json; `render_markdown` turns such a file into the results section of
docs/reproduce.md (figures.docs), and `relustab reproduce` prints the same text, so the command and
the documentation cannot disagree.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from figures.results import Results, Run, json_ready

VERDICT_FILE = "verdict.json"
RUN_INFO_FILE = "reproduce.json"  # written by `relustab reproduce`: setting, wall-clock seconds
REPRODUCED = "reproduced"
PARTLY = "partly reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_JUDGED = "not judged"  # no run finished, or nothing the checks need was measured


@dataclass
class Check:
    """One criterion of the paper's claim, whether it held, and the evidence (numbers, in words)."""

    criterion: str
    held: bool
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "held": bool(self.held), "evidence": self.evidence}


@dataclass
class Setting:
    """One setting of the runs: its label, its value(s) as run, and whose choice it is."""

    label: str
    value: str
    source: str  # "paper" (the paper's own value) or "ours" (not published, or changed; see note)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "source": self.source, "note": self.note}


@dataclass
class Verdict:
    """The verdict of one target. `reason` explains the outcome in words: for a result that is not
    reproduced, whether the paper, the setting or our method is the cause."""

    target: str
    title: str
    paper: str
    claim: str
    checks: list[Check]
    settings: list[Setting] = field(default_factory=list)
    numbers: list[tuple[str, Any]] = field(default_factory=list)
    reason: str = ""
    figures: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.checks:
            return NOT_JUDGED
        held = sum(1 for c in self.checks if c.held)
        if held == len(self.checks):
            return REPRODUCED
        return PARTLY if held > 0 else NOT_REPRODUCED

    def to_json(self) -> dict[str, Any]:
        return json_ready(
            {
                "target": self.target,
                "title": self.title,
                "paper": self.paper,
                "claim": self.claim,
                "outcome": self.outcome,
                "reason": self.reason,
                "checks": [c.to_json() for c in self.checks],
                "settings": [s.to_json() for s in self.settings],
                "numbers": [[label, value] for label, value in self.numbers],
                "figures": list(self.figures),
            }
        )


def format_number(value: Any, digits: int = 4) -> str:
    """A number as the docs print it: integers plainly, others to `digits` significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ") if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if value == int(value) and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def values_of(runs: Sequence[Run], key: str) -> list[Any]:
    """The distinct values of a config key over the runs, sorted."""
    seen = {json.dumps(r.config.get(key), sort_keys=True) for r in runs if key in r.config}
    values = [json.loads(v) for v in seen]
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def describe_values(values: Sequence[Any]) -> str:
    """One value as is; several as a list, or for many numbers as 'a ... b (m values)'."""
    if not values:
        return "n/a"
    if len(values) == 1:
        return format_number(values[0])
    if len(values) > 6 and all(isinstance(v, (int, float)) for v in values):
        return f"{format_number(values[0])} ... {format_number(values[-1])} ({len(values)} values)"
    return ", ".join(format_number(v) for v in values)


def setting(
    runs: Sequence[Run], label: str, key: str, source: str = "ours", note: str = "", unit: str = ""
) -> Setting:
    """A Setting read from the runs' configurations (so the docs say what was run, not what was
    meant to be run)."""
    text = describe_values(values_of(runs, key))
    return Setting(label, text + (f" {unit}" if unit and text != "n/a" else ""), source, note)


def check(criterion: str, held: bool, evidence: str) -> Check:
    return Check(criterion, bool(held), evidence)


def failed_criteria(checks: Iterable[Check]) -> list[str]:
    """The criteria of the checks that do not hold, in order: what a verdict's reason names."""
    return [c.criterion for c in checks if not c.held]


def write(directory: str | Path, verdict: Verdict, results: Results) -> Path:
    """DIR/figures/verdict.json: the verdict with the run counts, the compute time of the runs and,
    when `relustab reproduce` made DIR, its setting (quick or full) and wall-clock seconds."""
    directory = Path(directory)
    record = verdict.to_json()
    counts: dict[str, int] = {}
    for run in results.runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    record["runs"] = counts
    record["compute_seconds"] = sum(r.wall_seconds for r in results.runs if r.wall_seconds)
    info_path = directory / RUN_INFO_FILE
    info: dict[str, Any] = {}
    if info_path.is_file():
        try:
            info = json.loads(info_path.read_text())
        except json.JSONDecodeError:
            info = {}
    record["setting"] = "quick" if info.get("quick") else ("full" if info else "unknown")
    record["wall_seconds"] = info.get("seconds")
    record["jobs"] = info.get("jobs")
    record["machine"] = {k: info.get(k) for k in ("cores", "load_before", "load_after")}
    record["written"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    path = directory / "figures" / VERDICT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        json.dump(json_ready(record), handle, indent=1, allow_nan=False)
        handle.write("\n")
    return path


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def runtime_text(record: dict[str, Any]) -> str:
    runs = record.get("runs", {})
    count = ", ".join(f"{v} {k}" for k, v in sorted(runs.items()))
    text = f"{count} runs" if count else "no runs"
    text += f"; compute {_duration(record.get('compute_seconds'))} (sum over runs)"
    if record.get("wall_seconds") is not None:
        jobs = record.get("jobs")
        text += f"; wall clock {_duration(record.get('wall_seconds'))}"
        text += f" with {jobs} jobs" if jobs else ""
        machine = record.get("machine") or {}
        loads = [machine.get("load_before"), machine.get("load_after")]
        if machine.get("cores") and all(isinstance(v, (int, float)) and v >= 0 for v in loads):
            text += (f" on {machine['cores']} cores at load average {loads[0]:.1f} to "
                     f"{loads[1]:.1f} (a shared machine: the compute time is the steadier figure)")
    return text


def render_markdown(record: dict[str, Any], heading: str = "###") -> str:
    """The results section of one verdict.json: outcome and reason, the checks, the numbers, our
    settings and the runtime."""
    setting = record.get("setting", "unknown")
    lines = [
        f"{heading} {setting.capitalize()} setting: {record.get('outcome', NOT_JUDGED)}",
        "",
    ]
    if record.get("reason"):
        lines += [record["reason"], ""]
    checks = record.get("checks", [])
    if checks:
        for c in checks:
            mark = "holds" if c.get("held") else "FAILS"
            lines.append(f"- [{mark}] {c.get('criterion')}: {c.get('evidence')}")
        lines.append("")
    numbers = record.get("numbers", [])
    if numbers:
        lines += ["| quantity | value |", "|---|---:|"]
        lines += [f"| {label} | {format_number(value)} |" for label, value in numbers]
        lines.append("")
    settings = record.get("settings", [])
    if settings:
        lines.append("Settings (paper = the paper's value; ours = not published or changed):")
        lines.append("")
        for s in settings:
            note = f" ({s['note']})" if s.get("note") else ""
            lines.append(f"- {s['label']}: {s['value']} [{s['source']}]{note}")
        lines.append("")
    lines.append(f"Runtime: {runtime_text(record)}; written {record.get('written', 'n/a')}.")
    return "\n".join(lines).rstrip() + "\n"


def read(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def summary_line(records: Iterable[dict[str, Any]]) -> str:
    return "; ".join(f"{r.get('setting')}: {r.get('outcome')}" for r in records)
