"""hepilot.models.quantum"""
