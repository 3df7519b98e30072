"""The knowledge tools through the registry: particle_info against PDG values, search_knowledge citations."""
from __future__ import annotations

import pytest

from hepilot.errors import ToolInputError
from hepilot.tools.base import call_tool, get_tool

HBAR = 6.582119569e-25  # GeV s


def test_top_quark_and_z_boson_match_pdg():
    top = call_tool("particle_info", particle="top quark")
    assert top.pdg_id == 6 and top.mass_GeV == pytest.approx(172.5, abs=1.0)  # PDG: 172.57 +- 0.29 GeV
    assert top.width_GeV == pytest.approx(1.42, abs=0.2) and top.charge == pytest.approx(2 / 3)
    assert top.spin_J == 0.5 and top.antiparticle == "t~" and not top.stable
    z = call_tool("particle_info", particle=23)
    assert z.name == "Z0" and z.mass_GeV == pytest.approx(91.188, abs=0.003)  # PDG: 91.1880 +- 0.0020 GeV
    assert z.width_GeV == pytest.approx(2.495, abs=0.003)  # PDG: 2.4955 +- 0.0023 GeV
    assert z.antiparticle is None and z.spin_J == 1.0
    assert all(c.passed for c in top.checks + z.checks)


def test_lifetimes_units_and_stable_particles():
    muon = call_tool("particle_info", particle="muon")
    assert muon.lifetime_s == pytest.approx(2.1970e-6, rel=1e-3)  # PDG: 2.1969811(22) us
    assert muon.ctau_mm == pytest.approx(658.64e3, rel=1e-3)  # c tau = 658.6 m
    b0 = call_tool("particle_info", particle="B0")
    assert b0.lifetime_s == pytest.approx(1.52e-12, rel=0.02)
    assert b0.width_GeV * b0.lifetime_s == pytest.approx(HBAR, rel=0.01)
    pi0 = call_tool("particle_info", particle="pi0")
    assert (pi0.parity, pi0.c_parity) == ("-", "+") and pi0.quarks
    electron = call_tool("particle_info", particle="e-")
    assert electron.stable and electron.lifetime_s is None and electron.mass_GeV == pytest.approx(0.000511, rel=1e-3)
    assert call_tool("particle_info", particle="J/psi").pdg_id == 443
    assert call_tool("particle_info", particle="-13").name == "mu+"


@pytest.mark.parametrize("bad, hint", [("topp quark", "top quark"), ("muonn", "muon"),
                                       (999999, "PDG Monte Carlo number")])
def test_unknown_particles_suggest_close_matches(bad, hint):
    with pytest.raises(ToolInputError) as err:
        call_tool("particle_info", particle=bad)
    assert err.value.field == "particle" and hint in str(err.value)


def test_search_knowledge_returns_cited_passages():
    res = call_tool("search_knowledge", query="CMS ECAL resolution", k=3)
    assert res.passages[0].source == "corpus:detectors/cms.md" and "2.8%" in res.passages[0].text
    assert all(p.citation for p in res.passages) and res.sources and all(c.passed for c in res.checks)
    assert "quoted as DATA" in res.prompt_block and res.status.startswith("3 passages")
    cards = call_tool("search_knowledge", query="muon momentum resolution", k=4, experiment="ATLAS",
                      source_type="detector_card")
    assert {p.source for p in cards.passages} == {"corpus:detectors/atlas.md"}


def test_search_knowledge_input_errors_and_registration():
    with pytest.raises(ToolInputError, match="year_min"):
        call_tool("search_knowledge", query="jets", year_min=2024, year_max=2020)
    with pytest.raises(ToolInputError, match="source_type"):
        call_tool("search_knowledge", query="jets", source_type="blog")
    for name in ("search_knowledge", "particle_info"):
        spec = get_tool(name)
        assert not spec.cacheable and spec.category == "knowledge"


def test_knowledge_intents_call_registered_tools_with_valid_arguments():
    from hepilot.agent.intents import load_intents

    intents = [i for i in load_intents() if i.area == "knowledge"]
    assert {i.name for i in intents} == {"particle_lookup", "detector_lookup", "literature_lookup"}
    for intent in intents:
        assert len(intent.examples) >= 5
        for step in intent.steps:
            spec = get_tool(step.tool)
            assert set(step.args) <= set(spec.input_model.model_fields), (intent.name, step.args)
