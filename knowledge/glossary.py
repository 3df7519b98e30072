"""Query understanding for retrieval: HEP acronym expansion and the entities a query names.

"CMS ECAL resolution" should find a section titled "Electromagnetic calorimeter": the embedding
model does not know most detector acronyms and BM25 only matches literal tokens, so a query
acronym is followed by its expansion (the acronym itself is kept).
"""
from __future__ import annotations

import re

from hepilot.knowledge.documents import EXPERIMENTS, detect_arxiv_id

__all__ = ["ACRONYMS", "expand_query", "mentioned_entities"]

ACRONYMS: dict[str, str] = {
    "ECAL": "electromagnetic calorimeter", "EMC": "electromagnetic calorimeter",
    "HCAL": "hadronic calorimeter", "JER": "jet energy resolution", "JES": "jet energy scale",
    "TPC": "time projection chamber", "MDC": "main drift chamber", "TOF": "time of flight",
    "VELO": "vertex locator", "IBL": "insertable b-layer", "SCT": "semiconductor tracker",
    "TRT": "transition radiation tracker", "PFA": "particle flow algorithm", "PF": "particle flow",
    "BMR": "boson mass resolution", "IP": "impact parameter", "PMT": "photomultiplier tube",
    "PMTs": "photomultiplier tubes", "LS": "liquid scintillator", "RPC": "resistive plate chamber",
    "MET": "missing transverse momentum", "PU": "pile-up", "PUPPI": "pileup per particle identification",
    "BDT": "boosted decision tree", "CNN": "convolutional neural network", "GNN": "graph neural network",
    "MPNN": "message passing neural network", "ParT": "particle transformer", "GAN": "generative adversarial network",
    "PINN": "physics-informed neural network", "SR": "symbolic regression", "LLM": "large language model",
    "QSVM": "quantum support vector machine", "VQC": "variational quantum classifier",
    "NPLM": "new physics learning machine", "C2ST": "classifier two-sample test", "AUC": "area under the ROC curve",
    "PDG": "particle data group", "CDR": "conceptual design report", "TDR": "technical design report",
    "MS": "muon spectrometer", "ID": "inner detector", "FCal": "forward calorimeter", "HF": "forward calorimeter",
}
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(a) for a in sorted(ACRONYMS, key=len, reverse=True))
                      + r")(?![\w-])")


def expand_query(query: str) -> str:
    """'CMS ECAL resolution' -> 'CMS ECAL (electromagnetic calorimeter) resolution'; case-sensitive acronyms."""
    seen: set[str] = set()

    def repl(m: re.Match) -> str:
        acro = m.group(1)
        if acro in seen:
            return acro
        seen.add(acro)
        return f"{acro} ({ACRONYMS[acro]})"

    return _PATTERN.sub(repl, query)


def mentioned_entities(query: str) -> dict[str, set]:
    """Experiments and arXiv ids named in a query: {"experiment": {"CMS"}, "arxiv_id": {"1902.08570"}}."""
    found: dict[str, set] = {}
    exps = {e for e in EXPERIMENTS if re.search(rf"(?<![\w-]){re.escape(e)}(?![\w-])", query, re.I)}
    if exps:
        found["experiment"] = exps
    arxiv = detect_arxiv_id("", query) or (m.group(1) if (m := re.search(r"(?<![\d.])(\d{4}\.\d{4,5})(?!\d)", query))
                                           else "")
    if arxiv:
        found["arxiv_id"] = {arxiv}
    return found
