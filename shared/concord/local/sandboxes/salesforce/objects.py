"""The objects the sandbox knows: standard CRM objects with the custom fields Concord's
configuration adds, and the Certinia PSA (`pse__`) managed-package objects.

Field names follow Salesforce's Object Reference and Certinia's PSA data dictionary
(https://help.certinia.com/TechnicalReference/2025.3/ProfessionalServicesAutomation/Schema/).
Not confirmed there, so chosen here: the key prefixes of the custom objects (orgs assign
them), the child relationship names other than pse__Project_Tasks__r, and the picklist values
of budget/expense/timecard status and type (their values are org configuration, so those
picklists are left unrestricted). Standard fields the sandbox leaves out: OwnerId, IsDeleted,
PricebookEntryId (a line item names its Product2 directly here)."""

from __future__ import annotations

from .schema import FieldType as T
from .schema import Schema, SField

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY")
OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
FINANCIAL_STATUSES = ("not_invoiced", "invoiced", "partially_paid", "paid", "overdue")
PROJECT_STAGES = ("Planned", "In Progress", "On Hold", "Completed")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def text(name: str, length: int = 255, **flags: object) -> SField:
    return SField(name, T.STRING, length=length, **flags)  # type: ignore[arg-type]


def ext_id(name: str, length: int = 80) -> SField:
    return SField(name, T.STRING, length=length, external_id=True, unique=True)


def ref(name: str, to: str, relationship: str, children: str | None = None, required: bool = False) -> SField:
    return SField(
        name,
        T.REFERENCE,
        length=18,
        references=to,
        relationship=relationship,
        child_relationship=children,
        required=required,
    )


def picklist(
    name: str, values: tuple[str, ...], *, restricted: bool = True, required: bool = False, default: str | None = None
) -> SField:
    return SField(
        name, T.PICKLIST, length=255, picklist=values, restricted=restricted, required=required, default=default
    )


def flag(name: str, default: bool = False, writable: bool = True) -> SField:
    return SField(name, T.BOOLEAN, default=default, writable=writable)


def number(name: str, kind: T = T.DOUBLE, writable: bool = True, required: bool = False) -> SField:
    return SField(name, kind, writable=writable, required=required)


def day(name: str, required: bool = False) -> SField:
    return SField(name, T.DATE, required=required)


CURRENCY = picklist("CurrencyIsoCode", CURRENCIES, default="USD")

CRM_OBJECTS = [
    (
        "Account",
        "001",
        [
            text("Name", required=True),
            SField("BillingStreet", T.TEXTAREA, length=255),
            text("BillingCity", 40),
            text("BillingState", 80),
            text("BillingPostalCode", 20),
            text("BillingCountry", 80),
            CURRENCY,
            text("Tax_Id__c", 40),
            text("Legal_Entity__c", 80),
            ext_id("Concord_Ref__c"),
            ext_id("Concord_Customer_Ref__c"),
        ],
    ),
    (
        "Contact",
        "003",
        [
            text("FirstName", 40),
            text("LastName", 80, required=True),
            text("Email", 80),
            ref("AccountId", "Account", "Account", "Contacts"),
            CURRENCY,
        ],
    ),
    (
        "Product2",
        "01t",
        [
            text("Name", required=True),
            text("ProductCode"),
            flag("IsActive"),
            CURRENCY,
        ],
    ),
    (
        "Opportunity",
        "006",
        [
            ref("AccountId", "Account", "Account", "Opportunities"),
            text("Name", 120, required=True),
            number("Amount", T.CURRENCY),
            CURRENCY,
            day("CloseDate", required=True),
            picklist("StageName", OPPORTUNITY_STAGES, required=True),
            flag("IsClosed", writable=False),
            flag("IsWon", writable=False),  # follow StageName
            picklist("Concord_Financial_Status__c", FINANCIAL_STATUSES),
        ],
    ),
    (
        "OpportunityLineItem",
        "00k",
        [
            ref("OpportunityId", "Opportunity", "Opportunity", "OpportunityLineItems", required=True),
            ref("Product2Id", "Product2", "Product2"),
            number("Quantity", required=True),
            number("UnitPrice", T.CURRENCY, required=True),
            number("TotalPrice", T.CURRENCY, writable=False),  # Quantity * UnitPrice
            text("Description"),
            CURRENCY,
        ],
    ),
]

PSA_OBJECTS = [
    (
        "pse__Proj__c",
        "a0A",
        [
            text("Name", 80, required=True),
            ref("pse__Account__c", "Account", "pse__Account__r", "pse__Projects__r"),
            ref("pse__Opportunity__c", "Opportunity", "pse__Opportunity__r", "pse__Projects__r"),
            flag("pse__Is_Active__c"),
            flag("pse__Is_Billable__c"),
            picklist("pse__Stage__c", PROJECT_STAGES),
            day("pse__Start_Date__c"),
            day("pse__End_Date__c"),
            CURRENCY,
            ext_id("Concord_Ref__c"),
            text("Concord_Billing_Status__c", 40),
        ],
    ),
    (
        "pse__Project_Task__c",
        "a0B",
        [
            text("Name", 80, required=True),
            ref("pse__Project__c", "pse__Proj__c", "pse__Project__r", "pse__Project_Tasks__r", required=True),
            ext_id("Concord_Task_Ref__c"),
            number("pse__Estimated_Hours__c"),
        ],
    ),
    (
        "pse__Budget__c",
        "a0C",
        [
            text("Name", 80),
            ref("pse__Project__c", "pse__Proj__c", "pse__Project__r", "pse__Budgets__r", required=True),
            number("pse__Amount__c", T.CURRENCY),
            CURRENCY,
            picklist("pse__Status__c", ("Draft", "Open", "Approved", "Rejected"), restricted=False),
            flag("pse__Approved__c"),
            picklist(
                "pse__Type__c",
                (
                    "Customer Purchase Order",
                    "Customer Purchase Order Change Request",
                    "Internal Budget",
                    "Internal Budget Change Request",
                ),
                restricted=False,
            ),
        ],
    ),
    (
        "pse__Timecard_Header__c",
        "a0D",
        [
            ref("pse__Project__c", "pse__Proj__c", "pse__Project__r", "pse__Timecards__r", required=True),
            ref("pse__Project_Task__c", "pse__Project_Task__c", "pse__Project_Task__r"),
            ref("pse__Resource__c", "Contact", "pse__Resource__r", required=True),
            picklist("pse__Status__c", ("Saved", "Submitted", "Approved", "Rejected"), restricted=False),
            flag("pse__Approved__c"),
            flag("pse__Submitted__c"),
            flag("pse__Billable__c"),
            day("pse__Start_Date__c", required=True),  # the Monday of the week
            *(number(f"pse__{weekday}_Hours__c") for weekday in WEEKDAYS),
            number("pse__Total_Hours__c", writable=False),  # sum of the seven days
        ],
    ),
    (
        "pse__Expense__c",
        "a0E",
        [
            ref("pse__Project__c", "pse__Proj__c", "pse__Project__r", "pse__Expenses__r", required=True),
            ref("pse__Resource__c", "Contact", "pse__Resource__r"),
            day("pse__Expense_Date__c"),
            number("pse__Amount__c", T.CURRENCY),
            CURRENCY,
            picklist("pse__Type__c", ("Airfare", "Hotel", "Meals", "Mileage", "Other"), restricted=False),
            flag("pse__Billable__c"),
            flag("pse__Approved__c"),
        ],
    ),
]


def crm_org() -> Schema:
    """A Salesforce CRM org."""
    return Schema(CRM_OBJECTS)


def psa_org() -> Schema:
    """An org with Certinia PSA installed: its Accounts are the PSA clients."""
    return Schema(CRM_OBJECTS + PSA_OBJECTS)
