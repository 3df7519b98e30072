"""hepilot.evals.checks"""
