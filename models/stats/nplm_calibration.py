"""Calibration of NPLM's test statistic: null toys, the chi^2(dof) check, p-values and clipping tuning.

NPLM's t (hepilot.models.stats.nplm) has no known distribution for a given network, clipping and
training budget. Following arXiv:1806.02350 / NPLM_package, the distribution under the reference
hypothesis is measured with toys (data sets drawn from the reference) and compared with
chi^2(dof = number of trainable parameters) by a Kolmogorov-Smirnov test. Then

    chi^2 verified (KS p >= alpha_ks on >= min_toys toys):  p = P_chi2(dof)(t > t_obs)  (reaches large Z)
    otherwise, toys available:  p = (1 + #{t_null >= t_obs}) / (1 + n_toys)          (empirical,
                                a lower bound on Z when t_obs exceeds every toy)
    no toys:                    no p-value and no Z (the setup is uncalibrated).
Z = Phi^{-1}(1 - p). The weight clipping is tuned by running toys on a grid of clipping values and
keeping the one whose null distribution is closest to chi^2(dof) (smallest KS distance), among
those whose largest toy passes the tail test. The tail test matters: a clipping that is too large
lets f resolve single data events where the reference has none, so a rare null toy gets a huge t
that the KS test (insensitive to the extreme tail) does not notice, and chi^2 would turn it into a
false discovery.

Toys from a finite reference sample (`resampled_toys`): each toy shuffles the pool, takes
Poisson(N_D) events as data and N_pool - n_cap of the others as its reference (disjoint, so the toy
data are not in their own reference), n_cap = N_D + 6 sqrt(N_D) + 10; the reference weight is
N_D / (N_pool - n_cap) instead of N_D / N_pool, a negligible change for N_pool >> N_D.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from hepilot.models.stats.nplm import NPLMConfig, fit_nplm_batch, n_trainable_parameters

__all__ = [
    "NPLMCalibration",
    "PValue",
    "resampled_toys",
    "run_null_toys",
    "calibrate_from_reference",
    "tune_weight_clipping",
    "calibration_key",
    "data_cap",
    "z_from_p",
]

log = logging.getLogger(__name__)
ToyMaker = Callable[[int, np.random.Generator], tuple[list[np.ndarray], list[np.ndarray]]]
_TOYS_PER_CALL = 16  # bounds the memory of per-toy reference copies


def z_from_p(p: float) -> float:
    """One-sided significance Z = Phi^{-1}(1 - p)."""
    return float(sps.norm.isf(min(max(p, 1e-300), 1.0)))


@dataclass(frozen=True)
class PValue:
    """A calibrated p-value: p, Z, how it was obtained, and whether Z is only a lower bound."""

    p: float
    z: float
    method: str          # "chi2" or "empirical"
    lower_bound: bool    # t_obs beyond every toy: Z >= z


@dataclass
class NPLMCalibration:
    """The null distribution of t for one configuration and the verdict on its chi^2(dof) shape."""

    t_null: np.ndarray
    dof: int
    key: str = ""
    alpha_ks: float = 0.01
    min_toys: int = 50
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_toys(self) -> int:
        return len(self.t_null)

    @property
    def ks_pvalue(self) -> float:
        """KS p-value of the toys against chi^2(dof) (nan without toys)."""
        if self.n_toys == 0:
            return float("nan")
        return float(sps.kstest(self.t_null, sps.chi2(self.dof).cdf).pvalue)

    @property
    def tail_pvalue(self) -> float:
        """P(the largest of n chi^2(dof) draws >= the largest toy): small when a toy sits far in the tail."""
        if self.n_toys == 0:
            return float("nan")
        return _max_tail_pvalue(self.t_null, self.dof)

    @property
    def chi2_verified(self) -> bool:
        """Enough toys, no significant departure from chi^2(dof) in shape (KS) or in the tail."""
        return (self.n_toys >= self.min_toys and self.ks_pvalue >= self.alpha_ks
                and self.tail_pvalue >= self.alpha_ks)

    @property
    def calibrated(self) -> bool:
        return self.n_toys >= self.min_toys

    def p_value(self, t_obs: float) -> PValue | None:
        """Calibrated p-value of an observed t, or None when the setup is not calibrated."""
        if self.chi2_verified:
            p = float(sps.chi2(self.dof).sf(t_obs))
            return PValue(p=p, z=z_from_p(p), method="chi2", lower_bound=False)
        if not self.calibrated:
            return None
        exceed = int((self.t_null >= t_obs).sum())
        p = (1 + exceed) / (1 + self.n_toys)
        return PValue(p=p, z=z_from_p(p), method="empirical", lower_bound=exceed == 0)

    def summary(self) -> dict[str, Any]:
        t = self.t_null
        return {"n_toys": self.n_toys, "dof": self.dof, "ks_pvalue": self.ks_pvalue, "tail_pvalue": self.tail_pvalue,
                "max_t": float(t.max()) if len(t) else float("nan"),
                "chi2_verified": self.chi2_verified, "calibrated": self.calibrated,
                "mean_t": float(t.mean()) if len(t) else float("nan"),
                "median_t": float(np.median(t)) if len(t) else float("nan"),
                "chi2_median": float(sps.chi2(self.dof).median()), "alpha_ks": self.alpha_ks,
                "min_toys": self.min_toys, "key": self.key, **self.meta}

    def save(self, path: str | Path) -> Path:
        """Write the toys and settings as .npz (atomically: a temporary file renamed)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, t_null=self.t_null, dof=self.dof, key=self.key, alpha_ks=self.alpha_ks,
                 min_toys=self.min_toys, meta=json.dumps(self.meta))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> NPLMCalibration:
        with np.load(path, allow_pickle=False) as z:
            return cls(t_null=z["t_null"], dof=int(z["dof"]), key=str(z["key"]), alpha_ks=float(z["alpha_ks"]),
                       min_toys=int(z["min_toys"]), meta=json.loads(str(z["meta"])))


def _max_tail_pvalue(t: np.ndarray, dof: int) -> float:
    """1 - F(t_max)^n with F the chi^2(dof) CDF, computed from the survival function for precision."""
    return float(-np.expm1(len(t) * np.log1p(-sps.chi2(dof).sf(np.max(t)))))


def calibration_key(config: NPLMConfig, *, n_expected: float, reference_digest: str, n_toys: int,
                    seed: int) -> str:
    """Content key of a calibration: the settings that change t plus the reference sample."""
    blob = json.dumps({"cfg": config.key(), "n_exp": round(float(n_expected), 6), "ref": reference_digest,
                       "toys": n_toys, "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def data_cap(n_expected: float) -> int:
    """Most data events a resampled toy may take: N_D + 6 sqrt(N_D) + 10 (Poisson tail ~1e-9)."""
    return int(np.ceil(n_expected + 6 * np.sqrt(n_expected) + 10))


def resampled_toys(pool: np.ndarray, *, n_expected: float) -> ToyMaker:
    """Toy maker drawing disjoint (reference, Poisson data) pairs from one reference pool."""
    n_cap = data_cap(n_expected)
    n_ref = len(pool) - n_cap
    if n_ref < 2 * n_cap:
        raise ValueError(f"the reference sample ({len(pool)} events) must be much larger than the expected "
                         f"data yield ({n_expected:g}); give at least {3 * n_cap} reference events")

    def make(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
        refs, datas = [], []
        for _ in range(n):
            order = rng.permutation(len(pool))
            n_data = min(int(rng.poisson(n_expected)), n_cap)
            datas.append(pool[order[:n_data]])
            refs.append(pool[order[n_cap:]])
        return refs, datas

    return make


def _batches(n_toys: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n_toys, _TOYS_PER_CALL):
        yield start, min(_TOYS_PER_CALL, n_toys - start)


def run_null_toys(make_toys: ToyMaker, *, n_toys: int, n_expected: float, config: NPLMConfig, seed: int = 0,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """t for n_toys toys from `make_toys(n, rng) -> (references, data sets)` (preprocessed arrays)."""
    rng = np.random.default_rng(seed)
    out = []
    for start, n in _batches(n_toys):
        refs, datas = make_toys(n, rng)
        fit = fit_nplm_batch(refs[0], datas, n_expected=n_expected, config=config, seed=seed + start,
                             ref_per_toy=refs)
        out.append(fit.t)
        if progress is not None:
            progress(n)
    return np.concatenate(out) if out else np.zeros(0)


def calibrate_from_reference(pool: np.ndarray, *, n_expected: float, config: NPLMConfig, n_toys: int,
                             seed: int = 0, key: str = "", min_toys: int = 50, alpha_ks: float = 0.01,
                             progress: Callable[[int], None] | None = None) -> NPLMCalibration:
    """Null toys resampled from a (preprocessed) reference pool -> NPLMCalibration."""
    t = run_null_toys(resampled_toys(pool, n_expected=n_expected), n_toys=n_toys, n_expected=n_expected,
                      config=config, seed=seed, progress=progress)
    cal = NPLMCalibration(t_null=t, dof=n_trainable_parameters(pool.shape[1], config.hidden), key=key,
                          alpha_ks=alpha_ks, min_toys=min_toys,
                          meta={"weight_clipping": config.weight_clipping, "n_expected": n_expected})
    log.info("NPLM calibration: %d toys, mean t %.2f (dof %d), KS p %.3g", cal.n_toys,
             t.mean() if len(t) else float("nan"), cal.dof, cal.ks_pvalue)
    return cal


def tune_weight_clipping(make_toys: ToyMaker, *, grid: list[float], n_toys: int, n_expected: float,
                         config: NPLMConfig, dof: int, seed: int = 0,
                         progress: Callable[[int], None] | None = None) -> tuple[float, dict[float, dict]]:
    """Run null toys for each clipping value of `grid`; return the one closest to chi^2(dof) (KS
    distance) among those passing the tail test (all values if none does) and, per value, the KS
    distance, KS p-value, tail p-value and mean t."""
    scan: dict[float, dict] = {}
    for c in grid:
        t = run_null_toys(make_toys, n_toys=n_toys, n_expected=n_expected,
                          config=replace(config, weight_clipping=float(c)), seed=seed, progress=progress)
        ks = sps.kstest(t, sps.chi2(dof).cdf)
        scan[float(c)] = {"ks_distance": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
                          "tail_pvalue": _max_tail_pvalue(t, dof), "mean_t": float(t.mean()), "t_null": t.tolist()}
        log.info("clipping %.3g: mean t %.2f (dof %d), KS p %.3g, tail p %.3g", c, t.mean(), dof, ks.pvalue,
                 scan[float(c)]["tail_pvalue"])
    tail_ok = [c for c in scan if scan[c]["tail_pvalue"] >= 0.01] or list(scan)
    best = min(tail_ok, key=lambda c: scan[c]["ks_distance"])
    return best, scan
