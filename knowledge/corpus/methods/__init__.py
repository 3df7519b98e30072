"""Method cards: one Markdown card per method hepilot implements or its reference talks discuss."""
