"""The OCI reference grammar, case by case."""

from __future__ import annotations

import pytest

from kaito.validation.imageref import ImageReference, InvalidImageReference, parse_image_reference


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("busybox", ImageReference(None, "busybox", None, None)),
        ("library/busybox:1.36", ImageReference(None, "library/busybox", "1.36", None)),
        (
            "myregistry.azurecr.io/phi-3-adapter:0.0.1",
            ImageReference("myregistry.azurecr.io", "phi-3-adapter", "0.0.1", None),
        ),
        ("localhost:5000/a/b:t", ImageReference("localhost:5000", "a/b", "t", None)),
        ("localhost/a", ImageReference("localhost", "a", None, None)),
        ("[::1]:5000/x:y", ImageReference("[::1]:5000", "x", "y", None)),
        ("reg.io/a__b/c.d-e--f:v_1.2-rc", ImageReference("reg.io", "a__b/c.d-e--f", "v_1.2-rc", None)),
        ("x@sha256:" + "a" * 64, ImageReference(None, "x", None, "sha256:" + "a" * 64)),
        ("reg.io/x:1@sha256:" + "b" * 64, ImageReference("reg.io", "x", "1", "sha256:" + "b" * 64)),
    ],
)
def test_valid_references_parse_into_their_parts(reference: str, expected: ImageReference) -> None:
    assert parse_image_reference(reference) == expected


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "must not be empty"),
        (
            "ACR_REPO_HERE.azurecr.io/IMAGE_NAME_HERE:0.0.1",
            "registry host 'ACR_REPO_HERE.azurecr.io' may contain only",
        ),
        (
            "myregistry.azurecr.io/IMAGE_NAME_HERE:0.0.1",
            "repository name 'IMAGE_NAME_HERE' must be lowercase",
        ),
        ("docker.io/Library/x", "repository name 'Library' must be lowercase"),
        ("reg.io/a_-b", "repository path component 'a_-b' may contain only"),
        ("reg.io/-a", "repository path component '-a'"),
        ("reg:abc/x", "registry port 'abc' must be a number"),
        ("x:", "tag '' may contain only"),
        ("x:.bad", "tag '.bad'"),
        ("x:" + "a" * 129, "at most 128 characters"),
        ("x@sha256:abc", "digest 'sha256:abc' must be"),
        ("a b", "must not contain whitespace"),
        ("reg.io/", "repository path must not be empty"),
        ("[::1/x", "not a valid bracketed IPv6 address"),
        ("r.io/" + "a" * 260, "must not be more than 255 characters"),
    ],
)
def test_invalid_references_name_the_part_that_is_wrong(reference: str, message: str) -> None:
    with pytest.raises(InvalidImageReference, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_image_reference(reference)
