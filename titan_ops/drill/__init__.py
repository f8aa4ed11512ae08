"""Recovery drills: inject a fault, run the recovery playbooks, verify, and time it.

    from titan_ops.drill import load_drill, run_drill
    result = run_drill(load_drill("drills/execution-killed.yml"), "inventory/lab.yml")
    print(result.passed, result.time_to_recover)
"""

from titan_ops.drill.junit import drill_junit_xml
from titan_ops.drill.model import Drill, DrillError, Phase, drill_schema, load_drill
from titan_ops.drill.runner import DrillResult, PhaseResult, require_lab, run_drill

__all__ = ["Drill", "DrillError", "DrillResult", "Phase", "PhaseResult", "drill_junit_xml", "drill_schema",
           "load_drill", "require_lab", "run_drill"]
