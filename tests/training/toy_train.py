"""A small training job for `yardstick train -- CMD`: softmax regression in
numpy on a seeded synthetic 4-class problem, logged with mlperf-logging's
`mllog` the way an MLPerf Training reference logs (init, run_start, blocks
of one epoch with an eval each, run_stop with success or aborted).

    yardstick train --runs 3 -- python3 tests/training/toy_train.py

The seed comes from --seed, else $SEED (yardstick sets SEED and
YARDSTICK_SEED per run). With $YARDSTICK_MLLOG set the lines also go to
that file (mllog prints to stdout as well; yardstick reads either).

The log passes the official compliance rules of Training 5.1 for the open
division of the benchmark named by --benchmark (default retinanet: the
rules only know the round's benchmarks; the model here is a stand-in, as
the open division allows).

Failure modes for tests: --exit-at-epoch N exits with status 137 during
epoch N (as an OOM-killed job does); --hang-at-epoch N sleeps there until
killed.
"""

import argparse
import logging
import os
import sys
import time

import numpy as np
from mlperf_logging import mllog
from mlperf_logging.mllog import constants

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "1")))
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--target", type=float, default=0.75)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--lr", type=float, default=0.03)
parser.add_argument("--samples", type=int, default=1024)
parser.add_argument("--epoch-sleep", type=float, default=0.02, help="seconds per epoch added (a slower job)")
parser.add_argument("--benchmark", default="retinanet")
parser.add_argument("--exit-at-epoch", type=int)
parser.add_argument("--hang-at-epoch", type=int)
args = parser.parse_args()

log_file = os.environ.get("YARDSTICK_MLLOG")
if log_file:
    mllog.config(filename=log_file)
# mllog's default logger prints to stdout.
logging.getLogger(constants.DEFAULT_LOGGER_NAME).setLevel(logging.INFO)
mlperf = mllog.get_mllogger()
mllog.config(root_dir=os.path.dirname(os.path.abspath(__file__)))

mlperf.event(key=constants.CACHE_CLEAR, value=True)
mlperf.start(key=constants.INIT_START)
mlperf.event(key=constants.SUBMISSION_BENCHMARK, value=args.benchmark)
mlperf.event(key=constants.SUBMISSION_ORG, value="yardstick")
mlperf.event(key=constants.SUBMISSION_DIVISION, value="open")
mlperf.event(key=constants.SUBMISSION_STATUS, value="onprem")
mlperf.event(key=constants.SUBMISSION_PLATFORM, value="toy-numpy")
mlperf.event(key=constants.SEED, value=args.seed)
mlperf.event(key=constants.GLOBAL_BATCH_SIZE, value=args.batch_size)
mlperf.event(key=constants.OPT_NAME, value="sgd")
mlperf.event(key=constants.OPT_BASE_LR, value=args.lr)

# The problem is fixed (as a benchmark's dataset is); the seed draws the
# samples and the shuffling.
classes, dim = 4, 16
centers = np.random.default_rng(1234).normal(0.0, 1.0, size=(classes, dim))
rng = np.random.default_rng(args.seed)
def make(n):
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(0.0, 2.4, size=(n, dim))
    return x.astype(np.float64), y
x_train, y_train = make(args.samples)
x_eval, y_eval = make(args.samples // 4)
w = rng.normal(0.0, 1.0, size=(dim, classes))
b = np.zeros(classes)

mlperf.end(key=constants.INIT_STOP)
mlperf.start(key=constants.RUN_START)
mlperf.event(key=constants.TRAIN_SAMPLES, value=len(x_train))
mlperf.event(key=constants.EVAL_SAMPLES, value=len(x_eval))

status = constants.ABORTED
for epoch in range(1, args.epochs + 1):
    mlperf.start(key=constants.BLOCK_START, metadata={"first_epoch_num": epoch, "epoch_count": 1})
    mlperf.start(key=constants.EPOCH_START, metadata={"epoch_num": epoch})
    if args.exit_at_epoch == epoch:
        sys.stdout.flush()
        os._exit(137)
    if args.hang_at_epoch == epoch:
        sys.stdout.flush()
        time.sleep(3600)
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), args.batch_size):
        idx = order[i:i + args.batch_size]
        logits = x_train[idx] @ w + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(idx)), y_train[idx]] -= 1.0
        w -= args.lr * x_train[idx].T @ p / len(idx)
        b -= args.lr * p.mean(axis=0)
    time.sleep(args.epoch_sleep)
    mlperf.end(key=constants.EPOCH_STOP, metadata={"epoch_num": epoch})
    mlperf.start(key=constants.EVAL_START, metadata={"epoch_num": epoch})
    accuracy = float(((x_eval @ w + b).argmax(axis=1) == y_eval).mean())
    mlperf.event(key=constants.EVAL_ACCURACY, value=accuracy, metadata={"epoch_num": epoch})
    mlperf.end(key=constants.EVAL_STOP, metadata={"epoch_num": epoch})
    mlperf.end(key=constants.BLOCK_STOP, metadata={"first_epoch_num": epoch})
    if accuracy >= args.target:
        status = constants.SUCCESS
        break
mlperf.end(key=constants.RUN_STOP, metadata={"status": status})
