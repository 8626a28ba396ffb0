"""Lifter networks (torch.nn.Module) used by the training methods."""
