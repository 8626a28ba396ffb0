"""Training and evaluation data: mocap parsing (BVH), the mocap splits, Human3.6M, rendering through
virtual cameras, the evaluation sets and the rendered training batches."""
