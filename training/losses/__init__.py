"""Training losses of the unsupervised lifters (TIPSy-GAN, ElePose); "ours" combines both."""
