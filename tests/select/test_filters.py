"""LIMA cleaning and quality filters (Zhou et al. 2023, sec. 2.1), English and Chinese, on crafted samples and
on the alpaca demo pool."""

from __future__ import annotations

import json

import pytest

from helpers import SELECT_DATA, shared_file
from tokenplan.errors import InvalidInputError
from tokenplan.select.clean import clean_text
from tokenplan.select.filters import (
    DROP_REASONS,
    FilterConfig,
    drop_reason,
    first_person,
    refers_to_other_answers,
)
from tokenplan.select.pipeline import Recipe, run


def test_clean_strips_links_images_html_and_keeps_code_and_lists():
    text = (
        "<p>See [the docs](https://docs.python.org/3/) and https://example.com/x?y=1 for more.</p>\n"
        "![diagram](http://img/x.png)<img src='a.png'/>\n"
        "<ul><li>first</li><li>second</li></ul>\n"
        "- a markdown item\n1. numbered\n"
        '```html\n<div class="keep">[not a link](http://k)</div>\n```\n'
        "Inline `<b>code</b>` stays; &amp; is unescaped."
    )
    out = clean_text(text)
    assert "See the docs and  for more." in out
    assert "http" not in out.split("```")[0] and "img" not in out and "<p>" not in out
    assert "- first\n- second" in out
    assert "- a markdown item\n1. numbered" in out
    assert '```html\n<div class="keep">[not a link](http://k)</div>\n```' in out
    assert "`<b>code</b>` stays; & is unescaped." in out


def test_clean_pre_block_becomes_a_fenced_block():
    assert clean_text("Run:<pre><code>x = 1 &lt; 2</code></pre>") == "Run:```\nx = 1 < 2\n```"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I think this works.", True),
        ("In my experience it fails.", True),
        ("I'm sure.", True),
        ("This is mine.", True),
        ("我认为这是对的。", True),
        ("我的答案是四。", True),
        ("Use i.e. the first option.", False),
        ("The iPhone and Item I/O.", False),
        ("Python sorts lists with sorted().", False),
        ("我们今天去长城。", False),  # 我们 = "we": not the author speaking for themself
        ("请先做自我介绍。", False),  # 自我 = "self"
    ],
)
def test_first_person_en_zh(text, expected):
    assert first_person(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As mentioned above, restart it.", True),
        ("The other answers are wrong.", True),
        ("Found on Stack Exchange.", True),
        ("See the accepted answer.", True),
        ("如上所述，重启即可。", True),
        ("楼上说得对。", True),
        ("其他回答都不完整。", True),
        ("Restart the router.", False),
        ("The answer is 42.", False),
        ("重启路由器。", False),
    ],
)
def test_refers_to_other_answers_en_zh(text, expected):
    assert refers_to_other_answers(text) is expected


def test_drop_reason_order_and_each_filter_can_be_off():
    lima = FilterConfig.lima()
    assert (lima.min_chars, lima.max_chars, lima.first_person, lima.refers_to_others) == (
        1200,
        4096,
        True,
        True,
    )
    good = "Restart the router and wait. " * 50  # 1,450 chars
    assert drop_reason(good, None, lima) is None
    assert drop_reason("   ", None, FilterConfig()) == "empty"
    assert drop_reason("short", None, lima) == "too_short"
    assert drop_reason("x" * 4097, None, lima) == "too_long"
    assert drop_reason("x" * 4096, None, lima) is None
    assert drop_reason("x" * 1200, None, lima) is None
    assert drop_reason("I " + good, None, lima) == "first_person"
    assert drop_reason("As mentioned, " + good, None, lima) == "refers_to_other_answers"
    with_score = FilterConfig(min_score=10)
    assert drop_reason("ok", 9.5, with_score) == "low_score"
    assert drop_reason("ok", 10, with_score) is None
    assert drop_reason("ok", None, with_score) is None  # no score field: kept
    assert drop_reason("I think so", None, FilterConfig()) is None  # filters off by default
    assert set(DROP_REASONS) >= {"too_short", "first_person", "exact_duplicate", "low_score"}


def test_filter_config_validation_reports_every_problem():
    with pytest.raises(InvalidInputError) as exc:
        FilterConfig(min_chars=-1, max_chars=2.5)
    assert "min_chars=-1" in str(exc.value) and "max_chars=2.5" in str(exc.value)
    with pytest.raises(InvalidInputError, match="should be <= max_chars"):
        FilterConfig(min_chars=10, max_chars=5)
    with pytest.raises(InvalidInputError, match=r"unknown filter option.*min_len"):
        FilterConfig.from_dict({"min_len": 3})
    cfg = FilterConfig.from_dict({"preset": "lima", "max_chars": None})
    assert cfg.min_chars == 1200 and cfg.max_chars is None and cfg.first_person


def test_crafted_pool_drop_reasons_are_counted(tmp_path):
    """Each crafted row in tests/data/select/tiny_alpaca.json is dropped for the reason it was written for."""

    pool = SELECT_DATA / "tiny_alpaca.json"
    recipe = Recipe(
        input=str(pool),
        n_select=2,
        method="random",
        embedder="tfidf",
        cache_dir="none",
        score_field="score",
        filters=FilterConfig(first_person=True, refers_to_others=True, min_score=10),
    )
    report = run(recipe)
    # rows 2, 3 (score 3, and a copy), 9 (score 5), 10 (score 9): low score; row 4 first person (I/my);
    # row 5 refers to the other answer; row 6 我 (first person, Chinese). Row 7 says 我们 and is kept.
    assert report.drop_reasons == {"first_person": 2, "low_score": 4, "refers_to_other_answers": 1}
    assert report.n_candidates == 5


def test_alpaca_demo_length_filter_keeps_rows_of_at_least_1200_chars(tmp_path):
    """LIMA's lower length bound on the alpaca demo pool: the kept rows are exactly those whose answer has
    >= 1,200 characters (counted here straight from the raw JSON; cleaning off so lengths are the raw ones)."""
    path = shared_file("sft/alpaca_en_demo.json")
    raw = json.loads(path.read_text())
    expected = [
        i for i, row in enumerate(raw) if len(row["output"]) >= 1200 and row["output"].strip()
    ]
    assert 0 < len(expected) < len(raw)
    report = run(
        Recipe(
            input=str(path),
            fraction=1.0,
            method="random",
            clean=False,
            dedup_exact=False,
            filters=FilterConfig(min_chars=1200),
            embedder="tfidf",
            cache_dir="none",
            n_clusters=4,
        )
    )
    assert report.drop_reasons == {"too_short": len(raw) - len(expected)}
    assert sorted(report.selected.tolist()) == expected
