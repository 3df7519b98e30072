"""FastJet access for the event models: jet definitions, with FastJet's banner kept off stdout.

FastJet prints a banner to stdout on the first clustering in every process, which would corrupt
machine-readable output (`hepilot tools call` prints JSON on stdout); it is silenced once here.
"""
from __future__ import annotations

import functools

__all__ = ["jet_definition"]


@functools.cache
def _silence_banner() -> None:
    import fastjet._swig as swig

    swig.ClusterSequence.set_fastjet_banner_stream(None)


def jet_definition(algorithm: str, radius: float):
    """A fastjet.JetDefinition for 'antikt', 'kt' or 'cambridge' with radius R."""
    import fastjet

    _silence_banner()
    algo = {"antikt": fastjet.antikt_algorithm, "kt": fastjet.kt_algorithm,
            "cambridge": fastjet.cambridge_algorithm}[algorithm]
    return fastjet.JetDefinition(algo, radius)
