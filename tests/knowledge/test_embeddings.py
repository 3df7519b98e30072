"""The shared embedding API used by the index and the offline planner."""
from __future__ import annotations

import numpy as np

from hepilot.knowledge.embeddings import EMBEDDING_DIM, embed, get_model


def test_embed_shapes_normalisation_and_semantics():
    vecs = embed(["top quark tagging with graph networks", "boosted top jets identified by a GNN",
                  "the price of bread in Paris"])
    assert vecs.shape == (3, EMBEDDING_DIM) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.3  # paraphrases are much closer than unrelated text
    single = embed("top quark tagging with graph networks")
    assert single.shape == (1, EMBEDDING_DIM)
    np.testing.assert_allclose(single[0], vecs[0], atol=1e-5)  # same vector alone or in a batch
    assert embed([]).shape == (0, EMBEDDING_DIM)
    assert get_model() is get_model()  # loaded once per process


def test_the_query_path_gives_the_index_path_vectors():
    """Up to four texts skip sentence-transformers' batching; the vectors must be the ones it gives
    (padding of unequal lengths masked out of the mean pooling)."""
    texts = ["CMS ECAL stochastic term", "a much longer question about H -> gamma gamma at 240 GeV at the CEPC"]
    reference = get_model().encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(embed(texts), reference, atol=1e-5)
    many = embed(texts * 3)  # more than four: the batched path
    np.testing.assert_allclose(many[:2], reference, atol=1e-5)
