"""Differential testing of yardstick against the official MLPerf LoadGen (6.0.17).

A *case* is gen.py's case.json (see gen_reference.py, a copy of
../shared/golden/gen.py). Each case runs twice:

  * official:  <venv python> gen_reference.py CASE.json DIR_A    (mlperf_loadgen wheel)
  * yardstick: <yardstick> golden-case CASE.json DIR_B

and the deterministic parts of the outputs are compared (see compare_outputs).

Cases come from hand-written files (cases/*.json) and from a seeded random
generator (random_cases) whose cases are built so that everything compared is
independent of timing:

  * SingleStream / MultiStream performance: min_duration_ms = 0, or
    min_duration_ms > 0 with 0 < max_query_count <= min_query_count, so the
    number of issued queries is decided by counts only;
  * Offline: always one query per loadable set;
  * Server: max_duration_ms = 0 (or far beyond the run), no coalescing, one
    issue thread; every generated query is issued (or max_query_count stops it);
  * no setting the official LoadGen crashes on (see KNOWN_OFFICIAL_CRASHES).

Usable both from pytest (test_differential.py) and as a script:

  python tests/differential/differential.py CASE.json [CASE.json ...]   # run + compare
  python tests/differential/differential.py --gen 20 --seed 7 --dump DIR # write random cases
"""
from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GEN_PY = Path(os.environ.get("YARDSTICK_GEN_PY", HERE / "gen_reference.py"))
CASES_DIR = HERE / "cases"
FAILURES_DIR = HERE / "failures"

DEFAULT_SEED = 20251123
DEFAULT_CASES = 300
SUBPROCESS_TIMEOUT_S = float(os.environ.get("YARDSTICK_DIFF_TIMEOUT", "120"))
# Detail-log keys compared: every key starting with one of these prefixes.
DETAIL_PREFIXES = tuple(
    p for p in os.environ.get("YARDSTICK_DIFF_DETAIL_PREFIXES", "effective_,generated_").split(",") if p
)

SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]
MODES = ["PerformanceOnly", "AccuracyOnly", "SubmissionRun"]

# Settings the official wheel crashes on (segfault / SIGFPE) or that make its
# output depend on timing; the generator never produces them.
KNOWN_OFFICIAL_CRASHES = """
  * min_query_count = 0 with min_duration_ms = 0 (SingleStream, MultiStream, Server): no
    query is generated -> SIGSEGV while summarising.
  * Server + sample_concatenate_permutation + min_query_count = 0 (min_duration > 0):
    SIGFPE (modulo by an empty equal-issue index list).
  * MultiStream + sample_concatenate_permutation + min_query_count = 0: no query -> SIGSEGV.
  * Offline + performance_issue_unique with performance_sample_count > total: the query
    would need more samples than are loaded; min_queries = 0 -> SIGSEGV.
  * MultiStream + performance_issue_unique + sample_concatenate_permutation with
    samples_per_query > 1: equal issue pads the query count past the unique start
    indices -> std::out_of_range (IndexError in Python), then SIGSEGV.
  * performance_issue_same with performance_issue_same_index >= the size of a loaded set:
    LoadGen indexes the set unchecked (also in accuracy mode, where it likewise issues
    only that one sample, and whose last set may be short) -> garbage sample indices.
  * QSL performance count 0 (ConstructQSL(total, 0)) without an override: SIGSEGV.
"""

# Models of the built-in mlperf.conf the generator draws from ("unknown-model"
# matches only the wildcard lines).
MODELS = [
    "resnet50", "retinanet", "bert", "dlrm-v2", "rnnt", "gptj", "3d-unet", "rgat",
    "stable-diffusion-xl", "llama2-70b", "llama2-70b-interactive", "llama3_1-8b",
    "llama3_1-405b", "mixtral-8x7b", "deepseek-r1", "whisper", "gpt-oss-120b",
    "qwen3-vl-235b-a22b", "pointpainting", "yolo", "wan-2.2-t2v-a14b", "unknown-model",
]

# TestSettings fields as the Python binding names them -> the C++/yardstick name.
PY_TO_FIELD = {"ttft_latency": "server_ttft_latency", "tpot_latency": "server_tpot_latency"}
SETTINGS_FIELDS = [
    "single_stream_expected_latency_ns", "single_stream_target_latency_percentile",
    "multi_stream_expected_latency_ns", "multi_stream_target_latency_percentile",
    "multi_stream_samples_per_query", "server_target_qps", "server_target_latency_ns",
    "server_target_latency_percentile", "server_coalesce_queries",
    "server_find_peak_qps_decimals_of_precision", "server_find_peak_qps_boundary_step_size",
    "server_max_async_queries", "server_num_issue_query_threads", "offline_expected_qps",
    "sample_concatenate_permutation", "min_duration_ms", "max_duration_ms", "min_query_count",
    "max_query_count", "qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed",
    "accuracy_log_rng_seed", "accuracy_log_probability", "accuracy_log_sampling_target",
    "test05", "test05_qsl_rng_seed", "test05_sample_index_rng_seed", "test05_schedule_rng_seed",
    "print_timestamps", "performance_issue_unique", "performance_issue_same",
    "performance_issue_same_index", "performance_sample_count_override",
    "accuracy_sample_count_override", "use_token_latencies", "ttft_latency", "tpot_latency",
    "infer_token_latencies",
]


# --------------------------------------------------------------------------------------
# Locating the tools
# --------------------------------------------------------------------------------------

def pinned_loadgen_version() -> str:
    """The mlcommons-loadgen version CI installs (pinned in .ci/setup-python.sh)."""
    setup = REPO / ".ci" / "setup-python.sh"
    m = re.search(r"mlcommons-loadgen==([0-9][0-9A-Za-z.+-]*)", setup.read_text())
    if not m:
        raise RuntimeError(f"no mlcommons-loadgen==VERSION pin in {setup}")
    return m.group(1)


OFFICIAL_VERSION = pinned_loadgen_version()
# How the official wheel's distribution and top-level module are named.
OFFICIAL_DIST = "mlcommons-loadgen"
OFFICIAL_MODULE = "mlperf_loadgen"


def official_env(base: dict | None = None) -> dict:
    """The environment to run the official side in: without LOADGEN_MODULE (gen.py's switch)
    and without PYTHONPATH, which may hold yardstick's mlperf_loadgen shim (the README's
    `PYTHONPATH="$(python -m yardstick.mlperf_loadgen --pythonpath)"`)."""
    env = dict(os.environ if base is None else base)
    env.pop("LOADGEN_MODULE", None)
    env.pop("PYTHONPATH", None)
    return env


# Run by a candidate Python (in official_env): where its mlperf_loadgen comes from.
_OFFICIAL_PROBE = r"""
import importlib.metadata as md, importlib.util, json, os, site, sys, sysconfig
dist_name, module = sys.argv[1:3]
out = {"missing": [m for m in (module, "numpy") if importlib.util.find_spec(m) is None]}
if not out["missing"]:
    mod = __import__(module)
    __import__("numpy")
    out["file"] = os.path.realpath(getattr(mod, "__file__", None) or "")
    try:
        dist = md.distribution(dist_name)
        out["version"] = dist.version
        out["wheel_files"] = [os.path.realpath(dist.locate_file(f)) for f in dist.files or []
                              if f.parts[0].startswith(module)]
    except md.PackageNotFoundError:
        out["version"], out["wheel_files"] = None, []
    dirs = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")} | set(site.getsitepackages())
    out["site_packages"] = sorted(os.path.realpath(d) for d in dirs)
print(json.dumps(out))
"""


class NotOfficial(Exception):
    """A Python's mlperf_loadgen is there but is not the pinned official wheel's (or crashed)."""


@dataclass
class OfficialModule:
    python: str
    file: str
    version: str


def probe_official(python: str) -> OfficialModule | None:
    """Proves that `python` (run in official_env) imports the official wheel's mlperf_loadgen:
    the module file is one the mlcommons-loadgen distribution installed, inside that
    interpreter's site-packages, at the pinned version. None when
    the module (or numpy) is not installed there; NotOfficial when it is but is not the
    wheel's, or when importing it fails."""
    try:
        r = subprocess.run([python, "-c", _OFFICIAL_PROBE, OFFICIAL_DIST, OFFICIAL_MODULE],
                           capture_output=True, text=True, timeout=120, env=official_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NotOfficial(f"{python}: cannot run it: {e}") from e
    if r.returncode != 0:
        raise NotOfficial(f"{python}: importing {OFFICIAL_MODULE} failed (rc {r.returncode}):\n{r.stderr[-3000:]}")
    info = json.loads(r.stdout.strip().splitlines()[-1])
    if info["missing"]:
        return None
    file, version = info["file"], info["version"]
    problems = []
    if version != OFFICIAL_VERSION:
        problems.append(f"{OFFICIAL_DIST} is {version}, expected {OFFICIAL_VERSION} (the pin in .ci)")
    if file not in info["wheel_files"]:
        problems.append(f"{OFFICIAL_MODULE} is {file}, not a file of the {OFFICIAL_DIST} wheel "
                        f"({info['wheel_files']})")
    if not any(Path(file).is_relative_to(d) for d in info["site_packages"]):
        problems.append(f"{file} is not inside its site-packages {info['site_packages']}")
    if problems:
        raise NotOfficial(f"{python}: " + "; ".join(problems))
    return OfficialModule(python, file, version)


def reference_official() -> OfficialModule | None:
    """A Python whose mlperf_loadgen is proven to be the official wheel's (see probe_official):
    $YARDSTICK_REF_PYTHON, else .venv-ref, else this one. None when none of them has
    mlperf_loadgen and numpy installed; NotOfficial when the first one that has it does not
    pass the proof (or $YARDSTICK_REF_PYTHON is set to a file that is not there)."""
    env = os.environ.get("YARDSTICK_REF_PYTHON")
    if env and not Path(env).exists():
        raise NotOfficial(f"YARDSTICK_REF_PYTHON={env} does not exist")
    for c in (env, str(REPO / ".venv-ref" / "bin" / "python"), sys.executable):
        if not c or not Path(c).exists():
            continue
        found = probe_official(c)
        if found is not None:
            return found
    return None


def reference_python() -> str | None:
    """The interpreter of reference_official(), or None."""
    found = reference_official()
    return found.python if found else None


def yardstick_binary() -> str | None:
    """$YARDSTICK_BIN, else the newer of target/{debug,release}/yardstick."""
    env = os.environ.get("YARDSTICK_BIN")
    if env:
        return env if Path(env).exists() else None
    cands = [REPO / "target" / p / "yardstick" for p in ("debug", "release")]
    cands = [c for c in cands if c.exists()]
    if not cands:
        return None
    return str(max(cands, key=lambda p: p.stat().st_mtime))


# --------------------------------------------------------------------------------------
# Random case generation
# --------------------------------------------------------------------------------------

def _loguniform_int(rng: random.Random, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(round(math.exp(rng.uniform(math.log(lo), math.log(hi + 0.999)))))))


def _fmt_num(v: float) -> str:
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


@dataclass
class _Builder:
    """Puts each knob either into user.conf (model cases) or into `settings`."""
    rng: random.Random
    scenario: str
    model: str | None
    settings: dict = field(default_factory=dict)
    conf: list = field(default_factory=list)

    def put(self, fieldname: str, value: Any, conf_key: str | None = None, conf_value: Any = None,
            conf_scenario: str | None = None, conf_prob: float = 0.5) -> None:
        if self.model and conf_key and self.rng.random() < conf_prob:
            scen = conf_scenario or self.rng.choice([self.scenario, "*"])
            who = self.rng.choice([self.model, "*"])
            v = value if conf_value is None else conf_value
            if isinstance(v, bool):
                v = int(v)
            v = _fmt_num(v) if isinstance(v, float) else str(v)
            self.conf.append(f"{who}.{scen}.{conf_key} = {v}")
        else:
            self.settings[fieldname] = value


def random_raw_case(rng: random.Random, name: str) -> dict:
    """A case before resolution: values are plausible but may violate constraints that
    depend on what mlperf.conf + user.conf resolve to; fix_case repairs those."""
    scenario = rng.choice(SCENARIOS)
    mode = rng.choices(MODES, weights=[5, 2, 3])[0]
    r = rng.random()
    total = rng.randint(1, 3) if r < 0.08 else _loguniform_int(rng, 1, 5000)
    r = rng.random()
    if r < 0.55:
        perf = rng.randint(1, total)
    elif r < 0.70:
        perf = total
    elif r < 0.85:
        perf = rng.randint(total + 1, 2 * total + 8)
    else:
        perf = rng.randint(1, min(total, 8))
    model = rng.choice(MODELS) if rng.random() < 0.4 else None
    b = _Builder(rng, scenario, model)
    s = b.put

    # Seeds. Model cases keep the official seeds of mlperf.conf most of the time.
    if not model or rng.random() < 0.4:
        for k in ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed"):
            s(k, rng.choice([rng.getrandbits(64), rng.randint(0, 1000)]))
    if model and rng.random() < 0.15:  # ignored in user.conf (only mlperf.conf may set them)
        b.conf.append(f"*.*.qsl_rng_seed = {rng.randint(0, 99)}")
    if model and rng.random() < 0.1:
        b.conf.append(f"*.*.accuracy_log_probability = {rng.randint(0, 100)}")
    if rng.random() < 0.5:
        s("accuracy_log_rng_seed", rng.choice([rng.getrandbits(64), rng.randint(0, 1000)]), "accuracy_log_rng_seed")
    if mode != "AccuracyOnly" and rng.random() < 0.3:
        s("accuracy_log_probability", rng.choice([round(rng.random(), 3), rng.random(), 1.0, 0.0]))
    if rng.random() < 0.12:
        s("accuracy_log_sampling_target", rng.randint(1, 60), "accuracy_log_sampling_target")
    if rng.random() < 0.05:
        s("test05", True)
        for k in ("test05_qsl_rng_seed", "test05_sample_index_rng_seed", "test05_schedule_rng_seed"):
            s(k, rng.getrandbits(64))
    if rng.random() < 0.15:
        s("performance_sample_count_override", rng.choice([rng.randint(1, total), rng.randint(1, 2 * total + 5)]),
          "performance_sample_count_override")
    if rng.random() < 0.1:
        s("accuracy_sample_count_override", rng.choice([rng.randint(1, total), rng.randint(1, total + 50)]),
          "accuracy_sample_count_override")
    r = rng.random()
    if r < 0.1:
        s("performance_issue_unique", True, "performance_issue_unique", 1)
    elif r < 0.2:
        s("performance_issue_same", True, "performance_issue_same", 1)
        s("performance_issue_same_index", rng.randint(0, max(0, min(perf, total) - 1)), "performance_issue_same_index")
    if rng.random() < 0.22:
        s("sample_concatenate_permutation", True, "sample_concatenate_permutation", 1)
    elif model and rng.random() < 0.1:
        s("sample_concatenate_permutation", False, "sample_concatenate_permutation", 0)
    if rng.random() < 0.2:
        s("use_token_latencies", True, "use_token_latencies", 1)
    elif model and rng.random() < 0.1:
        s("use_token_latencies", False, "use_token_latencies", 0)
    if model and rng.random() < 0.3:
        b.conf.append(f"{model}.Server.ttft_latency = {rng.randint(1, 5000)}")
        b.conf.append(f"{model}.Server.tpot_latency = {rng.randint(1, 500)}")
    if rng.random() < 0.04:
        s("infer_token_latencies", True)
        # (token_latency_scaling_factor: not settable through gen.py's settings in a
        # portable way; the official default is uninitialised memory.)
    if rng.random() < 0.1:
        s("max_duration_ms", rng.randint(60_000, 10_000_000), "max_duration")
    else:
        s("max_duration_ms", 0, "max_duration", conf_prob=0.3)

    # Scenario-specific knobs.
    if scenario in ("SingleStream", "MultiStream"):
        md = 0 if rng.random() < 0.6 else rng.randint(1, 200)
        s("min_duration_ms", md, "min_duration")
        mqc = rng.choice([rng.randint(1, 20), _loguniform_int(rng, 1, 3000)])
        s("min_query_count", mqc, "min_query_count")
        if md > 0:
            s("max_query_count", rng.randint(max(1, mqc // 2), mqc), "max_query_count")
        elif rng.random() < 0.25:
            s("max_query_count", rng.randint(1, int(mqc * 1.5) + 1), "max_query_count")
        if scenario == "SingleStream":
            lat_ms = rng.choice([0.05, 0.1, 0.5, 1, 2.5, 10, 33.3])
            s("single_stream_expected_latency_ns", lat_ms * 1e6, "target_latency", lat_ms, "SingleStream")
            if rng.random() < 0.3:
                p = rng.choice([50, 90, 99, 99.9])
                s("single_stream_target_latency_percentile", p / 100, "target_latency_percentile", p, "SingleStream")
        else:
            lat_ms = rng.choice([0.5, 1, 8, 50, 80])
            s("multi_stream_expected_latency_ns", lat_ms * 1e6, "target_latency", lat_ms, "MultiStream")
            spq = rng.randint(1, 16)
            s("multi_stream_samples_per_query", spq, "samples_per_query", spq, "MultiStream")
            if rng.random() < 0.3:
                p = rng.choice([90, 99, 99.9])
                s("multi_stream_target_latency_percentile", p / 100, "target_latency_percentile", p, "MultiStream")
    elif scenario == "Server":
        md = rng.choice([0, rng.randint(1, 200), rng.randint(20, 200)])
        s("min_duration_ms", md, "min_duration")
        s("min_query_count", rng.choice([0, rng.randint(1, 50), _loguniform_int(rng, 1, 3000)]), "min_query_count")
        qps = rng.choice([float(_loguniform_int(rng, 500, 50000)), round(rng.uniform(500, 50000), 2)])
        s("server_target_qps", qps, "target_qps", qps, "Server")
        if rng.random() < 0.12:
            s("max_query_count", rng.randint(1, 2000), "max_query_count")
        if rng.random() < 0.4:
            ms = rng.randint(1, 2000)
            s("server_target_latency_ns", ms * 1_000_000, "target_latency", ms, "Server")
        if rng.random() < 0.2:
            p = rng.choice([90, 97, 99, 99.9])
            s("server_target_latency_percentile", p / 100, "target_latency_percentile", p, "Server")
        if rng.random() < 0.05:
            s("server_max_async_queries", rng.randint(1, 1000), "max_async_queries", conf_scenario="Server")
    else:  # Offline
        md = rng.choice([0, rng.randint(1, 1000), 1000])
        s("min_duration_ms", md, "min_duration")
        s("min_query_count", rng.choice([1, rng.randint(1, 100), _loguniform_int(rng, 1, 8000)]), "min_query_count")
        qps = rng.choice([float(_loguniform_int(rng, 1, 10000)), round(rng.uniform(1, 10000), 3), 33.3, 0.5])
        s("offline_expected_qps", qps, "target_qps", qps, "Offline")
        if rng.random() < 0.2:
            s("max_query_count", rng.randint(1, 5), "max_query_count")
    if rng.random() < 0.04:
        s("print_timestamps", False, "print_timestamps", 0)

    case = {"name": name, "scenario": scenario, "mode": mode, "total": total, "perf": perf}
    if model:
        case["model"] = model
        # Lines the parser must skip. (Forms LoadGen silently misreads -- `k=v` without
        # spaces, a fraction for an integer key, a comment after a value -- are refused by
        # yardstick on purpose; cases/reject-*.json cover them.)
        if rng.random() < 0.2:
            b.conf.insert(rng.randint(0, len(b.conf)), rng.choice(["# a comment = 5", "", "  # x"]))
        case["user_conf"] = b.conf
    case["settings"] = b.settings
    case["trace"] = scenario == "Server"
    case["tokens"] = rng.random() < 0.2
    return case


_RESOLVER = r"""
import json, os, sys, tempfile
import mlperf_loadgen as lg
FIELDS = json.loads(sys.argv[1])
out = []
for case in json.load(sys.stdin):
    ts = lg.TestSettings()
    if case.get("model"):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("\n".join(case.get("user_conf", [])) + "\n")
        # FromConfig(conf_type=1) applies the built-in mlperf.conf only on its first call
        # in a process (static counter), so apply it explicitly for every case.
        ts.FromConfig("", case["model"], case["scenario"], 0)
        ts.FromConfig(f.name, case["model"], case["scenario"], 1)
        os.unlink(f.name)
    for k, v in case.get("settings", {}).items():
        setattr(ts, k, v)
    out.append({k: getattr(ts, k) for k in FIELDS})
json.dump(out, sys.stdout)
"""


def resolve_settings(cases: list[dict], ref_python: str) -> list[dict]:
    """The TestSettings each case asks for (mlperf.conf + user.conf + settings), as the
    official binding sees them, keyed by the C++ field names."""
    r = subprocess.run([ref_python, "-c", _RESOLVER, json.dumps(SETTINGS_FIELDS)], input=json.dumps(cases),
                       capture_output=True, text=True, timeout=120, env=official_env())
    if r.returncode != 0:
        raise RuntimeError(f"settings resolver failed (rc {r.returncode}):\n{r.stderr[-3000:]}")
    return [{PY_TO_FIELD.get(k, k): v for k, v in d.items()} for d in json.loads(r.stdout)]


def _estimate(case: dict, e: dict) -> dict:
    """Rough size/duration of a case (only used to keep runs short)."""
    total, qsl_perf, scen = case["total"], case["perf"], case["scenario"]
    P = e["performance_sample_count_override"] or qsl_perf
    L = min(P, total)
    A = min(e["accuracy_sample_count_override"] or total, total)
    eq = e["sample_concatenate_permutation"]
    mqc, maxq, md = e["min_query_count"], e["max_query_count"], e["min_duration_ms"]
    est = {"L": L, "A": A, "P": P, "perf_queries": 0, "perf_samples": 0, "gen_queries": 0, "seconds": 0.0}
    if scen == "Server":
        qps = e["server_target_qps"]
        if e["performance_issue_unique"]:
            n = L
        else:
            n = max(mqc, math.ceil(qps * md / 1000.0)) + 1
            if eq:
                n = math.ceil(n / L) * L + L
        est["gen_queries"] = n
        if maxq:
            n = min(n, maxq)
        est["perf_queries"] = est["perf_samples"] = n
        secs = n / qps if case["mode"] != "AccuracyOnly" else 0.0
        if case["mode"] != "PerformanceOnly":
            secs += A / qps
        est["seconds"] = secs
    elif scen == "Offline":
        qps = e["offline_expected_qps"]
        if e["performance_issue_unique"]:
            n = P
        else:
            n = max(mqc, int(1.1 * md / 1000.0 * qps))
            if eq and n % L:
                n += L - n % L
        est["perf_queries"], est["perf_samples"], est["gen_queries"] = 1, n, 1
    else:
        spq = e["multi_stream_samples_per_query"] if scen == "MultiStream" else 1
        lat = e["single_stream_expected_latency_ns"] if scen == "SingleStream" else e["multi_stream_expected_latency_ns"]
        qps = 1e9 / lat if lat > 0 else 1e9
        m = mqc
        if eq and scen == "SingleStream":
            m = max(m, int(2.0 * md / 1000.0 * qps))
            m += qsl_perf - m % qsl_perf
        gen = max(m, int(2 * md / 1000.0 * qps) + 1)
        if e["performance_issue_unique"]:
            gen = m = math.ceil(L / spq)
        if eq:
            gen = math.ceil(gen / L) * L + L
        n = min(m, maxq) if maxq else m
        est["perf_queries"], est["perf_samples"], est["gen_queries"] = n, n * spq, gen
    return est


def fix_case(case: dict, e: dict, rng: random.Random) -> dict:
    """Repairs a raw case (given its resolved settings `e`) so that the official LoadGen
    neither crashes nor lets timing decide anything that is compared; repairs go into
    `settings`, which gen.py applies last."""
    case = json.loads(json.dumps(case))
    st = case["settings"]
    e = dict(e)
    scen = case["scenario"]

    def setf(k, v):
        st[k] = v
        e[k] = v

    total = case["total"]
    # Accuracy runs load the dataset in sets of performance_sample_count samples; each set
    # costs the official LoadGen ~10 ms, so keep it to <= 100 sets.
    if case["mode"] != "PerformanceOnly":
        A = min(e["accuracy_sample_count_override"] or total, total)
        P = e["performance_sample_count_override"] or case["perf"]
        if math.ceil(A / P) > 100:
            if e["performance_sample_count_override"]:
                setf("performance_sample_count_override", math.ceil(A / 100))
            else:
                case["perf"] = math.ceil(A / 100)
    P = e["performance_sample_count_override"] or case["perf"]
    L = min(P, total)
    if e["performance_issue_unique"] and e["performance_issue_same"]:
        setf("performance_issue_same", False)
    # performance_issue_same also applies in accuracy mode (LoadGen then issues the same
    # sample over and over), indexing each accuracy set, the last of which may be short:
    # an index past a set's end reads out of bounds (undefined behaviour, garbage indices).
    smallest = L
    if case["mode"] != "PerformanceOnly":
        A = min(e["accuracy_sample_count_override"] or total, total)
        smallest = min(smallest, P if A >= P else A)
        if A % P:
            smallest = min(smallest, A % P)
    if e["performance_issue_same"] and e["performance_issue_same_index"] >= smallest:
        setf("performance_issue_same_index", rng.randrange(smallest))
    if scen == "Offline" and e["performance_issue_unique"] and P > total:
        setf("performance_issue_unique", False)
    spq = e["multi_stream_samples_per_query"]
    if scen == "MultiStream" and e["performance_issue_unique"] and e["sample_concatenate_permutation"] and spq > 1:
        setf("sample_concatenate_permutation", False)
    if e["server_coalesce_queries"]:
        setf("server_coalesce_queries", False)
    if e["server_num_issue_query_threads"]:
        setf("server_num_issue_query_threads", 0)
    if e["use_token_latencies"]:
        case["tokens"] = True  # otherwise LoadGen logs an error for every sample
    # Durations: only Offline may have a long min_duration (it is not a run time there).
    if scen != "Offline" and e["min_duration_ms"] > 200:
        setf("min_duration_ms", rng.randint(0, 200))
    if scen != "Offline" and e["max_duration_ms"] and e["max_duration_ms"] < 60_000:
        setf("max_duration_ms", 0)
    # No query at all -> the official LoadGen segfaults.
    if scen in ("SingleStream", "MultiStream") and e["min_query_count"] == 0:
        setf("min_query_count", rng.randint(1, 50))
    if scen == "Server" and e["min_query_count"] == 0 and (e["min_duration_ms"] == 0 or e["sample_concatenate_permutation"]):
        setf("min_query_count", rng.randint(1, 50))
    if scen == "Offline" and e["offline_expected_qps"] < 0:
        setf("offline_expected_qps", 100.0)
    if scen == "Server" and e["server_target_qps"] <= 0:
        setf("server_target_qps", 1000.0)
    # SingleStream/MultiStream: with a min duration, make max_query_count decide the end.
    if scen in ("SingleStream", "MultiStream"):
        if e["min_query_count"] > 3000:
            setf("min_query_count", rng.randint(1, 3000))
        for _ in range(40):
            est = _estimate(case, e)
            if est["gen_queries"] <= 20000 and est["perf_samples"] <= 40000:
                break
            if e["min_duration_ms"] > 0:
                setf("min_duration_ms", e["min_duration_ms"] // 2)
            elif e["min_query_count"] > 1:
                setf("min_query_count", max(1, e["min_query_count"] // 2))
            else:
                break
        if e["min_duration_ms"] > 0 and not (0 < e["max_query_count"] <= e["min_query_count"]):
            setf("max_query_count", rng.randint(max(1, e["min_query_count"] // 2), e["min_query_count"]))
    if scen == "Server":
        if e["max_duration_ms"]:
            setf("max_duration_ms", max(e["max_duration_ms"], 60_000))
        for _ in range(60):
            est = _estimate(case, e)
            if est["seconds"] <= 0.3 and est["gen_queries"] <= 6000:
                break
            if est["gen_queries"] > 6000 and e["min_query_count"] > 200:
                setf("min_query_count", e["min_query_count"] // 2)
            elif est["gen_queries"] > 6000 and e["min_duration_ms"] > 5:
                setf("min_duration_ms", e["min_duration_ms"] // 2)
            elif e["server_target_qps"] < 50000:
                setf("server_target_qps", round(min(50000.0, e["server_target_qps"] * 1.7), 2))
            elif e["min_query_count"] > 1:
                setf("min_query_count", max(1, e["min_query_count"] // 2))
            elif e["min_duration_ms"] > 1:
                setf("min_duration_ms", e["min_duration_ms"] // 2)
            else:
                break
    if scen == "Offline":
        for _ in range(60):
            est = _estimate(case, e)
            if est["perf_samples"] <= 20000:
                break
            if e["min_query_count"] > 20000:
                setf("min_query_count", rng.randint(1, 20000))
            elif e["offline_expected_qps"] > 1:
                setf("offline_expected_qps", round(e["offline_expected_qps"] / 2, 3))
            else:
                setf("min_duration_ms", e["min_duration_ms"] // 2)
    return case


def random_cases(seed: int, n: int) -> list[dict]:
    """n raw random cases (deterministic for a seed; needs no LoadGen)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sub = random.Random(rng.getrandbits(64))
        c = random_raw_case(sub, f"r{seed}-{i:04d}")
        c["name"] = f"r{seed}-{i:04d}-{c['scenario']}-{c['mode']}"
        c["_fix_seed"] = sub.getrandbits(32)
        out.append(c)
    return out


def finalize_cases(raw: list[dict], ref_python: str) -> list[dict]:
    """Resolves and repairs raw random cases (one LoadGen process for all of them)."""
    plain = [{k: v for k, v in c.items() if not k.startswith("_")} for c in raw]
    resolved = resolve_settings(plain, ref_python) if plain else []
    out = []
    for c, rc, e in zip(raw, plain, resolved):
        out.append(fix_case(rc, e, random.Random(c.get("_fix_seed", 0))))
    return out


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------

@dataclass
class RunResult:
    rc: int | None
    out: str
    dir: Path
    seconds: float


def _run(cmd: list[str], outdir: Path, env: dict | None = None) -> RunResult:
    import time
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, env=env)
        rc, out = p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired as ex:
        rc, out = None, f"TIMEOUT after {SUBPROCESS_TIMEOUT_S}s\n{ex.stdout or ''}{ex.stderr or ''}"
    return RunResult(rc, out[-4000:], outdir, time.monotonic() - t)


def run_official(case_path: Path, outdir: Path, ref_python: str, name: str) -> RunResult:
    """gen.py on the official wheel: `ref_python` is one reference_python() proved, and it runs
    in the same official_env as the proof, so it imports the same module."""
    return _run([ref_python, str(GEN_PY), str(case_path), str(outdir)], outdir / name, official_env())


def run_yardstick(case_path: Path, outdir: Path, binary: str, ref_python: str, name: str) -> RunResult:
    other = os.environ.get("YARDSTICK_DIFF_OTHER", "yardstick")
    if other == "official":  # self-check: is the official LoadGen deterministic on these cases?
        return run_official(case_path, outdir, ref_python, name)
    if other.startswith("module:"):  # a Python module with mlperf_loadgen's API, through gen.py
        env = dict(os.environ, LOADGEN_MODULE=other[len("module:"):])
        return _run([ref_python, str(GEN_PY), str(case_path), str(outdir)], outdir / name, env)
    return _run([binary, "golden-case", str(case_path), str(outdir)], outdir / name)


# --------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------

def _read_lines(p: Path) -> list[str] | None:
    return p.read_text().splitlines() if p.exists() else None


def _jsonl(p: Path) -> list | None:
    lines = _read_lines(p)
    return None if lines is None else [json.loads(l) for l in lines if l.strip()]


def detail_values(p: Path, prefixes=DETAIL_PREFIXES) -> dict[str, list]:
    """key -> [values in file order] for every `:::MLLOG {json}` line whose key has a prefix."""
    out: dict[str, list] = {}
    if not p.exists():
        return out
    for line in p.read_text(errors="replace").splitlines():
        if not line.startswith(":::MLLOG "):
            continue
        try:
            j = json.loads(line[len(":::MLLOG "):])
        except json.JSONDecodeError:
            continue
        k = j.get("key", "")
        if k.startswith(prefixes):
            out.setdefault(k, []).append(j.get("value"))
    return out


def _typed(v):
    """A value with its JSON type kept (Python has True == 1 and 1 == 1.0; the logs do not)."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, list):
        return ("list", tuple(_typed(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _typed(x)) for k, x in v.items())))
    return (type(v).__name__, v)


def accuracy_entries(p: Path) -> list | None:
    if not p.exists():
        return None
    text = p.read_text().strip()
    if not text:
        return []
    entries = json.loads(text)
    return sorted(entries, key=lambda d: (d.get("seq_id", -1), d.get("qsl_idx", -1)))


def _segments(case: dict, loaded: list, n: int) -> list[int]:
    """Lengths of the runs (IssueQueries calls) the Server schedule is made of: each has its
    own start time, so only offsets within a run are deterministic."""
    mode = case["mode"]
    if mode == "PerformanceOnly":
        return [n]
    acc = [len(s) for s in loaded] if mode == "AccuracyOnly" else [len(s) for s in loaded[:-1]]
    rest = n - sum(acc)
    return acc + ([rest] if mode != "AccuracyOnly" or rest else [])


def normalized_schedule(case: dict, sched: list[int], loaded: list) -> list[list[int]]:
    segs = _segments(case, loaded, len(sched))
    out, i = [], 0
    for s in segs:
        part = sched[i:i + s]
        i += s
        if part:
            out.append([t - part[0] for t in part])
    if i < len(sched):
        out.append(sched[i:])
    return out


def _first_diff_list(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at index {i}: official={_short(x)} yardstick={_short(y)}"
    return f"lengths differ: official={len(a)} yardstick={len(b)} (first extra: " \
           f"{_short(a[len(b)] if len(a) > len(b) else b[len(a)])})"


def _short(x, n=300) -> str:
    s = json.dumps(x) if not isinstance(x, str) else x
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def compare_outputs(case: dict, a: Path, b: Path) -> list[str]:
    """Differences between the official outputs in `a` and yardstick's in `b` (empty: equal)."""
    diffs: list[str] = []
    for fname in ("loaded.jsonl", "issued.jsonl"):
        x, y = _jsonl(a / fname), _jsonl(b / fname)
        if y is None:
            diffs.append(f"{fname}: missing in yardstick output")
        elif x != y:
            diffs.append(f"{fname}: {_first_diff_list(x, y)}")
    if case["scenario"] == "Server" and case.get("trace"):
        x, y = _read_lines(a / "schedule_ns.txt"), _read_lines(b / "schedule_ns.txt")
        if x is None:
            diffs.append("schedule_ns.txt: missing in official output")
        elif y is None:
            diffs.append("schedule_ns.txt: missing in yardstick output")
        else:
            loaded = _jsonl(a / "loaded.jsonl") or []
            xs = normalized_schedule(case, [int(v) for v in x], loaded)
            ys = normalized_schedule(case, [int(v) for v in y], loaded)
            if xs != ys:
                if len(xs) != len(ys):
                    diffs.append(f"schedule_ns.txt: {len(xs)} runs vs {len(ys)} "
                                 f"(lines {len(x)} vs {len(y)})")
                else:
                    for k, (p, q) in enumerate(zip(xs, ys)):
                        if p != q:
                            diffs.append(f"schedule_ns.txt (run {k}, offsets from its first query): "
                                         f"{_first_diff_list(p, q)}")
                            break
    xa, ya = accuracy_entries(a / "mlperf_log_accuracy.json"), accuracy_entries(b / "mlperf_log_accuracy.json")
    if ya is None:
        diffs.append("mlperf_log_accuracy.json: missing in yardstick output")
    elif _typed(xa) != _typed(ya):
        diffs.append(f"mlperf_log_accuracy.json (entries sorted by seq_id): {_first_diff_list(xa or [], ya)}")
    da, db = detail_values(a / "mlperf_log_detail.txt"), detail_values(b / "mlperf_log_detail.txt")
    if not db:
        diffs.append("mlperf_log_detail.txt: missing or has no compared keys in yardstick output")
    else:
        for k in sorted(set(da) | set(db)):
            if k not in db:
                diffs.append(f"detail {k}: missing in yardstick (official {_short(da[k])})")
            elif k not in da:
                diffs.append(f"detail {k}: only in yardstick ({_short(db[k])})")
            elif _typed(da[k]) != _typed(db[k]):
                diffs.append(f"detail {k}: official={_short(da[k])} yardstick={_short(db[k])}")
    return diffs


@dataclass
class CaseOutcome:
    case: dict
    ok: bool
    message: str
    official_s: float = 0.0
    yardstick_s: float = 0.0


def run_case(case: dict, ref_python: str, binary: str | None, keep_dir: Path | None = None) -> CaseOutcome:
    name = case["name"]
    tmp = Path(tempfile.mkdtemp(prefix="ydiff-"))
    try:
        case_path = tmp / "case.json"
        case_path.write_text(json.dumps(case, indent=1))
        ra = run_official(case_path, tmp / "official", ref_python, name)
        if ra.rc != 0:
            return CaseOutcome(case, False, f"the OFFICIAL LoadGen failed (rc {ra.rc}); the case is invalid "
                               f"(generator bug?):\n{ra.out}", ra.seconds)
        rb = run_yardstick(case_path, tmp / "yardstick", binary or "", ref_python, name)
        expect = case.get("expect_yardstick_error")
        if expect and os.environ.get("YARDSTICK_DIFF_OTHER", "yardstick") == "yardstick":
            # A case yardstick refuses on purpose (LoadGen would silently misread it).
            if rb.rc == 0:
                return CaseOutcome(case, False, f"yardstick accepted a case it should reject with an error "
                                   f"containing {expect!r}", ra.seconds, rb.seconds)
            if rb.rc is None or expect.lower() not in rb.out.lower():
                return CaseOutcome(case, False, f"yardstick failed (rc {rb.rc}) but not with an error containing "
                                   f"{expect!r}:\n{rb.out}", ra.seconds, rb.seconds)
            return CaseOutcome(case, True, f"rejected as expected: {rb.out.strip()[:200]}", ra.seconds, rb.seconds)
        if rb.rc != 0:
            return CaseOutcome(case, False, f"yardstick golden-case failed (rc {rb.rc}):\n{rb.out}",
                               ra.seconds, rb.seconds)
        diffs = compare_outputs(case, ra.dir, rb.dir)
        if keep_dir is not None:
            shutil.copytree(tmp, keep_dir / name, dirs_exist_ok=True)
        if diffs:
            return CaseOutcome(case, False, f"{len(diffs)} difference(s):\n  " + "\n  ".join(diffs),
                               ra.seconds, rb.seconds)
        return CaseOutcome(case, True, "equal", ra.seconds, rb.seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_failure(outcome: CaseOutcome) -> Path:
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    p = FAILURES_DIR / f"{outcome.case['name']}.json"
    p.write_text(json.dumps(outcome.case, indent=1) + "\n")
    (FAILURES_DIR / f"{outcome.case['name']}.diff.txt").write_text(outcome.message + "\n")
    return p


def failure_report(outcome: CaseOutcome, saved: Path | None) -> str:
    rel = saved.relative_to(REPO) if saved and saved.is_relative_to(REPO) else saved
    return (f"case {outcome.case['name']}: {outcome.message}\n"
            f"case JSON:\n{json.dumps(outcome.case, indent=1)}\n"
            + (f"saved: {rel}\nreproduce: {sys.executable} tests/differential/differential.py {rel}\n" if saved else ""))


def load_case_file(p: Path) -> dict:
    c = json.loads(Path(p).read_text())
    c.setdefault("name", Path(p).stem)
    return c


def main(argv: list[str]) -> int:
    import argparse
    from concurrent.futures import ThreadPoolExecutor
    ap = argparse.ArgumentParser(description="Run cases on the official LoadGen and yardstick and compare.")
    ap.add_argument("cases", nargs="*", type=Path, help="case JSON files")
    ap.add_argument("--gen", type=int, default=0, help="also generate this many random cases")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--dump", type=Path, help="write the (finalised) random cases here and exit")
    ap.add_argument("--keep", type=Path, help="keep both outputs of every case under this folder")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        ref = reference_python()
    except NotOfficial as e:
        print(f"the reference Python is not the official LoadGen: {e}", file=sys.stderr)
        return 2
    if not ref:
        print("no Python with mlperf_loadgen: run .ci/setup-python.sh", file=sys.stderr)
        return 2
    cases = [load_case_file(p) for p in args.cases]
    if args.gen:
        cases += finalize_cases(random_cases(args.seed, args.gen), ref)
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for c in cases:
            (args.dump / f"{c['name']}.json").write_text(json.dumps(c, indent=1) + "\n")
        print(f"wrote {len(cases)} cases to {args.dump}")
        return 0
    binary = yardstick_binary()
    if not binary and os.environ.get("YARDSTICK_DIFF_OTHER", "yardstick") == "yardstick":
        print("no yardstick binary: cargo build -p yardstick (or set YARDSTICK_BIN)", file=sys.stderr)
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    bad = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for o in ex.map(lambda c: run_case(c, ref, binary, args.keep), cases):
            status = "ok  " if o.ok else "FAIL"
            print(f"{status} {o.case['name']}  (official {o.official_s:.2f}s, other {o.yardstick_s:.2f}s)")
            if not o.ok:
                bad += 1
                print("     " + o.message.replace("\n", "\n     "))
    print(f"{len(cases) - bad}/{len(cases)} equal")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
