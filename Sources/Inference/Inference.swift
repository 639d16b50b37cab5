// Inference: the engine API (generate / ask / caption as streams of events), MaskGIT, KV cache.
