"""``kaito sandbox``: the operator against a simulated cluster on localhost.

``command`` is the subcommand; ``apply`` and ``progress`` are what it does for
the user once the cluster serves (apply manifests, print each workspace's
progress). The simulated cluster itself is the separate ``kaito_sim``
distribution, imported only when the command runs.
"""
