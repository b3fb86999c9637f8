"""The seeded company's tables, kept as compact text so they read like a directory and a catalog.

``world`` parses these; the fixture names other tests rely on are constants in ``world``.
"""

from __future__ import annotations

from typing import Any

# username | name | key=value ...   perms, manages (domains) and groups are comma lists;
# any other key is an Immuta attribute.
CAST = """
admin | Ada Admin | perms=GOVERNANCE,APPLICATION_ADMIN,USER_ADMIN | groups=Data Governance Council
      | Department=Data Governance | Region=NA
sara  | Sara Stone | Department=Sales | Region=NA | Role=Data Steward
omar  | Omar Haddad | Department=Product | Region=EU | Role=Data Steward
gina  | Gina Rossi | groups=Finance Stewards | Department=Finance | Region=EU
rick  | Rick Moreno | Department=Sales | Region=NA
nora  | Nora Quinn | Department=Engineering
paula | Paula Price | manages=Sales,Marketing | groups=Sales Ops | Department=Sales | Region=NA
diego | Diego Alvarez | manages=Finance,Customer | Department=Finance | Region=NA
keiko | Keiko Tanaka | manages=HR,Operations,Product | Department=Operations | Region=APAC
farah | Farah Nasser | groups=Finance Stewards | Department=Finance | Region=EU
jonas | Jonas Berg | groups=Finance Stewards | Department=Finance | Region=EU
ivan  | Ivan Petrov | groups=Ops Leads | Department=Operations | Region=EU
marta | Marta Silva | groups=Ops Leads | Department=Operations | Region=NA
elena | Elena Costa | groups=HR Partners | Department=HR | Region=EU
samir | Samir Khan | groups=HR Partners | Department=HR | Region=APAC
priya | Priya Raman | groups=Data Governance Council | Department=Legal | Region=APAC | Role=Privacy Officer
theo  | Theo Laurent | perms=AUDIT | groups=Data Governance Council | Department=Internal Audit | Region=EU
"""

# Requesters filling the directory up to USER_COUNT; last names are paired by the seeded RNG.
FIRST_NAMES = (
    "liam emma noah olivia ava mateo sofia lucas mia ethan chloe james zoe henry aria leo ruby felix iris "
    "hugo lena maya kenji amara bianca caleb dara tomas wen yusuf lara oscar nina"
)
LAST_NAMES = (
    "Carter Nguyen Okafor Schmidt Patel Kowalski Lindqvist Moreau Ibrahim Fischer Novak Duarte Sato Brennan "
    "Achebe Larsen Romero Walsh Mendes Varga Ortiz Chen Abbott Keller"
)
DEPARTMENTS = (
    "Sales",
    "Marketing",
    "Finance",
    "HR",
    "Operations",
    "Product",
    "Engineering",
    "Customer Success",
)
REGIONS = ("NA", "EU", "APAC")
EXTRA_GROUPS = ("Marketing Analysts", "Sales Ops", "Customer Success")

DOMAINS = {
    "Sales": "Pipeline, accounts and forecasts owned by Sales Operations",
    "Customer": "Customer profiles, orders and support, curated by Customer Success",
    "Finance": "Ledger, payables and tax, governed by the Controller's office",
    "Marketing": "Events, web analytics and campaigns",
    "HR": "People data: payroll, headcount and directory",
    "Operations": "Supply chain, inventory and fleet",
    "Product": "Product analytics and release quality",
}

# "Domain | Source name | Platform | database.schema.table", then one column per indented line:
# "name TYPE [=masking type] [#tag #tag ...]". A masked column is what masking exceptions unmask.
SOURCES = """
Sales | Opportunities | Snowflake | SALES.CRM.OPPORTUNITIES
    opportunity_id NUMBER
    account_name TEXT
    stage TEXT
    amount NUMBER #Financial
    close_date DATE
    owner_email TEXT =Hashing #PII #Discovered.Email Address
Sales | Accounts | Snowflake | SALES.CRM.ACCOUNTS
    account_id NUMBER
    account_name TEXT
    industry TEXT
    annual_revenue NUMBER #Financial
    billing_country TEXT
Sales | Territories | Snowflake | SALES.PLANNING.TERRITORIES
    territory_id NUMBER
    region TEXT
    rep_name TEXT =NULL #PII #Discovered.Person Name
    quota NUMBER #Financial
Sales | Forecast Snapshots | Databricks | sales.forecast.snapshots
    snapshot_date DATE
    region STRING
    forecast_amount DECIMAL #Financial
    confidence DOUBLE
Sales | Price Book | PostgreSQL | sales.pricing.price_book
    sku TEXT
    list_price NUMERIC #Financial
Customer | Customer Profiles | Snowflake | CUSTOMER.CORE.PROFILES
    customer_id NUMBER
    full_name TEXT =Hashing #PII #Discovered.Person Name
    email TEXT =Hashing #PII #Discovered.Email Address
    phone TEXT =Regex #PII #Discovered.Phone Number
    ssn TEXT =NULL #PII #Sensitive #Discovered.US Social Security Number
    segment TEXT
    lifetime_value NUMBER #Financial
Customer | Customer Orders | Snowflake | CUSTOMER.CORE.ORDERS
    order_id NUMBER
    customer_id NUMBER
    order_total NUMBER #Financial
    shipping_address TEXT =Format Preserving Masking #PII #Discovered.Street Address
    ordered_at TIMESTAMP
Customer | Support Tickets | Databricks | customer.support.tickets
    ticket_id BIGINT
    customer_email STRING =Hashing #PII #Discovered.Email Address
    priority STRING
    status STRING
    opened_at TIMESTAMP
Customer | Churn Scores | Databricks | customer.ml.churn_scores
    customer_id BIGINT
    churn_probability DOUBLE
    model_version STRING
Customer | NPS Survey | BigQuery | customer.survey.nps
    response_id INT64
    score INT64
    comment STRING
Finance | General Ledger | Redshift | finance.gl.entries
    entry_id BIGINT
    account_code VARCHAR
    amount DECIMAL #Financial
    posted_at TIMESTAMP
    cost_center VARCHAR
Finance | Invoices | Redshift | finance.ap.invoices
    invoice_id BIGINT
    vendor_name VARCHAR
    amount DECIMAL #Financial
    due_date DATE
    bank_account VARCHAR =NULL #Sensitive #Financial
Finance | Tax Returns | Redshift | finance.tax.returns
    filing_id BIGINT
    jurisdiction VARCHAR
    tax_id VARCHAR =Hashing #Sensitive
    amount_due DECIMAL #Financial
Finance | Budget Plans | Redshift | finance.fpa.budgets
    fiscal_year INT
    department VARCHAR
    budget DECIMAL #Financial
Marketing | Event Attendance | BigQuery | marketing.events.attendance
    event_id INT64
    event_name STRING
    attendee_email STRING =Hashing #PII #Discovered.Email Address
    attended_at TIMESTAMP
Marketing | Web Sessions | BigQuery | marketing.web.sessions
    session_id STRING
    page_path STRING
    referrer STRING
    ip_address STRING =Hashing #PII #Discovered.IP Address
    started_at TIMESTAMP
Marketing | Campaign Results | BigQuery | marketing.ads.campaign_results
    campaign_id INT64
    channel STRING
    spend NUMERIC #Financial
    conversions INT64
Marketing | Lead Lists | BigQuery | marketing.crm.leads
    lead_id INT64
    email STRING =Hashing #PII #Discovered.Email Address
HR | Payroll | PostgreSQL | hr.payroll.monthly
    employee_id INTEGER
    full_name TEXT =Hashing #PII #Discovered.Person Name
    salary NUMERIC =NULL #Sensitive #Financial
    bank_account TEXT =NULL #Sensitive
    pay_date DATE
HR | Headcount | PostgreSQL | hr.people.headcount
    department TEXT
    month DATE
    headcount INTEGER
    open_roles INTEGER
HR | Employee Directory | PostgreSQL | hr.people.directory
    employee_id INTEGER
    full_name TEXT #PII
    work_email TEXT #PII
    title TEXT
    department TEXT
Operations | Inventory | Databricks | ops.supply.inventory
    sku STRING
    warehouse STRING
    on_hand INT
    reorder_point INT
Operations | Suppliers | Databricks | ops.supply.suppliers
    supplier_id BIGINT
    name STRING
    contact_email STRING =Hashing #PII #Discovered.Email Address
    rating DOUBLE
Operations | Fleet Telemetry | Databricks | ops.fleet.telemetry
    vehicle_id STRING
    latitude DOUBLE =Rounding #Sensitive #Discovered.Location
    longitude DOUBLE =Rounding #Sensitive #Discovered.Location
    speed_kph DOUBLE
    recorded_at TIMESTAMP
Product | Product Events | Snowflake | PRODUCT.ANALYTICS.EVENTS
    event_id NUMBER
    user_id NUMBER #Pseudonymous
    event_name TEXT
    device TEXT
    occurred_at TIMESTAMP_NTZ
Product | Feature Flags | Snowflake | PRODUCT.ANALYTICS.FEATURE_FLAGS
    flag TEXT
    enabled_pct NUMBER
    updated_at TIMESTAMP_NTZ
Product | Release Quality | Snowflake | PRODUCT.QA.RELEASES
    release TEXT
    defects NUMBER
    crash_rate FLOAT
"""
# Descriptions of the curated tags; discovered ones ("Discovered.<what>") describe themselves.
TAG_DESCRIPTIONS = {
    "PII": "Personally identifiable information",
    "Financial": "Financial figures, confidential until published",
    "Sensitive": "Restricted to people with a need to know",
    "Pseudonymous": "Identifiers that stand in for a person without naming them",
}
# An object-store source in no seeded product, so that a product's sources can show an S3 prefix:
# (domain, name, bucket prefix).
ARCHIVE_SOURCE = ("Marketing", "Clickstream Archive", "s3://example-marketing/clickstream/")
TAG_COLORS = ("#e5484d", "#f76b15", "#ffc53d", "#46a758", "#0090ff", "#8e4ec6", "#6e56cf", "#12a594")

AGREEMENTS = {
    "Standard Data Use Agreement": (
        "I will use this data only for the business purpose I stated, will not share it outside the "
        "company, and will delete local copies when my access ends."
    ),
    "PII Handling Agreement": (
        "This data contains personal information. I will not attempt to re-identify individuals, will "
        "not export raw records, and will report any suspected exposure to privacy@example.com."
    ),
    "Financial Data Policy": (
        "Financial figures are confidential until published. I will not trade on, forward or publish "
        "them, and I understand access is logged and audited."
    ),
}


def review(*stages: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A review event: stages of ("any" | "all", approvers), in order."""
    return {"type": "review", "params": {"stages": [{kind: approvers} for kind, approvers in stages]}}


def user(username: str) -> dict[str, Any]:
    return {"type": "USER", "id": username}


def group(name: str) -> dict[str, Any]:
    return {"type": "GROUP", "name": name}


GOVERNANCE = {"type": "PERMISSION", "permission": "GOVERNANCE"}
AUDIT = {"type": "PERMISSION", "permission": "AUDIT"}
PRODUCT_MANAGERS = {"type": "DOMAIN PERMISSION", "permission": "Manage Data Products"}
PRIVACY_OFFICER = {"type": "ATTRIBUTE", "key": "Role", "value": "Privacy Officer"}


def _options(*values: str) -> list[dict[str, str]]:
    return [{"value": v} for v in values]


# name -> (fields, policy, agreement names). Together they use every field type the spec defines.
FORMS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], tuple[str, ...]]] = {
    "Sales Access Request": (
        [{"type": "ACCESS_DURATION"}, {"type": "SHORT_ANSWER", "label": "What will you use this data for?"}],
        {"rules": [], "defaultEvent": review(("any", [user("sara"), user("omar")]))},
        ("Standard Data Use Agreement",),
    ),
    "Customer Data Request": (
        [
            {
                "type": "DROPDOWN",
                "label": "Purpose",
                "options": _options("Analytics", "Customer support", "Marketing campaign", "Audit"),
            },
            {"type": "CHECKBOXES", "label": "Regions needed", "options": _options("NA", "EU", "APAC")},
            {"type": "SHORT_ANSWER", "label": "Justification", "required": False},
        ],
        {"rules": [], "defaultEvent": review(("all", [user("sara"), group("Finance Stewards")]))},
        ("PII Handling Agreement",),
    ),
    "Finance Two-Stage Review": (
        [{"type": "SHORT_ANSWER", "label": "Cost center"}, {"type": "ACCESS_DURATION"}],
        {"rules": [], "defaultEvent": review(("any", [group("Finance Stewards")]), ("any", [GOVERNANCE]))},
        ("Financial Data Policy",),
    ),
    "Open Access": (
        [
            {
                "type": "DROPDOWN",
                "label": "Team",
                "options": _options("Marketing", "Sales", "Product", "Other"),
            }
        ],
        {"rules": [], "defaultEvent": {"type": "approve", "params": {"comment": "Open to all employees"}}},
        (),
    ),
    "Open Access for 30 Days": (
        [{"type": "SHORT_ANSWER", "label": "Project name"}],
        {
            "rules": [],
            "defaultEvent": {
                "type": "approve",
                "params": {
                    "comment": "Self-service access, reviewed monthly",
                    "duration": 30,
                    "durationUnit": "DAYS",
                },
            },
        },
        ("Standard Data Use Agreement",),
    ),
    "Delegated to Data Product": (
        [{"type": "SHORT_ANSWER", "label": "Business justification"}],
        {"rules": [], "defaultEvent": {"type": "dataProductPolicy"}},
        (),
    ),
    "People Data Request": (
        [
            {
                "type": "DROPDOWN",
                "label": "Purpose",
                "options": _options("Workforce planning", "Compensation review", "Audit"),
            },
            {
                "type": "CHECKBOXES",
                "label": "Data categories",
                "options": _options("Compensation", "Banking"),
            },
        ],
        {
            # HR partners get standing (temporary) access; everyone else is reviewed by privacy or audit.
            "rules": [
                {
                    "conditions": {
                        "all": [{"fact": "groups", "operator": "contains", "value": "HR Partners"}]
                    },
                    "event": {
                        "type": "approve",
                        "params": {
                            "comment": "HR partners have standing access",
                            "duration": 90,
                            "durationUnit": "DAYS",
                        },
                    },
                }
            ],
            "defaultEvent": review(("any", [PRIVACY_OFFICER, AUDIT])),
        },
        ("PII Handling Agreement",),
    ),
    "Operations Review": (
        [{"type": "DROPDOWN", "label": "Site", "options": _options("Rotterdam", "Memphis", "Singapore")}],
        {"rules": [], "defaultEvent": review(("any", [group("Ops Leads")]))},
        (),
    ),
    "Product Analytics Review": (
        [{"type": "SHORT_ANSWER", "label": "Experiment or dashboard"}],
        {"rules": [], "defaultEvent": review(("all", [user("omar"), PRODUCT_MANAGERS]))},
        (),
    ),
}

# name | domain | sources (comma list) | request form | subject matter expert | share of requests approved
# | description
PRODUCTS = """
Sales Pipeline | Sales | Opportunities, Accounts | Sales Access Request | sara | 0.85
    | Open opportunities and their accounts, refreshed hourly
Territory Assignments | Sales | Territories | Sales Access Request | paula | 0.75
    | Territories, reps and quotas
Quarterly Forecast | Sales | Forecast Snapshots, Opportunities | Delegated to Data Product | paula | 0.75
    | Weekly forecast snapshots by region
Customer 360 | Customer | Customer Profiles, Customer Orders | Customer Data Request | sara | 0.55
    | One row per customer with contact details, orders and lifetime value
Support Tickets | Customer | Support Tickets | Customer Data Request | - | 0.75
    | Tickets with priority and status
Churn Signals | Customer | Churn Scores, Customer Profiles | Delegated to Data Product | diego | 0.7
    | Model scores predicting customer churn
Finance Ledger | Finance | General Ledger | Finance Two-Stage Review | gina | 0.4
    | Posted general ledger entries by cost center
Accounts Payable | Finance | Invoices | Finance Two-Stage Review | diego | 0.6 | Vendor invoices and due dates
Tax Filings | Finance | Tax Returns | Delegated to Data Product | diego | 0.3 | Tax filings by jurisdiction
Marketing Events | Marketing | Event Attendance | Open Access | paula | 1 | Who attended which marketing event
Web Analytics | Marketing | Web Sessions | Open Access for 30 Days | paula | 1
    | Website sessions and referrers
Campaign Performance | Marketing | Campaign Results | Open Access | - | 1 | Spend and conversions per campaign
Payroll Summary | HR | Payroll | People Data Request | elena | 0.25
    | Monthly payroll with compensation and banking details
Headcount Planning | HR | Headcount | People Data Request | samir | 0.7
    | Headcount and open roles per department
Employee Directory | HR | Employee Directory | Open Access for 30 Days | - | 1 | Names, titles and work emails
Inventory Levels | Operations | Inventory | Operations Review | ivan | 0.8 | Stock on hand per warehouse
Supplier Scorecards | Operations | Suppliers | Operations Review | marta | 0.75
    | Supplier ratings and contacts
Fleet Telemetry | Operations | Fleet Telemetry | Operations Review | ivan | 0.6 | Vehicle positions and speeds
Product Usage | Product | Product Events | Product Analytics Review | omar | 0.75
    | Product events by user and device
Feature Adoption | Product | Feature Flags, Product Events | Product Analytics Review | omar | 0.75
    | Feature flag rollouts joined with usage
"""

# The review flows of products whose form delegates to the data product (``dataProductPolicy``).
PRODUCT_FLOWS: dict[str, dict[str, Any]] = {
    "Quarterly Forecast": {"rules": [], "defaultEvent": review(("any", [PRODUCT_MANAGERS]))},
    "Churn Signals": {"rules": [], "defaultEvent": review(("all", [user("sara"), PRIVACY_OFFICER]))},
    "Tax Filings": {
        "rules": [],
        "defaultEvent": review(("any", [group("Finance Stewards")]), ("all", [GOVERNANCE, AUDIT])),
    },
}

APPROVAL_REASONS = (
    "Business need confirmed with the requester's manager",
    "Matches the requester's role and project scope",
    "Approved for quarterly planning",
    "Standard analyst access",
    "Requester is on the account team",
    "Needed for the audit sample",
)
DENIAL_REASONS = (
    "Insufficient business justification",
    "Use the aggregated product instead; row-level data is not needed",
    "Requester is outside the data's allowed region",
    "Duplicate of an existing grant",
    "PII access requires privacy training first",
)
JUSTIFICATIONS = (
    "Quarterly business review deck",
    "Churn analysis for the EMEA team",
    "Reconciling the monthly close",
    "Dashboard refresh for leadership",
    "Ad-hoc analysis requested by my manager",
)
TEMPORARY_GRANTS = ((30, "DAYS"), (90, "DAYS"), (3, "MONTHS"), (2, "WEEKS"), (1, "YEARS"))
