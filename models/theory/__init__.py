"""hepilot.models.theory"""
