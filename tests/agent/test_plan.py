"""$step.field references between plan steps."""
import pytest

from hepilot.agent.plan import UnresolvedReference, references, resolve_refs


def test_resolve_step_and_last_references():
    results = {"gen": {"path": "/x/jets.root", "n_jets": {"top": 3}}}
    history = [{"tool": "generate_jets", "result": {"path": "/old.root"}},
               {"tool": "generate_jets", "result": {"path": "/new.root"}}]
    args = {"sample": "$gen.path", "n": "$gen.n_jets.top", "prev": "$last:generate_jets.path", "lit": "$5 bill"}
    assert resolve_refs(args, results, history) == {"sample": "/x/jets.root", "n": 3, "prev": "/new.root", "lit": "$5 bill"}
    assert references(args) == ["gen", "gen", "last:generate_jets"]


def test_unresolved_references_say_what_exists():
    with pytest.raises(UnresolvedReference, match="steps done: gen"):
        resolve_refs("$bdt.auc", {"gen": {}})
    with pytest.raises(UnresolvedReference, match=r"available: path"):
        resolve_refs("$gen.pth", {"gen": {"path": "a"}})
