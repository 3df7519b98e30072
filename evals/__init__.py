"""hepilot.evals"""
