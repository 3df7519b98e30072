"""hepilot: an LLM-agent research assistant for high-energy physics."""
__version__ = "0.1.0"
__all__ = ["__version__"]
