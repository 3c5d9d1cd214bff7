"""`tokenplan plan` through the real entry point (`python -m tokenplan`): JSON goldens, errors, start-up.

Golden numbers: ../shared/REFERENCE.md sections 1-4 (Hoffmann et al. 2022; Besiroglu et al. 2024; Kaplan et
al. 2020; Muennighoff et al. 2023).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from helpers import REPO, run_cli
from tokenplan import get_law


def plan_json(*args: str) -> dict:
    r = run_cli("plan", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_readme_demo_compare_json():
    """README's first command, as JSON: every preset at the Gopher budget C = 5.76e23.
    Hoffmann et al. 2022 eq. 4: rounded 32.2B/2.98T, unrounded 40.4B/2.38T; Besiroglu et al. 2024:
    72.2B/1.33T (the default law, so also the top-level keys)."""
    out = plan_json("--flops", "5.76e23", "--compare")
    for key in (
        "n_params",
        "n_tokens",
        "flops",
        "tokens_per_param",
        "loss",
        "epochs",
        "effective_tokens",
        "law",
        "plans",
    ):
        assert key in out, key
    assert out["law"] == "epoch2024"
    assert out["n_params"] == pytest.approx(72.2e9, rel=0.005)
    assert out["n_tokens"] == pytest.approx(1.33e12, rel=0.005)
    plans = {p["law"]: p for p in out["plans"]}
    assert set(plans) == {law.name for law in __import__("tokenplan").list_laws()}
    assert plans["chinchilla"]["n_params"] == pytest.approx(32.2e9, rel=0.005)
    assert plans["chinchilla"]["n_tokens"] == pytest.approx(2.98e12, rel=0.005)
    assert plans["chinchilla-unrounded"]["n_params"] == pytest.approx(40.4e9, rel=0.005)
    assert plans["chinchilla-unrounded"]["n_tokens"] == pytest.approx(2.38e12, rel=0.005)
    assert plans["kaplan"]["param_convention"] == "non-embedding"
    # Hoffmann et al. 2022 Table 2: a = 0.50 (0.488, 0.502) for Approach 1, 0.49 for Approach 2, 0.46 for
    # Approach 3 (unrounded fit), 0.73 for Kaplan.
    assert 0.488 <= plans["chinchilla-a1"]["exponents"]["a"] <= 0.502
    assert plans["chinchilla-a2"]["exponents"]["a"] == pytest.approx(0.49)
    assert plans["chinchilla-unrounded"]["exponents"]["a"] == pytest.approx(0.46, abs=0.005)
    assert plans["kaplan"]["exponents"]["a"] == pytest.approx(0.73)
    # Besiroglu et al. 2024: a = beta / (alpha + beta) = 0.513.
    assert out["exponents"]["a"] == pytest.approx(0.513, abs=0.001)
    assert plans["chinchilla-a1"]["loss"] is None  # allocation-only law


def test_readme_demo_human_output():
    r = run_cli("plan", "--flops", "5.76e23", "--compare", env={"COLUMNS": "120"})
    assert r.returncode == 0, r.stderr
    for text in (
        "epoch2024",
        "72.2B",
        "1.33T",
        "32.2B",
        "2.98T",
        "40.4B",
        "non-embedding",
        "kaplan",
    ):
        assert text in r.stdout, text
    assert r.stderr == ""


def test_single_plan_human_output():
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B", env={"COLUMNS": "120"})
    assert r.returncode == 0, r.stderr
    for text in ("epochs", "effective tokens", "data-constrained optimum", "Warnings", "GPU-hours"):
        assert text in r.stdout, text


def test_worked_example_json():
    """Muennighoff et al. 2023 Fig. 1 budget, 9.3e21 FLOPs and 25B unique tokens: the law's optimum is 6.8B
    params on 227B tokens, 9.1 epochs (the authors' grid search, datablations README)."""
    out = plan_json("--flops", "9.3e21", "--unique-tokens", "25B", "--law", "muennighoff2023")
    assert out["n_tokens"] == pytest.approx(227e9, rel=0.005)
    assert out["epochs"] == pytest.approx(9.1, abs=0.05)
    assert out["n_params"] == pytest.approx(6.8e9, rel=0.01)
    assert out["effective_tokens"] < out["n_tokens"]
    assert any("4 epochs" in w for w in out["warnings"])
    # Kaplan et al. 2020 eq. 4.4: 25B unique tokens < 5e3 N^0.74 for the plan's non-embedding params.
    bound = 5e3 * out["n_params_non_embedding"] ** 0.74
    assert 25e9 < bound and any("overfitting bound" in w for w in out["warnings"])
    # The default law reports the same optimum under "data_constrained".
    dflt = plan_json("--flops", "9.3e21", "--unique-tokens", "25B")
    assert dflt["law"] == "epoch2024"
    assert dflt["data_constrained"]["n_params"] == pytest.approx(out["n_params"], rel=1e-6)
    assert dflt["data_constrained"]["epochs"] == pytest.approx(out["epochs"], rel=1e-6)


def test_data_constrained_optimum_epochs_below_one():
    """2T unique tokens and 1e24 FLOPs: the optimum trains on 1.81T tokens, 0.90 of an epoch. The plan's
    own row said 'epochs 0.90' while the optimum's row, the --compare note and the report said '1.00
    epochs' (DataConstrainedAllocation.epochs was floored at one pass)."""
    out = plan_json("--flops", "1e24", "--unique-tokens", "2T", "--law", "muennighoff2023")
    dc = out["data_constrained"]
    assert dc["epochs"] == pytest.approx(dc["n_tokens"] / 2e12, rel=1e-9)
    assert dc["epochs"] == pytest.approx(out["epochs"], rel=1e-6) and 0.85 < dc["epochs"] < 0.95
    text = run_cli(
        "plan", "--flops", "1e24", "--unique-tokens", "2T", env={"COLUMNS": "100"}
    ).stdout
    assert "(0.90 epochs of 2T)" in text and "1.00 epochs" not in text  # not binding: one line


def test_kaplan_json():
    """Hoffmann et al. 2022 App. D.4: Kaplan's optimum at 1e21 FLOPs is 4.68B (non-embedding) params;
    Kaplan eq. 1.4 batch B_crit = 2e8 / L^(1/0.21) tokens at the plan's loss."""
    out = plan_json("--flops", "1e21", "--law", "kaplan")
    assert out["n_params"] == pytest.approx(4.68e9, rel=0.005)
    assert out["param_convention"] == "non-embedding"
    assert out["n_params_total"] > out["n_params"]
    assert out["batch"]["critical_batch_tokens"] == pytest.approx(2e8 / out["loss"] ** (1 / 0.21))
    ten = plan_json("--flops", "1e22", "--law", "kaplan")
    assert ten["n_params"] / out["n_params"] == pytest.approx(5.37, abs=0.01)
    assert ten["n_tokens"] / out["n_tokens"] == pytest.approx(1.86, abs=0.01)


def test_suffixes_and_hardware():
    out = plan_json("--gpu-hours", "20K", "--gpu", "H100", "--gpus", "64", "--mfu", "0.5")
    assert out["flops"] == pytest.approx(20e3 * 3600 * 989e12 * 0.5)
    assert out["hardware"]["wall_clock_hours"] == pytest.approx(20e3 / 64)
    assert out["hardware"]["gpus_assumed"] is False
    out = plan_json("--params", "7B", "--price-per-gpu-hour", "2.5")
    assert out["n_params"] == pytest.approx(7e9)
    assert out["hardware"]["cost"] == pytest.approx(2.5 * out["hardware"]["gpu_hours"])
    out = plan_json("--tokens", "1.4T")
    assert out["n_tokens"] == pytest.approx(1.4e12)


def test_target_loss_and_inference_json():
    out = plan_json("--target-loss", "2.1")
    assert out["loss"] == pytest.approx(2.1, abs=1e-6)
    # Sardana et al. 2024 (REFERENCE.md sec. 6): a 13B Chinchilla-optimal model serving 2T inference
    # tokens is beaten by a ~7B model trained longer with ~17% fewer total FLOPs. With chinchilla-unrounded:
    # 7.12B, 16.3% (see tests/plan/test_plan_inference.py for exactly what is reproduced).
    out = plan_json("--params", "13B", "--law", "chinchilla-unrounded", "--inference-tokens", "2T")
    inf = out["inference"]
    assert inf["baseline_n_params"] == pytest.approx(13e9)
    assert 6.5e9 < inf["n_params"] < 7.5e9
    assert inf["n_tokens"] > 2 * out["n_tokens"]
    assert 0.15 < inf["fraction_saved"] < 0.19
    assert inf["total_flops"] == pytest.approx(
        6 * inf["n_params"] * inf["n_tokens"] + 2 * inf["n_params"] * 2e12
    )


def test_saved_law_file(tmp_path):
    """`tokenplan plan --law path/to/fit.json` works through get_law."""
    law = get_law("chinchilla")
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"law": law.to_dict(), "note": "from tokenplan fit"}))
    out = plan_json("--flops", "5.76e23", "--law", str(path))
    assert out["n_params"] == pytest.approx(32.2e9, rel=0.005)
    comp = plan_json("--flops", "5.76e23", "--law", str(path), "--compare")
    assert comp["law"] == "chinchilla"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--flops", "-1"), "--flops"),
        (("--flops", "abc"), "--flops"),
        (("--flops", "1e22", "--mfu", "2"), "--mfu"),
        (("--flops", "1e22", "--gpu", "TPUv9"), "H100"),
        (("--flops", "1e22", "--params", "7B"), "conflict"),
        ((), "budget"),
        (("--gpu-hours", "100"), "--gpu"),
        (("--flops", "1e22", "--law", "nope"), "epoch2024"),
        (("--flops", "1e22", "--law", "missing.json"), "does not exist"),
        (("--target-loss", "1.0"), "irreducible"),
        (("--target-loss", "20", "--law", "kaplan"), "at most 6.761"),  # was 4.87e-04 parameters
        (("--flops", "1e22", "--gpus", "0"), "--gpus"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run_cli("plan", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tokenplan: error:") and needle in lines[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            (),
            "give a budget: one of --flops, --gpu-hours, --days, --params, --tokens, --target-loss.",
        ),
        (("--flops", "1e22", "--params", "7B"), "got --flops and --params (they conflict)"),
        (("--gpu-hours", "100"), "--gpu-hours needs the hardware: add --gpu NAME"),
        (
            ("--flops", "1e22", "--gpu", "H100", "--peak-flops", "1e15"),
            "give --gpu NAME or --peak-flops",
        ),
        # the law at fault is the one --law chose: the line names that flag
        (
            ("--target-loss", "2", "--law", "chinchilla-a1"),
            "error: --law: law 'chinchilla-a1' predicts",
        ),
    ],
)
def test_library_errors_name_this_commands_flags(args, needle):
    """plan() quotes its argument names (`gpu`, `n_params`); the CLI gives them as its flags."""
    r = run_cli("plan", *args)
    assert r.returncode == 2 and needle in r.stderr and "`" not in r.stderr, r.stderr


def test_warnings_name_flags():
    """A warning plan() words with argument names reads with flags on the command line."""
    r = run_cli("plan", "--target-loss", "2.1", "--unique-tokens", "25B", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "--target-loss 2.1 is not reached" in r.stdout and "(--flops)" in r.stdout
    assert "`target_loss`" not in r.stdout and "`flops`" not in r.stdout


def test_bad_law_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run_cli("plan", "--flops", "1e22", "--law", str(bad))
    assert r.returncode == 2 and "not valid JSON" in r.stderr


HEAVY = ("torch", "sklearn", "pandas", "matplotlib", "ray", "scipy.optimize")


def test_plan_does_not_import_heavy_modules():
    """`tokenplan plan` (with --compare, --unique-tokens and --inference-tokens) runs the real CLI main in a
    subprocess; torch, pandas, matplotlib and scipy.optimize must stay unloaded (they would blow the 0.5 s
    start-up budget)."""
    code = (
        "import sys, json, contextlib, io\n"
        "from tokenplan.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    for extra in (['--compare'], ['--inference-tokens', '2T']):\n"
        "        try:\n"
        "            main(['plan', '--flops', '1e22', '--unique-tokens', '25B', *extra])\n"
        "        except SystemExit as e:\n"
        "            assert e.code in (0, None), e.code\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_help_lists_plan_commands():
    r = run_cli("--help")
    for cmd in ("plan", "table", "repeat"):
        assert cmd in r.stdout
    r = run_cli("plan", "--help")
    assert r.returncode == 0 and "--unique-tokens" in r.stdout


def test_batch_rule_flag():
    """--batch-rule kaplan switches from DeepSeek LLM's B_opt (and learning rate) to Kaplan's B_crit."""
    ds = plan_json("--flops", "1e21")
    assert ds["batch"]["rule"] == "deepseek" and ds["batch"]["learning_rate"] > 0
    kap = plan_json("--flops", "1e21", "--batch-rule", "kaplan")
    assert kap["batch"]["rule"] == "kaplan" and kap["batch"]["learning_rate"] is None
    assert kap["batch"]["target_tokens"] == pytest.approx(kap["batch"]["critical_batch_tokens"])
    r = run_cli("plan", "--flops", "1e21", "--batch-rule", "huge")
    assert r.returncode == 2 and "--batch-rule" in r.stderr


def test_small_memory_is_not_printed_as_zero():
    """A 1M-parameter plan printed 'training memory 0.0 GB = weights 0.0 GB ...', and 1e21 FLOPs over 1,000
    GPUs '0.0 GB/GPU'; small sizes now get MB (or kB)."""
    small = run_cli("plan", "--params", "1M").stdout
    assert "16.0 MB = weights 2.0 MB + grads 2.0 MB + Adam 12.0" in " ".join(small.split())
    wide = " ".join(run_cli("plan", "--flops", "1e21", "--gpus", "1000").stdout.split())
    assert "44.5 MB/GPU with ZeRO-3 over 1,000" in wide and "0.0 GB" not in wide
    big = " ".join(run_cli("plan", "--flops", "5.76e23").stdout.split())
    assert "1.16 TB = weights 144.5 GB" in big


def test_a_model_below_the_conversion_floor_is_flagged_cli():
    """`plan --params 10` printed '10 (total; 9.34e-12 non-embedding)'; it now points at the warning, and
    under a law that counts non-embedding parameters it is refused in one line."""
    r = run_cli("plan", "--params", "10", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "e-12" not in r.stdout and "(total; too small to convert: see the warning)" in r.stdout
    r = run_cli("plan", "--params", "10", "--law", "kaplan")
    assert r.returncode == 2 and "--params" in r.stderr and "1.27M" in r.stderr


def test_small_plans_show_their_gpu_time():
    """A tiny plan printed 'GPU-hours 0' and 'wall-clock 0.0 h'; it now gives the time in seconds or
    minutes, computed from the plan's own GPU-hours."""
    from tokenplan.plan import plan

    p = plan(flops=1e15)  # 2.5 GPU-seconds on an H100 at 40% MFU
    r = run_cli("plan", "--flops", "1e15", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert f"{p.gpu_hours:.2g} ({p.gpu_hours * 3600:.2g} GPU-seconds) on H100" in r.stdout
    assert f"{p.wall_clock_hours * 3600:.2g} s on 1 GPU (" in r.stdout
    q = plan(flops=1e18)
    r = run_cli("plan", "--flops", "1e18", env={"COLUMNS": "200"})
    assert f"{q.gpu_hours:.2g} ({q.gpu_hours * 60:.2g} GPU-minutes)" in r.stdout


# A law fitted on a 9-run CPU sweep whose parameter term vanished (A ~ 1e-21, alpha = beta = 0.068;
# constants of a real `tokenplan fit` on a chitchat-dataset sweep): its N_opt is ~1e-157 on ~1e168 tokens.
DEGENERATE = {"E": 4.9e-10, "A": 6.582e-22, "B": 6.09, "alpha": 0.0676, "beta": 0.0676}


@pytest.mark.parametrize(
    "budget",
    [
        ("--flops", "1e13"),
        ("--tokens", "1M"),
        ("--params", "10K"),
        ("--flops", "1e13", "--compare"),
        ("table", "--params", "10K"),
    ],
)
def test_a_degenerate_fitted_law_is_one_line_not_a_traceback(tmp_path, budget):
    """`plan --law fit.json` with such a law raised ZeroDivisionError (DeepSeek's learning rate at C = 0)
    for --flops/--tokens, and a bare 'value too large' with no flag for --params (and `table`)."""
    from dataclasses import replace

    law = replace(get_law("chinchilla"), name="fit-approach3", **DEGENERATE)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"law": law.to_dict()}))
    command, budget = (budget[0], budget[1:]) if budget[0] == "table" else ("plan", budget)
    r = run_cli(command, "--law", str(path), *budget)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tokenplan: error: --law: law 'fit-approach3' has no usable plan")
    assert budget[0] in lines[0] and "refit" in lines[0]


def test_absurd_epochs_read_in_scientific_notation():
    """One unique token under 1e22 FLOPs is 1.84e11 epochs: it printed '184260640753.58' (found by the
    audit helper); ordinary counts keep two decimals."""
    from tokenplan.units import format_epochs

    assert format_epochs(9.104) == "9.10" and format_epochs(9999.0) == "9999.00"
    assert format_epochs(184260640753.58) == "1.84e+11"
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "1", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "1.84e+11" in r.stdout and "184260640753" not in r.stdout


def test_gpu_help_says_which_budgets_need_it():
    """--gpu's help gave "[H100]" as if every budget defaulted to it, while --gpu-hours and --days
    refuse to run without it."""
    r = run_cli("plan", "--help")
    assert r.returncode == 0
    assert "--gpu-hours and --days need it given" in " ".join(r.stdout.split())


def test_data_constrained_row_names_the_law_it_comes_from(tmp_path):
    """A law fitted with `fit --law data-constrained`: the plan's data-constrained optimum is that law's,
    and the console row says so instead of "muennighoff2023"."""
    law = tmp_path / "dc.json"
    r = run_cli(
        "fit", "--example", "datablations", "--law", "data-constrained", "--save", str(law), "-q"
    )
    assert r.returncode == 0, r.stderr
    r = run_cli("plan", "--law", str(law), "--flops", "1e21", "--unique-tokens", "5B")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "(fit-data-constrained)" in text and "(muennighoff2023)" not in text


def test_plan_prints_the_loss_scale_note_and_refuses_a_target_beside_e():
    """The audit's commands: the data-constrained optimum of another law gets `plan --compare`'s note on
    loss scales; `--target-loss 1.8171` (E = 1.817) is one line on stderr and exit 2, not a 4.9e41-FLOPs
    plan; `plan --json` names its unbounded axes (none here) as `fit --json` does."""
    from tokenplan.laws.presets import LOSS_SCALES

    r = run_cli(
        "plan",
        "--gpu-hours",
        "20000",
        "--gpu",
        "H100",
        "--unique-tokens",
        "25B",
        env={"COLUMNS": "300"},
    )
    assert r.returncode == 0, r.stderr
    assert f"are law muennighoff2023's, the plan's are law epoch2024's: {LOSS_SCALES}" in r.stdout
    r = run_cli("plan", "--target-loss", "1.8171")
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert "--target-loss" in r.stderr and "4.9e+41 training FLOPs" in r.stderr
    assert "Traceback" not in r.stderr
    assert plan_json("--flops", "1e22")["extrapolation_unbounded"] == []


def test_peak_flops_plan_does_not_claim_its_gpu_count_holds_the_state():
    """--peak-flops names no device memory, so the one GPU the plan assumes was not sized to hold the
    training state (279 GB here); the row read '2.3 years on 1 GPUs (fewest that hold the training
    state)'."""
    r = run_cli("plan", "--gpu-hours", "20000", "--peak-flops", "1e15", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    (row,) = [line for line in r.stdout.splitlines() if "wall-clock" in line]
    assert "fewest that hold" not in row and "on 1 GPU (assumed:" in row, row
    assert "not checked" in row
    r = run_cli("plan", "--flops", "1e16", "--gpu", "H100", env={"COLUMNS": "200"})
    (row,) = [line for line in r.stdout.splitlines() if "wall-clock" in line]
    assert "on 1 GPU (fewest that hold the training state)" in row, row


def test_batch_and_learning_rate_say_how_far_outside_deepseeks_fitted_compute():
    """DeepSeek LLM fitted B_opt and eta_opt on runs of 1e17..2e19 FLOPs (sec. 3.1; 1e17..3e20 is its
    model/data study, which the span first said); plan applied them at any budget without a word. Outside
    that span the table and --json say by how many decades (log10 C / 2e19)."""
    r = run_cli("plan", "--flops", "5.76e23", env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    (row,) = [line for line in r.stdout.splitlines() if "batch fit range" in line]
    assert "is 4.5 decades above DeepSeek LLM's fitted 1e17..2e19 FLOPs" in row, row
    out = json.loads(run_cli("plan", "--flops", "5.76e23", "--json").stdout)["batch"]
    assert out["deepseek_fitted_flops"] == [1e17, 2e19]
    assert out["decades_outside"] == pytest.approx(math.log10(out["deepseek_flops"] / 2e19))
    assert "4.5 decades above" in out["note"]
    from tokenplan.plan import plan

    below = plan(flops=1e12).batch
    assert below.decades_outside == pytest.approx(-math.log10(1e17 / below.deepseek_flops))
    assert "decades below DeepSeek LLM's fitted 1e17..2e19 FLOPs" in below.note
    inside = plan(flops=1e19)
    assert inside.batch.decades_outside == 0.0 and inside.batch.note is None
    assert "batch fit range" not in run_cli("plan", "--flops", "1e19").stdout
    assert (
        plan(flops=2e20).batch.decades_outside > 0.9
    )  # inside 1e17..3e20, above the hyperparameter runs
    kaplan = plan(flops=5.76e23, batch_rule="kaplan", law="kaplan").batch  # no lr, no DeepSeek span
    assert kaplan.decades_outside is None and kaplan.note is None


def test_kaplans_batch_at_another_laws_loss_says_its_loss_is_on_other_data():
    """--batch-rule kaplan put epoch2024's MassiveText loss into Kaplan's B_crit(L), a fit to WebText2
    losses, without a word (B_crit ~ L^-4.76: a loss scale 10% apart is 1.1^(1/0.21) = 1.6x the batch)."""
    from tokenplan.plan import plan

    b = plan(flops=1e22, batch_rule="kaplan").batch
    assert b.loss_law == "epoch2024"
    assert "WebText2" in b.note and "epoch2024's" in b.note
    # from the Kaplan preset's alpha_B = 0.21 (eq. 1.4), not literals: L^-4.76, 1.1^4.76 = 1.57
    assert "B_crit goes as L^-4.76 (a loss scale 10% apart: 1.57x the batch)" in b.note
    assert b.to_dict()["note"] == b.note
    out = run_cli("plan", "--flops", "1e22", "--batch-rule", "kaplan").stdout
    assert "batch loss scale" in out
    assert (
        plan(flops=1e22, batch_rule="kaplan", law="chinchilla-a1").batch.note is None
    )  # Kaplan's L


def test_a_comparison_of_small_plans_puts_the_unit_after_the_hours():
    """`plan --compare` of a plan under 10 GPU-hours printed 'each plan takes 0.7 (42 GPU-minutes) GPU-hours'
    (and titled a budget '0.5 (30 GPU-minutes) GPU-hours'): the unit was appended after the minutes. It now
    follows the number: '0.7 GPU-hours (42 GPU-minutes)'."""
    from tokenplan.units import format_gpu_hours

    assert format_gpu_hours(0.7, unit=True) == "0.7 GPU-hours (42 GPU-minutes)"
    assert format_gpu_hours(0.7) == "0.7 (42 GPU-minutes)"  # where a header or label gives the unit
    assert format_gpu_hours(7022.4, unit=True) == "7,022 GPU-hours"
    assert format_gpu_hours(1 / 3600, unit=True) == "0.00028 GPU-hours (1 GPU-seconds)"
    r = run_cli("plan", "--gpu-hours", "0.5", "--gpu", "H100", "--compare", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Every law on 0.5 GPU-hours (30 GPU-minutes)")
    assert "note: each plan takes 0.5 GPU-hours (30 GPU-minutes) on H100" in r.stdout
    r = run_cli("plan", "--flops", "1e18", "--compare", env={"COLUMNS": "200"})
    assert "GPU-minutes) GPU-hours" not in r.stdout and " GPU-hours (" in r.stdout


def test_kaplan_optima_beside_the_plan_say_their_count():
    """Kaplan et al. 2020 counts non-embedding parameters (REFERENCE.md sec. 3, 7). The plan row converts
    ('7.91B (non-embedding; 8B total, converted)'), so the optima printed beside it, which are the law's own
    counts, must say so too: Kaplan's compute-efficient N at 7.11e23 FLOPs is 1.3e9 (C_min/PF-day)^0.73 =
    566B non-embedding, which read as '566B params' beside a plan of '8B total'."""
    r = run_cli(
        "plan", "--params", "8B", "--tokens", "15T", "--law", "kaplan", env={"COLUMNS": "200"}
    )
    assert r.returncode == 0, r.stderr
    c_min = 6 * 7.91e9 * 15e12 / 2 / 8.64e19  # Kaplan eq. 5.5 at B = B_crit, in PF-days
    assert f"{1.3e9 * c_min**0.73 / 1e9:.0f}B non-embedding params on 210B tokens" in r.stdout
    assert "16.3B non-embedding params on 56.5B tokens" in r.stdout
    r = run_cli("plan", "--params", "1B", "--law", "kaplan", "--inference-tokens", "2T")
    assert "767M non-embedding params on" in r.stdout, r.stdout


def test_the_rows_a_law_does_not_give_print_their_sources():
    """Every printed number carries its source: GPU-hours and wall-clock come from the accelerator's peak
    (NVIDIA's H100 SXM5 datasheet: 989 TFLOPS dense bf16), memory from ZeRO's 16 bytes per parameter for
    mixed-precision Adam (Rajbhandari et al. 2020, sec. 3.1), the total/non-embedding pair from Pearce & Song
    2024; the table printed them with only the law's citation below (--json alone had `sources`)."""
    r = run_cli("plan", "--flops", "1e21", env={"COLUMNS": "400"})
    assert r.returncode == 0, r.stderr
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("sources: ")]
    assert "GPU-hours: NVIDIA H100 datasheet (SXM5): 989 TFLOPS dense bf16" in line
    assert "memory: Rajbhandari et al. 2020, ZeRO, sec. 3.1: 16 bytes per parameter" in line
    assert "total/non-embedding: Pearce & Song 2024" in line
    r = run_cli("plan", "--flops", "1e21", "--peak-flops", "1e15", env={"COLUMNS": "400"})
    assert "sources: GPU-hours: peak FLOP/s given by the user;" in r.stdout


def test_a_plans_effective_tokens_carry_their_source_on_the_console():
    """`plan --flops 1e21 --unique-tokens 40B --law chinchilla` printed 'effective tokens D' 89.3B (D'/D =
    0.977)' and a loss taken at D' with nothing on the console saying where D' came from: below ~4 epochs
    no warning names R_D*, and the note a law without a repetition term gets is kept out of a plan. The
    sources line now ends with D' and its R_D* (``sources["effective_tokens"]`` in JSON); a law of one's own
    names itself there."""
    r = run_cli("plan", "--flops", "1e21", "--unique-tokens", "40B", "--law", "chinchilla")
    assert r.returncode == 0, r.stderr
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("sources: ")]
    source = json.loads(
        run_cli(
            "plan", "--flops", "1e21", "--unique-tokens", "40B", "--law", "chinchilla", "--json"
        ).stdout
    )["sources"]["effective_tokens"]
    assert line.endswith(f"; D': {source}") and source.endswith("eq. 5 (R_D* = 15.39)")
    fresh = run_cli("plan", "--flops", "1e21", "--law", "chinchilla")
    assert "D': " not in fresh.stdout  # no unique tokens, no D'


def test_compare_says_whose_plan_the_advice_is_for():
    """`plan --flops 1e22 --unique-tokens 25B --compare` printed six laws' epochs side by side (kaplan 2.7,
    epoch2024 7.4, chinchilla 12.9, ...) and then one 'Advice' block ("7.4 epochs: ...", "at 9.05B
    parameters ...") without saying that it is epoch2024's plan; the heading now names the law."""
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B", "--compare")
    assert r.returncode == 0, r.stderr
    assert "Advice (for law epoch2024's plan)" in r.stdout
    single = run_cli("plan", "--flops", "1e22", "--unique-tokens", "25B")
    assert "\nAdvice\n" in single.stdout  # one plan: nothing to tell apart
