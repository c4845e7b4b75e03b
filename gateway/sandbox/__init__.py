"""Sandbox: what `mse-gateway sandbox` and `simulate` prepare and run for vendors. Not on the product's hot path."""
