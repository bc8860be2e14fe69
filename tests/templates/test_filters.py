"""AlphaFold2's hit prefilter and date rule at their boundaries."""

from __future__ import annotations

import datetime

import pytest

from foldkit.templates.filters import PrefilterError, date_message, prefilter, released_too_late
from foldkit.templates.hits import TemplateHit


def _hit(template: str, aligned_cols: int) -> TemplateHit:
    return TemplateHit(index=1, name="1abc_A x", aligned_cols=aligned_cols, sum_probs=1.0, query=template,
                       hit_sequence=template, indices_query=(), indices_hit=())


QUERY = "ACDEFGHIKLMNPQRSTVWY" * 5          # 100 residues


def test_align_ratio_must_exceed_a_tenth():
    with pytest.raises(PrefilterError, match=r"too small. Align ratio: 0.1\.$"):
        prefilter(_hit("MKV" * 10, 10), QUERY)
    prefilter(_hit("MKV" * 10, 11), QUERY)


def test_exact_subsequence_with_large_coverage_is_a_duplicate():
    with pytest.raises(PrefilterError, match=r"exact subsequence of query with large coverage. Length ratio: 0.96\.$"):
        prefilter(_hit(QUERY[:96], 96), QUERY)
    prefilter(_hit(QUERY[:95], 95), QUERY)                          # ratio 0.95 is not above 0.95
    prefilter(_hit(QUERY[:95] + "-W", 96), QUERY)                  # not a substring


def test_short_template_rejected():
    with pytest.raises(PrefilterError, match=r"Template too short. Length: 9\.$"):
        prefilter(_hit("MKVMKVMKV", 20), QUERY)


def test_release_date_rule():
    limit = datetime.date(2000, 1, 1)
    assert not released_too_late(limit, limit)
    assert released_too_late(datetime.date(2000, 1, 2), limit)
    assert not released_too_late(None, limit)
    assert date_message("1abc", datetime.date(2000, 1, 2), limit) == \
        "Template 1abc date (2000-01-02 00:00:00) > max template date (2000-01-01 00:00:00)."
