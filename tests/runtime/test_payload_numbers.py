"""Number readers record an issue for every number they cannot hold, never raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from persist_runtime import Issue
from persist_runtime import payload as _p


@given(st.integers(min_value=2**1024).flatmap(lambda n: st.sampled_from([n, -n])))
def test_an_integer_beyond_the_float_range_is_an_issue_for_a_float_field(n: int) -> None:
    issues: list[Issue] = []
    assert _p.read_float(n, "/amount", issues) == 0.0
    assert [i.path for i in issues] == ["/amount"]
    assert issues[0].message.startswith("expected a finite number")


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_an_integer_in_range_reads_as_its_float(n: int) -> None:
    issues: list[Issue] = []
    assert _p.read_float(n, "/amount", issues) == float(n)
    assert issues == []
