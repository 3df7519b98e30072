"""hepilot.tools"""
