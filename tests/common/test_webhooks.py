"""Units of the webhook helpers: the address policy, signing, the retry policy."""

from __future__ import annotations

import time

import pytest
import standardwebhooks

from invoicer.common.config import ConfigError, Settings
from invoicer.common.webhooks import AddressRefused, check_address, new_secret, parse_networks, sign, verify
from invoicer.webhook.sending import settle
from invoicer.webhook.transport import Answer


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "0.0.0.0",
        "::",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "100.100.100.200",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused(address):
    with pytest.raises(AddressRefused):
        check_address(address)


def test_public_addresses_pass_and_allowed_networks_let_chosen_ones_through():
    assert str(check_address("93.184.215.14")) == "93.184.215.14"
    assert str(check_address("2606:4700::1111")) == "2606:4700::1111"
    allowed = parse_networks("127.0.0.0/8, fd00::/8")
    assert str(check_address("127.0.0.1", allowed)) == "127.0.0.1"
    assert str(check_address("fd00:ec2::254", allowed)) == "fd00:ec2::254"
    with pytest.raises(AddressRefused):
        check_address("10.0.0.1", allowed)
    with pytest.raises(ValueError, match="not a CIDR"):
        parse_networks("127.0.0.0/33")
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOWED_NETWORKS"):
        Settings.from_env({"WEBHOOK_ALLOWED_NETWORKS": "localhost"})
    with pytest.raises(ConfigError, match="WEBHOOK_RETRY_SCHEDULE"):
        Settings.from_env({"WEBHOOK_RETRY_SCHEDULE": "5,-1"})


def test_signatures_are_standard_webhooks_ones_for_every_secret_given():
    first, second = new_secret(), new_secret()
    now = int(time.time())
    header = sign([first, second], "msg_1", now, b'{"type":"invoice.paid"}')
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": header}
    for secret in (first, second):
        standardwebhooks.Webhook(secret).verify(b'{"type":"invoice.paid"}', headers)
        assert verify(secret, b'{"type":"invoice.paid"}', headers)
    assert not verify(new_secret(), b'{"type":"invoice.paid"}', headers)
    assert not verify(first, b'{"type":"invoice.paid"}', {**headers, "webhook-signature": "garbage"})


def test_the_retry_policy_follows_the_schedule_with_jitter_then_gives_up():
    failed, schedule = Answer(500, "", 12), (5.0, 300.0)
    assert settle(Answer(204, "", 3), 1, schedule).status == "succeeded"
    assert settle(failed, 1, schedule, jitter=lambda: 0.0).delay == pytest.approx(4.0)
    assert settle(failed, 1, schedule, jitter=lambda: 0.999999).delay == pytest.approx(6.0, rel=1e-3)
    assert settle(failed, 2, schedule, jitter=lambda: 0.5).delay == pytest.approx(300.0)
    assert settle(failed, 3, schedule).status == "dead"
    gone = settle(Answer(410, "", 3), 1, schedule)
    assert gone.status == "dead" and gone.disable
    assert settle(Answer(None, "", 5000, "timed out"), 1, schedule).status == "pending"
