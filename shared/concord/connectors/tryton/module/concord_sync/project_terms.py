"""Project terms and cost forecast in the ERP: what Concord keeps there that Tryton lacks.

A SaaS ERP (NetSuite, D365, Workday...) has a project contract with its billing type, billing
owner and milestones, and a project cost forecast by person; Tryton 8.2's erp database has
neither (a project.work has a revenue and an effort, not a contract or a staffing plan). This is
the smallest honest model of both: one record per project (by Concord's project id, the PSA
owns the project itself) holding

- the contract terms: contract type, billing owner, milestones (id, name, amount, due date);
- the cost forecast: total planned hours and cost, and one line per person (the PSA's employee
  id, role, planned hours, hourly cost rate).

Concord writes both through ErpPort.set_contract_terms / set_project_forecast (replacing the
lines; nothing is written when they are equal); ERP users see them under Projects > Concord
Project Terms. Set up only where both `sale` (contracts) and `project` are active: the erp
database.
"""

from trytond.model import ModelSQL, ModelView, Unique, fields

CONTRACT_TYPES = [
    (None, ""),
    ("time_and_materials", "Time and Materials"),
    ("fixed_fee", "Fixed Fee"),
    ("milestone", "Milestone"),
]
AMOUNT_DIGITS = (16, 4)
HOURS_DIGITS = (16, 2)


class ProjectTerms(ModelSQL, ModelView):
    "Concord Project Terms"

    __name__ = "concord.project.terms"
    _rec_name = "project_ref"

    project_ref = fields.Char(
        "Project Reference",
        required=True,
        strip=True,
        help="Concord's canonical id of the project (the PSA owns the project).",
    )
    customer = fields.Many2One("party.party", "Customer", ondelete="RESTRICT")
    contract_type = fields.Selection(
        CONTRACT_TYPES,
        "Contract Type",
        sort=False,
        help="Empty until Concord has received the project's contract terms.",
    )
    billing_owner = fields.Char("Billing Owner")
    milestones = fields.One2Many("concord.project.milestone", "terms", "Milestones", order=[("id", "ASC")])
    forecast_hours = fields.Numeric("Forecast Hours", digits=HOURS_DIGITS)
    forecast_cost = fields.Numeric("Forecast Cost", digits=AMOUNT_DIGITS)
    forecast_currency = fields.Many2One("currency.currency", "Forecast Currency", ondelete="RESTRICT")
    forecast_lines = fields.One2Many("concord.project.forecast_line", "terms", "Forecast Lines", order=[("id", "ASC")])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_constraints.append(
            ("project_ref_unique", Unique(table, table.project_ref), "concord_sync.msg_project_terms_unique")
        )
        cls._order = [("project_ref", "ASC"), ("id", "ASC")]


class ProjectMilestone(ModelSQL, ModelView):
    "Concord Project Milestone"

    __name__ = "concord.project.milestone"

    terms = fields.Many2One("concord.project.terms", "Project Terms", required=True, ondelete="CASCADE")
    milestone_id = fields.Char("Milestone ID", required=True)
    name = fields.Char("Name", required=True)
    amount = fields.Numeric("Amount", digits=AMOUNT_DIGITS, required=True)
    currency = fields.Many2One("currency.currency", "Currency", required=True, ondelete="RESTRICT")
    due_on = fields.Date("Due On", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [("terms", "ASC"), ("id", "ASC")]


class ProjectForecastLine(ModelSQL, ModelView):
    "Concord Project Forecast Line"

    __name__ = "concord.project.forecast_line"

    terms = fields.Many2One("concord.project.terms", "Project Terms", required=True, ondelete="CASCADE")
    employee_id = fields.Char("Employee ID", required=True, help="The PSA's id of the employee.")
    role = fields.Char("Role", required=True)
    planned_hours = fields.Numeric("Planned Hours", digits=HOURS_DIGITS, required=True)
    cost_rate = fields.Numeric("Cost Rate", digits=AMOUNT_DIGITS, required=True, help="Cost per hour.")
    currency = fields.Many2One("currency.currency", "Currency", required=True, ondelete="RESTRICT")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [("terms", "ASC"), ("id", "ASC")]
