"""The operator's composition root: controllers, admission webhook and manager, wired in one place.

``controllers`` names what ``kaito controller --controllers ...`` can start and
the options each needs; ``embedded`` runs the whole operator inside another
program (``kaito sandbox``, the end-to-end tests) exactly as ``kaito
controller`` runs it against a cluster.
"""
