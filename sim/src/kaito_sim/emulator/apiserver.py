"""The request semantics of kube-apiserver, without HTTP: get, list, create,
update, patch and delete with admission, optimistic concurrency,
generation, status-subresource rules, finalizers and deletion options.

The HTTP layer and the in-process simulated controllers both call this, so
a write by an agent is indistinguishable from a write through the API.
Each write also comes in two steps, ``prepare_*`` then ``commit`` (see
``pending``), so the HTTP layer can run validating webhooks in between.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from kaito.api.names import label_key_errors
from kaito.api.resources import ResourceType
from kaito_sim.emulator import clock, errors
from kaito_sim.emulator.errors import ApiError, Cause
from kaito_sim.emulator.kinds.crd import CustomResourceDefinitionStrategy, crd_to_resource
from kaito_sim.emulator.modelschemas import builtin_schema
from kaito_sim.emulator.patch import json_patch, merge_patch
from kaito_sim.emulator.pending import AdmissionAttributes, PendingWrite, StaleWrite, options_object
from kaito_sim.emulator.registry import Registry, Resource
from kaito_sim.emulator.schema import prune, quote
from kaito_sim.emulator.selectors import EVERYTHING, FieldSelector, LabelSelector
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.strategic import strategic_merge_patch
from kaito_sim.emulator.validation import (
    name_causes,
    validate_annotations,
    validate_labels,
)

Obj = dict[str, Any]
ObjList = list[Obj]  # spelled once here: inside Apiserver, ``list`` is a method

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
CUSTOM_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]

FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN_FINALIZER = "orphan"
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_validation: str = ""  # Strict | Warn | Ignore; empty: not given (the server's default, Warn)
    field_manager: str = ""
    force: bool = False

    def admission_options(self, kind: str) -> Obj:
        """The options object validating webhooks receive (``CreateOptions``, ``UpdateOptions``...)."""
        return options_object(
            kind,
            dryRun=["All"] if self.dry_run else None,
            fieldManager=self.field_manager,
            fieldValidation=self.field_validation,
            force=self.force if kind == "PatchOptions" else None,
        )


@dataclass
class WriteResult:
    obj: Obj
    warnings: list[str] = field(default_factory=list)
    created: bool = False


@dataclass
class DeleteOptions:
    propagation_policy: str | None = None
    grace_period_seconds: int | None = None
    preconditions: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False

    @classmethod
    def from_body(
        cls, body: Any, query_policy: str | None, query_grace: str | None, dry_run: bool
    ) -> DeleteOptions:
        body = body if isinstance(body, dict) else {}
        policy = body.get("propagationPolicy") or query_policy
        if policy is None and body.get("orphanDependents") is not None:
            policy = "Orphan" if body["orphanDependents"] else "Background"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(
                f"propagationPolicy: Unsupported value: {quote(policy)}: supported values: "
                '"Foreground", "Background", "Orphan"'
            )
        grace = body.get("gracePeriodSeconds")
        if grace is None and query_grace not in (None, ""):
            try:
                grace = int(str(query_grace))
            except ValueError:
                raise errors.bad_request(f"invalid gracePeriodSeconds: {query_grace}") from None
        return cls(policy, grace, dict(body.get("preconditions") or {}), dry_run or bool(body.get("dryRun")))

    def admission_options(self) -> Obj:
        return options_object(
            "DeleteOptions",
            gracePeriodSeconds=self.grace_period_seconds,
            preconditions=self.preconditions,
            propagationPolicy=self.propagation_policy,
            dryRun=["All"] if self.dry_run else None,
        )


@dataclass
class ListResult:
    items: list[Obj]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None


def objectmeta_schema() -> dict[str, Any]:
    schema: dict[str, Any] = builtin_schema("V1ObjectMeta")
    return schema


class Apiserver:
    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        self.graceful_pod_deletion = False
        self._random = random.Random()
        self.applied: dict[str, dict[str, Obj]] = {}  # uid -> field manager -> last applied configuration
        self.crd_strategy = CustomResourceDefinitionStrategy(clock.now)
        self.crd_strategy.on_stored = self._serve_crd
        self.crd_strategy.on_removed = self._unserve_crd

    # ---------------------------------------------------------------- resources

    def resource(self, rt: ResourceType | Resource) -> Resource:
        """The served resource for a kaito ``ResourceType`` (404 when not served, e.g. CRD not installed)."""
        if isinstance(rt, Resource):
            return rt
        res = self.registry.lookup(rt.group, rt.version, rt.plural)
        if res is None:
            raise errors.path_not_found(rt.collection_path())
        return res

    def _serve_crd(self, crd: Obj) -> None:
        if crd["metadata"].get("deletionTimestamp"):
            return
        resource = crd_to_resource(crd)
        existing = self.registry.by_key(resource.key)
        if existing is not None and not existing.is_crd:
            return
        self.registry.add(resource)

    def _unserve_crd(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        key = f"{(spec.get('names') or {}).get('plural')}.{spec.get('group')}"
        existing = self.registry.by_key(key)
        if existing is not None and existing.is_crd:
            self.registry.remove(key)
            self.store.drop_resource(key)

    def install_crd(self, crd: Obj) -> Obj:
        """Create (or replace the spec of) a CRD, as ``kubectl apply`` of it would."""
        res = self.resource(_CRD_TYPE)
        name = crd["metadata"]["name"]
        current = self.store.get(res.key, "", name)
        if current is None:
            return self.create(res, "v1", None, copy.deepcopy(crd)).obj
        body = copy.deepcopy(crd)
        body["metadata"] = {**copy.deepcopy(current["metadata"]), **body.get("metadata", {})}
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(res, "v1", None, name, body).obj

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def view(res: Resource, obj: Obj, version: str) -> Obj:
        """An object as served in ``version`` (CRD conversion strategy None: only apiVersion changes)."""
        api_version = res.api_version(version)
        if obj.get("apiVersion") == api_version:
            return obj
        return {**obj, "apiVersion": api_version}

    def _ns(self, res: Resource, namespace: str | None) -> str:
        return (namespace or "") if res.namespaced else ""

    def get_stored(self, res: Resource, namespace: str | None, name: str) -> Obj:
        obj = self.store.get(res.key, self._ns(res, namespace), name)
        if obj is None:
            raise errors.not_found(res.plural, res.group, name)
        return obj

    def _decode(self, res: Resource, version: str, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"the body of the request could not be decoded as a {res.kind}: expected a JSON object"
            )
        api_version = res.api_version(version)
        obj = {"apiVersion": api_version, "kind": res.kind, **body}
        if obj.get("apiVersion") not in (None, "", api_version):
            raise errors.bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected API version "
                f"({api_version})"
            )
        if obj.get("kind") not in (None, "", res.kind):
            raise errors.bad_request(
                f"the kind in the data ({obj['kind']}) does not match the expected kind ({res.kind})"
            )
        obj["apiVersion"], obj["kind"] = api_version, res.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise errors.bad_request(
                f'{res.kind} in version "{version}" cannot be handled as a {res.kind}: '
                "metadata must be an object"
            )
        obj["metadata"] = copy.deepcopy(meta)
        return obj

    def _normalize(self, res: Resource, version: str, obj: Obj) -> list[str]:
        unknown = prune(obj["metadata"], objectmeta_schema(), "metadata", root=False)
        return unknown + res.strategy.normalize(obj, res.schema(version))

    @staticmethod
    def _check_unknown(
        res: Resource,
        version: str,
        unknown: list[str],
        opts: WriteOptions,
        warnings: list[str],
        patch: Any = None,
    ) -> None:
        if not unknown or opts.field_validation == "Ignore":
            return
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        if opts.field_validation == "Strict":
            if patch is not None:
                message = (
                    f"Invalid value: {quote(json.dumps(patch, separators=(',', ':')))}: strict decoding "
                    f"error: {listed}"
                )
                raise ApiError(
                    422,
                    "Invalid",
                    f"patch: {message}",
                    {"causes": []},
                    [Cause("FieldValueInvalid", message, "patch")],
                )
            raise errors.bad_request(
                f'{res.kind} in version "{version}" cannot be handled as a {res.kind}: '
                f"strict decoding error: {listed}"
            )
        warnings.extend(f'unknown field "{p}"' for p in unknown)

    def _meta_causes(self, res: Resource, obj: Obj) -> list[Cause]:
        meta = obj["metadata"]
        causes = name_causes(str(meta.get("name", "")), res.strategy.name_rule)
        causes += validate_labels(meta.get("labels"), "metadata.labels")
        causes += validate_annotations(meta.get("annotations"), "metadata.annotations")
        for i, finalizer in enumerate(meta.get("finalizers") or []):
            for err in label_key_errors(str(finalizer)):
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {quote(finalizer)}: {err}",
                        f"metadata.finalizers[{i}]",
                    )
                )
        controllers = 0
        for i, ref in enumerate(meta.get("ownerReferences") or []):
            where = f"metadata.ownerReferences[{i}]"
            if not isinstance(ref, dict):
                causes.append(Cause("FieldValueInvalid", "Invalid value: must be an object", where))
                continue
            for key in ("apiVersion", "kind", "name", "uid"):
                if not ref.get(key):
                    causes.append(
                        Cause(
                            "FieldValueInvalid",
                            f'Invalid value: "": {key} must not be empty',
                            f"metadata.ownerReferences.{key}",
                        )
                    )
            controllers += 1 if ref.get("controller") else 0
        if controllers > 1:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    "Invalid value: []v1.OwnerReference{...}: Only one reference "
                    "can have Controller set to true",
                    "metadata.ownerReferences",
                )
            )
        return causes

    def _check_namespace(self, res: Resource, namespace: str, name: str) -> None:
        if not res.namespaced:
            return
        ns = self.store.get("namespaces", "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                res.plural,
                res.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )

    def _to_storage(self, res: Resource, obj: Obj) -> Obj:
        storage = res.api_version(res.storage_version)
        if obj.get("apiVersion") != storage:
            obj = {**obj, "apiVersion": storage}
        return obj

    def _generate_name(self, prefix: str) -> str:
        return prefix[:58] + "".join(self._random.choice(_NAME_CHARS) for _ in range(5))

    # ---------------------------------------------------------------- reads

    def get(self, res: Resource, version: str, namespace: str | None, name: str) -> Obj:
        return self.view(res, self.get_stored(res, namespace, name), version)

    def list(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        labels: LabelSelector = EVERYTHING,
        fields: FieldSelector | None = None,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> ListResult:
        current = self.store.resource_version
        list_rv, start = current, ""
        if continue_token:
            list_rv, start = self._decode_continue(continue_token)
            self.store.hub.check_not_compacted(res.key, list_rv)
        elif resource_version not in ("", "0"):
            try:
                wanted = int(resource_version)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {resource_version}") from None
            if wanted > current:
                raise ApiError(
                    504,
                    "Timeout",
                    f"Too large resource version: {wanted}, current: {current}",
                    {
                        "causes": [
                            {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                        ],
                        "retryAfterSeconds": 1,
                    },
                )
            if resource_version_match == "Exact" and wanted != current:
                self.store.hub.check_not_compacted(res.key, wanted)
                raise errors.gone(f"too old resource version: {wanted} ({current})")
        fields = fields or FieldSelector()
        ns = self._ns(res, namespace) if namespace else None
        items: list[Obj] = []
        remaining = 0
        last_key = ""
        for obj in self.store.items(res.key, ns):
            meta = obj["metadata"]
            key = f"{meta.get('namespace', '')}/{meta['name']}"
            if start and key <= start:
                continue
            if not labels.matches(meta.get("labels")) or not fields.matches(obj):
                continue
            if limit and len(items) >= limit:
                remaining += 1
                continue
            items.append(self.view(res, obj, version))
            last_key = key
        token = self._encode_continue(list_rv, last_key) if limit and remaining else ""
        return ListResult(items, str(list_rv), token, remaining if token else None)

    @staticmethod
    def _encode_continue(rv: int, start: str) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[int, str]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return int(data["rv"]), str(data["start"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise errors.bad_request("continue key is not valid: the continue token is malformed") from None

    # ---------------------------------------------------------------- create

    def create(
        self, res: Resource, version: str, namespace: str | None, body: Any, opts: WriteOptions | None = None
    ) -> WriteResult:
        return self.prepare_create(res, version, namespace, body, opts).commit()

    def prepare_create(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        body: Any,
        opts: WriteOptions | None = None,
        options_kind: str = "CreateOptions",
    ) -> PendingWrite[WriteResult]:
        """Decode, default and validate a new object; storing it (AlreadyExists then) is the commit."""
        opts = opts or WriteOptions()
        obj = self._decode(res, version, body)
        meta = obj["metadata"]
        ns = self._ns(res, namespace)
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        warnings: list[str] = []
        self._check_unknown(res, version, self._normalize(res, version, obj), opts, warnings)
        meta = obj["metadata"]
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        requested_name = str(meta.get("name") or "")
        generated = not meta.get("name") and bool(meta.get("generateName"))
        if generated:
            meta["name"] = self._generate_name(str(meta["generateName"]))
        if not meta.get("name"):
            raise errors.invalid(
                res.kind,
                res.group,
                "",
                [
                    Cause(
                        "FieldValueRequired",
                        "Required value: name or generateName is required",
                        "metadata.name",
                    )
                ],
            )
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = clock.now()
        if res.strategy.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        self._check_namespace(res, ns, meta["name"])
        res.strategy.prepare_create(obj)
        causes = self._meta_causes(res, obj) + res.strategy.validate(obj, None, res.schema(version))
        if causes:
            raise errors.invalid(res.kind, res.group, meta["name"], causes)
        attempts = 8
        while generated and self.store.get(res.key, ns, meta["name"]) is not None:
            attempts -= 1
            if attempts <= 0:
                raise errors.already_exists(res.plural, res.group, meta["name"])
            meta["name"] = self._generate_name(str(meta["generateName"]))
        stored = self._to_storage(res, obj)
        name = meta["name"]

        def commit() -> WriteResult:
            if self.store.get(res.key, ns, name) is not None:
                raise errors.already_exists(res.plural, res.group, name)
            if not opts.dry_run:
                self.store.put(res.key, stored)
                res.strategy.stored(stored, None)
            return WriteResult(self.view(res, stored, version), warnings, created=True)

        attributes = AdmissionAttributes(
            operation="CREATE",
            resource=res,
            version=version,
            subresource="",
            namespace=ns,
            name=requested_name,
            obj=self.view(res, stored, version),
            old=None,
            options=opts.admission_options(options_kind),
            dry_run=opts.dry_run,
        )
        return PendingWrite(attributes, commit)

    # ---------------------------------------------------------------- update / patch

    def update(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        body: Any,
        opts: WriteOptions | None = None,
        subresource: str | None = None,
    ) -> WriteResult:
        return self.prepare_update(res, version, namespace, name, body, opts, subresource).commit()

    def prepare_update(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        body: Any,
        opts: WriteOptions | None = None,
        subresource: str | None = None,
    ) -> PendingWrite[WriteResult]:
        opts = opts or WriteOptions()
        obj = self._decode(res, version, body)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        ns = self._ns(res, namespace)
        if res.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        current = self.store.get(res.key, ns, name)
        if current is None:
            raise errors.not_found(res.plural, res.group, name)
        return self.prepare_write_update(res, version, current, obj, opts, subresource, "UpdateOptions")

    def patch(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        patch_type: str,
        patch: Any,
        opts: WriteOptions | None = None,
        subresource: str | None = None,
    ) -> WriteResult:
        return self.prepare_patch(
            res, version, namespace, name, patch_type, patch, opts, subresource
        ).commit()

    def prepare_patch(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        patch_type: str,
        patch: Any,
        opts: WriteOptions | None = None,
        subresource: str | None = None,
    ) -> PendingWrite[WriteResult]:
        opts = opts or WriteOptions()
        if patch_type == APPLY_PATCH:
            from kaito_sim.emulator.ssa import server_side_apply

            return server_side_apply(self, res, version, namespace, name, patch, opts, subresource)
        if patch_type == STRATEGIC_PATCH and res.is_crd:
            raise errors.unsupported_media_type(patch_type, CUSTOM_PATCH_TYPES)
        current = self.get_stored(res, namespace, name)
        doc = copy.deepcopy(self.view(res, current, version))
        if patch_type == JSON_PATCH:
            patched = json_patch(doc, patch)
        elif patch_type == MERGE_PATCH:
            if not isinstance(patch, dict):
                raise errors.bad_request("merge patch must be a JSON object")
            patched = merge_patch(doc, patch)
        elif patch_type == STRATEGIC_PATCH:
            patched = strategic_merge_patch(doc, patch, res.schema(version))
        else:
            raise errors.unsupported_media_type(
                patch_type, [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]
            )
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid", "the patched object is not a JSON object")
        patched = self._decode(res, version, patched)
        if not patched["metadata"].get("resourceVersion"):
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if patched["metadata"].get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({patched['metadata'].get('name')}) does not match "
                f"the name on the URL ({name})"
            )
        return self.prepare_write_update(
            res, version, current, patched, opts, subresource, "PatchOptions", patch=patch
        )

    def prepare_write_update(
        self,
        res: Resource,
        version: str,
        current: Obj,
        new: Obj,
        opts: WriteOptions,
        subresource: str | None,
        options_kind: str,
        patch: Any = None,
    ) -> PendingWrite[WriteResult]:
        """Validate ``new`` as the next state of ``current``; the commit stores it unless that moved on."""
        warnings: list[str] = []
        self._check_unknown(res, version, self._normalize(res, version, new), opts, warnings, patch)
        cur_meta = current["metadata"]
        meta = new["metadata"]
        name = cur_meta["name"]
        if meta.get("resourceVersion") and meta["resourceVersion"] != cur_meta["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, name, errors.MODIFIED_CONFLICT)
        if meta.get("uid") and meta["uid"] != cur_meta["uid"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: "
                f"{cur_meta['uid']}",
            )
        old = self.view(res, current, version)
        if subresource == "status":
            status = new.get("status")
            new = {**copy.deepcopy(old)}
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
            meta = new["metadata"]
        else:
            if res.has_subresource(version, "status") or res.has_subresource(res.storage_version, "status"):
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            for key in _SERVER_META:
                if key in cur_meta:
                    meta[key] = cur_meta[key]
                else:
                    meta.pop(key, None)
            if res.namespaced:
                meta["namespace"] = cur_meta.get("namespace", "")
            else:
                meta.pop("namespace", None)
            for key in ("selfLink", "managedFields"):
                meta.pop(key, None)
            if cur_meta.get("deletionTimestamp"):
                added = [
                    f for f in meta.get("finalizers") or [] if f not in (cur_meta.get("finalizers") or [])
                ]
                if added:
                    shown = ", ".join(f'"{f}"' for f in added)
                    raise errors.invalid(
                        res.kind,
                        res.group,
                        name,
                        [
                            Cause(
                                "FieldValueForbidden",
                                "Forbidden: no new finalizers can be added if the object is being deleted, "
                                f"found new finalizers []string{{{shown}}}",
                                "metadata.finalizers",
                            )
                        ],
                    )
            res.strategy.prepare_update(new, old)
        if not meta.get("finalizers"):
            meta.pop("finalizers", None)
        causes = self._meta_causes(res, new) + res.strategy.validate(new, old, res.schema(version))
        if causes:
            raise errors.invalid(res.kind, res.group, name, causes)
        if res.strategy.tracks_generation and _spec_changed(res, version, new, old):
            meta["generation"] = int(cur_meta.get("generation") or 0) + 1
        meta["resourceVersion"] = cur_meta["resourceVersion"]
        stored = self._to_storage(res, new)

        def commit() -> WriteResult:
            self._check_current(res, current)
            if stored == current:
                return WriteResult(self.view(res, current, version), warnings)
            if opts.dry_run:
                return WriteResult(self.view(res, stored, version), warnings)
            if (
                cur_meta.get("deletionTimestamp")
                and not meta.get("finalizers")
                and not _spec_finalizers(stored)
            ):
                final = self.store.remove(res.key, stored)
                res.strategy.removed(final)
                return WriteResult(self.view(res, final, version), warnings)
            self.store.put(res.key, stored)
            res.strategy.stored(stored, current)
            return WriteResult(self.view(res, stored, version), warnings)

        attributes = AdmissionAttributes(
            operation="UPDATE",
            resource=res,
            version=version,
            subresource=subresource or "",
            namespace=self._admission_namespace(res, cur_meta),
            name=name,
            obj=self.view(res, stored, version),
            old=old,
            options=opts.admission_options(options_kind),
            dry_run=opts.dry_run,
        )
        return PendingWrite(attributes, commit)

    def _check_current(self, res: Resource, current: Obj) -> None:
        """Stored objects are replaced, never mutated: anything but ``current`` itself means it moved on."""
        meta = current["metadata"]
        if self.store.get(res.key, meta.get("namespace") or "", meta["name"]) is not current:
            raise StaleWrite()

    @staticmethod
    def _admission_namespace(res: Resource, meta: Obj) -> str:
        """Requests for a namespace itself carry its name as their namespace (apiserver's RequestInfo)."""
        if res.plural == "namespaces" and not res.group:
            return str(meta["name"])
        return str(meta.get("namespace") or "")

    # ---------------------------------------------------------------- delete

    def delete(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        options: DeleteOptions | None = None,
    ) -> Obj:
        """Delete (or start deleting) an object; returns its state afterwards."""
        return self.prepare_delete(res, version, namespace, name, options).commit()

    def prepare_delete(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        name: str,
        options: DeleteOptions | None = None,
    ) -> PendingWrite[Obj]:
        """Check a deletion's preconditions; the commit deletes (or starts deleting) the object."""
        options = options or DeleteOptions()
        current = self.get_stored(res, namespace, name)
        meta = current["metadata"]
        want_uid = options.preconditions.get("uid")
        if want_uid and want_uid != meta["uid"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: UID in precondition: {want_uid}, UID in object meta: {meta['uid']}",
            )
        want_rv = options.preconditions.get("resourceVersion")
        if want_rv and want_rv != meta["resourceVersion"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: ResourceVersion in precondition: {want_rv}, ResourceVersion "
                f"in object meta: {meta['resourceVersion']}",
            )
        attributes = AdmissionAttributes(
            operation="DELETE",
            resource=res,
            version=version,
            subresource="",
            namespace=self._admission_namespace(res, meta),
            name=name,
            obj=None,
            old=self.view(res, current, version),
            options=options.admission_options(),
            dry_run=options.dry_run,
        )
        return PendingWrite(attributes, lambda: self._commit_delete(res, version, current, options))

    def _commit_delete(self, res: Resource, version: str, current: Obj, options: DeleteOptions) -> Obj:
        self._check_current(res, current)
        meta = current["metadata"]
        if options.dry_run:
            return self.view(res, current, version)
        finalizers = list(meta.get("finalizers") or [])
        policy = options.propagation_policy
        if policy == "Foreground" and FOREGROUND_FINALIZER not in finalizers:
            finalizers.append(FOREGROUND_FINALIZER)
        if policy == "Orphan" and ORPHAN_FINALIZER not in finalizers:
            finalizers.append(ORPHAN_FINALIZER)
        graceful = self._grace_seconds(res, current, options)
        if finalizers or graceful or _spec_finalizers(current):
            if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                if graceful == 0 and not finalizers and not _spec_finalizers(current):
                    return self._remove(res, current, version)
                return self.view(res, current, version)
            new_meta = (
                {**meta, "finalizers": finalizers}
                if finalizers
                else {k: v for k, v in meta.items() if k != "finalizers"}
            )
            new_meta.setdefault(
                "deletionTimestamp", clock.seconds_from_now(graceful) if graceful else clock.now()
            )
            new_meta["deletionGracePeriodSeconds"] = graceful or 0
            updated = {**current, "metadata": new_meta}
            if res.plural == "namespaces" and not res.group:
                updated["status"] = {**(current.get("status") or {}), "phase": "Terminating"}
            self.store.put(res.key, updated)
            return self.view(res, updated, version)
        return self._remove(res, current, version)

    def _remove(self, res: Resource, current: Obj, version: str) -> Obj:
        final = self.store.remove(res.key, current)
        res.strategy.removed(final)
        return self.view(res, final, version)

    def _grace_seconds(self, res: Resource, obj: Obj, options: DeleteOptions) -> int:
        """Pods bound to a node terminate gracefully when a simulated kubelet is there to finish the job."""
        if res.plural != "pods" or res.group or not self.graceful_pod_deletion:
            return 0
        if not (obj.get("spec") or {}).get("nodeName"):
            return 0
        if options.grace_period_seconds is not None:
            return max(0, options.grace_period_seconds)
        return int((obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30))

    def delete_collection(
        self,
        res: Resource,
        version: str,
        namespace: str | None,
        labels: LabelSelector = EVERYTHING,
        fields: FieldSelector | None = None,
        options: DeleteOptions | None = None,
    ) -> ObjList:
        result = self.list(res, version, namespace, labels, fields)
        deleted: ObjList = []
        for obj in result.items:
            try:
                deleted.append(
                    self.delete(
                        res, version, obj["metadata"].get("namespace"), obj["metadata"]["name"], options
                    )
                )
            except ApiError as exc:
                if exc.code != 404:
                    raise
        return deleted

    # ---------------------------------------------------------------- pods

    def bind(self, namespace: str, name: str, node: str) -> Obj:
        """``pods/binding``: assign a pod to a node, as the scheduler does."""
        res = self.resource(_POD_TYPE)
        current = self.get_stored(res, namespace, name)
        bound = (current.get("spec") or {}).get("nodeName")
        if bound:
            raise errors.conflict("pods", "", name, f'pod {name} is already assigned to node "{bound}"')
        if current["metadata"].get("deletionTimestamp"):
            raise errors.conflict(
                "pods", "", name, f"pod {name} is being deleted, cannot be assigned to a host"
            )
        new = copy.deepcopy(current)
        new["spec"]["nodeName"] = node
        conditions = [
            c for c in new.setdefault("status", {}).get("conditions") or [] if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": clock.now(),
            }
        )
        new["status"]["conditions"] = conditions
        return self.store.put(res.key, new)

    def finalize_namespace(self, name: str) -> None:
        """What the namespace controller does once a terminating namespace is empty."""
        res = self.resource(_NAMESPACE_TYPE)
        current = self.store.get(res.key, "", name)
        if current is None:
            return
        updated = {
            **current,
            "spec": {**(current.get("spec") or {}), "finalizers": []},
            "metadata": dict(current["metadata"]),
        }
        if current["metadata"].get("finalizers"):
            self.store.put(res.key, updated)
        else:
            self._remove(res, updated, "v1")

    def replace_meta(self, res: Resource, current: Obj, **changes: Any) -> Obj:
        """Write ``current`` with metadata fields changed (the garbage collector's finalizer/owner edits)."""
        meta = {**current["metadata"], **changes}
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
        updated = {**current, "metadata": meta}
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not _spec_finalizers(updated):
            return self._remove(res, updated, res.storage_version)
        self.store.put(res.key, updated)
        res.strategy.stored(updated, current)
        return updated


def _spec_finalizers(obj: Obj) -> list[str]:
    """Namespaces also wait for ``spec.finalizers`` (the namespace controller's own)."""
    if obj.get("kind") != "Namespace":
        return []
    return list((obj.get("spec") or {}).get("finalizers") or [])


def _spec_changed(res: Resource, version: str, new: Obj, old: Obj) -> bool:
    skip = {"metadata", "apiVersion", "kind"}
    if not res.is_crd or res.has_subresource(version, "status"):
        skip.add("status")
    keys = (set(new) | set(old)) - skip
    return any(new.get(k) != old.get(k) for k in keys)


_CRD_TYPE = ResourceType(
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False
)
_POD_TYPE = ResourceType("", "v1", "Pod", "pods", True)
_NAMESPACE_TYPE = ResourceType("", "v1", "Namespace", "namespaces", False)
