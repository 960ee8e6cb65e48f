"""WebRTC tests may only see the private namespace's own interfaces."""

import os
import socket

import pytest

from tests.webrtc import needs_netns


@needs_netns
def test_only_private_interfaces_exist() -> None:
    # if_nameindex asks the kernel for this namespace (sysfs may show the host's)
    assert sorted(name for _, name in socket.if_nameindex()) == ["lo", "wv0", "wv1"]


def test_the_suite_runs_in_the_namespace_under_ci() -> None:
    if os.environ.get("CI") == "true" and os.environ.get("LEDARSTIG_NETNS") != "1":
        pytest.fail("CI must run the suite through ./scripts/test, inside the namespace")
