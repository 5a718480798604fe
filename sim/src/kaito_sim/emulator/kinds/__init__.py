"""Per-kind admission semantics: what kube-apiserver's REST strategies do to
an object of each kind on create and update (defaults, allocation,
validation, status handling)."""
