"""Language-model pre-training (``task=pretrain``): causal LM and GLM autoregressive blank infilling."""
