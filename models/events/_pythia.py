"""Pythia 8 access shared by the event generators: a configured and checked instance, final-state particles."""
from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = ["new_pythia", "final_state"]


def new_pythia(lines: list[str]):
    """An initialised pythia8mc.Pythia; a rejected setting raises ValueError naming it."""
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in lines:
        if not pythia.readString(line):
            raise ValueError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia initialisation failed (see the settings in the manifest)")
    return pythia


def final_state(prt: ak.Array, pythia, cache: dict[int, float]) -> ak.Array:
    """Final-state particles (status > 0) of a nextBatch record as records px, py, pz, e, pid, charge.

    Pythia's batch record has no charge field: charges come from its particle data, looked up
    once per PDG id (`cache` is kept by the caller across batches).
    """
    fs = prt[prt.status > 0]
    pids = ak.to_numpy(ak.flatten(fs.id))
    charge = np.empty(len(pids), dtype=np.float64)
    for u in np.unique(pids):
        key = int(u)
        if key not in cache:
            cache[key] = float(pythia.particleData.charge(key))
        charge[pids == u] = cache[key]
    return ak.zip({"px": fs.p.px, "py": fs.p.py, "pz": fs.p.pz, "e": fs.p.e, "pid": fs.id,
                   "charge": ak.unflatten(charge, ak.num(fs.id))})
