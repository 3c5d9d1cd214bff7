"""Intervals on a plan's loss, N_opt and D_opt (`plan`/`table` --interval), and what presets' papers publish."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from tokenplan.laws import get_law, published_intervals
from tokenplan.laws.prediction import uncertainty_of
from tokenplan.plan import optimal_table, plan
from tokenplan.units import format_quantity as fq

GOPHER = 5.76e23


def test_epoch2024_carries_the_papers_published_intervals():
    """Golden: Besiroglu et al. 2024's final estimate with 4,000 bootstraps (REFERENCE.md sec. 2): 95% CIs
    E 1.769-1.871, A 285-744, B 1042-5810, alpha 0.317-0.373, beta 0.331-0.415; a = 0.513 +- 0.020."""
    p = plan(flops=GOPHER, law="epoch2024")
    got = {(x.quantity, x.level): (x.estimate, x.low, x.high) for x in p.published_intervals}
    assert got == {
        ("E", 0.95): (1.817, 1.769, 1.871),
        ("A", 0.95): (482.01, 285.0, 744.0),
        ("B", 0.95): (2085.43, 1042.0, 5810.0),
        ("alpha", 0.95): (0.3478, 0.317, 0.373),
        ("beta", 0.95): (0.3658, 0.331, 0.415),
        ("a", None): (0.513, 0.493, 0.533),
    }
    assert all("Besiroglu et al. 2024" in x.source for x in p.published_intervals)
    d = p.to_dict()
    assert d["published_intervals"][0]["source"].startswith("Besiroglu et al. 2024")
    assert "Besiroglu" in d["sources"]["published_intervals"]


def test_epoch2024_interval_matches_the_published_spread_of_a():
    """Golden, not circular: the draws behind plan's N_opt interval (tokenplan's re-run of Epoch's bootstrap
    on the 240 points, never tuned to the paper) give a = beta/(alpha+beta) with mean 0.513 and spread
    0.020 as Besiroglu et al. 2024 print it; the plan's N_opt interval at the Gopher budget brackets the
    point estimate and widens from 80% to 95%."""
    law = get_law("epoch2024")
    unc = uncertainty_of(law)
    cols = {n: unc.draws[:, i] for i, n in enumerate(unc.names)}
    a = cols["beta"] / (cols["alpha"] + cols["beta"])
    assert a.mean() == pytest.approx(0.513, abs=0.005)
    assert a.std() == pytest.approx(0.020, rel=0.15)
    p95 = plan(flops=GOPHER, law="epoch2024", interval=0.95)
    p80 = plan(flops=GOPHER, law="epoch2024")
    lo, hi = p95.intervals.n_params
    assert lo < p80.intervals.n_params[0] < p95.n_params < p80.intervals.n_params[1] < hi


def test_plan_intervals_are_predicts_and_optimal_intervals():
    """One code path: plan's intervals are Law.predict's (loss) and Law.optimal_interval's (N, D)."""
    law = get_law("epoch2024")
    p = plan(flops=1e22, law=law, interval=0.9)
    pred = law.predict(p.n_params, p.n_tokens, interval=0.9)
    alloc = law.optimal_interval(p.flops, interval=0.9)
    assert p.intervals.loss == pred.interval and p.intervals.loss_kind == pred.interval_kind
    assert p.intervals.n_params == alloc.n_params and p.intervals.n_tokens == alloc.n_tokens
    assert p.intervals.allocation_kind == "bootstrap"
    assert "sampling noise only" in p.intervals.allocation_source


@pytest.mark.parametrize("name", ["kaplan", "muennighoff2023"])
def test_presets_without_a_published_interval_say_so(name):
    p = plan(flops=1e21, law=name)
    assert p.intervals.loss is None and p.intervals.n_params is None
    assert p.intervals.loss_kind == "none" and "no interval published" in p.intervals.loss_source
    assert p.published_intervals == ()
    out = run_cli("plan", "--flops", "1e21", "--law", name)
    assert out.returncode == 0 and "no interval published" in out.stdout


def test_chinchilla_table2_intervals_as_published():
    """Hoffmann et al. 2022 Table 2 (10th/90th percentiles): Approach 1 a = 0.50 (0.488, 0.502), b = 0.50
    (0.501, 0.512); Approach 2 a = 0.49 (0.462, 0.534), b = 0.51 (0.483, 0.529)."""
    a1 = {
        x.quantity: (x.low, x.high, x.level) for x in published_intervals(get_law("chinchilla-a1"))
    }
    a2 = {
        x.quantity: (x.low, x.high, x.level) for x in published_intervals(get_law("chinchilla-a2"))
    }
    assert a1 == {"a": (0.488, 0.502, 0.8), "b": (0.501, 0.512, 0.8)}
    assert a2 == {"a": (0.462, 0.534, 0.8), "b": (0.483, 0.529, 0.8)}
    t = optimal_table((1e9,), law="chinchilla-a1")
    assert t.rows[0].intervals.loss is None and t.rows[0].intervals.n_params is None
    assert [x.text for x in t.published_intervals] == [
        "a = 0.50 (0.488 .. 0.502)",
        "b = 0.50 (0.501 .. 0.512)",
    ]


def test_a_preset_with_changed_constants_is_not_the_paper():
    from dataclasses import replace

    law = replace(get_law("epoch2024"), E=1.9)
    assert published_intervals(law) == ()
    p = plan(flops=1e21, law=law)
    assert p.intervals.loss is None and "no interval" in p.intervals.loss_source


# --- a law fitted on a shipped example ------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """`tokenplan fit --example chinchilla --save fit.json` with the default flags (form auto, bootstrap)."""
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    out = run_cli("fit", "--example", "chinchilla", "--save", str(path))
    assert out.returncode == 0, out.stderr
    return path


def _plan_json(path, *extra):
    out = run_cli("plan", "--law", str(path), "--flops", "1e21", "--json", *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_fitted_law_plan_interval_contains_the_point_and_widens(fitted):
    p80, p95 = _plan_json(fitted), _plan_json(fitted, "--interval", "0.95")
    for p, level in ((p80, 0.8), (p95, 0.95)):
        iv = p["intervals"]
        assert iv["level"] == level
        assert iv["loss"][0] < p["loss"] < iv["loss"][1]
        assert iv["n_params"][0] < p["n_params"] < iv["n_params"][1]
        assert iv["n_tokens"][0] < p["n_tokens"] < iv["n_tokens"][1]
        assert iv["loss_kind"] == "backtest-calibrated" and iv["allocation_kind"] == "bootstrap"
        assert "held-out" in iv["loss_source"] and "sampling noise only" in iv["allocation_source"]
        assert p["published_intervals"] == []
    for key in ("loss", "n_params", "n_tokens"):
        lo80, hi80 = p80["intervals"][key]
        lo95, hi95 = p95["intervals"][key]
        assert lo95 < lo80 and hi95 > hi80, key


def test_fitted_law_table_and_text_output(fitted):
    out = run_cli(
        "table", "--law", str(fitted), "--params", "100M,1B", "--json", "--interval", "0.9"
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    for r in rows:
        iv = r["intervals"]
        assert iv["level"] == 0.9 and iv["loss"][0] < r["loss"] < iv["loss"][1]
        assert iv["n_params"][0] < r["n_params_law"] < iv["n_params"][1]
        assert iv["n_tokens"][0] < r["n_tokens"] < iv["n_tokens"][1]
    text = run_cli("table", "--law", str(fitted), "--params", "1B").stdout
    assert (
        "80% intervals" in text and "backtest-calibrated" in text and "sampling noise only" in text
    )
    text = run_cli("plan", "--law", str(fitted), "--flops", "1e21").stdout
    assert "80% interval" in text and "backtest-calibrated" in text


@pytest.mark.parametrize("value", ["0", "1", "nan", "x", "inf", "-0.5", "90"])
@pytest.mark.parametrize(
    "cmd",
    [["plan", "--flops", "1e21"], ["table"], ["predict", "--params", "1B", "--tokens", "20B"]],
)
def test_bad_interval_is_one_line_exit_2(cmd, value):
    out = run_cli(*cmd, "--interval", value)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--interval" in lines[0] and "Traceback" not in out.stderr


def test_library_rejects_bad_levels():
    from tokenplan.errors import InvalidInputError

    for bad in (0.0, 1.0, float("nan"), True, "x"):
        with pytest.raises(InvalidInputError, match="interval"):
            plan(flops=1e21, interval=bad)
        with pytest.raises(InvalidInputError, match="interval"):
            optimal_table((1e9,), interval=bad)


def test_compare_prints_each_laws_interval_and_names_the_laws_without(fitted):
    """`plan --compare` gives the same intervals as `plan --law X` for every law that has them."""
    text = run_cli("plan", "--law", str(fitted), "--flops", "1e21", "--compare").stdout
    flat = " ".join(text.split())
    epoch = json.loads(run_cli("plan", "--law", "epoch2024", "--flops", "1e21", "--json").stdout)
    for one in (_plan_json(fitted), epoch):
        iv = one["intervals"]
        assert f"{one['law']}: 80% interval: N_opt {fq(iv['n_params'][0])} .. " in flat, one["law"]
        assert f"loss {iv['loss'][0]:.4f} .. {iv['loss'][1]:.4f} ({iv['loss_kind']})" in flat
    without = flat.split("no interval on N_opt, D_opt or the loss: ")[1].split(" (")[0]
    assert "chinchilla" in without and "kaplan" in without and "epoch2024" not in without


def test_plan_report_shows_the_interval(fitted, tmp_path):
    pytest.importorskip("altair")
    out = tmp_path / "plan.html"
    r = run_cli("plan", "--law", str(fitted), "--flops", "1e21", "--report", str(out), "--json")
    assert r.returncode == 0, r.stderr
    iv = json.loads(r.stdout)["intervals"]
    html = out.read_text()
    row = html.split('id="plan-interval">')[1].split("</td>")[0]
    for key in ("loss", "n_params", "n_tokens"):
        for i in (0, 1):
            assert f'data-key="intervals.{key}.{i}" data-value="{float(iv[key][i])!r}"' in row
    assert "backtest-calibrated" in row and "bootstrap" in row


def test_plan_and_table_do_not_say_a_converted_total_was_taken_as_is():
    """plan --params 7B --law kaplan converts the total to 6.91B non-embedding, and table does too; both
    printed predict's note 'n_params is taken as that count (... `tokenplan plan --params` converts a
    total)', which contradicts the conversion beside it. predict, which takes N as given, keeps it."""
    note = "is taken as that count"
    assert not any(note in n for n in plan(n_params=7e9, law="kaplan").intervals.notes)
    assert not any(note in n for n in optimal_table((7e9,), law="kaplan").rows[0].intervals.notes)
    for args in (["plan", "--params", "7B"], ["table", "--params", "7B"]):
        r = run_cli(*args, "--law", "kaplan")
        assert r.returncode == 0 and note not in r.stdout and "converted" in r.stdout
    r = run_cli("predict", "--params", "7B", "--tokens", "1T", "--law", "kaplan")
    assert note in r.stdout


def test_compare_says_what_a_loss_interval_covers_as_the_single_plan_does():
    """`plan --flops 1e22 --unique-tokens 25B --compare` printed epoch2024's loss interval with no word on
    what it covers, where `plan --law epoch2024` notes it; the note is now printed once in the comparison."""
    one = plan(flops=1e22, unique_tokens=25e9, law="epoch2024")
    (note,) = one.intervals.notes
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B", "--compare")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(f"note: {note}\n") == 1
    single = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B").stdout
    assert f"note: {note}\n" in single


def test_plan_report_says_what_the_loss_interval_covers(tmp_path):
    """`plan --flops 1e22 --unique-tokens 25B --report` showed the loss interval without the note the console
    and `--json` (`intervals.notes`) give on what it covers; the page now carries it beside the interval."""
    pytest.importorskip("altair")
    import html

    out = tmp_path / "plan.html"
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B", "--report", str(out), "--json")
    assert r.returncode == 0, r.stderr
    (note,) = json.loads(r.stdout)["intervals"]["notes"]
    row = out.read_text().split('id="plan-interval">')[1].split("</td>")[0]
    assert f'<p class="note">{note}</p>' in html.unescape(row)
