"""The rules benchmark runs standalone and prints the figures `make bench` collects."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_prints_its_figures_as_json():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_rules.py"), "--json", "--runs", "50"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert figures["rules"] == 35 and figures["target_ms"] == 1.0
    assert {"median_ms", "p95_ms", "target_met", "baseline_median_ms", "ratio_to_baseline"} <= set(
        figures
    )
