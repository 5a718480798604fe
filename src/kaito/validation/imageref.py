"""OCI image references, parsed with the distribution/reference grammar.

    reference       := name [ ":" tag ] [ "@" digest ]
    name            := [domain "/"] path-component ["/" path-component]*
    domain          := host [":" port]
    path-component  := [a-z0-9]+ ( ( [_.] | "__" | "-"+ ) [a-z0-9]+ )*
    tag             := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest          := algorithm ":" hex{32,}

Where the grammar refuses a reference, the error says which part is wrong and
why, instead of the bare "invalid reference format" container runtimes print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOMAIN_COMPONENT = re.compile(r"^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$")
_IPV6_HOST = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
_PORT = re.compile(r"^[0-9]+$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_MAX_NAME_LENGTH = 255


class InvalidImageReference(ValueError):
    """The reference breaks the grammar; the message names the part and the rule."""


@dataclass(frozen=True)
class ImageReference:
    domain: str | None
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path


def parse_image_reference(reference: str) -> ImageReference:
    if not reference:
        raise InvalidImageReference("image reference must not be empty")
    if reference != reference.strip() or any(c.isspace() for c in reference):
        raise InvalidImageReference("image reference must not contain whitespace")
    rest, _, digest = reference.partition("@")
    if "@" in reference and not _DIGEST.match(digest):
        raise InvalidImageReference(
            f"digest {digest!r} must be <algorithm>:<hex>, with at least 32 hex digits (e.g. sha256:...)"
        )
    name, tag = _split_tag(rest)
    if tag is not None and not _TAG.match(tag):
        raise InvalidImageReference(
            f"tag {tag!r} may contain only letters, digits, '_', '.' and '-', "
            "must not start with '.' or '-', "
            "and is at most 128 characters"
        )
    if len(name) > _MAX_NAME_LENGTH:
        raise InvalidImageReference(f"repository name must not be more than {_MAX_NAME_LENGTH} characters")
    domain, path = _split_domain(name)
    if domain is not None:
        _check_domain(domain)
    _check_path(path)
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest or None)


def _split_tag(name_and_tag: str) -> tuple[str, str | None]:
    """A ':' after the last '/' starts the tag; an earlier one belongs to the registry port."""
    last_slash = name_and_tag.rfind("/")
    colon = name_and_tag.rfind(":")
    if colon > last_slash:
        return name_and_tag[:colon], name_and_tag[colon + 1 :]
    return name_and_tag, None


def _split_domain(name: str) -> tuple[str | None, str]:
    """The first component is a registry when it has '.', ':' or is ``localhost`` (as docker decides)."""
    first, slash, remainder = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, remainder
    return None, name


def _check_domain(domain: str) -> None:
    port: str | None
    if domain.startswith("["):
        host, bracket, after = domain.partition("]")
        host += bracket
        if not bracket or not _IPV6_HOST.match(host) or (after and not after.startswith(":")):
            raise InvalidImageReference(f"registry host {domain!r} is not a valid bracketed IPv6 address")
        port = after[1:] if after else None
    else:
        host, colon, after = domain.partition(":")
        port = after if colon else None
        if not all(_DOMAIN_COMPONENT.match(part) for part in host.split(".")):
            raise InvalidImageReference(
                f"registry host {host!r} may contain only letters, digits, '-' and '.', "
                "and each dot-separated part must start and end with a letter or digit"
            )
    if port is not None and not _PORT.match(port):
        raise InvalidImageReference(f"registry port {port!r} must be a number")


def _check_path(path: str) -> None:
    if not path:
        raise InvalidImageReference("repository path must not be empty")
    for component in path.split("/"):
        if _PATH_COMPONENT.match(component):
            continue
        if _PATH_COMPONENT.match(component.lower()):
            raise InvalidImageReference(f"repository name {component!r} must be lowercase")
        raise InvalidImageReference(
            f"repository path component {component!r} may contain only lowercase letters, digits and the "
            "separators '.', '_', '__' or '-', and must start and end with a letter or digit"
        )
