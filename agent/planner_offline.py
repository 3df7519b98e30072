"""The offline planner (default, no network, deterministic): goal -> intents -> filled tool chain.

1. Refuse unsafe or out-of-scope goals outright (patterns in agent/prompts.py).
2. Rank intents by MiniLM cosine similarity between the goal (and each of its clauses) and the
   intents' example phrasings (embedded once per process), plus a bonus for stated keywords.
3. Keep the best intent for the whole goal and the best intent of every clause above the
   threshold; drop intents whose tool chain is contained in another's; chain the rest in the
   order the goal mentions them, merging identical steps (so "generate ... and train a BDT ...
   and plot the mass" becomes generate -> features -> BDT -> plot with one generation).
4. Fill slots from the text (agent/slots.py); in a conversation, unstated slots take the values
   of the previous turn before the defaults, so follow-ups reuse earlier results (the tool cache
   returns them instead of recomputing).
Below the threshold the answer is "cannot plan this" with the closest capabilities.
"""
from __future__ import annotations

import functools
import logging
import os
import re
from typing import Any

import numpy as np

from hepilot.agent import prompts
from hepilot.agent.intents import Intent, load_intents
from hepilot.agent.plan import Plan, PlanStep
from hepilot.agent.slots import extract_slot

__all__ = ["OfflinePlanner", "split_clauses", "default_planner"]

log = logging.getLogger(__name__)

_KEYWORD_BONUS = 0.08
_CLAUSE_THRESHOLD = 0.5  # a clause must match an intent at least this well to chain it
_CLAUSE_MARGIN = 0.05  # ... and better than every intent already chosen
_CLAUSE_SPLIT = re.compile(r";|\.\s+|,?\s+and then\s+|,?\s+then\s+|,\s+and\s+|\s+and\s+(?=(?:also\s+)?(?:train|plot|"
                           r"compare|run|fit|make|draw|histogram|test|check|report|compute|generate|find|search|"
                           r"look|write|solve|optimi[sz]e|show|rediscover|estimate|use)\b)", re.I)


def split_clauses(goal: str) -> list[str]:
    """Split a goal into the requests it chains ("generate X and train Y; plot Z")."""
    return [c.strip() for c in _CLAUSE_SPLIT.split(goal) if c and len(c.strip().split()) >= 2]


@functools.cache
def _embedder():
    """The shipped MiniLM sentence embedder, or None when the knowledge extra is not installed."""
    try:
        from hepilot.knowledge.embeddings import embed
    except ImportError:
        log.warning("sentence embeddings unavailable (install hepilot[knowledge]); planning by word overlap")
        return None
    return embed


def _lexical_vectors(texts: list[str], vocab: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(texts), len(vocab)))
    for i, t in enumerate(texts):
        for w in re.findall(r"[a-z0-9+\-]+", t.lower()):
            if w in vocab:
                out[i, vocab[w]] += 1
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norm, 1e-12)


def _cached_vectors(texts: list[str], embed) -> np.ndarray:
    """Embeddings of the intent phrasings, cached on disk by content (start-up of every CLI call)."""
    import hashlib

    from hepilot.settings import get_settings

    digest = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]
    path = get_settings().cache_dir / "planner" / f"intents-{digest}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return vectors
    vectors = embed(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


@functools.cache
def default_planner() -> OfflinePlanner:
    """One planner per process (its phrasing embeddings are computed once)."""
    return OfflinePlanner()


class OfflinePlanner:
    """Deterministic planner over the intent catalogue."""

    name = "offline"

    def __init__(self, intents: tuple[Intent, ...] | None = None, *, threshold: float | None = None):
        from hepilot.settings import get_settings

        self.intents = intents if intents is not None else load_intents()
        self.threshold = threshold if threshold is not None else get_settings().plan_threshold
        self._owner: list[int] = []
        texts: list[str] = []
        for i, intent in enumerate(self.intents):
            for ex in [intent.description, *intent.examples]:
                texts.append(ex)
                self._owner.append(i)
        self._owner_arr = np.array(self._owner)
        self._embed = _embedder()
        if self._embed is not None:
            self._vectors = _cached_vectors(texts, self._embed)
        else:
            words = sorted({w for t in texts for w in re.findall(r"[a-z0-9+\-]+", t.lower())})
            self._vocab = {w: i for i, w in enumerate(words)}
            self._vectors = _lexical_vectors(texts, self._vocab)

    def _vec(self, texts: list[str]) -> np.ndarray:
        if self._embed is not None:
            return self._embed(texts)
        return _lexical_vectors(texts, self._vocab)

    def rank(self, text: str) -> list[tuple[Intent, float]]:
        """Intents by similarity to `text`, best first (max over each intent's phrasings + keyword bonus)."""
        sims = self._vectors @ self._vec([text])[0]
        best = np.full(len(self.intents), -1.0)
        np.maximum.at(best, self._owner_arr, sims)
        low = text.lower()
        for i, intent in enumerate(self.intents):
            if any(k.lower() in low for k in intent.keywords):
                best[i] += _KEYWORD_BONUS
        order = np.argsort(-best)
        return [(self.intents[i], float(best[i])) for i in order]

    def plan(self, goal: str, *, memory: dict[str, Any] | None = None) -> Plan:
        """A Plan for `goal`; refused/cannot-plan answers come back as Plan(refused=True, answer=...)."""
        reason = prompts.refusal_reason(goal)
        if reason:
            return Plan(refused=True, answer=reason, planner="offline")
        whole = self.rank(goal)
        top, top_score = whole[0]
        if top_score < self.threshold:
            return self._cannot_plan(goal, whole)
        chosen: list[tuple[int, Intent, float]] = [(0, top, top_score)]
        low = goal.lower()
        for clause in split_clauses(goal):
            ranked = self.rank(clause)
            intent, score = ranked[0]
            # a clause adds an intent only if it asks for something the chosen intents do not explain
            explained = max(s for i, s in ranked if any(i.name == c[1].name for c in chosen))
            if score >= max(self.threshold, _CLAUSE_THRESHOLD) and score - explained > _CLAUSE_MARGIN:
                chosen.append((low.find(clause.lower()), intent, score))
        tools_of = {c[1].name: {s.tool for s in c[1].steps} for c in chosen}
        kept = [c for c in chosen if not any(c[1].name != o and tools_of[c[1].name] < tools_of[o]
                                             for o in tools_of)]
        if top.name not in {c[1].name for c in kept}:
            kept.insert(0, (0, top, top_score))
        kept.sort(key=lambda c: (c[0], c[1].name != top.name))
        steps: list[PlanStep] = []
        slots_used: dict[str, Any] = {}
        for _, intent, _ in kept:
            values, problem = self._fill(goal, intent, memory or {})
            if problem:
                return Plan(refused=True, answer=problem, planner="offline", intents=[intent.name])
            slots_used.update({f"{intent.name}.{k}": v for k, v in values.items() if k != "_goal"})
            self._merge(steps, intent, values)
        return Plan(steps=steps, planner="offline", intents=[c[1].name for c in kept],
                    confidence=min(c[2] for c in kept), slots=slots_used,
                    rationale="; ".join(f"{c[1].name} ({c[2]:.2f}): {c[1].description}" for c in kept))

    def _cannot_plan(self, goal: str, ranked: list[tuple[Intent, float]]) -> Plan:
        near = ranked[:3]
        lines = [f"- {i.description} (tools: {', '.join(dict.fromkeys(s.tool for s in i.steps))}; e.g. "
                 f"\"{i.examples[0]}\")" for i, _ in near]
        return Plan(refused=True, planner="offline", confidence=ranked[0][1],
                    answer=prompts.CANNOT_PLAN.format(goal=goal, closest="\n".join(lines)))

    @staticmethod
    def _fill(goal: str, intent: Intent, memory: dict[str, Any]) -> tuple[dict[str, Any], str]:
        values: dict[str, Any] = {}
        for name, spec in intent.slots.items():
            v = extract_slot(goal, spec)
            if v is None and name in memory:
                v = memory[name]
            if isinstance(v, list) and spec.min_items and len(v) < spec.min_items:
                v = v + [f for f in spec.fill if f not in v][: spec.min_items - len(v)]
            if v is None:
                if spec.required:
                    return {}, prompts.MISSING_SLOT.format(slot=name, intent=intent.description,
                                                           what=spec.description or spec.kind)
                v = spec.default
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if spec.min is not None and v < spec.min:
                    return {}, prompts.SLOT_RANGE.format(slot=name, value=v, bound="minimum", limit=spec.min)
                if spec.max is not None and v > spec.max:
                    return {}, prompts.SLOT_RANGE.format(slot=name, value=v, bound="maximum", limit=spec.max)
            if isinstance(v, list) and isinstance(spec.default, list) and spec.kind == "energy_range":
                lo, hi = v
                if lo is not None and hi is not None and lo >= hi:
                    return {}, prompts.EMPTY_RANGE.format(slot=name, lo=lo, hi=hi)
                # an open range ("pT above 800 GeV") keeps the default edge unless that would empty it
                if hi is None:
                    hi = spec.default[1] if lo is None or lo < spec.default[1] else 1.25 * lo
                if lo is None:
                    lo = spec.default[0] if hi > spec.default[0] else 0.8 * hi
                v = [lo, hi]
            values[name] = v
        return values, ""

    @staticmethod
    def _merge(steps: list[PlanStep], intent: Intent, values: dict[str, Any]) -> None:
        """Append an intent's steps; a step identical to an existing one (tool + args) is reused."""
        renamed: dict[str, str] = {}
        taken = {s.id for s in steps}
        for tpl in intent.steps:
            if tpl.when and not values.get(tpl.when):
                continue
            args = _fill_template(tpl.args, values, renamed)
            same = next((s for s in steps if s.tool == tpl.tool and s.args == args), None)
            if same is not None:
                renamed[tpl.id] = same.id
                continue
            sid = tpl.id
            k = 2
            while sid in taken:
                sid = f"{tpl.id}{k}"
                k += 1
            renamed[tpl.id] = sid
            taken.add(sid)
            steps.append(PlanStep(id=sid, tool=tpl.tool, args=args, why=intent.description))


_SLOT_REF = re.compile(r"^\{(\w+)(?:\.(\d+))?(?:/(\d+))?\}$")
_STEP_REF = re.compile(r"^\$([A-Za-z_][\w-]*)\.(.+)$")


def _fill_template(value: Any, values: dict[str, Any], renamed: dict[str, str]) -> Any:
    if isinstance(value, str):
        m = _SLOT_REF.match(value)
        if m:
            v = values.get(m.group(1))
            if m.group(2) is not None and isinstance(v, list):
                v = v[int(m.group(2))]
            if m.group(3) is not None and isinstance(v, int):
                v = -(-v // int(m.group(3)))  # "{n_jets/2}": a total split over two processes, rounded up
            return v
        m = _STEP_REF.match(value)
        if m and m.group(1) in renamed:
            return f"${renamed[m.group(1)]}.{m.group(2)}"
        return value
    if isinstance(value, dict):
        return {k: _fill_template(v, values, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_template(v, values, renamed) for v in value]
    return value
