"""sObject rows, external-id upsert, validation and sObject Collections."""

from __future__ import annotations

import httpx

from concord.local.sandboxes.kit import SandboxController
from concord.local.sandboxes.salesforce import ids

from .conftest import API, doc_example, same_shape


def _account(crm: httpx.Client, **fields: object) -> str:
    answer = crm.post("/sobjects/Account", json={"Name": "Acme", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_create_get_patch_delete(crm: httpx.Client) -> None:
    example = doc_example("create")
    created = crm.post("/sobjects/Account", json=example["request"])
    assert created.status_code == example["status"]
    assert same_shape(example["response"], created.json())
    record_id = created.json()["id"]
    assert record_id.startswith("001") and len(record_id) == 18
    assert crm.patch(f"/sobjects/Account/{record_id}", json={"BillingCity": "Paris"}).status_code == 204
    got = crm.get(f"/sobjects/Account/{record_id}", params={"fields": "Name,BillingCity"}).json()
    assert got["BillingCity"] == "Paris" and got["attributes"]["type"] == "Account"
    assert set(got) == {"attributes", "Name", "BillingCity", "Id"}
    assert crm.delete(f"/sobjects/Account/{record_id}").status_code == 204
    gone = crm.get(f"/sobjects/Account/{record_id}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_upsert_by_external_id_201_then_200_then_300(crm: httpx.Client, control: SandboxController) -> None:
    example = doc_example("upsert_created")
    path = "/sobjects/Account/Concord_Ref__c/C-1"
    created = crm.patch(path, json={"Name": "California Wheat Corporation"})
    assert created.status_code == example["status"] and same_shape(example["response"], created.json())
    updated = crm.patch(path, json={"Name": "Renamed"})
    assert updated.status_code == 200 and updated.json()["created"] is False
    assert updated.json()["id"] == created.json()["id"]
    control.seed("crm", "Account", [{"Name": "a", "Concord_Ref__c": "DUP"}, {"Name": "b", "Concord_Ref__c": "DUP"}])
    many = crm.patch("/sobjects/Account/Concord_Ref__c/DUP", json={"Name": "x"})
    assert many.status_code == 300 and len(many.json()) == 2
    assert all(url.startswith(f"{API}/sobjects/Account/001") for url in many.json())
    assert crm.patch("/sobjects/Account/Name/Acme", json={"BillingCity": "x"}).status_code == 404


def test_validation_errors_name_the_field(crm: httpx.Client) -> None:
    account_id = _account(crm, Concord_Ref__c="UNIQ")
    cases = [
        ("Opportunity", {"Name": "x", "CloseDate": "2026-01-01"}, "REQUIRED_FIELD_MISSING"),
        (
            "Opportunity",
            {"Name": "x", "CloseDate": "2026-01-01", "StageName": "Won-ish"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        ("Account", {"Name": "x" * 256}, "STRING_TOO_LONG"),
        ("Account", {"Name": "x", "Concord_Ref__c": "UNIQ"}, "DUPLICATE_VALUE"),
        ("Contact", {"LastName": "x", "AccountId": "not-an-id"}, "MALFORMED_ID"),
        (
            "Contact",
            {"LastName": "x", "AccountId": ids.new_id("001", 999)},  # well formed, absent
            "INVALID_CROSS_REFERENCE_KEY",
        ),
        ("Account", {"Name": "x", "Nope__c": 1}, "INVALID_FIELD"),
        (
            "Opportunity",
            {"Name": "x", "CloseDate": "2026-01-01", "StageName": "Prospecting", "IsWon": True},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        ),
    ]
    for sobject, body, code in cases:
        answer = crm.post(f"/sobjects/{sobject}", json=body)
        assert answer.status_code == 400 and answer.json()[0]["errorCode"] == code, (code, answer.text)
    assert crm.get(f"/sobjects/Account/{account_id}").status_code == 200


def test_computed_fields_follow_their_inputs(crm: httpx.Client, psa: httpx.Client) -> None:
    opp = crm.post(
        "/sobjects/Opportunity", json={"Name": "d", "CloseDate": "2026-01-01", "StageName": "Closed Won"}
    ).json()["id"]
    line = crm.post(
        "/sobjects/OpportunityLineItem", json={"OpportunityId": opp, "Quantity": 3, "UnitPrice": 2.5}
    ).json()["id"]
    assert crm.get(f"/sobjects/Opportunity/{opp}").json()["IsWon"] is True
    assert crm.get(f"/sobjects/OpportunityLineItem/{line}").json()["TotalPrice"] == 7.5
    project = psa.post("/sobjects/pse__Proj__c", json={"Name": "P"}).json()["id"]
    resource = psa.post("/sobjects/Contact", json={"LastName": "R"}).json()["id"]
    card = {
        "pse__Project__c": project,
        "pse__Resource__c": resource,
        "pse__Monday_Hours__c": 8,
        "pse__Friday_Hours__c": 4.5,
    }
    tuesday = psa.post("/sobjects/pse__Timecard_Header__c", json={**card, "pse__Start_Date__c": "2026-01-06"})
    assert tuesday.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    monday = psa.post("/sobjects/pse__Timecard_Header__c", json={**card, "pse__Start_Date__c": "2026-01-05"}).json()[
        "id"
    ]
    assert psa.get(f"/sobjects/pse__Timecard_Header__c/{monday}").json()["pse__Total_Hours__c"] == 12.5


def test_crm_org_has_no_psa_objects(crm: httpx.Client) -> None:
    assert crm.post("/sobjects/pse__Proj__c", json={"Name": "P"}).status_code == 404


def test_collection_upsert_reports_each_record_in_order(crm: httpx.Client) -> None:
    example = doc_example("collections_upsert")
    records = [
        {"attributes": {"type": "Account"}, "Concord_Ref__c": "A", "Name": "a"},
        {"attributes": {"type": "Account"}, "Concord_Ref__c": "B"},
        {"attributes": {"type": "Account"}, "Concord_Ref__c": "A", "Name": "a2"},
    ]
    answer = crm.patch("/composite/sobjects/Account/Concord_Ref__c", json={"allOrNone": False, "records": records})
    assert answer.status_code == 200
    first, second, third = answer.json()
    assert same_shape(example["response"][0], first) and first["created"] is True
    assert same_shape(example["failed"], second) and second == example["failed"]
    assert third["created"] is False and third["id"] == first["id"]


def test_all_or_none_rolls_every_record_back(crm: httpx.Client) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "kept?"},
        {"attributes": {"type": "Account"}, "Name": "x" * 300},
    ]
    results = crm.post("/composite/sobjects", json={"allOrNone": True, "records": records}).json()
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert crm.get("/query", params={"q": "SELECT Id FROM Account"}).json()["totalSize"] == 0
    partial = crm.post("/composite/sobjects", json={"allOrNone": False, "records": records}).json()
    assert [r["success"] for r in partial] == [True, False]


def test_collection_update_by_id_and_the_200_record_limit(crm: httpx.Client) -> None:
    record_id = _account(crm)
    updated = crm.patch(
        "/composite/sobjects",
        json={"records": [{"attributes": {"type": "Account"}, "id": record_id, "BillingCity": "Oslo"}]},
    )
    assert updated.json() == [{"id": record_id, "success": True, "errors": []}]
    too_many = [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
    refused = crm.post("/composite/sobjects", json={"records": too_many})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
