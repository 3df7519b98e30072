"""hepilot.models.events"""
