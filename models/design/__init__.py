"""hepilot.models.design: detector and analysis design loops (parametric detector + Optuna + LLM proposals).

See docs/design.md: cost model (cost), specs (spec), objectives (objectives), the Optuna loop
(detector_loop), reports (report), the analysis ladder (analysis) and the `hepilot design` CLI (cli).
"""
