"""FeynmanPINN: physics-informed networks that learn the eps-expansion of Feynman master integrals.

Paper: F. Calisto, R. Moodie, S. Zoia, "Learning Feynman integrals from differential equations with
neural networks", arXiv:2312.02067, JHEP 07 (2024) 124. As there: the inputs are the kinematic
variables, the outputs are the eps-expansion coefficients of all master integrals at once, the
networks are fully connected with GELU activations, the loss is the DE residual on collocation
points sampled in the domain plus a boundary term, and the real and imaginary parts are learned
by two separate networks (the DE matrices are real, so the parts decouple).

Loss, for a canonical system d f^(k)/dx_i = A_i f^(k-1) (see system.py), with every coefficient
divided by its scale s_ik = max(1, |boundary value|) so all orders weigh alike:

    L = mean_{points, i, masters, k} [(d_i f^(k) - A_i f^(k-1)) / s]^2
        + w_bc * mean_{boundary points, masters, k} [(f^(k) - f_b^(k)) / s]^2

Changes for a CPU: float64 throughout; the network returns its input derivatives by forward
tangent propagation (network.py) instead of per-output autograd; training is Adam on fresh random
collocation points followed by L-BFGS (strong Wolfe) on a fixed scrambled-Sobol set; small
networks on one thread. Addition (not in the paper): because the DE is linear, the loss is an
exact quadratic in the weights of the linear output layer, so after L-BFGS the output layer is
set to the least-squares minimiser for the learned hidden features (the hybrid least-squares /
gradient-descent idea of Cyr et al., arXiv:1912.04862). L-BFGS stalls at a loss ~1e-7 (box
MMRD ~1e-4); the exact solve, a few seconds, brings the loss to ~1e-16 and the MMRD to ~1e-10 on
points never used in training. `solve_head=False` gives the paper's training alone.
The paper's exact widths, learning-rate schedule and epoch counts are not in the text available
to us, so the presets are our choices (its released one-loop box checkpoint is about 9 kB, i.e.
a small network too).
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from hepilot.models.theory.pinn.network import GeluMLP
from hepilot.models.theory.pinn.system import CanonicalDE

__all__ = ["PINNConfig", "FeynmanPINN", "PRESETS"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PINNConfig:
    """Training configuration; `PINNConfig.preset(name)` gives the named sizes (defaults = "cpu")."""

    hidden: tuple[int, ...] = (32, 32, 32)
    adam_steps: int = 1000
    adam_lr: float = 1e-3
    batch_size: int = 512  # fresh collocation points per Adam step
    lbfgs_steps: int = 500
    n_collocation: int = 1024  # fixed scrambled-Sobol points for L-BFGS and the output-layer solve
    history_size: int = 100
    boundary_weight: float = 1.0
    sampling: str = "uniform"  # collocation density per variable: "uniform" or "chebyshev" (arcsine)
    solve_head: bool = True  # finish with the exact least-squares output layer (not in the paper)
    threads: int = 1

    def __post_init__(self) -> None:
        if self.sampling not in _SAMPLERS:
            raise ValueError(f"sampling must be one of {sorted(_SAMPLERS)}, got {self.sampling!r}")

    @classmethod
    def preset(cls, name: str, **overrides) -> PINNConfig:
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


_SAMPLERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "uniform": lambda u: u,
    # arcsine (Chebyshev) density, denser towards the domain edges; uniform measured better on the box
    "chebyshev": lambda u: 0.5 * (1.0 - torch.cos(torch.pi * u)),
}

_MAX_LSTSQ_ENTRIES = 40_000_000  # float64 entries of the least-squares matrix (320 MB)

PRESETS: dict[str, PINNConfig] = {
    "ci": PINNConfig(hidden=(16, 16), adam_steps=400, batch_size=256, lbfgs_steps=100, n_collocation=256),
    "cpu": PINNConfig(),
    # the paper's recipe alone (Adam then L-BFGS, no output-layer solve), longer and wider
    "paper": PINNConfig(hidden=(64, 64, 64), adam_steps=10000, lbfgs_steps=10000, solve_head=False),
}


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class _Problem:
    """Tensors of one training problem (one part: real or imaginary)."""

    system: CanonicalDE
    domain: np.ndarray  # (d, 2)
    scale: torch.Tensor  # (n, K+1)
    bc_points: torch.Tensor  # (B, d)
    bc_values: torch.Tensor  # (B, n, K+1)
    history: list = field(default_factory=list)


class FeynmanPINN:
    """Learn f^(k)(x) of a canonical DE system (sklearn-style: fit, predict, residual).

    Fitted attributes: networks_ ({"re": net, "im": net}), scale_, train_seconds_ ({part: s}),
    history_ (loss records), final_loss_ ({part: loss}).
    """

    def __init__(self, *, config: PINNConfig | None = None, seed: int = 0):
        self.config = config
        self.seed = seed

    # ---------------------------------------------------------------- training
    def fit(self, system: CanonicalDE, domain: Sequence[tuple[float, float]], *,
            callback: Callable[[int], None] | None = None) -> FeynmanPINN:
        """Train one network per part (real, and imaginary if any boundary value is complex)."""
        cfg = self.config or PINNConfig()
        dom = np.asarray(domain, dtype=float).reshape(-1, 2)
        if dom.shape[0] != system.n_vars or np.any(dom[:, 1] <= dom[:, 0]):
            raise ValueError(f"domain needs one (low, high) pair with low < high for each of {system.variables}")
        pts = np.array([b.point for b in system.boundary])
        if np.any(pts < dom[:, 0]) or np.any(pts > dom[:, 1]):
            raise ValueError("every boundary point must lie inside the domain")
        values = np.stack([b.values for b in system.boundary])  # (B, n, K+1)
        scale = np.maximum(1.0, np.abs(values).max(axis=0))
        self.system_, self.domain_ = system, dom
        self.scale_ = torch.tensor(scale)
        self.parts_ = ("re", "im") if system.is_complex else ("re",)
        self.networks_, self.train_seconds_, self.final_loss_, self.history_ = {}, {}, {}, []
        with _torch_threads(cfg.threads):
            for n_part, part in enumerate(self.parts_):
                torch.manual_seed(self.seed + 7919 * n_part)
                target = values.real if part == "re" else values.imag
                prob = _Problem(system, dom, self.scale_, torch.tensor(pts), torch.tensor(target))
                net = GeluMLP(system.n_vars, system.n_masters * system.n_orders, cfg.hidden, dom.tolist())
                t0 = time.perf_counter()
                self.final_loss_[part] = self._train(net, prob, cfg, part, callback)
                self.train_seconds_[part] = time.perf_counter() - t0
                self.networks_[part] = net.eval()
                self.history_.extend(prob.history)
                log.info("PINN %s part: loss %.3g after %.1f s", part, self.final_loss_[part],
                         self.train_seconds_[part])
        return self

    @staticmethod
    def _residual_terms(prob: _Problem, f: torch.Tensor, df: torch.Tensor, fb: torch.Tensor, a: torch.Tensor,
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled DE residual (N, d, n, K+1) and boundary mismatch (B, n, K+1) from network outputs."""
        sys_, scale = prob.system, prob.scale
        n, k1 = sys_.n_masters, sys_.n_orders
        f = f.view(-1, n, k1)  # (N, n, K+1), scaled units
        df = df.view(-1, sys_.n_vars, n, k1)  # (N, d, n, K+1)
        # A_i f^(k-1) in physical units, then back to scaled units of order k
        af = torch.einsum("ndab,nbk->ndak", a, f[:, :, :-1] * scale[:, :-1]) / scale[:, 1:]
        res = torch.cat([df[..., :1], df[..., 1:] - af], dim=-1)
        return res, fb.view(-1, n, k1) - prob.bc_values / scale

    def _loss(self, net: GeluMLP, prob: _Problem, x: torch.Tensor, a: torch.Tensor, w_bc: float) -> torch.Tensor:
        f, jac = net(x)
        fb, _ = net(prob.bc_points)
        res, bc = self._residual_terms(prob, f, jac, fb, a)
        return res.pow(2).mean() + w_bc * bc.pow(2).mean()

    def _solve_head(self, net: GeluMLP, prob: _Problem, x: torch.Tensor, a: torch.Tensor, w_bc: float) -> float:
        """Set the output layer to the exact least-squares minimiser of the loss for the current
        hidden features (the loss is quadratic in it); returns the new loss, or keeps the old
        layer if the solve does not improve it."""
        head = net.head
        n_out, width = head.weight.shape
        per_point = prob.system.n_vars * n_out
        keep = min(len(x), _MAX_LSTSQ_ENTRIES // (per_point * n_out * (width + 1)))
        if keep * per_point < 2 * n_out * (width + 1):
            log.warning("output-layer least squares skipped: %d unknowns are too many for the memory cap",
                        n_out * (width + 1))
            return float(self._loss(net, prob, x, a, w_bc))
        x, a = x[:keep], a[:keep]
        with torch.no_grad():
            h, dh = net.features(x)
            hb, _ = net.features(prob.bc_points)
            old = (head.weight.clone(), head.bias.clone())

            def residual(theta: torch.Tensor) -> torch.Tensor:
                w, b = theta[: n_out * width].view(n_out, width), theta[n_out * width:]
                res, bc = self._residual_terms(prob, h @ w.T + b, dh @ w.T, hb @ w.T + b, a)
                return torch.cat([res.reshape(-1) / res.numel() ** 0.5,
                                  bc.reshape(-1) * (w_bc / bc.numel()) ** 0.5])

            zero = torch.zeros(n_out * (width + 1), dtype=torch.float64)
            r0 = residual(zero)
            jac = torch.func.jacfwd(residual)(zero)  # exact: the residual is affine in theta
            theta = torch.linalg.lstsq(jac, -r0.unsqueeze(1), driver="gelsd").solution.squeeze(1)
            before = float(self._loss(net, prob, x, a, w_bc))
            head.weight.copy_(theta[: n_out * width].view(n_out, width))
            head.bias.copy_(theta[n_out * width:])
            after = float(self._loss(net, prob, x, a, w_bc))
            if not after < before:
                head.weight.copy_(old[0])
                head.bias.copy_(old[1])
            return min(before, after)

    def _matrices(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.system_.matrix_values(x.numpy()))

    def _train(self, net: GeluMLP, prob: _Problem, cfg: PINNConfig, part: str,
               callback: Callable[[int], None] | None) -> float:
        lo, hi = torch.tensor(prob.domain[:, 0]), torch.tensor(prob.domain[:, 1])
        sample = _SAMPLERS[cfg.sampling]
        gen = torch.Generator().manual_seed(self.seed)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.adam_lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(cfg.adam_steps, 1), eta_min=cfg.adam_lr / 100)
        loss = torch.tensor(float("nan"))
        for step in range(cfg.adam_steps):
            u = torch.rand(cfg.batch_size, len(lo), generator=gen, dtype=torch.float64)
            x = lo + (hi - lo) * sample(u)
            opt.zero_grad()
            loss = self._loss(net, prob, x, self._matrices(x), cfg.boundary_weight)
            loss.backward()
            opt.step()
            sched.step()
            if step % 100 == 0 or step == cfg.adam_steps - 1:
                prob.history.append({"part": part, "phase": "adam", "step": step, "loss": loss.item()})
            if callback:
                callback(1)
        sobol = torch.quasirandom.SobolEngine(len(lo), scramble=True, seed=self.seed)
        xc = lo + (hi - lo) * sample(sobol.draw(cfg.n_collocation, dtype=torch.float64))
        ac = self._matrices(xc)
        lbfgs = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=100, history_size=cfg.history_size,
                                  tolerance_grad=1e-15, tolerance_change=1e-18, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            lbfgs.zero_grad()
            value = self._loss(net, prob, xc, ac, cfg.boundary_weight)
            value.backward()
            return value

        state = lbfgs.state[next(iter(net.parameters()))]
        done = 0
        while done < cfg.lbfgs_steps:
            chunk = min(100, cfg.lbfgs_steps - done)
            lbfgs.param_groups[0].update(max_iter=chunk, max_eval=2 * chunk)
            before = state.get("n_iter", 0)
            lbfgs.step(closure)
            advanced = state.get("n_iter", 0) - before
            done += advanced
            loss = closure().detach()
            prob.history.append({"part": part, "phase": "lbfgs", "step": done, "loss": float(loss)})
            if not torch.isfinite(loss):
                raise FloatingPointError(f"L-BFGS diverged ({part} part); try more Adam steps or another seed")
            if callback:
                callback(advanced)
            if advanced == 0:  # converged to machine precision or stalled: nothing more to gain
                break
        if callback and done < cfg.lbfgs_steps:
            callback(cfg.lbfgs_steps - done)
        if cfg.solve_head:
            loss = torch.tensor(self._solve_head(net, prob, xc, ac, cfg.boundary_weight))
            prob.history.append({"part": part, "phase": "head_lstsq", "step": done, "loss": float(loss)})
        return float(loss.detach())

    # ---------------------------------------------------------------- inference
    def _threads(self) -> int:
        return (self.config or PINNConfig()).threads

    def _check_fitted(self) -> None:
        if not hasattr(self, "networks_"):
            raise RuntimeError("FeynmanPINN is not fitted yet; call fit(system, domain) first")

    def _evaluate(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        x = torch.as_tensor(np.atleast_2d(np.asarray(points, dtype=float)).reshape(-1, self.system_.n_vars))
        n, k1, d = self.system_.n_masters, self.system_.n_orders, self.system_.n_vars
        f = np.zeros((len(x), n, k1), dtype=complex)
        df = np.zeros((len(x), d, n, k1), dtype=complex)
        for part, net in self.networks_.items():
            with torch.no_grad(), _torch_threads(self._threads()):
                v, j = net(x)
            unit = 1.0 if part == "re" else 1j
            f += unit * (v.view(-1, n, k1) * self.scale_).numpy()
            df += unit * (j.view(-1, d, n, k1) * self.scale_).numpy()
        return f, df

    def predict(self, points: np.ndarray) -> np.ndarray:
        """Coefficients f^(k) at the points: (N, d) -> (N, n_masters, K+1) complex."""
        self._check_fitted()
        x = torch.as_tensor(np.atleast_2d(np.asarray(points, dtype=float)).reshape(-1, self.system_.n_vars))
        out = np.zeros((len(x), self.system_.n_masters, self.system_.n_orders), dtype=complex)
        with torch.no_grad(), _torch_threads(self._threads()):
            for part, net in self.networks_.items():
                values = net.values(x).view(len(x), *out.shape[1:]) * self.scale_
                out += (1.0 if part == "re" else 1j) * values.numpy()
        return out

    def residual(self, points: np.ndarray) -> np.ndarray:
        """DE residual d_i f^(k) - A_i f^(k-1) (d_i f^(0) at k=0): (N, d, n_masters, K+1) complex."""
        f, df = self._evaluate(points)
        a = self.system_.matrix_values(np.atleast_2d(points).reshape(len(f), -1))
        af = np.einsum("ndab,nbk->ndak", a, f[:, :, :-1])
        return np.concatenate([df[..., :1], df[..., 1:] - af], axis=-1)

    def boundary_error(self) -> float:
        """Largest |f_NN - f_b| over boundary points, masters and orders."""
        pts = np.array([b.point for b in self.system_.boundary])
        want = np.stack([b.values for b in self.system_.boundary])
        return float(np.max(np.abs(self.predict(pts) - want)))
