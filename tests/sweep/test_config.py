"""The run config read from a mapping (a run record): its keys are checked before the dataclass sees them."""

from __future__ import annotations

import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.sweep.config import TrainConfig

GOOD = {"n_layers": 1, "d_model": 16, "n_heads": 1, "n_tokens": 640}


def test_from_dict_reads_what_to_dict_wrote():
    cfg = TrainConfig.from_dict({**GOOD, "lr": 1e-3, "seed": 2})
    assert cfg.lr == 1e-3 and cfg.seed == 2
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_an_unknown_key_is_one_error_naming_it_and_the_file():
    with pytest.raises(InvalidInputError) as info:
        TrainConfig.from_dict({**GOOD, "n_layer": 2}, source="runs/x/config.json")
    msg = str(info.value)
    assert msg.startswith("runs/x/config.json: unknown run config key(s) n_layer; valid keys: ")
    assert "n_layers" in msg.split("valid keys: ")[1] and "\n" not in msg
    with pytest.raises(InvalidInputError, match=r"^unknown run config key\(s\) colour, lrs; "):
        TrainConfig.from_dict({**GOOD, "lrs": [1e-3], "colour": "red"})  # no file: no prefix


def test_a_missing_key_or_a_key_that_is_not_a_name_is_named():
    with pytest.raises(InvalidInputError, match=r"^run config lacks key\(s\) n_layers, n_heads\.$"):
        TrainConfig.from_dict({"d_model": 16, "n_tokens": 640})
    with pytest.raises(InvalidInputError, match="run config key 1 is not a name"):
        TrainConfig.from_dict({**GOOD, 1: 2})
    with pytest.raises(InvalidInputError, match="must be a mapping"):
        TrainConfig.from_dict([("n_layers", 1)])
