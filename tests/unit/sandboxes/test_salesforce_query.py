"""SOQL over REST: shapes, paging, relationships, polling by SystemModstamp, errors."""

from __future__ import annotations

import httpx

from concord.local.sandboxes.kit import SandboxController

from .conftest import doc_example, same_shape


def _query(client: httpx.Client, soql: str, **headers: str) -> httpx.Response:
    return client.get("/query", params={"q": soql}, headers=headers)


def test_paging_with_batch_size_walks_every_record_once(crm: httpx.Client, control: SandboxController) -> None:
    control.seed("crm", "Account", [{"Name": f"A{i:03d}"} for i in range(450)])
    first = _query(crm, "SELECT Name FROM Account ORDER BY Name", **{"Sforce-Query-Options": "batchSize=200"})
    assert same_shape(doc_example("query_more")["response"], first.json())
    body, names = first.json(), []
    while True:
        names += [r["Name"] for r in body["records"]]
        if body["done"]:
            break
        body = httpx.get(str(crm.base_url).split("/services/")[0] + body["nextRecordsUrl"], headers=crm.headers).json()
    assert names == [f"A{i:03d}" for i in range(450)] and body["totalSize"] == 450
    assert same_shape(doc_example("query_done")["response"], body)


def test_polling_by_systemmodstamp_and_id_sees_each_change_once(crm: httpx.Client) -> None:
    ids = [crm.post("/sobjects/Account", json={"Name": f"n{i}"}).json()["id"] for i in range(5)]
    seen: list[str] = []
    stamp, last_id = "2000-01-01T00:00:00.000+0000", "000000000000000AAA"
    while True:
        records = _query(
            crm,
            "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > "
            f"{stamp} OR (SystemModstamp = {stamp} AND Id > '{last_id}') "
            "ORDER BY SystemModstamp, Id LIMIT 2",
        ).json()["records"]
        if not records:
            break
        seen += [r["Id"] for r in records]
        stamp, last_id = records[-1]["SystemModstamp"], records[-1]["Id"]
    assert seen == ids
    crm.patch(f"/sobjects/Account/{ids[1]}", json={"Name": "changed"})
    again = _query(crm, f"SELECT Id FROM Account WHERE SystemModstamp > {stamp}").json()
    assert [r["Id"] for r in again["records"]] == [ids[1]]


def test_parent_fields_and_child_subqueries(crm: httpx.Client, psa: httpx.Client) -> None:
    product = crm.post("/sobjects/Product2", json={"Name": "Consulting", "ProductCode": "C-1"}).json()["id"]
    opp = crm.post(
        "/sobjects/Opportunity", json={"Name": "d", "CloseDate": "2026-02-01", "StageName": "Prospecting"}
    ).json()["id"]
    crm.post(
        "/sobjects/OpportunityLineItem",
        json={"OpportunityId": opp, "Product2Id": product, "Quantity": 1, "UnitPrice": 100},
    )
    record = _query(
        crm,
        "SELECT Id, Name, (SELECT Id, Product2.ProductCode, TotalPrice FROM "
        f"OpportunityLineItems) FROM Opportunity WHERE Id = '{opp}'",
    ).json()["records"][0]
    lines = record["OpportunityLineItems"]
    assert lines["totalSize"] == 1 and lines["done"] is True
    assert lines["records"][0]["Product2"]["ProductCode"] == "C-1"
    assert lines["records"][0]["TotalPrice"] == 100
    project = psa.patch("/sobjects/pse__Proj__c/Concord_Ref__c/P-1", json={"Name": "P"}).json()["id"]
    psa.post(
        "/sobjects/pse__Project_Task__c", json={"Name": "T", "pse__Project__c": project, "Concord_Task_Ref__c": "T-1"}
    )
    found = _query(
        psa,
        "SELECT Id, Concord_Ref__c, (SELECT Id, Name FROM pse__Project_Tasks__r) "
        "FROM pse__Proj__c WHERE Concord_Ref__c = 'P-1'",
    ).json()["records"][0]
    assert [t["Name"] for t in found["pse__Project_Tasks__r"]["records"]] == ["T"]
    crm.post("/sobjects/Opportunity", json={"Name": "bare", "CloseDate": "2026-02-01", "StageName": "Prospecting"})
    empty = _query(
        crm, "SELECT Id, (SELECT Id FROM OpportunityLineItems), Account.Name FROM Opportunity WHERE Name = 'BARE'"
    ).json()["records"][0]  # = ignores case
    assert empty["OpportunityLineItems"] is None and empty["Account"] is None


def test_filters_in_like_not_booleans_dates_and_limit(crm: httpx.Client, control: SandboxController) -> None:
    control.seed(
        "crm",
        "Opportunity",
        [
            {"Name": "alpha", "StageName": "Closed Won", "IsWon": True, "CloseDate": "2026-01-10", "Amount": 10},
            {"Name": "beta", "StageName": "Prospecting", "IsWon": False, "CloseDate": "2026-03-01", "Amount": 20},
            {"Name": "gamma", "StageName": "Closed Lost", "IsWon": False, "CloseDate": "2026-02-01"},
        ],
    )

    def names(where: str) -> list[str]:
        answer = _query(crm, f"SELECT Name FROM Opportunity WHERE {where} ORDER BY Name")
        assert answer.status_code == 200, answer.text
        return [r["Name"] for r in answer.json()["records"]]

    assert names("StageName IN ('Closed Won', 'Closed Lost')") == ["alpha", "gamma"]
    assert names("StageName NOT IN ('Closed Won')") == ["beta", "gamma"]
    assert names("Name LIKE 'A%'") == ["alpha"]
    assert names("IsWon = true") == ["alpha"]
    assert names("CloseDate >= 2026-02-01") == ["beta", "gamma"]
    assert names("Amount = null") == ["gamma"]
    assert names("NOT (Amount > 15)") == ["alpha", "gamma"]
    limited = _query(crm, "SELECT Name FROM Opportunity ORDER BY CloseDate DESC LIMIT 1").json()
    assert limited["totalSize"] == 1 and limited["records"][0]["Name"] == "beta"


def test_query_errors(crm: httpx.Client) -> None:
    cases = {
        "SELECT Id FORM Account": "MALFORMED_QUERY",
        "SELECT Id FROM Account WHERE": "MALFORMED_QUERY",
        "SELECT Nope__c FROM Account": "INVALID_FIELD",
        "SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01'": "INVALID_FIELD",
        "SELECT Id FROM Nothing__c": "INVALID_TYPE",
        "SELECT Id FROM Account WHERE Id = 'bad'": "INVALID_QUERY_FILTER_OPERATOR",
    }
    for soql, code in cases.items():
        answer = _query(crm, soql)
        assert answer.status_code == 400 and answer.json()[0]["errorCode"] == code, (soql, answer.text)
    expected = doc_example("errors")["malformed_query"]["body"]
    assert _query(crm, "SELECT Id FORM Account").json() == expected
