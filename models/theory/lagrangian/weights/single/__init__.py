"""One-field companion of the shipped block model (data only: model.safetensors, tokenizer, config)."""
