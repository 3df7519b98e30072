"""The worked analysis example: e+e- -> ZH (H -> gamma gamma) against Z/gamma* + gamma (Z -> q qbar) at 240 GeV.

Both samples are generator-level (`ee_higgs`: zh_gamgam; zgam_qq preselected with two photons of
E > 15 GeV and 100 < m_gg < 150 GeV at generator level), pushed through a detector preset. Events
with two reconstructed photons above 10 GeV enter the table with the observables of
`observables.diphoton` plus the recoil mass against the diphoton,
    m_rec^2 = s - 2 sqrt(s) E_gg + m_gg^2       (~ m_Z for the signal),
and a weight = expected events / generated-and-kept events (sigma x preselection efficiency x
luminosity). Events without two photons cannot pass any diphoton selection; they keep their
weight in the totals only. The same events as object lists (each reconstructed particle an object:
photon, electron, muon, or "jet" for hadrons, 16 leading in pT) feed the neural rung.
"""
from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepilot.models import physics
from hepilot.models.design.analysis import AnalysisData
from hepilot.models.design.observables import diphoton
from hepilot.models.events.detector import get_detector
from hepilot.models.events.ee_higgs import EEConfig, TruthSample

__all__ = ["ZH_FEATURES", "SIGNAL_CONFIG", "BACKGROUND_CONFIG", "ZHTable", "zh_gamgam_table", "event_objects"]

ZH_FEATURES = ("m_gg", "e_g1", "e_g2", "abs_cos_g1", "abs_cos_g2", "iso_g1", "iso_g2", "e_gg", "m_recoil_gg",
               "n_charged", "n_photons")
SIGNAL_CONFIG = EEConfig(processes=("zh_gamgam",))
BACKGROUND_CONFIG = EEConfig(processes=("zgam_qq",), min_photons=2, photon_e_min=15.0, diphoton_window=(100.0, 150.0))


@dataclass
class ZHTable:
    data: AnalysisData
    reco: ak.Array  # reconstructed particles of the rows of data
    totals: dict[str, float]  # expected events before the diphoton requirement


def _table(sample: TruthSample, process: str, detector, rng: np.random.Generator, luminosity_fb: float,
           sqrt_s: float) -> tuple[dict[str, np.ndarray], ak.Array, float, int]:
    reco = detector.apply(sample.of(process), rng=rng)
    obs = diphoton(reco)
    rec2 = sqrt_s**2 - 2 * sqrt_s * obs["e_gg"] + obs["m_gg"] ** 2
    obs["m_recoil_gg"] = np.sqrt(np.maximum(rec2, 0.0))
    total = sample.expected_events(process, luminosity_fb)
    n = len(reco)
    keep = obs["valid"]
    return {k: obs[k][keep] for k in ZH_FEATURES}, reco[keep], total / max(n, 1), n


def zh_gamgam_table(signal: TruthSample, background: TruthSample, *, detector: str = "cepc",
                    luminosity_fb: float = 5600.0, seed: int = 0, sqrt_s: float = 240.0) -> ZHTable:
    """The analysis table of the worked example (weights in expected events at `luminosity_fb`)."""
    det = get_detector(detector)
    rng = np.random.default_rng(seed)
    cols, recos, ys, ws, totals = [], [], [], [], {}
    for label, (sample, process) in ((1, (signal, "zh_gamgam")), (0, (background, "zgam_qq"))):
        table, reco, weight, n = _table(sample, process, det, rng, luminosity_fb, sqrt_s)
        cols.append(table)
        recos.append(reco)
        ys.append(np.full(len(reco), label))
        ws.append(np.full(len(reco), weight))
        totals[process] = weight * n
    X = np.column_stack([np.concatenate([c[k] for c in cols]) for k in ZH_FEATURES])
    X = np.nan_to_num(X, nan=0.0)
    return ZHTable(AnalysisData(X, np.concatenate(ys), np.concatenate(ws), list(ZH_FEATURES)),
                   ak.concatenate(recos), totals)


def event_objects(reco: ak.Array, *, max_objects: int = 16) -> ak.Array:
    """(events, <= max_objects) records type, pt, eta, phi, e, mass, charge in the hepilot-events/1 layout."""
    from hepilot.models.events.event_objects import OBJECT_TYPES

    apid = abs(reco.pid)
    kind = ak.where(apid == 22, OBJECT_TYPES.index("photon"),
                    ak.where(apid == 11, OBJECT_TYPES.index("electron"),
                             ak.where(apid == 13, OBJECT_TYPES.index("muon"), OBJECT_TYPES.index("jet"))))
    pt = physics.pt(reco.px, reco.py)
    obj = ak.zip({"type": kind, "pt": pt, "eta": physics.eta(reco.px, reco.py, reco.pz),
                  "phi": physics.phi(reco.px, reco.py), "e": reco.e,
                  "mass": physics.mass(reco.e, reco.px, reco.py, reco.pz), "charge": reco.charge})
    return obj[ak.argsort(obj.pt, axis=1, ascending=False)][:, :max_objects]
