"""Offline training of hpe3d_ros lifters: data, models, losses, trainers, evaluation, export."""
