"""The bootstrap resamples whole documents: every drawn group comes with all of its rows."""
import numpy as np

from classifier.quantify import group_members, resample_groups


def test_members_are_each_groups_rows_in_order_of_first_appearance():
    groups = np.array(["b", "a", "b", "c", "a", "b"])
    members = group_members(groups)
    assert [m.tolist() for m in members] == [[0, 2, 5], [1, 4], [3]]
    assert group_members(np.array([], dtype=object)) == []


def test_a_resample_is_made_of_whole_groups_as_many_as_there_are():
    groups = np.repeat(np.arange(50), np.arange(1, 51))  # group k has k+1 rows
    members = group_members(groups)
    rows = resample_groups(members, np.random.default_rng(0))
    drawn = groups[rows]
    values, counts = np.unique(drawn, return_counts=True)
    assert all(c % (v + 1) == 0 for v, c in zip(values, counts))  # each drawn group whole, possibly repeated
    assert sum(c // (v + 1) for v, c in zip(values, counts)) == 50
