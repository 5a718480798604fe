"""The workspace controller: from a Workspace to GPU nodes and a model server (or a tuning Job).

Pure decisions and builders: ``plan`` (runtime, nodes, layout), ``nodes``
(which nodes qualify), ``nodeclaims`` and ``provisioning`` (what to ask the
node provisioner for), ``podspec`` and ``workload`` (the pods, Services and
config), ``revisions``, ``status`` and ``failures``. I/O: ``reconciler`` (the
table of contents) and its steps ``finalizer``, ``revision_sync``,
``node_sync``, ``inference``, ``reporting``, ``apply``. Wiring: ``setup``.
"""
