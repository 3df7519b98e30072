"""hepilot.models.taggers"""
