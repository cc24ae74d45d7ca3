"""CSV imports of a partner's customers and subscriptions: every row is checked first, then the
whole file is written in one transaction, or nothing is.

Both files: UTF-8 (a byte-order mark is fine), a header row, columns in any order and any letter
case, extra columns ignored, blank rows skipped. Line numbers count like a spreadsheet's rows: the
header is line 1. A customer is identified by its domain, a subscription by its customer, plan and
start date; a row equal to what is stored is not written again (its updated_at stays).

Customers: `name,domain,region,contact_name,contact_email[,timezone]`.
- name (at most 200 characters, inner spaces collapsed), domain (stored lower-case) and region
  (any letter case, stored as bot.catalogue.REGIONS spells it) are required.
- contact_name and contact_email may be blank; an email, when given, must look like one.
- timezone is an optional column and an optional value (an IANA name).
- A blank contact_name, contact_email or timezone (or no timezone column) keeps what is stored
  for a customer imported before; `-` clears it.

Subscriptions:
`customer_domain,plan,seats,unit_price,billing_cycle,start_date,renewal_date,status,billing_owner`
and one optional column, `partner_of_record`: `yes` (also when blank or absent, for a new row)
makes the importing partner the subscription's partner of record; `no` leaves it without one.
- customer_domain must be a customer of the importing partner (import customers first).
- seats is a whole number from 1 to 1,000,000; 0 only for a cancelled subscription.
- unit_price is per seat per month with at most 2 decimals; blank means the catalogue's list price
  for a new subscription and keeps the stored price of one imported before (as a blank
  partner_of_record keeps the stored one).
- dates are YYYY-MM-DD; start_date lies within 20 years back and 1 year ahead, renewal_date is not
  before start_date and at most 10 years ahead (a wrong century is a typo, not a contract).

The report says what happened to each row: added, changed (each field, before and after) or
unchanged.
"""

from bot.imports.changes import customer_changes, subscription_changes
from bot.imports.flows import ImportReport, import_customers, import_subscriptions
from bot.imports.rules import CustomerRow, SubscriptionRow, parse_customers, parse_subscriptions
from bot.imports.table import ImportFailed

__all__ = [
    "CustomerRow",
    "ImportFailed",
    "ImportReport",
    "SubscriptionRow",
    "customer_changes",
    "import_customers",
    "import_subscriptions",
    "parse_customers",
    "parse_subscriptions",
    "subscription_changes",
]
