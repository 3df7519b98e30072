"""hepilot.agent"""
