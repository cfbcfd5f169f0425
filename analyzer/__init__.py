"""Layerscope's analysis core: model, pipeline, index, trackers, session and front ends."""
