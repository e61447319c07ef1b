"""Runs MLCommons' mlperf-sysinfo (profile `inference`) on this machine and
prints the systems JSON it writes, for crates/sysinfo/tests/mlperf_sysinfo.rs.

    .venv-sysinfo/bin/python tests/sysinfo/reference_capture.py FACTS.json OUTDIR

FACTS.json holds the facts no probe can know, with yardstick's system-file
keys (system_name, submitter, submitter_contact, division, status,
system_type, system_type_detail, cooling, hw_notes, sw_notes,
other_hardware); they go into mlperf-sysinfo's config under its own names so
both tools describe the same system. Exit status: mlperf-sysinfo's.
"""

import json
import os
import subprocess
import sys

import yaml


def config_for(facts: dict, out_dir: str) -> dict:
    system = {
        "name": facts["system_name"],
        "category": facts.get("system_type"),
        "availability": facts.get("status"),
        # GPUs are probed through CUDA by mlc-scripts (it compiles a CUDA
        # program); on a machine without one "none" keeps it from trying.
        "accelerator": facts.get("accelerator", "none"),
        "cooling": facts.get("cooling"),
        "type_detail": facts.get("system_type_detail"),
    }
    submission = {
        "submitter": facts.get("submitter"),
        "contact": facts.get("submitter_contact"),
        "division": facts.get("division"),
        "notes": {
            "hardware": facts.get("hw_notes"),
            "software": facts.get("sw_notes"),
            "other_hardware": facts.get("other_hardware"),
        },
    }
    return {
        "profile": "inference",
        "output": {"dir": out_dir},
        "system": {k: v for k, v in system.items() if v is not None},
        "nodes": {"include_local": True, "ssh": []},
        "submission": submission,
    }


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    facts_path, out_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(facts_path, encoding="utf-8") as f:
        facts = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    config_path = os.path.join(out_dir, "sysinfo.yaml")
    with open(config_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config_for(facts, out_dir), f, sort_keys=False)
    tool = os.path.join(os.path.dirname(sys.executable), "mlperf-sysinfo")
    done = subprocess.run([tool, "capture", "-c", config_path], stdout=sys.stderr)
    if done.returncode != 0:
        return done.returncode
    with open(os.path.join(out_dir, "system_desc.json"), encoding="utf-8") as f:
        sys.stdout.write(f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
