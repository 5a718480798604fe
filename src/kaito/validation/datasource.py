"""Rules shared by every place data enters or leaves a workspace: adapter
sources, tuning inputs and tuning outputs."""

from __future__ import annotations

from kaito.api.names import dns1123_subdomain_errors
from kaito.api.workspace import DataDestination, DataSource
from kaito.validation.errors import FieldError
from kaito.validation.imageref import InvalidImageReference, parse_image_reference
from kaito.validation.urls import data_source_url_errors


def image_errors(path: str, image: str, what: str) -> list[FieldError]:
    try:
        parse_image_reference(image)
    except InvalidImageReference as err:
        return [FieldError(path, f"Unable to parse {what} image reference {image!r}: {err}")]
    return []


def object_name_errors(path: str, name: str) -> list[FieldError]:
    """A reference to a Secret or ConfigMap: a DNS-1123 subdomain."""
    return [FieldError(path, f"Invalid value: {name!r}: {error}") for error in dns1123_subdomain_errors(name)]


def secret_names_errors(path: str, names: list[str]) -> list[FieldError]:
    return [
        error for index, name in enumerate(names) for error in object_name_errors(f"{path}[{index}]", name)
    ]


def url_errors(path: str, urls: list[str]) -> list[FieldError]:
    if not urls:
        return [FieldError(path, "Required value: at least one URL")]
    return [
        FieldError(f"{path}[{index}]", f"Invalid value: {url!r}: {error}")
        for index, url in enumerate(urls)
        for error in data_source_url_errors(url)
    ]


def tuning_input_errors(path: str, source: DataSource) -> list[FieldError]:
    given = [source.urls is not None, source.image is not None, source.volume_source is not None]
    if sum(given) != 1:
        return [FieldError(path, "Exactly one of URLs, Volume, or Image must be specified")]
    errors = []
    if source.urls is not None:
        errors += url_errors(f"{path}.urls", source.urls)
    if source.image is not None:
        errors += image_errors(f"{path}.image", source.image, "input")
    errors += secret_names_errors(f"{path}.imagePullSecrets", source.image_pull_secrets or [])
    return errors


def tuning_output_errors(path: str, destination: DataDestination) -> list[FieldError]:
    if (destination.image is None) == (destination.volume_source is None):
        return [FieldError(path, "Exactly one of Volume or Image must be specified")]
    if destination.image is None:
        return []
    errors = image_errors(f"{path}.image", destination.image, "output")
    if not destination.image_push_secret:
        errors.append(
            FieldError(f"{path}.imagePushSecret", "Must specify imagePushSecret with destination image")
        )
    else:
        errors += object_name_errors(f"{path}.imagePushSecret", destination.image_push_secret)
    return errors
