"""`tokenplan repeat`: the value of repeated data (Muennighoff et al. 2023, REFERENCE.md sec. 4)."""

from __future__ import annotations

import itertools
import json
import math
import sys

import pytest

from helpers import run_cli
from tokenplan import InvalidInputError, MissingDependencyError, get_law
from tokenplan.plan import repeat

# Muennighoff et al. 2023 eq. 5 with R_D* = 15.387756: D'/D at 2, 4, 10, 16, 40 epochs.
FRACTIONS = {2: 0.984, 4: 0.931, 10: 0.781, 16: 0.661, 40: 0.379}


def test_effective_fractions_library():
    """Muennighoff et al. 2023: D'/D = 0.984, 0.931, 0.781, 0.661, 0.379 at 2, 4, 10, 16, 40 epochs."""
    t = repeat(25e9, list(FRACTIONS))
    for row in t.rows:
        assert row.effective_fraction == pytest.approx(FRACTIONS[row.epochs], abs=5e-4)


def test_effective_fractions_and_cap_cli():
    """Same numbers through `tokenplan repeat --json`; D'/U caps at 1 + R_D* = 16.39."""
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "2,4,10,16,40,100000", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    rows = {row["epochs"]: row for row in out["rows"]}
    for epochs, fraction in FRACTIONS.items():
        assert rows[epochs]["effective_fraction"] == pytest.approx(fraction, abs=5e-4)
    assert rows[100000]["effective_multiple"] == pytest.approx(16.39, abs=0.005)
    assert out["plot"] is None
    assert out["warnings"] and "nearly worthless" in out["warnings"][0]
    assert any(a.get("recommended_dropout") == 0.1 for a in out["advice"])


def test_effective_fraction_is_at_most_one_just_above_one_epoch():
    """`repeat --unique-tokens 25B --epochs 1.0000001 --json` gave effective_fraction 1.0000000000000002 and
    effective_multiple 1.0000001000000003 (above the epochs): D' (eq. 5) rounded above D."""
    epochs = "1.0000001,1.00000001,1.0000000001"
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", epochs, "--json")
    assert r.returncode == 0, r.stderr
    for row in json.loads(r.stdout)["rows"]:
        assert 0.0 <= row["effective_fraction"] <= 1.0, row
        assert row["effective_multiple"] <= row["epochs"], row


def test_effective_tokens_cap_library():
    """Muennighoff et al. 2023: D'/U caps at 1 + R_D* = 16.39 however many epochs."""
    t = repeat(1e9, [1e3, 1e6])
    for row in t.rows:
        assert row.effective_multiple == pytest.approx(16.39, abs=0.005)
        assert row.effective_multiple <= 1 + 15.387756


def test_loss_change_is_positive_and_grows():
    """Repeated tokens are never better than fresh: the loss change is >= 0 and grows with epochs."""
    t = repeat(25e9)
    changes = [r.loss_change for r in t.rows]
    assert changes[0] == pytest.approx(0.0, abs=1e-12)
    assert all(b > a for a, b in itertools.pairwise(changes))
    assert t.n_params_assumed
    law = get_law("muennighoff2023")
    assert t.n_params == pytest.approx(float(law.optimal_params(25e9).n_params))
    row = t.rows[2]  # 4 epochs: L(N', D') vs L(N, D) by hand
    assert row.loss == pytest.approx(float(law.loss(t.n_params, 100e9, 25e9)))
    assert row.loss_fresh == pytest.approx(float(law.loss(t.n_params, 100e9, 100e9)))


def test_one_epoch_costs_nothing_even_for_a_big_model():
    """ "Fresh" means the same N and D with all D tokens unique, so at one epoch the change is 0 even when
    N exceeds U_N (where the law's N' term already discounts parameters)."""
    t = repeat(25e9, [1, 4], n_params=7e9)
    assert t.rows[0].loss_change == pytest.approx(0.0, abs=1e-12)
    assert t.rows[1].loss_change > 0


def test_advice_is_the_relative_loss_penalty():
    """Labels come from (L - L_fresh) / L_fresh: < 0.5% about as good as fresh, < 2% returns fade, else little
    left. At the compute-optimal size for one pass (Muennighoff's setting), 4 epochs stay "about as good as
    fresh" as the paper finds."""
    t = repeat(25e9, [1, 4, 10, 100])
    rel = [r.relative_penalty for r in t.rows]
    assert rel[0] == 0 and rel[1] < 0.005 <= rel[2] < 0.02 <= rel[3]
    assert [r.advice for r in t.rows] == [
        "fresh data",
        "about as good as fresh",
        "returns fade",
        "little left: more data, dropout",
    ]
    for r in t.rows[1:]:
        assert r.relative_penalty == pytest.approx(r.loss_change / r.loss_fresh, rel=1e-12)


def test_advice_depends_on_the_model_not_only_the_epochs():
    """The same 2 epochs: about as good as fresh for the one-pass optimal model, fading for a 7B model on
    25B unique tokens (its excess parameters lose value, eq. 6)."""
    assert repeat(25e9, [2]).rows[0].advice == "about as good as fresh"
    assert repeat(25e9, [2], n_params=7e9).rows[0].advice == "returns fade"
    # The 8-epoch warning beside it says the ~4-epoch rule is the paper's setting, not every model's.
    t = repeat(25e9, [2, 8], n_params=7e9)
    assert "as good as fresh for a model sized for its data" in " ".join(t.warnings)


@pytest.mark.parametrize(
    "law", ["kaplan", "chinchilla", "epoch2024", "muennighoff2023", "chinchilla-a1"]
)
def test_no_label_is_milder_than_its_warning(law):
    """Kaplan's loss barely depends on data at 1B parameters (+0.05% at 100 epochs), so the penalty alone
    called 100 epochs "about as good as fresh" beside the warning "nearly worthless". Muennighoff's epoch rule,
    which the warnings state, is a floor under every label: beyond ~4 epochs returns fade, beyond ~16 little
    is left; each row's label agrees with the warning a table of that row alone gets."""
    for epochs in (2, 4, 10, 16, 40, 100):
        t = repeat(50e9, [epochs], n_params=1e9, law=law)
        (row,) = t.rows
        said = " ".join(t.warnings)
        if "beyond ~16 epochs" in said:
            assert row.advice == "little left: more data, dropout", (law, epochs)
        elif "beyond ~4 epochs" in said:
            assert row.advice in ("returns fade", "little left: more data, dropout"), (law, epochs)
        else:
            assert epochs <= 4
    labels = [r.advice for r in repeat(50e9, n_params=1e9, law=law).rows]
    # 40 and 100 epochs: ~40 worthless
    assert labels[-2:] == ["little left: more data, dropout"] * 2


def test_labels_follow_the_paper_in_its_setting():
    """Muennighoff et al. 2023 (REFERENCE.md sec. 4), the one-pass optimal model on 25B unique tokens: ~4
    epochs about as good as fresh, 16 fading, ~40 worthless (the penalty alone said "returns fade" at 40)."""
    labels = {r.epochs: r.advice for r in repeat(25e9).rows}
    assert labels[4] == "about as good as fresh"
    assert labels[16] == "returns fade"
    assert labels[40] == "little left: more data, dropout"


def test_tiny_data_is_an_extrapolation():
    """10M unique tokens: the one-pass optimal model has ~510K parameters, far below the 7.1M of Muennighoff's
    smallest fitted run; the table says so instead of advising as if the law held there."""
    t = repeat(10e6, [1, 2, 4])
    assert t.n_params < 7.1e6 / 10
    (warning,) = [w for w in t.warnings if "extrapolation" in w]
    assert "below the smallest (7.1M)" in warning
    assert t.extrapolation["n_params"]["factor"] > 10


def test_data_too_small_for_one_parameter_is_refused_as_plan_refuses_it():
    """`repeat --unique-tokens 1` printed a table for a '5.10e-02-parameter model' (loss 2977) where
    `plan --tokens 1` refuses; now it names the smallest --unique-tokens whose model has one parameter."""
    with pytest.raises(
        InvalidInputError, match=r"the smallest `unique_tokens` that plans at least one is 19\.7"
    ):
        repeat(1)
    assert repeat(19.7).n_params >= 1.0
    assert repeat(1, n_params=1e6).n_params == 1e6  # a model given is planned as given
    r = run_cli("repeat", "--unique-tokens", "10")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "--unique-tokens 10 plans less than one parameter" in line and "--params" in line, line


def test_allocation_only_law_falls_back_on_the_epoch_rule():
    t = repeat(25e9, [1, 3, 8, 20], n_params=1e9, law="chinchilla-a1")
    assert [r.advice for r in t.rows] == [
        "fresh data",
        "about as good as fresh",
        "returns fade",
        "little left: more data, dropout",
    ]


def test_other_laws():
    t = repeat(25e9, [1, 4], n_params=1e9, law="epoch2024")
    law = get_law("epoch2024")
    assert t.rows[1].loss == pytest.approx(float(law.loss(1e9, t.rows[1].effective_tokens)))
    t = repeat(25e9, [1, 4], n_params=1e9, law="chinchilla-a1")
    assert t.rows[1].loss is None and t.rows[1].loss_change is None


def test_bad_input():
    with pytest.raises(InvalidInputError, match="unique_tokens"):
        repeat(0)
    with pytest.raises(InvalidInputError, match="epochs"):
        repeat(1e9, [])
    with pytest.raises(InvalidInputError, match=r"epochs\[0\]"):
        repeat(1e9, [math.nan])
    r = run_cli("repeat", "--epochs", "1,2")
    assert r.returncode == 2 and "--unique-tokens" in r.stderr
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "1,-2")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_plot_png_atomic(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "repeat.png"
    r = run_cli("repeat", "--unique-tokens", "25B", "--plot", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["plot"] == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["repeat.png"]  # no temp file left behind


def test_plot_bad_paths(tmp_path):
    from tokenplan.report import plot_repeat

    t = repeat(1e9, [1, 2])
    with pytest.raises(InvalidInputError, match=r"\.png"):
        plot_repeat(t, tmp_path / "x.txt")
    (tmp_path / "f").write_text("a file")
    with pytest.raises(InvalidInputError, match="is a file, not a folder") as err:
        plot_repeat(t, tmp_path / "f" / "x.png")
    assert err.value.param == "plot_path"  # the CLI names --plot
    assert plot_repeat(t, tmp_path / "no" / "x.png").is_file()  # a missing folder is created
    r = run_cli("repeat", "--unique-tokens", "1B", "--plot", str(tmp_path / "x.jpg"))
    assert r.returncode == 2 and ".png" in r.stderr


def test_plot_without_matplotlib(tmp_path, monkeypatch):
    """Without the `plot` extra the error names the package and the pip extra."""
    from tokenplan.report import plot_repeat

    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"tokenplan\[plot\]"):
        plot_repeat(repeat(1e9, [1, 2]), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_the_16_epoch_warning_says_what_the_last_epoch_is_worth():
    """Muennighoff et al. 2023, eq. 5: dD'/dD = exp(-R_D/R_D*). Just past 16 epochs one more epoch is still worth
    about a third of fresh data, so the warning says "nearly worthless" only where it is (below 5%)."""
    import math

    from tokenplan.laws import get_law
    from tokenplan.plan import advice as adv
    from tokenplan.plan.steps import last_epoch_worth, repetition_warning

    law = get_law("muennighoff2023")
    for epochs, shown, worthless in (
        (17.0, "35%", False),
        (64.0, "1.7%", True),
        (100.0, "0.16%", True),
    ):
        rep = adv.assess_repetition(law, law, 1e9, epochs * 1e10, 1e10)
        assert math.isclose(last_epoch_worth(rep, law), math.exp(-(epochs - 1) / 15.387756))
        text = repetition_warning(rep, law)
        assert f"worth {shown} of fresh ones" in text, text
        assert ("nearly worthless" in text) is worthless, text


def test_kaplan_says_its_n_is_non_embedding():
    """`repeat --law kaplan` said 'a 1.86B-parameter model' (the total) and nothing of Kaplan's convention;
    the table now carries the model as the law counts it, the title names it and the warning is plan's."""
    from tokenplan import convert_params
    from tokenplan.units import format_quantity

    t = repeat(25e9, [1, 4], n_params=7e9, law="kaplan")
    assert t.param_convention == "non-embedding" and t.n_params == 7e9
    assert t.n_params_law == pytest.approx(convert_params(7e9, to="non-embedding"), rel=1e-12)
    assert any("counts non-embedding parameters" in w for w in t.warnings)
    assert t.to_dict()["n_params_law"] == t.n_params_law
    r = run_cli("repeat", "--unique-tokens", "25B", "--law", "kaplan", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    default = repeat(25e9, law="kaplan")
    expected = (
        f"({format_quantity(default.n_params_law)} non-embedding, as law kaplan counts them; "
    )
    said = " ".join(r.stdout.split())  # the title wraps at the table's width
    assert f"on a {format_quantity(default.n_params)}-parameter model {expected}" in said
    assert "law 'kaplan' counts non-embedding parameters" in said
    fresh = repeat(25e9, [1, 4])  # a law counting all parameters says nothing of the kind
    assert fresh.param_convention == "total" and fresh.n_params_law == fresh.n_params
    assert not any("non-embedding" in w for w in fresh.warnings)


def test_a_model_below_the_conversion_floor_is_flagged_as_plan_flags_it():
    """`repeat --unique-tokens 1M` planned a 51K-parameter model (and under --law kaplan one of 2.32e-03
    non-embedding parameters, titled a '6.29K-parameter model') without the warning `plan` gives below one
    layer (tokenplan.flops.conversion_floor); it now carries plan's warning and params_convertible."""
    from tokenplan.flops import conversion_floor

    floor = conversion_floor()[1]
    tiny = repeat(1e6, [1, 4])
    assert tiny.n_params < floor and tiny.params_convertible is False
    assert tiny.to_dict()["params_convertible"] is False
    (w,) = [w for w in tiny.warnings if "conversion describes" in w]
    assert w.startswith("51K parameters is below the smallest model the total <-> non-embedding")
    # under one non-embedding parameter (1M tokens: 2.32e-03) kaplan's model is refused, as plan refuses it
    kaplan = repeat(1e7, [1, 4], law="kaplan")
    (w,) = [w for w in kaplan.warnings if "conversion describes" in w]
    assert w.startswith("1.17 non-embedding parameters (law 'kaplan' counts them) is below")
    for ok in (repeat(25e9, [1, 4]), repeat(1e6, [1, 4], n_params=2e6)):
        assert ok.params_convertible and not any("conversion describes" in w for w in ok.warnings)
    r = run_cli("repeat", "--unique-tokens", "10M", "--law", "kaplan", env={"COLUMNS": "200"})
    said = " ".join(r.stdout.split())
    assert r.returncode == 0 and "on a model of 1.17 non-embedding parameters" in said
    assert "too small to convert: see the warning" in said and "50.1K" not in said


def test_repeat_reprs_are_short_and_readable():
    """A notebook showed RepeatTable as a ~4,000-character dump of every field (advice texts, sources, raw
    floats such as 186283656153.0663); the table and its rows now read like Plan's repr."""
    t = repeat(unique_tokens=50e9, n_params=1e9)
    assert repr(t) == (
        "RepeatTable(law='muennighoff2023', unique_tokens=50B, n_params=1B (given), "
        "epochs=[1, 2, 4, 10, 16, 40, 100], warnings=2, advice=3)"
    )
    assert repr(t.rows[2]) == (
        "RepeatRow(epochs=4.00, n_tokens=200B, effective_tokens=186B, effective_fraction=0.931, "
        "loss=2.3758, loss_change=+0.0039, advice='about as good as fresh')"
    )
    row = repeat(unique_tokens=1e9, law="chinchilla-a1").rows[1]
    assert "loss=None" in repr(row) and "loss_change" not in repr(row)


@pytest.mark.parametrize("epochs", [None, [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 100]])
def test_plot_labels_do_not_cross_the_curve(tmp_path, monkeypatch, epochs):
    """The '~16 (R_D*): an epoch worth ~1/e' label ran up the ~16 line through the D'/D curve."""
    pytest.importorskip("matplotlib")
    import numpy as np
    from matplotlib.figure import Figure

    from tokenplan.report import plot_repeat

    drawn = []
    save = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: (drawn.append(fig), save(fig, *a, **k))
    )
    plot_repeat(repeat(25e9) if epochs is None else repeat(25e9, epochs), tmp_path / "r.png")
    ax = drawn[0].axes[0]
    renderer = drawn[0].canvas.get_renderer()
    (curve,) = ax.get_lines()[:1]
    xy = ax.transData.transform(np.column_stack(curve.get_data()))
    # the polyline as drawn (straight in display space), 200 points per segment
    t = np.linspace(0, 1, 200)[:, None]
    points = np.vstack([a + t * (b - a) for a, b in itertools.pairwise(xy)])
    labels = [text for text in ax.texts if "epoch" in text.get_text()]
    assert len(labels) == 2
    for text in labels:
        box = text.get_window_extent(renderer).padded(2)
        inside = (
            (points[:, 0] > box.x0) & (points[:, 0] < box.x1)
            & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
        )  # fmt: skip
        assert not inside.any(), text.get_text()


def test_effective_multiple_below_one_epoch_is_the_share_of_a_pass():
    """D'/U below one epoch: half the unique tokens once is worth half a pass (0.50), not a whole one."""
    rows = {r.epochs: r for r in repeat(1e9, [0.5, 1.0, 2.0]).rows}
    assert rows[0.5].effective_multiple == pytest.approx(0.5)
    assert rows[1.0].effective_multiple == pytest.approx(1.0)
    assert rows[2.0].effective_multiple == pytest.approx(1.9682, abs=1e-3)


def test_repeat_json_names_unbounded_axes():
    """`repeat --json` carries `extrapolation_unbounded` like `fit`/`predict --json` (empty here)."""
    r = run_cli("repeat", "--unique-tokens", "25B", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["extrapolation_unbounded"] == []


def test_the_16_epoch_warning_names_the_r_d_star_it_used():
    """Beyond ~16 epochs the warning said "R_D* ≈ 15.4" (Muennighoff's C4 fit) even for a data-constrained
    law with its own R_D*, whose value the figure beside it (what the last epoch is worth, exp(-R_D/R_D*))
    was computed with. It now names the R_D* used and whose it is; plan, repeat and predict agree."""
    import dataclasses
    import math

    from tokenplan.laws import get_law
    from tokenplan.laws.repetition import epochs_warning
    from tokenplan.plan import advice as adv
    from tokenplan.plan.steps import repetition_warning

    preset = get_law("muennighoff2023")
    mine = dataclasses.replace(preset, name="mine", R_D_star=5.0)
    rep = adv.assess_repetition(mine, mine, 1e9, 64e10, 1e10)
    text = repetition_warning(rep, mine)
    assert "(R_D* = 5, the law's own)" in text and "15.4" not in text, text
    assert f"worth {100 * math.exp(-63 / 5.0):.2g}% of fresh ones" in text
    assert mine.predict(1e9, 64e10, unique_tokens=1e10).warnings()[0] == text
    c4 = "(R_D* = 15.39, Muennighoff's C4 fit)"
    assert c4 in repetition_warning(adv.assess_repetition(preset, preset, 1e9, 64e10, 1e10), preset)
    w = get_law("epoch2024").predict(1e9, 64e10, unique_tokens=1e10).warnings()[-1]
    assert c4 in w and "(Muennighoff's R_D* decay)" in w  # a law without a repetition term
    assert c4 in epochs_warning(64.0, 0.2) and "R_D* decay" in epochs_warning(64.0, 0.2)
    assert "Muennighoff's R_D* decay" not in epochs_warning(64.0, 0.2, 15.387756)
    assert epochs_warning(4.0, 1.0) is None


def test_an_epoch_count_given_twice_is_one_row():
    """`repeat --epochs 1,1` printed the one-epoch row twice; each count is one row, in order."""
    assert [r.epochs for r in repeat(25e9, [4, 1, 4, 1.0, 2]).rows] == [1, 2, 4]
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "1,1,4", "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert [row["epochs"] for row in json.loads(r.stdout)["rows"]] == [1, 4]


def test_one_unique_token_is_singular():
    """'Repeating 1 unique tokens' and '! 1 unique tokens is below Kaplan's overfitting bound': one
    token is 'token', every other count 'tokens'."""
    from tokenplan.plan import plan

    r = run_cli("repeat", "--unique-tokens", "1", "--params", "1M", "--epochs", "1,2")
    assert r.returncode == 0 and "Repeating 1 unique token on" in r.stdout, r.stdout
    warnings = " ".join(plan(flops=1e24, unique_tokens=1).warnings)
    assert "1 unique token is below" in warnings and "1 unique token caps the loss" in warnings
    assert "unique tokens is" not in warnings and "unique tokens cap" not in warnings
    from tokenplan.units import format_count

    assert [format_count(x, "unique token") for x in (1, 1.0, 2, 25e9)] == [
        "1 unique token",
        "1 unique token",
        "2 unique tokens",
        "25B unique tokens",
    ]


def test_the_extrapolation_warning_names_the_rows_outside_the_fitted_data():
    """`repeat --unique-tokens 25B` rows run 1 to 100 epochs (25B to 2.5T tokens); muennighoff2023's runs
    reach 900B tokens (the datablations C4 runs, shared/data/datablations_c4_runs.csv), so only the 40-epoch
    (1T) and 100-epoch (2.5T) rows extrapolate. The warning gave the farthest factor without saying which
    rows, as if every row did; `table` names its rows."""
    (w,) = [w for w in repeat(25e9).warnings if "outside the data" in w]
    assert w.startswith(
        "rows 40, 100 epochs: outside the data law 'muennighoff2023' was fitted on:"
    )
    assert "2.5T tokens is 2.78x above the largest (900B)" in w
    assert not [w for w in repeat(25e9, epochs=[1, 4, 16]).warnings if "outside the data" in w]


def test_a_data_constrained_law_of_ones_own_names_its_r_d_star_in_the_sources():
    """`repeat` with a data-constrained law of one's own (`tokenplan fit --law data-constrained`; here
    R_D* = 5) computes D' with that law's R_D* (D'/D = 0.953 at 2 epochs, not Muennighoff's 0.984), but its
    sources said "Muennighoff et al. 2023, eq. 5 (R_D* = 15.39)" beside those numbers. They now name the
    law and its R_D*, as plan's sources do; the preset keeps Muennighoff's."""
    import dataclasses

    mine = dataclasses.replace(
        get_law("muennighoff2023"), name="mine", R_D_star=5.0, citation="my fit"
    )
    t = repeat(25e9, [1, 2], law=mine)
    assert t.rows[1].effective_fraction == pytest.approx(
        float(mine.effective_tokens(50e9, 25e9)) / 50e9
    )
    assert t.rows[1].effective_fraction == pytest.approx(0.953, abs=5e-4)
    source = t.sources["effective_tokens"]
    assert "R_D* = 5)" in source and "15.39" not in source and source.startswith("my fit: ")
    from tokenplan.plan import plan

    assert source == plan(n_params=1e9, unique_tokens=25e9, law=mine).sources["effective_tokens"]
    preset = repeat(25e9, [1, 2]).sources["effective_tokens"]
    assert preset.startswith("Muennighoff et al. 2023") and preset.endswith("eq. 5 (R_D* = 15.39)")


@pytest.mark.parametrize("bad", ["4x", "4B", "1,,4", ""])
def test_epochs_take_plain_numbers_and_the_error_gives_epoch_counts(bad):
    """`repeat --epochs 4x` said "use a number like 7e9, 7B, 1.4T, 400M or 5.76e23" and `--epochs ''` "a
    comma-separated list like 400M,1B,10B": token counts as the fix for epoch counts, and `--epochs 4B`
    ran four billion epochs. Epochs are plain numbers, as --days is; the error names the flag and gives
    epoch counts."""
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", bad)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--epochs" in r.stderr and "e.g. --epochs 1,4,16" in r.stderr, r.stderr
    assert "400M" not in r.stderr and "7B" not in r.stderr, r.stderr
    ok = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "0.5, 4,1e3", "--json")
    assert [row["epochs"] for row in json.loads(ok.stdout)["rows"]] == [0.5, 4, 1000]


def test_the_console_says_where_d_prime_the_loss_and_the_labels_come_from():
    """`repeat` printed D', D'/D, the loss and a label per row with the law's bare name in the title and no
    source: not the law's citation, not where R_D* came from (Muennighoff's C4 fit, or the law's own), not
    whose thresholds make the labels, nor, under a law without a repetition term, that its loss is taken at
    D' (plan and predict say all of it). It now prints the citation, the sources of D' and of the labels,
    and the note, which `--json` carries as `notes`."""
    from tokenplan.plan.advice import LABEL_SOURCE

    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "1,8", "--law", "kaplan")
    assert r.returncode == 0, r.stderr
    kaplan = get_law("kaplan")
    assert f"law kaplan: {kaplan.citation}" in r.stdout
    assert "sources: D': Muennighoff et al. 2023" in r.stdout and "(R_D* = 15.39)" in r.stdout
    assert LABEL_SOURCE in r.stdout
    assert "note: law 'kaplan' has no repetition term" in r.stdout
    table = json.loads(
        run_cli("repeat", "--unique-tokens", "25B", "--law", "kaplan", "--json").stdout
    )
    assert table["notes"] == [
        line.removeprefix("note: ") for line in r.stdout.splitlines() if line.startswith("note: ")
    ]
    assert repeat(25e9, [1, 2]).notes == ()  # muennighoff2023: its own N' and D'
    (note,) = repeat(25e9, [1, 2], law="chinchilla-a1").notes
    assert "not a loss" in note and "epoch rule alone" in note


def test_each_row_says_whether_it_extrapolates_and_how_far():
    """`repeat --unique-tokens 25B` said "rows 40, 100 epochs: outside ... 2.5T tokens is 2.78x above the
    largest (900B)": the worst row's factors, and nothing per row: the 40-epoch row (1T tokens) lies 1.11x
    beyond Muennighoff's largest run, which neither the table nor `--json` (whose rows had no range) said.
    Each row now carries `inside_range` and `extrapolation` as `table` and `predict` do, and the table an
    'in range' column."""
    t = repeat(25e9)
    by_epochs = {r.epochs: r for r in t.rows}
    assert by_epochs[16].inside_range is True
    assert by_epochs[40].inside_range is False
    assert max(by_epochs[40].extrapolation.values()) == pytest.approx(1e12 / 9e11)
    assert by_epochs[100].extrapolation["n_tokens"] == pytest.approx(2.5e12 / 9e11)
    r = run_cli("repeat", "--unique-tokens", "25B", "--json")
    rows = {row["epochs"]: row for row in json.loads(r.stdout)["rows"]}
    assert rows[16]["inside_range"] is True and rows[40]["inside_range"] is False
    assert rows[100]["extrapolation"]["n_tokens"] == pytest.approx(2.5e12 / 9e11)
    assert rows[100]["extrapolation_unbounded"] == []
    text = run_cli("repeat", "--unique-tokens", "25B").stdout
    assert "in range" in text and "1.11x out" in text and "2.78x out" in text
    custom = get_law("muennighoff2023")
    import dataclasses

    no_range = dataclasses.replace(custom, name="norange", fitted_range=None, fitted_flops=None)
    assert all(r.inside_range is None for r in repeat(25e9, [1, 2], law=no_range).rows)


def test_an_epoch_count_under_one_token_is_refused_as_plan_refuses_it():
    """`repeat --unique-tokens 25B --epochs 1e-30` printed a row of 2.50e-20 tokens with a loss of 1.85e10
    (plan refuses fewer than one token: `--tokens 0.5`). It is one line naming --epochs and the smallest
    count that trains on one token; that count itself runs."""
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "1e-30,2")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("tokenplan: error: --epochs 1e-30 of 25B unique tokens")
    assert "give at least 4e-11 epochs (one token)" in r.stderr
    ok = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "4e-11", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows"][0]["n_tokens"] == pytest.approx(1.0)
    with pytest.raises(InvalidInputError, match="less than one") as exc:
        repeat(3e9, [1e-12, 1])
    assert exc.value.param == "epochs" and "3.35e-10 epochs" in str(exc.value)
    assert repeat(3e9, [3.35e-10]).rows[0].n_tokens >= 1.0


def test_one_parameter_is_singular_in_the_warnings():
    """`repeat --unique-tokens 1T --params 1` warned "1 parameters is below the smallest model ..." and
    "1 parameters is 7.1e+06x below the smallest" (plan --params 1 --tokens 1 the same, and "1 tokens");
    counts read as one are singular, as '1 unique token' already was."""
    t = repeat(1e12, [1, 2], n_params=1)
    text = " ".join(t.warnings)
    assert "1 parameter is below the smallest model" in text
    assert "1 parameter is 7.1e+06x below" in text and " 1 parameters" not in text
    from tokenplan.plan import plan

    warned = " ".join(plan(n_params=1, n_tokens=1).warnings)
    assert "1 parameter is" in warned and "1 token is" in warned
    assert " 1 parameters" not in warned and " 1 tokens" not in warned


def test_the_plots_one_over_e_mark_sits_at_the_laws_own_r_d_star(tmp_path, monkeypatch):
    """`repeat --plot` (and the plan report's repetition chart) marked '~16 (R_D*): an epoch worth ~1/e' at
    16 epochs whatever the law: right for Muennighoff's C4 fit (1 + R_D* = 16.39), wrong for a
    data-constrained law of one's own (R_D* = 5: one more epoch is worth 1/e after 6). The mark now sits
    at 1 + R_D* of the law that priced D' (RepeatTable.R_D_star, --json 'R_D_star'); the C4 fit's is
    unchanged."""
    pytest.importorskip("matplotlib")
    import dataclasses
    import math

    from matplotlib.figure import Figure

    from tokenplan.report import plot_repeat
    from tokenplan.report.repeat_plot import decay_mark

    mine = dataclasses.replace(get_law("muennighoff2023"), name="mine", R_D_star=5.0)
    t = repeat(25e9, [1, 2, 4, 8, 16], law=mine)
    assert t.R_D_star == 5.0 and t.to_dict()["R_D_star"] == 5.0
    at, label = decay_mark(t.R_D_star)
    assert at == 6.0 and "1 + R_D*, the law's own" in label
    # what the mark claims: one more epoch there is worth 1/e of a fresh one (eq. 5's derivative)
    d = 1e-6 * 25e9
    slope = float(mine.effective_tokens(6 * 25e9 + d, 25e9) - mine.effective_tokens(6 * 25e9, 25e9))
    assert slope / d == pytest.approx(math.exp(-1), rel=1e-4)
    drawn = []
    save = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: (drawn.append(fig), save(fig, *a, **k))
    )
    plot_repeat(t, tmp_path / "r.png")
    xs = sorted(line.get_xdata()[0] for line in drawn[0].axes[0].get_lines()[1:])
    assert xs == [4, 6.0]
    assert repeat(25e9).R_D_star == pytest.approx(15.387756)
    assert decay_mark(repeat(25e9).R_D_star) == (16.0, "~16 (R_D*): an epoch worth ~1/e")
