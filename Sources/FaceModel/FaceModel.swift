// FaceModel: the unified model, its tokenizers (image LFQ, text BPE) and encoders.
