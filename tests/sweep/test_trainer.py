"""The training loop: step count from the FLOP budget, schedules, determinism, divergence, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tokenplan.errors import InvalidInputError  # noqa: E402
from tokenplan.flops import ModelShape  # noqa: E402
from tokenplan.sweep.config import TrainConfig  # noqa: E402
from tokenplan.sweep.data import Corpus, load_corpus  # noqa: E402
from tokenplan.sweep.train import lr_at, resolve_device, train  # noqa: E402

TINY = dict(
    n_layers=1,
    d_model=16,
    n_heads=1,
    seq_len=16,
    batch_size=4,
    n_evals=2,
    eval_tokens=256,
    min_steps=5,
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus()  # the shipped Shakespeare sample


def test_steps_follow_the_budget_and_core_flops():
    cfg = TrainConfig(**TINY, flops_budget=1e9)
    shape = ModelShape(n_layers=1, d_model=16, n_heads=1, vocab_size=256, seq_len=16, bias=False)
    fpt = shape.train_flops_per_token()
    assert cfg.flops_per_token == fpt
    assert cfg.steps == round(1e9 / (fpt * 4 * 16))
    assert TrainConfig(**TINY, n_tokens=6400).steps == 100
    six = TrainConfig(**TINY, flops_budget=1e9, flops_method="6n")
    assert six.flops_per_token == 6 * shape.params().total


def test_lr_schedules():
    cfg = TrainConfig(**TINY, n_tokens=6400, lr=1e-2, warmup_fraction=0.1, min_lr_ratio=0.1)
    lrs = [lr_at(cfg, s, 100) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-3)  # warmup: 1/10 of peak at the first step
    assert lrs[9] == pytest.approx(1e-2)  # peak at the end of warmup
    assert lrs[-1] == pytest.approx(1e-3)  # cosine ends at min_lr_ratio x peak
    decay = lrs[9:]
    assert all(decay[i] >= decay[i + 1] - 1e-15 for i in range(len(decay) - 1))  # monotone
    wsd = TrainConfig(**TINY, n_tokens=6400, lr=1e-2, schedule="wsd", decay_fraction=0.2)
    w = [lr_at(wsd, s, 100) for s in range(100)]
    assert w[50] == pytest.approx(1e-2) and w[79] == pytest.approx(1e-2)
    assert w[-1] == pytest.approx(1e-3)


def test_config_reports_all_problems_at_once():
    with pytest.raises(InvalidInputError) as info:
        TrainConfig(n_layers=0, d_model=16, n_heads=1, lr=-1, dropout=2.0)
    msg = str(info.value)
    for part in ("n_layers", "lr=-1", "dropout=2.0", "exactly one of flops_budget and n_tokens"):
        assert part in msg


def test_training_learns_and_is_deterministic(corpus):
    cfg = TrainConfig(**TINY, n_tokens=64 * 200, lr=1e-2, seed=3)
    events = []
    a = train(cfg, corpus, on_eval=events.append)
    b = train(cfg, corpus)
    assert a.status == "ok" and a.steps == 200
    assert a.loss < 3.3 < math.log(256)  # learned something beyond uniform bytes
    assert a.loss == b.loss and [p.loss for p in a.curve] == [p.loss for p in b.curve]
    assert [e["step"] for e in events] == [100, 200]
    assert a.params == cfg.shape.params().to_dict()
    assert a.flops == pytest.approx(a.n_tokens * cfg.flops_per_token)
    c = train(TrainConfig(**{**TINY, "seed": 4}, n_tokens=64 * 200, lr=1e-2), corpus)
    assert c.loss != a.loss


def test_diverged_run_is_failed_not_fitted(corpus, monkeypatch):
    """A NaN loss stops the run and marks it failed with a NaN loss."""
    from tokenplan.sweep import model as model_mod

    real = model_mod.GPT.forward
    calls = {"n": 0}

    def poisoned(self, idx, targets=None):
        logits, loss = real(self, idx, targets)
        calls["n"] += 1
        if self.training and calls["n"] >= 7:
            loss = loss * float("nan")
        return logits, loss

    monkeypatch.setattr(model_mod.GPT, "forward", poisoned)
    r = train(TrainConfig(**TINY, n_tokens=64 * 50), corpus)
    assert r.status == "failed" and math.isnan(r.loss)
    assert "nan" in r.error and r.steps == 6


def test_a_real_blow_up_is_marked_failed(corpus):
    """No monkeypatch: LR 1e4 without clipping overflows the weights within a few steps (deterministic
    given the seed); the run stops there and is failed with a NaN loss, never an 'ok' with a NaN."""
    r = train(
        TrainConfig(**{**TINY, "min_steps": 1}, n_tokens=64 * 30, lr=1e4, grad_clip=0.0), corpus
    )
    assert r.status == "failed" and math.isnan(r.loss)
    assert r.steps < 30 and "loss became nan" in r.error
    fine = train(TrainConfig(**{**TINY, "min_steps": 1}, n_tokens=64 * 30, lr=1e-3), corpus)
    assert fine.status == "ok" and math.isfinite(fine.loss)  # the same run at a sane LR does not


def test_a_blow_up_that_clipping_kept_finite_is_failed_not_ok(corpus, tmp_path):
    """LR 10 with clipping: the held-out loss ends at 18.9 nats, over 3x ln(256) = 5.55 (a uniform guess
    over bytes), and was recorded 'ok', so a fit took it as a point of the law. A final loss not below a
    uniform guess's is a divergence: failed, NaN loss, and left out of the fit."""
    from tokenplan.runs import read_runs
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    r = train(TrainConfig(**TINY, n_tokens=64 * 200, lr=10.0), corpus)
    assert r.status == "failed" and math.isnan(r.loss), (r.status, r.loss)
    assert r.error.startswith("diverged: final held-out loss 18.9")
    assert "nats is not below ln(256) = 5.545, the loss of a uniform guess" in r.error
    assert r.steps == 200 and r.curve[-1].loss > math.log(256)  # the curve is kept as it was
    sane = train(TrainConfig(**TINY, n_tokens=64 * 200, lr=1.0), corpus)
    assert sane.status == "ok" and sane.loss < math.log(256)  # a high LR that still learns is ok
    spec = {
        "kind": "isoflop",
        "budgets": [4e8],
        "sizes": ["L1-d16-h1", "L1-d24-h1"],
        "lrs": [3e-3, 10],
    }
    spec.update(seq_len=16, batch_size=4, n_evals=1, eval_tokens=256, min_steps=1)
    res = run_sweep(spec_from_dict(spec), tmp_path / "s", executor="serial")
    assert res.counts["failed"] >= 1
    runs = read_runs(res.best_lr_csv)
    assert len(runs.loss) == 2 and max(runs.loss) < math.log(256)


def test_a_nan_held_out_loss_is_failed(corpus, monkeypatch):
    from tokenplan.sweep import train as train_mod

    monkeypatch.setattr(train_mod._Run, "evaluate", lambda self: float("nan"))
    r = train(TrainConfig(**TINY, n_tokens=64 * 20), corpus)
    assert r.status == "failed" and math.isnan(r.loss)
    assert r.error == "diverged: held-out loss nan at step 10" and r.steps == 10


def test_serial_training_leaves_the_thread_count_alone(corpus, tmp_path):
    """run_task scopes torch's thread setting to the run (a serial sweep must not change the caller)."""
    from tokenplan.sweep.executors import run_task

    before = torch.get_num_threads()
    torch.set_num_threads(2 if before != 2 else 3)
    try:
        expected = torch.get_num_threads()
        cfg = TrainConfig(**TINY, n_tokens=640)
        run = {"run_id": "r", "kind": "repeat", "flops_budget": 1.0, "model": "L1-d16-h1"}
        run |= {"dropout_schedule": "none", "epochs_target": None, "config": cfg.to_dict()}
        record = run_task({"run": run, "out_dir": str(tmp_path), "threads": 1}, corpus=corpus)
        assert record["result"]["status"] == "ok"
        assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)


def test_training_leaves_the_callers_random_stream_alone(corpus):
    """train() called torch.manual_seed(config.seed) on the global generator: after a serial sweep the
    caller's torch.rand repeated the run's seed stream instead of continuing its own."""
    cfg = TrainConfig(**TINY, n_tokens=64 * 20, dropout=0.1)
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    first = train(cfg, corpus)
    assert torch.equal(torch.rand(3), expected)
    assert train(cfg, corpus).loss == first.loss  # the run itself is still seeded by config.seed


def test_too_few_steps_is_flagged(corpus):
    r = train(TrainConfig(**{**TINY, "min_steps": 50}, n_tokens=64 * 10), corpus)
    assert r.status == "too_few_steps" and r.steps == 10 and math.isfinite(r.loss)
    r0 = train(TrainConfig(**TINY, flops_budget=1.0), corpus)
    assert r0.status == "too_few_steps" and r0.steps == 0


def test_unique_tokens_subset_and_epochs(corpus, monkeypatch):
    """With unique_tokens=U the run draws only from the first U training tokens, epoch after epoch."""
    from tokenplan.sweep import train as train_mod

    seen = []
    real = train_mod.batch_indices

    def spy(n_windows, batch_size, step, *, seed):
        idx, epoch = real(n_windows, batch_size, step, seed=seed)
        seen.append((n_windows, idx.copy()))
        return idx, epoch

    monkeypatch.setattr(train_mod, "batch_indices", spy)
    U = 16 * 20 + 1  # 20 windows of 16 tokens
    r = train(TrainConfig(**TINY, n_tokens=64 * 20, unique_tokens=U), corpus)
    assert {n for n, _ in seen} == {20}
    counts = np.bincount(np.concatenate([i for _, i in seen]), minlength=20)
    assert (counts == 4).all()  # 20 steps x 4 sequences = 80 windows = exactly 4 epochs of 20
    assert r.unique_tokens == 320 and r.epochs == pytest.approx(4.0)
    with pytest.raises(InvalidInputError, match="exceeds the corpus"):
        train(TrainConfig(**TINY, n_tokens=640, unique_tokens=10**9), corpus)


def test_fresh_data_has_no_unique_tokens(corpus):
    r = train(TrainConfig(**TINY, n_tokens=640), corpus)
    assert r.unique_tokens is None and r.epochs < 1


def test_late_dropout_switches_on_at_its_start(corpus, monkeypatch):
    from tokenplan.sweep import model as model_mod

    history = []
    real = model_mod.GPT.set_dropout

    def spy(self, p):
        history.append(p)
        real(self, p)

    monkeypatch.setattr(model_mod.GPT, "set_dropout", spy)
    train(TrainConfig(**TINY, n_tokens=64 * 20, dropout=0.2, dropout_start=0.5), corpus)
    assert history == [0.2]  # switched on once, half-way
    history.clear()
    train(TrainConfig(**TINY, n_tokens=64 * 20, dropout=0.2, dropout_start=0.0), corpus)
    assert history == [0.2]


def test_checkpoint_resume_continues_the_same_trajectory(corpus, tmp_path):
    cfg = TrainConfig(**{**TINY, "n_evals": 4}, n_tokens=64 * 40, dropout=0.1)
    clean = train(cfg, corpus)
    ckpt = tmp_path / "ckpt.pt"

    class Stop(Exception):
        pass

    def stop_at_second_eval(event):
        if event["step"] == 20:
            raise Stop

    with pytest.raises(Stop):
        train(cfg, corpus, checkpoint=ckpt, checkpoint_every=0.0, on_eval=stop_at_second_eval)
    assert ckpt.exists()
    resumed = train(cfg, corpus, checkpoint=ckpt)
    assert not ckpt.exists()  # removed when the run ends
    assert resumed.loss == pytest.approx(clean.loss, abs=1e-6)
    assert [p.step for p in resumed.curve] == [p.step for p in clean.curve]
    # a checkpoint of another config is ignored, not loaded
    with pytest.raises(Stop):
        train(cfg, corpus, checkpoint=ckpt, checkpoint_every=0.0, on_eval=stop_at_second_eval)
    other = TrainConfig(**{**TINY, "n_evals": 4}, n_tokens=64 * 40, dropout=0.1, seed=9)
    assert train(other, corpus, checkpoint=ckpt).steps == 40


def test_device_selection():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(InvalidInputError, match="auto, cpu, cuda"):
        resolve_device("tpu")


def test_too_short_data_is_a_clear_error():
    tiny = Corpus(train=np.arange(10) % 256, val=np.arange(100) % 256)
    with pytest.raises(InvalidInputError, match="shorter than one window"):
        train(TrainConfig(**TINY, n_tokens=640), tiny)


def test_the_local_pool_fills_the_cores_with_one_thread_each(monkeypatch):
    """`--num-cpus 2` (torch threads per run) on a 2-core box started the default one worker per core: 2
    workers of 2 threads, 4 threads spinning on 2 cores. The default pool now gives each thread a core."""
    from tokenplan.sweep.executors import get_executor

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert get_executor("local", threads=1).workers == 4
    assert get_executor("local", threads=2).workers == 2
    assert get_executor("local", threads=8).workers == 1  # one run, even if it wants more cores
    assert get_executor("local", workers=3, threads=2).workers == 3  # --workers is obeyed


def test_a_full_disk_while_checkpointing_is_a_lost_run_not_a_failed_one(tmp_path, monkeypatch):
    """A disk that filled up while a run wrote its checkpoint (a 4 MB tmpfs, measured) made torch.save raise
    'RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos 4352 vs 4246', and the run
    was recorded 'failed', which is final: after freeing space the resumed sweep counted it as done. A
    full disk is the machine's fault, not the run's: the run is lost (nothing recorded) and retried."""
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict(
        {
            "kind": "isoflop",
            "budgets": [4e8],
            "sizes": ["L1-d16-h1"],
            "seq_len": 16,
            "batch_size": 4,
        }
        | {"n_evals": 1, "eval_tokens": 256, "min_steps": 1}
    )
    real = torch.save

    def full(*args, **kwargs):
        raise RuntimeError(
            "[enforce fail at inline_container.cc:672] . unexpected pos 4352 vs 4246"
        )

    monkeypatch.setattr(torch, "save", full)
    out = tmp_path / "s"
    events = []
    first = run_sweep(spec, out, executor="serial", checkpoint_every=0.0, on_event=events.append)
    assert (
        first.n_lost == 1 and first.counts["runs"] == 0 and not list(out.glob("runs/*/result.json"))
    )
    (lost,) = [e for e in events if e.get("status") == "lost"]
    assert "could not write the checkpoint" in lost["error"] and "unexpected pos" in lost["error"]
    monkeypatch.setattr(torch, "save", real)  # space freed: the run trains
    again = run_sweep(spec, out, executor="serial", checkpoint_every=0.0)
    assert again.n_trained == 1 and again.counts["ok"] == 1
