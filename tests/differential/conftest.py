import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_report_header(config):
    import differential as D
    seed = os.environ.get("YARDSTICK_DIFF_SEED", D.DEFAULT_SEED)
    n = os.environ.get("YARDSTICK_DIFF_CASES", D.DEFAULT_CASES)
    return [f"differential: seed={seed} random cases={n} (YARDSTICK_DIFF_SEED, YARDSTICK_DIFF_CASES); "
            f"yardstick={D.yardstick_binary()}"]
