# SPDX-License-Identifier: MIT
"""Verdicts (figures.verdict) and the generated docs/reproduce.md (figures.docs)."""

from __future__ import annotations

import json

import pytest

from figures import docs, verdict
from figures.results import Results
from helpers import write_results_db


def make_verdict(held: list[bool]) -> verdict.Verdict:
    return verdict.Verdict(
        target="qiao2024-rate",
        title="the rate",
        paper="Qiao et al. 2024",
        claim="the error falls like n^(-4/5)",
        checks=[verdict.check(f"criterion {i}", h, f"evidence {i}") for i, h in enumerate(held)],
        numbers=[("slope", -1.01), ("runs", 35)],
        reason="because",
    )


@pytest.mark.parametrize(
    "held, outcome",
    [
        ([True, True], verdict.REPRODUCED),
        ([True, False], verdict.PARTLY),
        ([False, False], verdict.NOT_REPRODUCED),
        ([], verdict.NOT_JUDGED),
    ],
)
def test_outcome_follows_the_checks(held, outcome):
    assert make_verdict(held).outcome == outcome


def test_settings_are_read_from_the_runs(tmp_path):
    runs = [{"config": {"data.n": n, "optim.eta": 0.4}} for n in (32, 64, 128, 256, 512, 1024, 2048)]
    with Results(write_results_db(tmp_path / "r", "qiao2024-rate", runs)) as results:
        n = verdict.setting(results.runs, "samples n", "data.n", "ours", "not published")
        eta = verdict.setting(results.runs, "step size", "optim.eta", "paper")
    assert n.value == "32 ... 2048 (7 values)" and n.source == "ours"
    assert eta.value == "0.4" and eta.source == "paper"


def test_write_records_the_setting_runtime_and_run_counts(tmp_path):
    runs = [
        {"config": {"data.n": 8}, "wall_seconds": 1.5},
        {"config": {"data.n": 16}, "wall_seconds": 2.0},
        {"config": {"data.n": 32}, "status": "failed", "reason": "diverged"},
    ]
    directory = write_results_db(tmp_path / "r", "qiao2024-rate", runs)
    (directory / verdict.RUN_INFO_FILE).write_text(json.dumps({"quick": True, "seconds": 12.5, "jobs": 2}))
    with Results(directory) as results:
        path = verdict.write(directory, make_verdict([True, False]), results)
    record = json.loads(path.read_text())
    assert record["outcome"] == verdict.PARTLY
    assert record["setting"] == "quick"
    assert record["runs"] == {"done": 2, "failed": 1}
    assert record["compute_seconds"] == pytest.approx(3.5)
    assert record["wall_seconds"] == 12.5 and record["jobs"] == 2
    text = verdict.render_markdown(record)
    assert "### Quick setting: partly reproduced" in text
    assert "- [holds] criterion 0: evidence 0" in text
    assert "- [FAILS] criterion 1: evidence 1" in text
    assert "| slope | -1.01 |" in text
    assert "2 done, 1 failed runs" in text and "wall clock 12 s with 2 jobs" in text


def test_docs_render_every_recorded_setting_and_detect_a_stale_page(tmp_path, monkeypatch):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    for setting, held in (("full", [True, True]), ("quick", [True, False])):
        record = make_verdict(held).to_json()
        record.update({"setting": setting, "runs": {"done": 3}, "compute_seconds": 4.0})
        (results_dir / docs.record_name(record)).write_text(json.dumps(record))
    intro = tmp_path / "intro.md"
    intro.write_text("# Intro\n")
    page = docs.render(results_dir, intro)
    assert page.startswith(docs.GENERATED_NOTE)
    assert "| [qiao2024-rate](#qiao2024-rate) | Qiao et al. 2024 | reproduced | partly reproduced |" in page
    assert page.index("### Full setting: reproduced") < page.index("### Quick setting: partly")
    assert "Not recorded yet:" in page  # the other targets
    doc = tmp_path / "reproduce.md"
    doc.write_text(page)
    monkeypatch.setattr(docs, "DOC_FILE", doc)
    monkeypatch.setattr(docs, "RESULTS_DIR", results_dir)
    monkeypatch.setattr(docs, "INTRO_FILE", intro)
    assert docs.main(["check"]) == 0
    doc.write_text(page + "edited by hand\n")
    assert docs.main(["check"]) == 1


def test_record_refuses_a_directory_without_a_verdict(tmp_path):
    with pytest.raises(FileNotFoundError):
        docs.record([str(tmp_path)], into=tmp_path / "out")


def test_the_committed_page_is_generated_from_the_committed_verdicts():
    """docs/reproduce.md is exactly what `python -m figures.docs render` writes from docs/results,
    and every reproduction target has both settings recorded, each outcome following its checks."""
    from figures.plot import TARGETS

    assert docs.DOC_FILE.read_text() == docs.render(), "run `python -m figures.docs render`"
    by_target = docs.load()
    for target in TARGETS:
        assert set(by_target.get(target, {})) == {"full", "quick"}, target
        for record in by_target[target].values():
            held = [c["held"] for c in record["checks"]]
            expected = (
                verdict.REPRODUCED if all(held) else verdict.PARTLY if any(held) else verdict.NOT_REPRODUCED
            )
            assert record["outcome"] == expected, (target, record["setting"])
