"""Label selectors: matching objects locally and writing the ``labelSelector`` query string.

The same ``LabelSelector`` scopes an informer on the server and filters
events in predicates, so both sides agree on what matches.
"""

from __future__ import annotations

from collections.abc import Mapping

from kaito.api.meta import LabelSelector, LabelSelectorRequirement

Selector = LabelSelector | Mapping[str, str]


def _as_selector(selector: Selector) -> LabelSelector:
    if isinstance(selector, LabelSelector):
        return selector
    return LabelSelector(match_labels=dict(selector))


def _requirement_matches(req: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    values = req.values or []
    if req.operator == "In":
        return req.key in labels and labels[req.key] in values
    if req.operator == "NotIn":
        return req.key not in labels or labels[req.key] not in values
    if req.operator == "Exists":
        return req.key in labels
    if req.operator == "DoesNotExist":
        return req.key not in labels
    raise ValueError(f"unknown label selector operator {req.operator!r}")


def matches(selector: Selector, labels: Mapping[str, str] | None) -> bool:
    """Whether ``labels`` satisfy every term of ``selector`` (an empty selector matches all)."""
    sel = _as_selector(selector)
    labels = labels or {}
    for key, value in (sel.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_matches(req, labels) for req in sel.match_expressions or [])


def format_selector(selector: Selector) -> str:
    """The query-string form: ``a=b,c in (d,e),!f``."""
    sel = _as_selector(selector)
    terms = [f"{key}={value}" for key, value in sorted((sel.match_labels or {}).items())]
    for req in sel.match_expressions or []:
        values = ",".join(sorted(req.values or []))
        if req.operator == "In":
            terms.append(f"{req.key} in ({values})")
        elif req.operator == "NotIn":
            terms.append(f"{req.key} notin ({values})")
        elif req.operator == "Exists":
            terms.append(req.key)
        elif req.operator == "DoesNotExist":
            terms.append(f"!{req.key}")
        else:
            raise ValueError(f"unknown label selector operator {req.operator!r}")
    return ",".join(terms)


def selector_query(selector: Selector | str | None) -> str | None:
    """A selector as the ``labelSelector`` query parameter (a string passes through)."""
    if selector is None or isinstance(selector, str):
        return selector
    return format_selector(selector)


def field_selector_query(selector: str | Mapping[str, str] | None) -> str | None:
    """Field equality terms as the ``fieldSelector`` query parameter: ``{"spec.nodeName": "n1"}``."""
    if selector is None or isinstance(selector, str):
        return selector
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
