"""A preset knows it is one (no lookup of the preset table, so laws.prediction does not import presets)."""

from __future__ import annotations

import dataclasses

from tokenplan.laws import PRESETS, get_law, law_from_dict, published_intervals


def test_every_preset_is_stamped_and_a_changed_copy_is_not():
    for law in PRESETS.values():
        assert law.is_preset, law.name
        assert not dataclasses.replace(law, name=law.name + "-mine").is_preset
    epoch = get_law("epoch2024")
    assert published_intervals(epoch)  # Epoch's 95% intervals on E, A, B, alpha, beta and a
    changed = dataclasses.replace(epoch, E=1.9)
    assert changed != epoch and not changed.is_preset and published_intervals(changed) == ()
    # the description is not compared by ==, so a copy differing only there is still the preset
    assert dataclasses.replace(epoch, description="x").is_preset


def test_the_stamp_is_not_saved_and_a_loaded_copy_is_an_ordinary_law():
    epoch = get_law("epoch2024")
    d = epoch.to_dict()
    assert "preset_of" not in d and "published_intervals" not in d
    loaded = law_from_dict(d)
    assert loaded == epoch and not loaded.is_preset
