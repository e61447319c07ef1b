"""Threads: answers from any Python thread, and the interpreter free for them
while the test runs."""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import yardstick.loadgen as lg
from conftest import is_valid
from helpers import log_settings, quick_settings


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_completions_from_worker_threads(tmp_path, scenario):
    data = np.arange(64, dtype="<u4")
    pool = ThreadPoolExecutor(4)

    def answer(sample_pairs):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(i, data.ctypes.data + 4 * x, 4) for i, x in sample_pairs])

    def issue(samples):
        pairs = [(s.id, s.index) for s in samples]
        for k in range(0, len(pairs), 3):  # split each query over several threads
            pool.submit(answer, pairs[k:k + 3])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    extra = {"Server": {"server_target_qps": 5000, "min_query_count": 1000},
             "Offline": {"min_duration_ms": 0, "min_query_count": 500},
             "MultiStream": {"min_query_count": 700}}.get(scenario, {})
    lg.StartTestWithLogSettings(sut, qsl, quick_settings(scenario, "SubmissionRun", **extra), log_settings(tmp_path))
    pool.shutdown()
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    out = lg.last_test_outcome()
    assert out["faults"] == [] and out["valid"] and is_valid(tmp_path), out


def test_interpreter_is_free_while_the_test_runs(tmp_path):
    """A pure-Python thread keeps running during StartTest: the core holds the
    interpreter only while a callback runs."""
    stop = threading.Event()
    counter = [0]

    def spin():
        while not stop.is_set():
            counter[0] += 1

    def issue(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 64, lambda i: None, lambda i: None)
    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    before = counter[0]
    t0 = time.monotonic()
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Server", server_target_qps=200, min_duration_ms=300,
                                                         min_query_count=10), log_settings(tmp_path))
    elapsed = time.monotonic() - t0
    during = counter[0] - before
    stop.set()
    t.join()
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert elapsed >= 0.3
    # The spinning thread ran for most of the test (~ millions of iterations a
    # second); with the interpreter held it would barely move.
    assert during > 100_000, during


def test_batching_worker_queue(tmp_path):
    """The classic pattern: IssueQuery only enqueues; a worker thread batches
    and answers; FlushQueries tells it to drain."""
    q: "queue.Queue" = queue.Queue()
    data = np.arange(128, dtype="<u4")

    def worker():
        while True:
            item = q.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 8:
                try:
                    nxt = q.get(timeout=0.0005)
                except queue.Empty:
                    break
                if nxt is None:
                    q.put(None)
                    break
                batch.append(nxt)
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, data.ctypes.data + 4 * s.index, 4)
                                     for s in batch])

    th = threading.Thread(target=worker, daemon=True)
    th.start()

    def issue(samples):
        for s in samples:
            q.put(s)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(128, 128, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Server", "SubmissionRun", server_target_qps=3000,
                                                         min_query_count=1000), log_settings(tmp_path))
    q.put(None)
    th.join(5)
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    out = lg.last_test_outcome()
    assert out["faults"] == [] and out["accuracy_samples"] == 128 and out["valid"], out


def test_issue_threads(tmp_path):
    """server_num_issue_query_threads: the core calls IssueQuery from its own
    threads, which take the interpreter as any callback does."""
    seen = set()

    def issue(samples):
        seen.add(threading.get_ident())
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 64, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Server", server_target_qps=5000, min_query_count=1000,
                                                         server_num_issue_query_threads=2), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert len(seen) == 2 and lg.last_test_outcome()["faults"] == []
