"""QuerySampleList: what IssueQuery receives; it must behave as the official
module's list of QuerySample for everything harnesses do with it."""
from __future__ import annotations

import collections.abc
import copy
import pickle
import random

import pytest

import yardstick.loadgen as lg


def make(n=6, first_id=100):
    return lg.QuerySampleList(lg.QuerySample(first_id + k, (k * 7) % 5) for k in range(n))


def pairs(seq):
    return [(s.id, s.index) for s in seq]


def test_sequence_protocol():
    q = make()
    ref = [lg.QuerySample(100 + k, (k * 7) % 5) for k in range(6)]
    assert len(q) == 6 and bool(q) and not bool(lg.QuerySampleList())
    assert isinstance(q, collections.abc.MutableSequence)
    assert isinstance(q, collections.abc.Sequence)
    assert pairs(q) == pairs(ref)
    assert (q[0].id, q[-1].id) == (100, 105)
    assert pairs(q[1:4]) == pairs(ref[1:4]) and pairs(q[::-2]) == pairs(ref[::-2])
    assert isinstance(q[1:3], lg.QuerySampleList)
    assert pairs(reversed(q)) == pairs(reversed(ref))
    assert q == ref and q == q.copy() and q != ref[:-1]
    with pytest.raises(IndexError):
        q[6]
    with pytest.raises(TypeError):
        q["a"]
    assert [s.index for s in q] == [0, 2, 4, 1, 3, 0]
    assert "QuerySample(id=100, index=0)" in repr(q)


def test_membership_and_search_by_value():
    q = make()
    assert lg.QuerySample(101, 2) in q and lg.QuerySample(101, 3) not in q
    assert q.index(lg.QuerySample(103, 1)) == 3
    assert q.count(lg.QuerySample(100, 0)) == 1
    with pytest.raises(ValueError):
        q.index(lg.QuerySample(1, 1))
    s = q[2]
    q.remove(s)
    assert len(q) == 5 and s not in q


def test_mutation_like_a_list():
    q = make()
    ref = pairs(q)
    q.append(lg.QuerySample(1, 1)); ref.append((1, 1))
    q.insert(0, lg.QuerySample(2, 2)); ref.insert(0, (2, 2))
    q.extend([lg.QuerySample(3, 3)]); ref.extend([(3, 3)])
    q += [lg.QuerySample(4, 4)]; ref += [(4, 4)]
    assert pairs([q.pop()]) == [ref.pop()]
    assert pairs([q.pop(0)]) == [ref.pop(0)]
    q[1] = lg.QuerySample(9, 9); ref[1] = (9, 9)
    del q[2]; del ref[2]
    q[0:2] = [lg.QuerySample(5, 5)]; ref[0:2] = [(5, 5)]
    del q[::2]; del ref[::2]
    q.reverse(); ref.reverse()
    assert pairs(q) == ref
    with pytest.raises(TypeError):
        q.append(3)
    q.clear()
    assert len(q) == 0
    with pytest.raises(IndexError):
        q.pop()


def test_sort_with_key_as_harnesses_do():
    q = make(50)
    lengths = {i: random.Random(i).random() for i in range(5)}
    expect = sorted(pairs(q), key=lambda p: lengths[p[1]], reverse=True)
    q.sort(key=lambda s: lengths[s.index], reverse=True)
    assert pairs(q) == expect
    with pytest.raises(TypeError):
        q.sort()  # QuerySample has no order, as in the official module


def test_slicing_loop_of_reference_harnesses():
    q = make(10)
    batches = []
    while len(q) > 0:
        batches.append([s.index for s in q[:3]])
        q = q[3:]
    assert [len(b) for b in batches] == [3, 3, 3, 1]


def test_concatenation_and_copies():
    q = make(3)
    assert pairs(q + [lg.QuerySample(1, 1)])[-1] == (1, 1)
    both = [lg.QuerySample(1, 1)] + q
    assert isinstance(both, list) and len(both) == 4
    assert len(q * 2) == 6
    assert pairs(copy.deepcopy(q)) == pairs(q)
    assert pairs(pickle.loads(pickle.dumps(q))) == pairs(q)
    assert list(map(lambda s: s.index, q)) == [0, 2, 4]
    assert sorted(q, key=lambda s: -s.id)[0].id == 102
    assert q.ids() == [100, 101, 102] and q.indices() == [0, 2, 4]


def test_elements_are_fresh_objects():
    q = make(2)
    assert q[0] is not q[0]
    s = q[0]
    s.index = 42  # does not change the list ...
    assert q[0].index == 0
    q[0] = s  # ... assigning it back does
    assert q[0].index == 42


def test_issue_query_gets_a_list_that_outlives_the_call(tmp_path):
    from helpers import NullHarness, quick_settings
    kept = []

    class Keep(NullHarness):
        def issue(self, samples):
            kept.append(samples)
            super().issue(samples)

    h = Keep()
    h.run(quick_settings("MultiStream", min_query_count=5, multi_stream_samples_per_query=4), tmp_path)
    h.close()
    assert kept and all(len(s) == 4 for s in kept)
    assert [s.index for s in kept[0]] == h.issued[0]
