"""Reference cards: physics constants, conventions and standard formulae with their sources."""
