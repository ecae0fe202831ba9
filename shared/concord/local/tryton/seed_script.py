"""Seed one freshly activated Tryton database with Concord's demo master data.

Runs INSIDE the Tryton venv (it imports trytond and proteus, which the project venv does not
have): bootstrap.py executes it as `<tryton python> seed_script.py CONFIG_FILE DATABASE`.
It talks to the database in-process through proteus and reuses Tryton's own test helpers, which
know how to drive the company, chart-of-accounts and fiscal-year wizards.

Its content is part of the snapshot key: editing it makes the next `ensure_databases` re-seed.
"""

import datetime as dt
import sys
from decimal import Decimal

from proteus import Model, config
from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
from trytond.modules.company.tests.tools import create_company, get_company

COMPANY_NAME = "Concord Demo Services Ltd"
CURRENCY = "USD"
PAYMENT_TERM = "Net 30 days"  # shipped by account_invoice 8.2
PRODUCT_NAME = "Consulting hour"
PRODUCT_CODE = "CONSULT-HR"  # the same in every system: services are mapped by code
PRODUCT_LIST_PRICE = Decimal("150.00")
PRODUCT_COST_PRICE = Decimal("90.00")
# erp only: what rebilled expenses are invoiced as (the line carries the expense's amount).
EXPENSE_PRODUCT_NAME = "Rebillable expenses"
EXPENSE_PRODUCT_CODE = "EXP-REBILL"
EMPLOYEE_NAME = "Alex Morgan"
EMPLOYEE_HOURLY_COST = Decimal("90.00")
# ISO 3166: code, code3, numeric, name. Tryton ships no countries (its
# trytond_import_countries script downloads them): these are enough for the demos.
COUNTRIES = (
    ("US", "USA", "840", "United States"),
    ("GB", "GBR", "826", "United Kingdom"),
    ("DE", "DEU", "276", "Germany"),
    ("FR", "FRA", "250", "France"),
    ("NL", "NLD", "528", "Netherlands"),
    ("CA", "CAN", "124", "Canada"),
)
PAYMENT_METHOD = "Bank transfer"  # for the pay wizard (account.invoice.pay)
# The CRM's demo customer: a complete account (billing address, tax id).
DEMO_CUSTOMER = {
    "name": "Northwind Advisory LLC",
    "street": "500 Market Street",
    "city": "San Francisco",
    "postal_code": "94105",
    "country": "US",
    "tax_identifier": ("us_ein", "94-3123456"),
}


def seed(config_file: str, database: str) -> None:
    cfg = config.set_trytond(database=database, config_file=config_file)

    Country = Model.get("country.country")
    countries = {}
    for code, code3, numeric, name in COUNTRIES:
        country = Country(name=name, code=code, code3=code3, code_numeric=numeric)
        country.save()
        countries[code] = country

    party = Model.get("party.party")(name=COMPANY_NAME)
    party.save()
    create_company(party=party, currency=CURRENCY)
    company = get_company()

    create_chart(company)
    accounts = get_accounts(company)
    # Whole calendar years around today, so a snapshot stays postable for a while
    # (the snapshot key includes the year, so it is rebuilt when the year turns).
    this_year = dt.date.today().year
    for year in (this_year - 1, this_year, this_year + 1):
        fiscalyear = create_fiscalyear(
            company, (dt.date(year, 1, 1), dt.date(year, 12, 31)))
        set_fiscalyear_invoice_sequences(fiscalyear)
        fiscalyear.save()
        fiscalyear.click("create_period")

    # Tryton 8.2 ships the usual terms; make Net 30 the default of new customers.
    term, = Model.get("account.invoice.payment_term").find([("name", "=", PAYMENT_TERM)])
    account_configuration = Model.get("account.configuration")(1)
    account_configuration.default_customer_payment_term = term
    account_configuration.save()

    category = Model.get("product.category")(name="Services", accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()
    ModelData = Model.get("ir.model.data")
    hour = Model.get("product.uom")(ModelData.get_id("product.uom_hour", cfg.context))
    Template = Model.get("product.template")
    template = Template(
        name=PRODUCT_NAME, code=PRODUCT_CODE, type="service", default_uom=hour,
        list_price=PRODUCT_LIST_PRICE, account_category=category)
    if "salable" in Template._fields:  # only where the sale module is active
        template.salable = True
        template.sale_uom = hour
    template.save()
    product, = template.products
    product.cost_price = PRODUCT_COST_PRICE
    product.save()
    if database == "erp":
        _seed_expense_product(cfg, category)

    cash_journal, = Model.get("account.journal").find([("type", "=", "cash")])
    Model.get("account.invoice.payment.method")(
        name=PAYMENT_METHOD, company=company, journal=cash_journal,
        credit_account=accounts["cash"], debit_account=accounts["cash"]).save()

    Employee = Model.get("company.employee")
    employee_party = Model.get("party.party")(name=EMPLOYEE_NAME)
    employee_party.save()
    employee = Employee(party=employee_party, company=company)
    if "cost_prices" in Employee._fields:  # timesheet_cost: drives project cost
        employee.cost_prices.new(cost_price=EMPLOYEE_HOURLY_COST)
    employee.save()

    # The admin user acts as that employee, so timesheets and opportunities get a default.
    User = Model.get("res.user")
    admin = User(cfg.user)
    admin.employees.append(employee)
    admin.employee = employee
    admin.save()

    if database == "crm":
        _seed_demo_customer(countries)


def _seed_expense_product(cfg: config.TrytondConfig, category: Model) -> None:
    """The service product rebilled expenses are invoiced as: unit "Unit", list price 0 (the
    invoice line carries the expense's amount)."""
    unit = Model.get("product.uom")(Model.get("ir.model.data").get_id("product.uom_unit", cfg.context))
    Template = Model.get("product.template")
    template = Template(
        name=EXPENSE_PRODUCT_NAME, code=EXPENSE_PRODUCT_CODE, type="service", default_uom=unit,
        list_price=Decimal(0), account_category=category)
    if "salable" in Template._fields:
        template.salable = True
        template.sale_uom = unit
    template.save()


def _seed_demo_customer(countries: dict) -> None:
    customer = DEMO_CUSTOMER
    party = Model.get("party.party")(name=customer["name"])
    # A party created by a user comes with one empty address (Party.default_addresses).
    address = party.addresses[0] if party.addresses else party.addresses.new()
    address.street = customer["street"]
    address.city = customer["city"]
    address.postal_code = customer["postal_code"]
    address.country = countries[customer["country"]]
    if "invoice" in address._fields:
        address.invoice = True
    kind, code = customer["tax_identifier"]
    party.identifiers.new(type=kind, code=code)
    party.save()


if __name__ == "__main__":
    seed(*sys.argv[1:3])
