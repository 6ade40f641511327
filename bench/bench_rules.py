"""Time rule evaluation against the 1 ms target and a plain-Python baseline in the same run.

Usage: python bench/bench_rules.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # a standalone script: run from a checkout without installing

from screening import questionnaire, rules

TARGET_MS = 1.0
TODAY = dt.date(2025, 6, 1)
# Laid over the rules file's baseline (a complete, neutral answer set) when measured.
CHANGES = {
    "full_name": "Morgan Lee",
    "signature": "Morgan Lee",
    "date_of_birth": "1979-09-21",
    "treatment_areas": ["full_face", "neck"],
    "cold_sores": True,
    "cold_sore_now": False,
    "retinoid_last_use": "under_2_weeks",
    "skin_type": "type_4",
    "smoker": True,
    "recent_procedures": ["injectables_2w"],
    "concerns": ["wrinkles", "sun_damage"],
    "medications_list": "Vitamin D, ibuprofen as needed",
}


def baseline(a: dict, today: dt.date) -> list[str]:
    """The same 35 conditions written by hand as dict lookups: the floor for any engine."""
    procedures = a.get("recent_procedures") or []
    areas = a.get("treatment_areas") or []
    age = questionnaire.age_on(a.get("date_of_birth"), today)
    appointment = questionnaire.parse_date(a.get("appointment_date"))
    stopping = {a.get("retinoid_last_use"), a.get("exfoliant_last_use")} & {
        "under_2_weeks",
        "still_using",
    }
    checks = [
        ("active-acne", a.get("active_acne")),
        ("eczema-active", a.get("eczema") == "active"),
        ("eczema-history", a.get("eczema") == "past"),
        ("psoriasis-vitiligo", a.get("psoriasis_vitiligo")),
        ("skin-infection", a.get("skin_infection")),
        ("cold-sore-now", a.get("cold_sore_now")),
        ("cold-sore-history", a.get("cold_sores")),
        ("isotretinoin-recent", a.get("isotretinoin") in ("taking_now", "under_6_months")),
        ("isotretinoin-past-year", a.get("isotretinoin") == "6_to_12_months"),
        ("retinoid-stop", a.get("retinoid_last_use") in ("under_2_weeks", "still_using")),
        ("exfoliant-stop", a.get("exfoliant_last_use") in ("under_2_weeks", "still_using")),
        ("sunburn-recent", a.get("sunburn_recent")),
        ("tan-recent", a.get("tan_recent")),
        ("sun-planned", a.get("sun_planned")),
        ("skin-type-pigment-risk", a.get("skin_type") in ("type_4", "type_5", "type_6")),
        ("pregnancy", a.get("pregnant_or_breastfeeding")),
        ("keloid", a.get("keloid_history")),
        ("radiation", a.get("radiation_to_area")),
        ("autoimmune", a.get("autoimmune")),
        ("immunosuppressed", a.get("immunosuppressants")),
        ("immune-condition", a.get("immune_condition")),
        ("gold", a.get("gold_therapy")),
        ("healing-risk", a.get("slow_healing") or a.get("diabetes")),
        ("photosensitizing", a.get("photosensitizing_meds")),
        ("blood-thinners", a.get("blood_thinners")),
        ("smoker", a.get("smoker")),
        ("anesthetic-allergy", a.get("anesthetic_allergy")),
        ("recent-peel", "peel_or_microderm_4w" in procedures),
        ("recent-laser", "laser_or_ipl_4w" in procedures),
        ("recent-injectables", "injectables_2w" in procedures),
        ("recent-surgery", "facial_surgery_6m" in procedures),
        ("off-face-area", bool({"neck", "chest", "hands"} & set(areas))),
        ("downtime", a.get("downtime_ok") is False),
        ("under-18", age is not None and age < 18),
        (
            "prep-too-close",
            bool(stopping) and appointment is not None and (appointment - today).days < 14,
        ),
    ]
    return [rule_id for rule_id, fired in checks if fired]


def timings_ms(function, runs: int) -> list[float]:
    """Call function() runs times after a warm-up; return each call's time in milliseconds."""
    for _ in range(min(200, runs)):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def measure(runs: int) -> dict:
    """Load the real rules, check both paths agree, and time them."""
    ruleset = rules.load(ROOT / "rules.yaml", questionnaire.load(ROOT / "questionnaire.yaml"))
    answers = {**ruleset.baseline, **CHANGES}
    fired = sorted(f["id"] for f in ruleset.evaluate(answers, TODAY).flags)
    assert fired == sorted(baseline(answers, TODAY)), "the baseline must judge like the rules"
    engine = timings_ms(lambda: ruleset.evaluate(answers, TODAY), runs)
    plain = timings_ms(lambda: baseline(answers, TODAY), runs)
    median, plain_median = statistics.median(engine), statistics.median(plain)
    return {
        "benchmark": "rules.evaluate",
        "rules": len(ruleset.rules),
        "flags": len(fired),
        "runs": runs,
        "median_ms": round(median, 4),
        "p95_ms": round(p95(engine), 4),
        "target_ms": TARGET_MS,
        "target_met": median < TARGET_MS,
        "baseline": "plain Python dict lookups, same conditions",
        "baseline_median_ms": round(plain_median, 4),
        "baseline_p95_ms": round(p95(plain), 4),
        "ratio_to_baseline": round(median / plain_median, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000, help="timed evaluations (default 5000)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    figures = measure(args.runs)
    if args.json:
        print(json.dumps(figures))
        return 0
    verdict = "met" if figures["target_met"] else "NOT met"
    print(
        f"rules.evaluate: {figures['rules']} rules, {figures['flags']} flags, "
        f"{figures['runs']} runs"
    )
    print(
        f"  median {figures['median_ms']:.3f} ms, p95 {figures['p95_ms']:.3f} ms "
        f"(target < {TARGET_MS:g} ms: {verdict})"
    )
    print(
        f"  baseline ({figures['baseline']}): median {figures['baseline_median_ms']:.4f} ms, "
        f"p95 {figures['baseline_p95_ms']:.4f} ms"
    )
    print(f"  ratio: {figures['ratio_to_baseline']}x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
