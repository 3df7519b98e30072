"""Detector cards: Markdown for retrieval, YAML for `hepilot.knowledge.detectors.load_detector_card`."""
