#!/usr/bin/env python3
"""A submission tree of many results for timing `yardstick check` beside the
official checker: the published v5.1 tree of
crates/submission/tests/check/valid (one edge system, ResNet-50 SingleStream,
MultiStream, Offline) copied as N systems (3 results each).

    python3 bench/submission/make_tree.py OUT [--systems 34]   # 102 results
"""
import argparse
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = os.path.join(HERE, "..", "..", "crates", "submission", "tests", "check", "valid")
SYSTEM = "SE100_RTX2000E_Ada_16GBx1_TRT"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--systems", type=int, default=34)
    args = parser.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    shutil.copytree(VALID, args.out)
    org = os.path.join(args.out, "closed", "Lenovo")
    for i in range(1, args.systems):
        name = f"{SYSTEM}_{i}"
        for part in ("results", "measurements", "compliance"):
            shutil.copytree(os.path.join(org, part, SYSTEM), os.path.join(org, part, name))
        for scenario in ("SingleStream", "MultiStream", "Offline"):
            folder = os.path.join(org, "measurements", name, "resnet50", scenario)
            os.rename(os.path.join(folder, f"{SYSTEM}_{scenario}.json"), os.path.join(folder, f"{name}_{scenario}.json"))
        shutil.copy(os.path.join(org, "systems", f"{SYSTEM}.json"), os.path.join(org, "systems", f"{name}.json"))
    print(f"{args.out}: {args.systems * 3} results")


if __name__ == "__main__":
    main()
