"""Model presets, the GPU SKU catalog, runtime compatibility, the GPU / node
estimator and the runtime parameter builders.

Everything here is pure: data files shipped with the package and functions of
their inputs, so the webhook, the controller and the CLI agree on one answer.
"""
