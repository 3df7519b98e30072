"""Generator-level event samples of the design objectives: generated once, cached on disk, reused by every trial.

Each kind of data is a fixed Pythia 8 recipe stored before any detector response, so a trial only
re-applies the detector (kinds and their formats):
    zh_gamgam      e+e- -> ZH, H -> gamma gamma, Z -> q qbar at 240 GeV   ("hepilot-truth/1", ee_higgs)
    zh_mumu        e+e- -> ZH, Z -> mu+ mu- at 240 GeV                    ("hepilot-truth/1")
    zh_nunu_gg     e+e- -> ZH, Z -> nu nubar, H -> g g at 240 GeV, no ISR  ("hepilot-truth/1"; card validation)
    jets_top_qcd   14 TeV top and QCD jets, R = 0.8, 550-650 GeV, truth    ("hepilot-jets/1", generation)
`prepare_pp_jets(pt)` adds 13 TeV QCD jets (R = 0.4) around one pT for jet-resolution checks.
The cache folder is <cache>/design/samples/<kind>/<hash of the generator settings>/; a sample is
written into a staging folder and renamed when complete, so a killed generation leaves nothing
that a later run could mistake for a finished sample.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from hepilot.models.events.ee_higgs import EEConfig, generate_ee_sample
from hepilot.models.events.generation import JetGenConfig, generate_jet_sample

__all__ = ["DATA_KINDS", "data_config", "prepare_data", "prepare_pp_jets", "prepare_zh_analysis"]

log = logging.getLogger(__name__)

DATA_KINDS = ("zh_gamgam", "zh_mumu", "jets_top_qcd")
_FILES = {"zh_gamgam": "truth.root", "zh_mumu": "truth.root", "zgam_qq": "truth.root", "zh_nunu_gg": "truth.root",
          "jets_top_qcd": "jets.root"}


def data_config(kind: str, *, n_events: int, n_jets: int, seed: int) -> EEConfig | JetGenConfig:
    """The generator settings of one data kind."""
    if kind in ("zh_gamgam", "zh_mumu", "zh_nunu_gg"):
        return EEConfig(processes=(kind,), n_events=n_events, sqrt_s=240.0, seed=seed)
    if kind == "jets_top_qcd":
        return JetGenConfig(processes=("top", "qcd"), n_jets=n_jets, detector="none", seed=seed)
    raise ValueError(f"unknown data kind {kind!r}; known: {', '.join(DATA_KINDS)}, zh_nunu_gg")


def _key(cfg) -> str:
    blob = json.dumps({"type": type(cfg).__name__, **asdict(cfg)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cached(kind: str, cfg, cache_dir: Path, map_fn, on_chunk) -> str:
    final = Path(cache_dir) / "design" / "samples" / kind / _key(cfg)
    target = final / _FILES.get(kind, "jets.root")
    if not target.is_file():
        staging = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.partial"
        staging.mkdir(parents=True)
        try:
            log.info("generating %s (%s) into %s", kind, cfg, final)
            if isinstance(cfg, EEConfig):
                generate_ee_sample(cfg, staging / target.name, map_fn=map_fn, on_chunk=on_chunk)
            else:
                generate_jet_sample(cfg, staging / target.name, map_fn=map_fn, on_chunk=on_chunk)
            if final.exists():
                shutil.rmtree(final)
            staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def prepare_data(kinds: Iterable[str], *, n_events: int, n_jets: int, seed: int, cache_dir: Path,
                 map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                 on_chunk: Callable[[int], None] | None = None) -> dict[str, str]:
    """Paths of the cached samples of `kinds`, generating the missing ones (chunks through `map_fn`)."""
    return {kind: _cached(kind, data_config(kind, n_events=n_events, n_jets=n_jets, seed=seed), cache_dir, map_fn,
                          on_chunk) for kind in sorted(set(kinds))}


def prepare_pp_jets(pt: float, *, n_jets: int, seed: int, cache_dir: Path,
                    map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                    on_chunk: Callable[[int], None] | None = None) -> str:
    """Generator-level 13 TeV QCD jets (anti-kT R = 0.4, |eta| < 1.3) with pT within 10% of `pt` GeV."""
    cfg = JetGenConfig(processes=("qcd",), n_jets=n_jets, sqrt_s=13000.0, pt_min=0.9 * pt, pt_max=1.1 * pt,
                       eta_max=1.3, jet_r=0.4, max_constituents=1000, truth_match=False, detector="none", seed=seed)
    return _cached(f"jets_qcd_{pt:g}", cfg, cache_dir, map_fn, on_chunk)


def prepare_zh_analysis(*, n_signal: int, n_background: int, seed: int, cache_dir: Path,
                        map_fn: Callable[[Callable, Iterable], Iterable] | None = None,
                        on_chunk: Callable[[int], None] | None = None) -> tuple[str, str]:
    """(signal, background) truth samples of the worked ZH -> gamma gamma analysis (zh_example)."""
    from dataclasses import replace

    from hepilot.models.design.zh_example import BACKGROUND_CONFIG, SIGNAL_CONFIG

    sig = _cached("zh_gamgam", replace(SIGNAL_CONFIG, n_events=n_signal, seed=seed), cache_dir, map_fn, on_chunk)
    bkg = _cached("zgam_qq", replace(BACKGROUND_CONFIG, n_events=n_background, seed=seed), cache_dir, map_fn,
                  on_chunk)
    return sig, bkg
