"""The run-table reader: formats, aliases, derived tokens, the sweep schema, and every bad-table case."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import TEST_DATA, run_cli
from tokenplan import datasets
from tokenplan.errors import InvalidInputError
from tokenplan.runs import read_curves, read_runs, runs_from_arrays

RESULTS = TEST_DATA / "fit" / "results.csv"
CURVES = TEST_DATA / "fit" / "curves.csv"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_sweep_results_schema_is_read_directly():
    runs = read_runs(RESULTS)
    assert len(runs) == 20
    # failed and too_few_steps rows are dropped and counted with their reason
    assert runs.n_dropped == 2
    assert any("failed" in k for k in runs.dropped) and any(
        "too_few_steps" in k for k in runs.dropped
    )
    assert runs.flops_budget is not None and len(np.unique(runs.flops_budget)) == 4
    assert not runs.has_unique_tokens  # empty unique_tokens = fresh data


def test_param_convention_column_choice():
    total = read_runs(RESULTS)
    non_emb = read_runs(RESULTS, columns={"n_params": "n_params_non_embedding"})
    assert non_emb.param_column == "n_params_non_embedding"
    assert np.all(non_emb.n_params < total.n_params)
    assert any("n_params_non_embedding" in n for n in non_emb.notes)


def test_aliases_and_tokens_derived_from_flops(tmp_path):
    p = write(tmp_path, "r.csv", "Model Size,Training FLOP,loss\n1e8,6e17,3.0\n2e8,1.2e18,2.9\n")
    runs = read_runs(p)
    assert np.allclose(runs.n_tokens, [1e9, 1e9])  # D = C / (6N)
    assert any("C / (6N)" in n for n in runs.notes)


def test_epoch_data_and_drop_highest():
    runs = read_runs(datasets.path("chinchilla_fig4"), drop_highest=5)
    assert len(runs) == 240 and runs.n_dropped == 5


def test_jsonl_and_parquet(tmp_path):
    rows = [{"params": 1e8 * (i + 1), "tokens": 2e9, "val_loss": 3.0 - 0.1 * i} for i in range(3)]
    p = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    assert len(read_runs(p)) == 3
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    q = tmp_path / "r.parquet"
    pd.DataFrame(rows).to_parquet(q)
    runs = read_runs(q)
    assert np.allclose(runs.loss, [3.0, 2.9, 2.8])


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_semicolon_or_tab_separated_table_is_read(tmp_path, sep):
    """Excel writes ';' where the decimal mark is a comma; the header was one column before."""
    rows = ["n_params,n_tokens,loss", "1e8,2e9,3.1", "2e8,4e9,2.9"]
    p = write(tmp_path, "r.csv", "\n".join(r.replace(",", sep) for r in rows) + "\n")
    runs = read_runs(p)
    assert np.allclose(runs.loss, [3.1, 2.9]) and np.allclose(runs.n_params, [1e8, 2e8])


def test_a_tsv_table_is_tab_separated_whatever_its_header_holds(tmp_path):
    """A .tsv whose header held a comma ('notes, free text') was read as comma-separated: one column named
    'n_params<TAB>n_tokens<TAB>loss<TAB>notes' and 'no loss column'."""
    rows = ["n_params\tn_tokens\tloss\tnotes, free text", "1e8\t2e9\t3.1\ta, b", "2e8\t4e9\t2.9\t"]
    runs = read_runs(write(tmp_path, "r.tsv", "\n".join(rows) + "\n"))
    assert np.allclose(runs.loss, [3.1, 2.9]) and np.allclose(runs.n_params, [1e8, 2e8])


def test_a_decimal_comma_is_an_error_not_a_thousands_separator(tmp_path):
    """'3,1' was read as 31 (commas dropped as thousands separators): a wrong loss, silently."""
    p = write(tmp_path, "r.csv", "n_params;n_tokens;loss\n1e8;2e9;3,1\n2e8;4e9;2,9\n")
    with pytest.raises(
        InvalidInputError, match=r"row 1, column 'loss'.*'3,1'.*write a point \(3\.1\)"
    ):
        read_runs(p)


def test_columns_option_maps_any_name(tmp_path):
    p = write(tmp_path, "r.csv", "size,toks,c4\n1e8,2e9,3.0\n")
    runs = read_runs(p, columns={"n_params": "size", "n_tokens": "toks", "loss": "c4"})
    assert runs.loss[0] == 3.0


def test_missing_columns_lists_what_was_found(tmp_path):
    p = write(tmp_path, "r.csv", "size,toks,c4\n1e8,2e9,3.0\n")
    with pytest.raises(InvalidInputError, match=r"columns found: size, toks, c4"):
        read_runs(p)


def test_unknown_columns_key_and_missing_mapped_column(tmp_path):
    p = write(tmp_path, "r.csv", "params,tokens,loss\n1e8,2e9,3.0\n")
    with pytest.raises(InvalidInputError, match="unknown field 'lossy'"):
        read_runs(p, columns={"lossy": "loss"})
    with pytest.raises(InvalidInputError, match="no column 'val'"):
        read_runs(p, columns={"loss": "val"})


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "0"])
def test_bad_values_are_listed_by_row(tmp_path, bad):
    p = write(tmp_path, "r.csv", f"run_id,params,tokens,loss\na,1e8,2e9,3.0\nb,2e8,2e9,{bad}\n")
    with pytest.raises(InvalidInputError, match=r"loss must be finite and > 0 at row 2 \(b"):
        read_runs(p)
    aliased = write(tmp_path, "a.csv", p.read_text().replace(",loss", ",Eval Loss"))
    with pytest.raises(
        InvalidInputError, match=r"column 'Eval Loss' \(loss\) must be finite and > 0"
    ):
        read_runs(aliased)  # the file's own column, as the decimal-comma message names it
    runs = read_runs(p, drop_invalid=True)
    assert len(runs) == 1 and runs.n_dropped == 1


def test_duplicate_runs_without_step_are_an_error(tmp_path):
    p = write(tmp_path, "r.csv", "run_id,params,flops,loss\na,1e8,1e18,3.0\na,1e8,1e18,2.9\n")
    with pytest.raises(InvalidInputError, match="duplicate runs a"):
        read_runs(p)


def test_copied_rows_are_named_in_a_note(tmp_path):
    """A row equal to an earlier one in N, D and loss under another name is a copy (rows pasted and
    renamed): it weighs twice in the fit and narrows the intervals, so the reader names it (a row equal in
    every column is an error, below). Another loss at the same (N, D) is a second seed, not a copy."""
    rows = "a,1e7,2e8,3.9\nb,2e7,4e8,3.6\nc,1e7,2e8,3.9\nd,2e7,4e8,3.61\ne,4e7,8e8,3.3\nf,4e7,8e8,3.3\n"
    runs = read_runs(write(tmp_path, "r.csv", "name,params,tokens,loss\n" + rows))
    assert len(runs) == 6 and runs.n_points == 3
    (note,) = [n for n in runs.notes if "repeat an earlier row" in n]
    assert note.startswith("2 row(s)") and "(c, f)" in note
    clean = read_runs(write(tmp_path, "c.csv", "params,tokens,loss\n1e7,2e8,3.9\n1e7,2e8,3.8\n"))
    assert not [n for n in clean.notes if "repeat an earlier row" in n]


def test_rows_sharing_a_run_id_with_steps_are_curves(tmp_path):
    p = write(
        tmp_path,
        "r.csv",
        "run_id,step,params,tokens,loss\na,1,1e8,1e9,4.0\na,2,1e8,2e9,3.5\nb,1,2e8,1e9,3.9\nb,2,2e8,2e9,3.4\n",
    )
    runs = read_runs(p)
    assert len(runs) == 2 and np.allclose(runs.loss, [3.5, 3.4])
    assert runs.curves is not None and len(runs.curves) == 4


def test_empty_and_malformed_files(tmp_path):
    with pytest.raises(InvalidInputError, match="empty"):
        read_runs(write(tmp_path, "e.csv", "params,tokens,loss\n"))
    with pytest.raises(InvalidInputError, match="line 2 is not valid JSON"):
        read_runs(write(tmp_path, "m.jsonl", '{"params": 1}\n{oops\n'))
    with pytest.raises(InvalidInputError, match="not a number"):
        read_runs(write(tmp_path, "x.csv", "params,tokens,loss\n1e8,2e9,abc\n"))
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_runs(tmp_path / "nope.csv")


def test_all_rows_failed(tmp_path):
    p = write(tmp_path, "r.csv", "run_id,status,params,tokens,loss\na,failed,1e8,1e9,\n")
    with pytest.raises(InvalidInputError, match="no usable runs"):
        read_runs(p)


def test_read_curves_skips_the_step0_point():
    curves = read_curves(CURVES)
    assert curves.n_runs == 20
    assert np.all(curves.loss > 0) and np.all(curves.n_tokens > 0)


def test_runs_from_arrays_validates():
    with pytest.raises(InvalidInputError, match="n_params must be finite"):
        runs_from_arrays([1e8, -1], [3.0, 3.0], n_tokens=[1e9, 1e9])


def test_unique_tokens_from_epochs_and_fresh_only(tmp_path):
    p = write(
        tmp_path,
        "r.csv",
        "run_id,params,tokens,loss,unique_tokens,epochs\na,1e8,4e9,3.0,,4\nb,1e8,4e9,2.9,,1\nc,1e8,4e9,2.95,1e9,\n",
    )
    runs = read_runs(p)
    assert runs.unique_tokens[0] == pytest.approx(1e9)
    assert np.isnan(runs.unique_tokens[1])
    fresh = runs.fresh_only()
    assert list(fresh.run_id) == ["b"] and fresh.n_dropped == 2


def test_the_sweeps_own_columns_are_accepted(tmp_path):
    """The contract with `tokenplan sweep`: its RESULT_COLUMNS / CURVE_COLUMNS (extra columns included) read
    as they are."""
    import csv

    grid = pytest.importorskip("tokenplan.sweep.results")
    rows = list(csv.DictReader(RESULTS.open()))
    res = tmp_path / "results.csv"
    with res.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(grid.RESULT_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "model": "gpt", "dropout_schedule": "constant", "error": ""})
    curves_rows = list(csv.DictReader(CURVES.open()))
    cur = tmp_path / "curves.csv"
    with cur.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(grid.CURVE_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for r in curves_rows:
            w.writerow({**r, "train_loss": "9.9", "lr": "0.001"})
    runs = read_runs(res)
    assert len(runs) == 20 and runs.n_dropped == 2
    assert np.allclose(runs.loss, read_runs(RESULTS).loss)
    assert read_curves(cur).n_runs == 20


def test_curves_take_takes_every_point_field():
    from dataclasses import fields

    from tokenplan.runs import Curves

    # every field but source, so a field added to Curves later is checked too
    names = [f.name for f in fields(Curves) if f.name != "source"]
    columns = {name: np.arange(5) * 10.0 + i for i, name in enumerate(names)}
    columns["run_id"] = np.array(["a", "b", "c", "d", "e"])
    curves = Curves(**columns, source="curves.csv")
    sub = curves.take([3, 0, 3])  # order kept, repeats allowed (a bootstrap resample)
    for name in names:
        np.testing.assert_array_equal(getattr(sub, name), columns[name][[3, 0, 3]], err_msg=name)
    assert sub.source == "curves.csv" and len(sub) == 3 and sub.n_runs == 2
    assert len(curves) == 5 and list(curves.run_id) == list("abcde")  # the original is untouched


def test_two_model_sizes_under_one_run_id_are_refused(tmp_path):
    """A copy-paste typo gives two different runs one id: read as a training curve, the 410M run was
    folded into the 820M one and dropped ("dropped: none"). A curve has one model size: refuse, naming
    the id, both sizes and the fix."""
    p = write(
        tmp_path,
        "r.csv",
        "name,params,tokens,flops,loss\nr2,2.05e8,8.1e8,1e18,3.59\nr3,4.1e8,4.1e8,1e18,3.76\n"
        "r3,8.2e8,2.0e8,1e18,4.12\n",
    )
    with pytest.raises(InvalidInputError) as err:
        read_runs(p)
    assert str(err.value) == (
        f"{p}: run id 'r3' is on rows with different params (4.1e+08 and 8.2e+08); rows sharing a run "
        "id are one run's training curve, with one model size: give each run its own id."
    )


def test_an_identical_row_is_refused_naming_both_rows(tmp_path):
    """A row pasted twice read as a two-point training curve of run r03 (rows sharing a run id), with a
    note, while docs/fit.md lists duplicate runs among the errors. No column tells the rows apart, so they
    are not a second seed (the reader reads no seed column; another seed has another loss): refused."""
    lines = RESULTS.read_text().splitlines()
    p = write(tmp_path, "r.csv", "\n".join([*lines[:12], lines[4]]) + "\n")
    with pytest.raises(InvalidInputError) as info:
        read_runs(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}: rows 4 and 12 are identical in every column:") and "\n" not in msg
    no_id = write(tmp_path, "n.csv", "params,tokens,loss\n1e7,2e8,3.9\n2e7,4e8,3.6\n1e7,2e8,3.9\n")
    with pytest.raises(InvalidInputError, match="rows 1 and 3 are identical"):
        read_runs(no_id)
    seeds = "seed,params,tokens,loss\n0,1e7,2e8,3.9\n1,1e7,2e8,3.9\n"
    assert len(read_runs(write(tmp_path, "s.csv", seeds))) == 2  # two seeds: a note, not an error


def test_a_flops_column_far_from_6nd_is_named_with_its_ratio(tmp_path):
    """A FLOPs column 3.3x 6·N·D passed `fit` unflagged. FLOPs conventions stay within 0.99-1.10x of
    6ND (Hoffmann et al. 2022 Table A4, REFERENCE.md sec. 1), so beyond 2x one warning line names the
    row, its run and the ratio; 1.25x (tests/data's FLOPs budgets) is not flagged."""
    lines = RESULTS.read_text().splitlines()
    assert read_runs(RESULTS).warnings == ()
    bad = lines[3].replace(",1e+14,1e+14,", ",3.3e+14,1e+14,")
    p = write(tmp_path, "r.csv", "\n".join([*lines[:3], bad, *lines[4:]]) + "\n")
    (w,) = read_runs(p).warnings
    assert "row 3 (r02: 3.3x)" in w and "more than 2x" in w and "\n" not in w
    # Kaplan's N (chosen with --columns) is not the N the sweep's FLOPs count: not checked
    assert read_runs(p, columns={"n_params": "n_params_non_embedding"}).warnings == ()
    r = run_cli("fit", str(p), "--json")
    assert r.returncode == 0, r.stderr
    assert w in json.loads(r.stdout)["warnings"]


def test_row_numbers_are_the_file_s_own_after_dropped_and_folded_rows(tmp_path):
    """Errors and warnings said "row N" counting the rows left after dropping status != ok rows (or after
    folding curves to their last point), so N pointed at another line of the file: the bad loss on the
    file's second row was reported at "row 1". N is now the row in the file, counted from 1 after the
    header as the other messages count (a 'not a number' cell, identical rows)."""
    header = "run_id,n_params,n_tokens,loss,status\n"
    p = write(
        tmp_path, "s.csv", header + "a,1e8,2e9,3.0,failed\nb,2e8,4e9,-1,ok\nc,4e8,8e9,2.8,ok\n"
    )
    with pytest.raises(InvalidInputError, match=r"loss must be finite and > 0 at row 2 \(b: -1\)"):
        read_runs(p)
    no_id = write(
        tmp_path, "n.csv", "n_params,n_tokens,loss,status\n1e8,2e9,3,failed\n2e8,4e9,-1,ok\n"
    )
    with pytest.raises(InvalidInputError, match=r"at row 2 \(-1\)\. Fix the rows"):
        read_runs(no_id)
    flops = (
        "n_params,n_tokens,flops,loss,status\n1e8,2e9,1.2e18,3.0,failed\n2e8,4e9,4.8e19,3.1,ok\n"
    )
    (w,) = read_runs(write(tmp_path, "f.csv", flops + "4e8,8e9,1.92e19,2.8,ok\n")).warnings
    assert "at row 2 (10x)" in w
    curve = "run_id,step,n_params,n_tokens,loss\na,1,1e8,1e9,3.5\na,2,1e8,2e9,3.2\n"
    bad = write(tmp_path, "c.csv", curve + "b,1,2e8,1e9,3.4\nb,2,2e8,2e9,-3\n")
    with pytest.raises(InvalidInputError, match=r"loss must be finite and > 0 at row 4 \(b: -3\)"):
        read_runs(bad)


def test_a_curves_file_reads_a_step_logged_again_identically_once_with_a_warning(tmp_path):
    """A curves file is a log: a deterministic resume re-logs a step with the same values. It was
    refused ("identical in every column") while the same step with another loss only warned, the harsher
    outcome on the harmless case. It is now read once with a warning, as the other case is; a run table
    (one row per run) still refuses a row written twice."""
    lines = CURVES.read_text().splitlines()
    p = write(tmp_path, "c.csv", "\n".join([*lines[:6], lines[3]]) + "\n")
    c = read_curves(p)
    (w,) = c.warnings
    assert w.startswith(f"{p}: a step logged twice with the same values: run ") and "\n" not in w
    assert "(rows 3 and 6); read once" in w
    assert len(c) == len(read_curves(write(tmp_path, "once.csv", "\n".join(lines[:6]) + "\n")))
    with pytest.raises(InvalidInputError) as as_runs:
        read_runs(p)
    assert str(as_runs.value).startswith(
        f"{p}: rows 3 and 6 are identical in every column: one row"
    )
    mixed = "run_id,step,n_params,n_tokens,loss\na,1,1e8,1e9,3.5\na,2,1e8,2e9,3.2\n"
    mixed += "a,2,1e8,2e9,3.2\na,1,1e8,1e9,3.4\n"
    other, again = read_curves(write(tmp_path, "m.csv", mixed)).warnings
    assert "with different values: run a step 1 (rows 1 and 4)" in other
    assert "with the same values: run a step 2 (rows 2 and 3)" in again


def test_a_step_logged_twice_warns_once_and_keeps_the_later_row(tmp_path):
    """A resumed run that logs the same step again (with another loss) kept the later row in silence (the
    run table's result) and both in the curve. One warning now names each run, step and rows; the curve and
    the result keep the later row."""
    curve = (
        "run_id,step,n_params,n_tokens,loss\na,1,1e8,1e9,3.5\na,2,1e8,2e9,3.2\nb,1,2e8,1e9,3.4\n"
    )
    p = write(tmp_path, "c.csv", curve + "b,2,2e8,2e9,3.1\na,2,1e8,2e9,3.25\nb,1,2e8,1e9,3.45\n")
    c = read_curves(p)
    (w,) = c.warnings
    assert w.startswith(
        f"{p}: a step logged twice with different values: run a step 2 (rows 2 and 5)"
    )
    assert "run b step 1 (rows 3 and 6)" in w and "the later row is kept" in w
    assert c.loss.tolist() == [3.5, 3.25, 3.45, 3.1] and len(c) == 4
    runs = read_runs(p)
    assert runs.warnings == (w,) and runs.curves.warnings == (w,)
    assert dict(zip(runs.run_id, runs.loss.tolist())) == {"a": 3.25, "b": 3.1}
    assert runs.curves.loss.tolist() == c.loss.tolist()
    assert read_curves(CURVES).warnings == () and read_runs(RESULTS).warnings == ()
    again = write(
        tmp_path, "curves.csv", CURVES.read_text() + "r03,40,16162224,1e+14,3.9,1031211\n"
    )
    r = run_cli("fit", str(RESULTS), "--approach", "1", "--curves", str(again), "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    assert (
        r.stdout.count("a step logged twice") == 1
        and "run r03 step 40 (rows 44 and 221)" in r.stdout
    )


def test_a_run_under_one_parameter_or_token_is_refused_as_plan_refuses_it(tmp_path):
    """A run of 0.5 parameters was fitted (with only the 6ND warning): plan, table, repeat and predict
    refuse a count under one, and so does the run reader now, naming the column and row; unique_tokens
    left empty (fresh data) is still read; --drop-invalid drops and counts such rows."""
    header = "run_id,n_params,n_tokens,unique_tokens,loss\n"
    good = "b,2e8,4e9,,3.1\nc,4e8,8e9,8e9,2.8\nd,8e8,1.6e10,,2.6\n"
    for row, message in (
        ("a,0.5,2e9,,3.5\n", r"n_params must be finite and at least 1 at row 1 \(a: 0\.5\)"),
        ("a,1e8,0.5,,3.5\n", r"n_tokens must be finite and at least 1 at row 1 \(a: 0\.5\)"),
        ("a,1e8,2e9,0.5,3.5\n", r"unique_tokens must be at least 1 at row 1 \(a: 0\.5\)"),
    ):
        p = write(tmp_path, "r.csv", header + row + good)
        with pytest.raises(InvalidInputError, match=message):
            read_runs(p)
        runs = read_runs(p, drop_invalid=True)
        assert list(runs.run_id) == ["b", "c", "d"]
    assert len(read_runs(write(tmp_path, "ok.csv", header + good)).run_id) == 3


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n_params": [0.4, 1.0, 7.0]}, "n_params"),  # billions, not counts
        ({"n_tokens": [0.5, 2e9, 2e9]}, "n_tokens"),
        ({"flops": [1.0, 1e20, 1e20], "n_tokens": None}, "n_tokens"),  # 6ND: under one token
        ({"unique_tokens": [0.5, np.nan, np.inf]}, "unique_tokens"),
    ],
)
def test_runs_from_arrays_refuses_sizes_under_one_as_read_runs_does(kwargs, param):
    """read_runs refuses a run of under one parameter or token; runs_from_arrays took n_params=[0.4, 1, 7]
    (billions) and fitted a law to it."""
    args = {"n_params": [4e8, 1e9, 7e9], "loss": [3.0, 2.8, 2.5], "n_tokens": [8e9, 2e10, 1.4e11]}
    args.update(kwargs)
    if args["n_tokens"] is None:
        del args["n_tokens"]
    with pytest.raises(InvalidInputError, match="at least 1") as info:
        runs_from_arrays(args.pop("n_params"), args.pop("loss"), **args)
    assert info.value.param == param
    assert len(runs_from_arrays([4e8], [3.0], n_tokens=[8e9], unique_tokens=[np.nan]).loss) == 1


def test_a_unit_in_a_size_column_s_header_warns(tmp_path):
    """'params (M)' mapped with --columns: 20 was read as 20 parameters and the law fitted to sizes a
    million times too small, without a word; now one warning per column says how the numbers are read."""
    p = tmp_path / "runs.csv"
    body = "".join(f"r{i},{20 * 2**i},{8330 / 2**i},{3.7 - i / 10}\n" for i in range(6))
    p.write_text("run,params (M),tokens [1e6],val loss\n" + body)
    runs = read_runs(
        p, columns={"n_params": "params (M)", "n_tokens": "tokens [1e6]", "loss": "val loss"}
    )
    assert runs.n_params[0] == 20  # read as written: the warning says so
    assert runs.warnings[:2] == (
        "column 'params (M)' (n_params) names a unit ('M') in its header, but its plain numbers are read "
        "as counts (row 1: 20 is 20, not 20M); write each value with its unit (20M) or in full.",
        "column 'tokens [1e6]' (n_tokens) names a unit ('1e6') in its header, but its plain numbers are "
        "read as counts (row 1: 8330.0 is 8330, not 8330.0e6); write each value with its unit (8330.0e6) "
        "or in full.",
    )
    q = tmp_path / "suffixed.csv"
    q.write_text(p.read_text().replace(",20,", ",20M,"))
    both = read_runs(
        q, columns={"n_params": "params (M)", "n_tokens": "tokens [1e6]", "loss": "val loss"}
    )
    assert len(both.warnings) == 2  # row 1 of params now has its suffix; row 2 still reads 40 as 40


def test_a_missing_column_s_message_maps_the_file_s_own_column(tmp_path):
    """The fix read '--columns loss=val_loss,n_params=params' whatever the file held: both are aliases
    that need no mapping, so the example could not be the user's fix. It now maps the file's unmapped
    column that names the field (quoted when the shell needs it); the generic example stays otherwise."""
    cases = (
        ("name,num_params,train_tokens,test_loss\n", "--columns loss=test_loss."),
        ("run,Parameters,Training FLOPs,loss (nats)\n", "--columns 'loss=loss (nats)'."),
        (
            "run,params (M),tokens (B),val loss\n",
            "--columns 'n_params=params (M),n_tokens=tokens (B)'.",
        ),
        ("size,toks,c4\n", "--columns loss=val_loss,n_params=params."),
    )
    for header, fix in cases:
        p = write(tmp_path, "r.csv", header + ",".join(["2"] * (header.count(",") + 1)) + "\n")
        with pytest.raises(InvalidInputError, match="missing column") as exc:
            read_runs(p)
        assert str(exc.value).endswith(f"Map them with --columns, e.g. {fix}"), exc.value
