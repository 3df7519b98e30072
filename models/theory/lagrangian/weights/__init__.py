"""Shipped weights of the Lagrangian transformer (data only: model.safetensors, tokenizer, config, MODEL_CARD.md)."""
