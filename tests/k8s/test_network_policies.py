"""Who may connect to whom, worked out from the NetworkPolicies the way a
cluster enforces them, for the chart's default render and for manifests/:
what the components map of the invoicer chart says (tests/k8s/components.py).
Only the gateway takes traffic from outside; auth only from the gateway;
each database only from the components that use it; the consumers and the
migration from nobody."""

from __future__ import annotations

import pytest

NAMESPACE = "invoicer"
# Sources that are not pods of the release: a pod in another namespace, and a
# client outside the cluster (through a load balancer or an ingress on the
# node network).
OUTSIDE_POD = ("elsewhere", {"kubernetes.io/metadata.name": "elsewhere"}, {"app": "curious"})
KEDA_OPERATOR = ("keda", {"kubernetes.io/metadata.name": "keda"}, {"app.kubernetes.io/name": "keda-operator"})
EXTERNAL = "outside the cluster"


def expected_connections(components, component_tools, charts) -> dict[str, dict[int, set]]:
    """target workload -> port -> the sources that may connect, from the components
    map (callers, uses) and the databases' ports."""
    everyone = set(components) | set(component_tools.BACKENDS) | {"elsewhere", "keda", EXTERNAL}
    expected: dict[str, dict[int, set]] = {}
    for name, component in components.items():
        if component.port is None:
            expected[name] = {}
        elif component.http and component_tools.ANYONE in component.callers:
            expected[name] = {component.port: everyone - {name}}  # the target itself is not asked
        else:
            expected[name] = {component.port: component.callers if component.http else set()}
    for backend in component_tools.BACKENDS:
        expected[backend] = {
            charts[backend]["values"]["service"]["port"]: component_tools.users_of(components, backend)
        }
    expected["rabbitmq"][charts["rabbitmq"]["values"]["service"]["managementPort"]] = set()
    return expected


def test_the_expected_connections_are_those_the_services_need(bundle, components, component_tools):
    """The map says what the code of today's components needs: these pairs are
    the contract with src/ (a component added later is left out of the count)."""
    expected = expected_connections(components, component_tools, bundle.charts)
    known = {"auth", "gateway", "worker", "notification", "migrate"}
    assert known <= set(components)
    assert expected["auth"] == {8081: {"gateway"}}
    assert expected["worker"] == expected["notification"] == {8090: set()}
    assert expected["migrate"] == {}
    assert expected["postgresql"][5432] & known == {"auth", "gateway", "worker", "notification", "migrate"}
    assert expected["mongodb"][27017] & known == {"gateway", "worker"}
    assert expected["rabbitmq"][5672] & known == {"gateway", "worker", "notification"}
    assert expected["rabbitmq"][15672] == set()
    assert expected["gateway"][8080] >= (known - {"gateway"}) | {"elsewhere", EXTERNAL}


def _matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector against labels; {} selects everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _peer_admits(peer: dict, source) -> bool:
    if source == EXTERNAL:
        return "ipBlock" in peer
    namespace, namespace_labels, pod_labels = source
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif namespace != NAMESPACE:
        return False
    return _matches(peer.get("podSelector"), pod_labels)


def _allowed(policies: list[dict], pod_labels: dict, port: int, source) -> bool:
    selecting = [
        p
        for p in policies
        if _matches(p["spec"]["podSelector"], pod_labels) and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return True  # no policy: everything is let in
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port for p in ports):
                continue
            peers = rule.get("from")
            if not peers or any(_peer_admits(peer, source) for peer in peers):
                return True
    return False


def _pods(bundle, objects) -> dict[str, dict]:
    pods = {}
    for workload in bundle.workloads(objects):
        labels = bundle.pod_template(workload)["metadata"]["labels"]
        name = labels.get("app.kubernetes.io/component")
        if name in ("database", "broker"):
            name = labels["app.kubernetes.io/name"]
        if name == "test":
            continue
        pods[name] = labels
    return pods


@pytest.mark.parametrize("source_of_objects", ["chart", "manifests", "added-component"])
def test_who_may_connect_to_whom(bundle, components, component_tools, source_of_objects):
    """For the "added-component" case (an HTTP service "invoices" called by the
    gateway, using PostgreSQL and RabbitMQ, see conftest.ADDED_COMPONENT), the
    databases' charts are the unchanged defaults: their policies admit the new
    component by the labels it gets from the map."""
    charts = bundle.charts
    if source_of_objects == "chart":
        objects = bundle.objects("default")
    elif source_of_objects == "manifests":
        objects = bundle.manifest_objects()
    else:
        objects = bundle.objects("added-component")
        components = component_tools.load(bundle.render("added-component")["chart_values"])
        assert "invoices" in components
    expected = expected_connections(components, component_tools, charts)
    policies = bundle.find(objects, "NetworkPolicy")
    pods = _pods(bundle, objects)
    assert set(pods) == set(expected)
    sources = {name: (NAMESPACE, {"kubernetes.io/metadata.name": NAMESPACE}, labels) for name, labels in pods.items()}
    sources.update({"elsewhere": OUTSIDE_POD, "keda": KEDA_OPERATOR, EXTERNAL: EXTERNAL})
    for target, ports in expected.items():
        # Every pod is covered by a policy: nothing is open by omission.
        assert any(_matches(p["spec"]["podSelector"], pods[target]) for p in policies), f"{target} has no policy"
        for port, expected in ports.items():
            allowed = {
                name
                for name, source in sources.items()
                if name != target and _allowed(policies, pods[target], port, source)
            }
            assert allowed == expected, f"{source_of_objects}: {target}:{port} admits {sorted(allowed)}"


def test_gateway_sources_can_be_restricted(bundle):
    """With networkPolicy.gatewayFrom (the full case: the ingress-nginx
    namespace) the world is shut out, the ingress controller and `helm test` let in."""
    objects = bundle.objects("full", "invoicer")
    policies = bundle.find(objects, "NetworkPolicy")
    gateway = _pods(bundle, objects)["gateway"]
    nginx = ("ingress-nginx", {"kubernetes.io/metadata.name": "ingress-nginx"}, {"app": "controller"})
    test_pod = bundle.pod_template(bundle.one(objects, "Pod", "invoicer-test"))["metadata"]["labels"]
    assert _allowed(policies, gateway, 8080, nginx)
    assert _allowed(policies, gateway, 8080, (NAMESPACE, {}, test_pod))
    assert not _allowed(policies, gateway, 8080, OUTSIDE_POD)
    assert not _allowed(policies, gateway, 8080, EXTERNAL)


def test_keda_can_be_let_through_to_rabbitmq(bundle):
    """networkPolicy.allowKeda of the RabbitMQ chart (the full case) admits
    KEDA's operator, which reads the queue depth, and nobody else besides."""
    objects = bundle.objects("full", "rabbitmq")
    policies = bundle.find(objects, "NetworkPolicy")
    broker = _pods(bundle, objects)["rabbitmq"]
    assert _allowed(policies, broker, 5672, KEDA_OPERATOR)
    assert not _allowed(policies, broker, 5672, OUTSIDE_POD)
    assert not _allowed(policies, broker, 15672, KEDA_OPERATOR)


def test_policies_can_be_switched_off(bundle):
    assert bundle.find(bundle.objects("minimal", "invoicer"), "NetworkPolicy") == []
    assert bundle.find(bundle.objects("minimal", "rabbitmq"), "NetworkPolicy") == []
