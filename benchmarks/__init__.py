"""Benchmarks on the real stack (`make bench`): medians and ratios, never assertions."""
