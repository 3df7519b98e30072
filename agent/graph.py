"""Wiring of the agent graph (no logic here: routing is in the nodes' Command return types).

    START -> understand -> retrieve -> plan -> approve -> act <-> act -> check -> report -> END
                    \\______________________\\________\\______________________/^
    check -> plan (LLM: next round / replan), check -> act (offline retry of failed steps)
"""
from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from hepilot.agent.nodes import Nodes, Runtime
from hepilot.agent.state import AgentState

__all__ = ["build_graph"]


def build_graph(rt: Runtime, checkpointer=None):
    """Compile the agent graph for one runtime, with an optional checkpointer (SqliteSaver in runs)."""
    nodes = Nodes(rt)
    g = StateGraph(AgentState)
    g.add_node("understand", nodes.understand)
    g.add_node("retrieve", nodes.retrieve)
    g.add_node("plan", nodes.plan)
    g.add_node("approve", nodes.approve)
    g.add_node("act", nodes.act)
    g.add_node("check", nodes.check)
    g.add_node("report", nodes.report)
    g.add_edge(START, "understand")
    g.add_edge("retrieve", "plan")
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)
