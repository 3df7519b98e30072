"""hepilot.models"""
