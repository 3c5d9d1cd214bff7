"""`tokenplan laws` and `tokenplan flops` through the real entry point, including bad input."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli


def test_laws_lists_presets_with_citation_and_convention():
    r = run_cli("laws")
    assert r.returncode == 0, r.stderr
    for name in (
        "chinchilla",
        "chinchilla-unrounded",
        "epoch2024",
        "chinchilla-a1",
        "chinchilla-a2",
        "kaplan",
        "muennighoff2023",
    ):
        assert name in r.stdout
    assert "non-embedding" in r.stdout and "Hoffmann" in r.stdout
    data = json.loads(run_cli("laws", "--json").stdout)
    kaplan = next(x for x in data["laws"] if x["name"] == "kaplan")
    assert kaplan["param_convention"] == "non-embedding" and "Kaplan" in kaplan["citation"]


def test_laws_show_each_fitted_range_with_its_source():
    """Issue 14: every preset says which data it was fitted on, in --json and in the text table."""
    from tokenplan.laws import PRESETS

    data = json.loads(run_cli("laws", "--json").stdout)
    assert {x["name"] for x in data["laws"]} == set(PRESETS)
    for row in data["laws"]:
        rng = row["fitted_range"]
        assert rng == PRESETS[row["name"]].fitted_range.to_dict()
        assert rng["source"] and rng["flops"][0] < rng["flops"][1]
    epoch = next(x for x in data["laws"] if x["name"] == "epoch2024")
    assert "240" in epoch["fitted_range"]["source"]
    assert [p["quantity"] for p in epoch["published_intervals"]][:5] == [
        "E",
        "A",
        "B",
        "alpha",
        "beta",
    ]
    text = run_cli("laws").stdout
    assert "1.4e18..1.3e22" in text and "4.3e15..9.3e21" in text
    assert text.count("fitted range: ") == len(PRESETS)
    assert "validated the law but was not in the fit" in text


def test_flops_gpt2_small_json():
    r = run_cli("flops", "--shape", "gpt2-small", "--tokens", "300B", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["params"]["total"] == 124_439_808
    assert out["training_flops"]["6ND"] == pytest.approx(6 * 124_439_808 * 300e9)


def test_flops_from_sizes():
    r = run_cli(
        "flops",
        "--layers",
        "12",
        "--d-model",
        "768",
        "--heads",
        "12",
        "--seq-len",
        "1024",
        "--bias",
    )
    assert r.returncode == 0, r.stderr
    assert "124,439,808" in r.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["flops", "--layers", "2", "--d-model", "100", "--heads", "7"],
            "error: --heads 7 does not divide --d-model 100",
        ),
        (["flops", "--shape", "gpt5"], "error: --shape: unknown shape 'gpt5'; valid names:"),
        (["flops", "--d-model", "64"], "missing --layers, --heads"),
        (["flops", "--shape", "gpt2-small", "--tokens", "-1"], "--tokens"),
        (["flops", "--shape", "gpt2-small", "--tokens", "nan"], "--tokens"),
        (
            ["flops", "--layers", "0", "--d-model", "64", "--heads", "4"],
            "error: Invalid value for '--layers': --layers='0' must be a whole number > 0",
        ),
        (
            ["flops", "--shape", "gpt2-small", "--vocab", "0"],
            "--vocab='0' must be a whole number > 0",
        ),
        (
            ["flops", "--shape", "llama3-8b", "--kv-heads", "3"],
            "error: --kv-heads 3 does not divide --heads 32",
        ),
        (
            ["flops", "--shape", "llama3-8b", "--kv-heads", "0"],
            "--kv-heads='0' must be a whole number > 0",
        ),
        # a library error names its flag: these said 'n_layers=0 ...', 'unknown GPU ...' with no flag
        (["plan", "--gpu-hours", "100", "--gpu", "X100"], "error: --gpu: unknown GPU 'X100'"),
        (["plan", "--target-loss", "1.0"], "error: --target-loss: target_loss=1.0 is at or below"),
        (
            ["repeat", "--unique-tokens", "25B", "--plot", "r.txt"],
            "error: --plot 'r.txt' must end in .png",
        ),
        (["laws", "--bogus"], "No such option"),
        (["nope"], "No such command"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run_cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.stderr


def test_with_flags_keeps_names_a_command_does_not_have():
    """Only a quoted name the command has a flag for becomes that flag; code spans stay as written."""
    import click

    from tokenplan.cli._flags import with_flags

    @click.command()
    @click.option("--params", "n_params")
    @click.option("--gpu")
    def cmd(n_params, gpu):
        pass

    text = "give `n_params` or `gpu`, not `unknown`; see `tokenplan flops`."
    assert with_flags(cmd, text) == "give --params or --gpu, not `unknown`; see `tokenplan flops`."


def test_flops_names_a_changed_preset_and_the_architecture():
    """flops --shape gpt2-small --layers 3 printed and saved (--json) the name 'gpt2-small' for a 3-layer
    model, and no title said whether the head was untied, the positions rotary or the MLP gated: the
    Llama-2-7B shape (6,738,415,616 parameters, the published count) read like a GPT-2 one."""
    r = run_cli("flops", "--shape", "gpt2-small", "--layers", "3", "--vocab", "50257", "--json")
    assert json.loads(r.stdout)["shape"]["name"] == "gpt2-small with n_layers=3"
    r = run_cli("flops", "--shape", "gpt2-small", "--json")
    assert json.loads(r.stdout)["shape"]["name"] == "gpt2-small"
    llama2 = ["--layers", "32", "--d-model", "4096", "--heads", "32", "--vocab", "32000"]
    llama2 += ["--ffw-size", "11008", "--gated", "--norm", "rmsnorm", "--position", "rotary"]
    r = run_cli("flops", *llama2, "--untied")
    assert r.returncode == 0 and "6,738,415,616" in r.stdout
    title = " ".join(r.stdout.split("┏")[0].split())  # the title wraps at the table's width
    assert "untied LM head, rotary positions, rmsnorm, gated MLP, no biases" in title


def test_flops_named_open_models_and_grouped_query_attention():
    """`flops --shape llama2-7b` said "unknown shape", and --kv-heads did not exist, so Llama-2-70B's
    grouped-query attention (8 KV heads of 64) could not be described: its released 68,976,648,192
    parameters, given by hand here, equal the preset's; the title says 8 KV heads, and the source is shown."""
    r = run_cli("flops", "--shape", "llama2-7b", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["params"]["total"] == 6_738_415_616 and out["shape"]["n_kv_heads"] == 32
    assert "Touvron" in out["shape"]["source"]
    llama2 = ["--layers", "80", "--d-model", "8192", "--heads", "64", "--kv-heads", "8"]
    llama2 += [
        "--ffw-size",
        "28672",
        "--vocab",
        "32000",
        "--seq-len",
        "4096",
        "--untied",
        "--gated",
    ]
    llama2 += ["--norm", "rmsnorm", "--position", "rotary"]
    by_hand = json.loads(run_cli("flops", *llama2, "--json").stdout)
    preset = json.loads(run_cli("flops", "--shape", "llama2-70b", "--json").stdout)
    assert by_hand["params"]["total"] == preset["params"]["total"] == 68_976_648_192
    assert by_hand["flops_per_token"] == preset["flops_per_token"]
    assert by_hand["shape"]["source"] is None  # sizes typed by hand: no source claimed
    r = run_cli("flops", "--shape", "llama2-70b")
    assert "64 heads (8 KV)" in " ".join(r.stdout.split("┏")[0].split())
    assert "llama2-70b: Touvron et al. 2023" in r.stdout
    assert "mistral-7b" in run_cli("flops", "--help").stdout
