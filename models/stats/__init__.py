"""hepilot.models.stats"""
