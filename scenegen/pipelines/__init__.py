"""Pipelines: the functions a user's command runs (generate, process, train, evaluate, render, demo, camera-path
planning on a trained run). Each takes a typed config and returns a typed result; the CLI only parses flags and
dispatches here, and the demo, batch tours, reports and the viewer compose the same functions."""
