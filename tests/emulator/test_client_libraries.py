"""Client libraries the project uses work against the emulator through its kubeconfig."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client, config, watch

from kaito_sim import KubeEmulator

pytestmark = pytest.mark.emulator_only


async def test_kubernetes_asyncio_crud_and_watch(emu: KubeEmulator) -> None:
    api_client = await config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    async with api_client:
        core = client.CoreV1Api(api_client)
        namespaces = await core.list_namespace()
        assert "default" in [n.metadata.name for n in namespaces.items]
        listed = await core.list_namespaced_config_map("default")
        created = await core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a"), data={"k": "v"})
        )
        assert created.metadata.resource_version
        seen: list[tuple[str, str]] = []
        stream = watch.Watch()
        async with stream:
            async for event in stream.stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=listed.metadata.resource_version,
                timeout_seconds=5,
            ):
                seen.append((event["type"], event["object"].metadata.name))
                if len(seen) == 1:
                    await core.patch_namespaced_config_map("a", "default", {"data": {"k": "w"}})
                if len(seen) == 2:
                    break
        assert seen == [("ADDED", "a"), ("MODIFIED", "a")]
        custom = client.CustomObjectsApi(api_client)
        widget = {
            "apiVersion": "test.kaito.sh/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": "large"},
        }
        made = await custom.create_namespaced_custom_object(
            "test.kaito.sh", "v1", "default", "widgets", widget
        )
        assert made["spec"]["replicas"] == 1
        with pytest.raises(client.ApiException) as conflict:
            await custom.create_namespaced_custom_object("test.kaito.sh", "v1", "default", "widgets", widget)
        assert conflict.value.status == 409


async def test_token_auth(emu: KubeEmulator) -> None:
    async with KubeEmulator(token="s3cret") as guarded:
        api_client = await config.new_client_from_config(config_file=str(guarded.kubeconfig_path))
        async with api_client:
            assert (await client.CoreV1Api(api_client).list_namespace()).items
        config_without_token = client.Configuration(host=guarded.url)
        async with client.ApiClient(config_without_token) as anonymous:
            with pytest.raises(client.ApiException) as denied:
                await client.CoreV1Api(anonymous).list_namespace()
            assert denied.value.status == 401
