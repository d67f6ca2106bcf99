"""The OpenAPI document describes exactly the routes of the route table."""

from __future__ import annotations

from tests.functional.api.conftest import Api
from vfnet.api.routes import ROUTES


def test_the_openapi_document_lists_every_route_of_the_table(api: Api) -> None:
    response = api.client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert listed == {(route.method, route.path) for route in ROUTES}


def test_request_bodies_in_the_openapi_document_refuse_unknown_fields(api: Api) -> None:
    schemas = api.client.get("/v1/openapi.json").json()["components"]["schemas"]
    bodies = ("FlavorIn", "HostIn", "InventoryIn", "DeviceReport", "PlacementIn", "InstancePortIn")
    networking = ("NetworkIn", "NetworkUpdate", "SubnetIn", "SubnetUpdate", "PoolIn", "PortIn")
    more = ("PortUpdate", "FixedIpIn", "QosPolicyIn", "QosPolicyUpdate", "RuleIn")
    for name in bodies + networking + more:
        assert schemas[name]["additionalProperties"] is False, name


def test_neutron_field_names_are_written_with_their_colons(api: Api) -> None:
    schemas = api.client.get("/v1/openapi.json").json()["components"]["schemas"]
    assert "provider:segmentation_id" in schemas["NetworkIn"]["properties"]
    assert "binding:vif_details" in schemas["PortOut"]["properties"]
