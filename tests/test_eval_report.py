"""Reports: C3-Bench by class and size under its own rule beside the strict one, label-version groups,
wall time apart from summed sample time, and the HTML page (matplotlib figures) checked in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from formulate.datasets import load_spec
from formulate.eval import run_eval, summarize, to_html, to_markdown
from formulate.eval.cli import eval_app
from formulate.eval.runner import config_for
from tests.test_datasets import cache, serve_c3, server  # noqa: F401 - fixtures

pytest.importorskip("matplotlib", reason="report figures need the plots extra (pip install 'formulate-opt[plots]')")

BOX = "variables:\n  x: {{lower: 0, upper: {v!r}}}\nobjective: {{sense: maximize, expr: x}}\n"


def c3_formulator(text: str, problem_id: str | None) -> dict:
    """Exact on the smallest size of a class, 0.1% off on the middle one, 1% off on the largest."""
    size = int(re.search(r"with (\d+)", text).group(1))
    answer = size * 100 + 0.5
    error = {5: 0.0, 4: 0.0, 10: 1e-3, 8: 1e-3, 20: 1e-2}[size]
    return {"formulation": BOX.format(v=round(answer * (1 + error), 6)), "status": "ok"}


@pytest.fixture
def c3_runs(server, cache, monkeypatch, tmp_path):  # noqa: F811 - fixtures from test_datasets
    """Run logs of the made-up C3 canonical and linguistic files, downloaded from 127.0.0.1."""
    root, base, _ = server
    specs = serve_c3(root)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    logs = []
    for name in ("c3_canonical", "c3_linguistic"):
        data = load_spec(specs[name])
        out = tmp_path / f"{name}.jsonl"
        run_eval(data.samples, c3_formulator, out, config_for(data, "fn", workers=2), progress=False)
        logs.append(out)
    return logs


def test_c3_is_scored_under_its_rule_beside_the_strict_one_by_class_and_size(c3_runs):
    canonical, linguistic = (summarize(p) for p in c3_runs)
    assert canonical.rule.name == "rel2e-3" and canonical.version_label == "C3-Bench / generated"
    assert (canonical.correct, canonical.also["rel1e-4"], canonical.total) == (4, 2, 5)
    assert "accuracy 4/5 = 80.0% (rule rel2e-3: |pred-ans| <= 2e-3*max(1,|ans|)" in canonical.score_line()
    assert "; rel1e-4 2/5 = 40.0%;" in canonical.score_line()
    md = to_markdown([canonical, linguistic])
    assert "| accuracy under rel1e-4 | 2/5 (40.0%) | 4/10 (40.0%) |" in md
    assert "### By class and size" in md
    rows = [line for line in md.splitlines() if line.startswith("| Knapsack @")]
    assert rows == ["| Knapsack @ 5 | 1/1 (100.0%) | 2/2 (100.0%) |", "| Knapsack @ 10 | 1/1 (100.0%) | 2/2 (100.0%) |",
                    "| Knapsack @ 20 | 0/1 (0.0%) | 0/2 (0.0%) |"]
    assert "### By linguistic_complexity" in md and "| hard | - | 4/5 (80.0%) |" in md
    assert "### By experimental_type" in md
    strict = summarize(c3_runs[0], rule="rel1e-4")  # re-scored: the logged rule is then shown beside it
    assert (strict.correct, strict.also) == (2, {"rel2e-3": 4})


def test_report_groups_by_label_version_and_says_versions_do_not_compare(c3_runs, tmp_path):
    local = tmp_path / "local.jsonl"
    local.write_text(json.dumps({"id": "a", "question": "Maximise x with x at most 3.", "answer": 3}) + "\n")
    out = tmp_path / "local-run.jsonl"
    result = CliRunner().invoke(eval_app, ["eval", str(local), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    md = to_markdown([summarize(p) for p in (*c3_runs, out)])
    assert "Scores compare only between runs on the same benchmark and label version" in md
    assert "| C3-Bench / generated | c3_canonical, c3_linguistic |" in md
    assert "| local / unversioned (local file) | local-run |" in md
    assert md.index("## C3-Bench / generated") < md.index("## local / unversioned (local file)")
    cli = CliRunner().invoke(eval_app, ["report", *map(str, c3_runs), str(out), "--markdown"])
    assert cli.exit_code == 0 and "## Label versions" in cli.output


def test_total_time_is_the_wall_time_with_summed_sample_time_apart(c3_runs):
    summary = summarize(c3_runs[0])
    assert summary.wall_s > 0 and len(summary.sample_times) == summary.total
    assert abs(summary.time_total - sum(summary.sample_times)) < 1e-3
    md = to_markdown([summary])
    assert f"| wall time (s) | {summary.wall_s:.1f} |" in md
    assert "| summed over samples: formulate / solve / total (s) |" in md


CHECK = """<script>
window.addEventListener('load', () => {
  const vw = document.documentElement.clientWidth, problems = [];
  if (document.documentElement.scrollWidth > vw) problems.push('page wider than the window');
  const figures = document.querySelectorAll('figure svg');
  figures.forEach((svg, i) => {
    const box = svg.getBoundingClientRect();
    if (box.right > vw + 0.5 || box.width < 100 || box.height < 50) problems.push('figure ' + i + ' box');
    svg.querySelectorAll('text').forEach(t => {
      const r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
                      r.bottom > box.bottom + 1)) problems.push('text cut in figure ' + i + ': ' + t.textContent);
    });
  });
  document.querySelectorAll('table').forEach((t, i) => {
    if (t.getBoundingClientRect().right > vw + 0.5) problems.push('table ' + i + ' wider than the page');
  });
  document.body.setAttribute('data-check', JSON.stringify({figures: figures.length, problems}));
});
</script>"""


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_html_report_renders_in_headless_chromium_with_nothing_cut_off(c3_runs, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    page = to_html([summarize(p) for p in c3_runs])
    assert page.count("<figure><svg") == 4  # accuracy, stages, class and size, time and tokens
    report = tmp_path / "report.html"
    report.write_text(page.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,900",
             "--virtual-time-budget=5000"]
    dom = subprocess.run([*flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'data-check="([^"]*)"', dom.stdout)
    assert found, dom.stderr[-500:]
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check == {"figures": 4, "problems": []}
    shot = tmp_path / "report.png"
    subprocess.run([*flags[:-2], "--window-size=1000,4200", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_verifier_rounds_and_readings_are_drawn(tmp_path):
    from formulate.eval.plots import rounds_figure
    from tests.test_eval import PROBLEMS, write_problems

    data, replay = write_problems(tmp_path)
    out = tmp_path / "verified.jsonl"
    result = CliRunner().invoke(eval_app, ["eval", str(data), "--model", f"replay:{replay}", "--out", str(out),
                                           "--rounds", "3", "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = summarize(out)
    assert summary.with_rounds == len(PROBLEMS) and summary.by_round
    rounds = sorted(summary.by_round)
    assert rounds[0] == 1 and summary.by_round[rounds[-1]] >= summary.by_round[1]  # "feed" is fixed in round 2
    assert summary.by_round[rounds[-1]] <= summary.correct
    assert "<svg" in (rounds_figure([summary]) or "")
    assert "Accuracy by verifier round" in to_html([summary])
    assert "| rounds / samples per problem | 3 / 1 |" in to_markdown([summary]).splitlines()
    assert "<th>rounds / samples per problem</th><td>3 / 1</td>" in to_html([summary])
    # the counts do not depend on the order the records arrived in (workers finish in any order)
    lines = out.read_text().splitlines()
    records = [line for line in lines if json.loads(line).get("type") == "sample"]
    for order in (records, records[::-1]):
        shuffled = tmp_path / "reordered.jsonl"
        shuffled.write_text("\n".join([line for line in lines if line not in records] + order) + "\n")
        assert summarize(shuffled).by_round == summary.by_round


def test_samples_without_a_readable_label_are_said_to_count_as_wrong(tmp_path):
    from formulate.datasets import load_dataset

    data = tmp_path / "mixed.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "box 3", "answer": 3}) + "\n"
                    + json.dumps({"id": "b", "question": "box 4", "answer": None}) + "\n")
    dataset = load_dataset(data)
    out = tmp_path / "mixed.log.jsonl"

    def boxes(text: str, problem_id: str | None) -> dict:
        return {"formulation": BOX.format(v=int(text.split()[1])), "status": "ok"}

    run_eval(dataset.samples, boxes, out, config_for(dataset, "fn", workers=1), progress=False)
    run = summarize(out)
    assert run.score_line().startswith("mixed.log: accuracy 1/2 = 50.0%")
    assert run.score_line().endswith("; 1 without a readable label (counted wrong)")
