"""The operator's controllers, one package per controller, each the same shape.

Every controller package holds pure planners and builders (desired state as a
function of the object, its preset, its SKU and the options), one reconciler
that only compares and writes, and one wiring module (``setup``) that asks the
manager for informers and registers watches. They share the generic controller
library (``kaito.kube``) and never import each other's reconcilers; the
operator's composition root (``kaito.operator``) starts them by name.
"""
