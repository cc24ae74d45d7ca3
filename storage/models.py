"""The tables; their column types, which both databases keep exactly (UTC times, integer cents),
are in storage/columns.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# The migrations name the column types as storage.models' own.
from storage.columns import Cents, UTCDateTime, _created  # noqa: F401


# Database model, table name inferred from class name
class Partner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    name: str = Field(max_length=200)
    alert_channel: str = Field(max_length=32)
    manager_channel: str = Field(max_length=32)
    orders_channel: str | None = Field(default=None, max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # None while a workspace that set itself up waits for the operator's approval.
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who sees money in /subscription: everyone | commission (managers only see commission) |
    # all (managers only see commission and prices).
    money_for_managers_only: str = Field(
        default="none", sa_column_kwargs={"server_default": "none"}, max_length=12
    )
    # When its subscriptions were last imported from a CSV file (None: never).
    subscriptions_imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Database model: who may ask for a partner's summaries
class PartnerManager(SQLModel, table=True):
    __tablename__ = "partner_manager"

    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(primary_key=True, max_length=32)


# Database model: one of a partner's customers, identified by its tenant domain
class Customer(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("partner_id", "domain", name="uq_customer_partner_domain"),
        # Case-insensitive lookups by name stay an index range scan within one partner.
        Index("ix_customer_partner_name_key", "partner_id", "name_key"),
        Index("uq_customer_partner_external", "partner_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    # The name folded for matching: casefolded, spaces collapsed (see bot.subscriptions.fold).
    name_key: str = Field(max_length=200)
    domain: str = Field(max_length=253)  # stored lower-case
    region: str = Field(max_length=40)
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    timezone: str | None = Field(default=None, max_length=64)
    # Partner Center's customer id (its tenant id) once a sync has found it; None otherwise.
    external_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: a customer's subscription to one plan
class Subscription(SQLModel, table=True):
    __table_args__ = (
        # A CSV row names a subscription by customer, plan and start date; re-imports update it.
        # Partner Center names its own by id: a customer may hold the same plan twice from one
        # day (a monthly and an annual term), so the CSV key holds only where there is no id.
        Index(
            "uq_subscription_customer_plan_start",
            "customer_id",
            "plan_code",
            "start_date",
            unique=True,
            sqlite_where=text("external_id IS NULL"),
            postgresql_where=text("external_id IS NULL"),
        ),
        Index("uq_subscription_partner_external", "partner_id", "external_id", unique=True),
        Index("ix_subscription_partner_renewal", "partner_id", "renewal_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    plan_code: str = Field(max_length=16)
    seats: int
    unit_price: Decimal = Field(sa_type=Cents)  # per seat per month
    billing_cycle: str = Field(max_length=10)  # monthly | annual
    start_date: date
    renewal_date: date
    status: str = Field(max_length=12)  # active | suspended | cancelled | trial
    billing_owner: str = Field(max_length=10)  # vendor | partner
    partner_of_record_id: int | None = Field(
        default=None, foreign_key="partner.id", ondelete="SET NULL"
    )
    # Where the row comes from: import (a CSV file, or an order confirmed here) | partner_center
    source: str = Field(
        default="import", sa_column=Column(String(16), nullable=False, server_default="import")
    )
    # What Partner Center says of it: its id, offer, term, commitment and the indirect reseller
    # of record (an MPN id; "" when the connected partner sold it itself).
    external_id: str | None = Field(default=None, max_length=64)
    offer_name: str = Field(
        default="", sa_column=Column(String(200), nullable=False, server_default="")
    )
    term: str = Field(default="", sa_column=Column(String(8), nullable=False, server_default=""))
    commitment_end_date: date | None = None
    auto_renew: bool | None = None
    reseller_id: str = Field(
        default="", sa_column=Column(String(20), nullable=False, server_default="")
    )
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: a change of a subscription's seats or price from the day it took effect (a
# confirmed order, an import); the days before it keep the seats and price of `*_before`
class SeatChange(SQLModel, table=True):
    __tablename__ = "seat_change"
    __table_args__ = (Index("ix_seat_change_partner_effective", "partner_id", "effective_on"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE")
    subscription_id: int = Field(foreign_key="subscription.id", index=True, ondelete="CASCADE")
    effective_on: date  # the first day of the new seats, in the partner's time zone
    seats_before: int
    seats_after: int
    unit_price_before: Decimal = Field(sa_type=Cents)
    unit_price_after: Decimal = Field(sa_type=Cents)
    # The confirmed order that made the change; None for an import.
    order_id: int | None = Field(default=None, foreign_key="customer_order.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: an order filed by partner staff, waiting for the customer's answer
class Order(SQLModel, table=True):
    __tablename__ = "customer_order"  # "order" is an SQL keyword
    __table_args__ = (
        Index("ix_customer_order_partner_filed", "partner_id", "filed_at"),
        # The scheduler's expiry and reminder sweeps read pending orders by age.
        Index("ix_customer_order_state_expires", "state", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    plan_code: str = Field(max_length=16)
    seats: int
    unit_price: Decimal = Field(sa_type=Cents)  # per seat per month, as offered
    billing_owner: str = Field(max_length=10)  # vendor | partner
    # The subscription whose seats the order changes, when the customer already has the plan.
    subscription_id: int | None = Field(
        default=None, foreign_key="subscription.id", ondelete="SET NULL"
    )
    previous_seats: int | None = None
    note: str = Field(default="", max_length=500)
    state: str = Field(default="pending", max_length=10)
    # sha256 of the link's token; the token itself is never stored. Replaced by /order resend.
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    filed_by: str = Field(max_length=32)  # Slack user id
    filed_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str = Field(default="", max_length=32)  # who cancelled, for staff actions
    # The audit trail of the customer's answer, as typed on the page and as the request came.
    confirmer_name: str = Field(default="", max_length=200)
    confirmer_email: str = Field(default="", max_length=254)
    confirmer_ip: str = Field(default="", max_length=64)
    confirmer_user_agent: str = Field(default="", max_length=500)
    decline_reason: str = Field(default="", max_length=1000)
    # Placing a confirmed order in Partner Center (a connected partner's customer known there):
    # "" (not placed there: the order took effect here), pending, placed or refused.
    placement: str = Field(default="", max_length=10)
    # The order's stable request id: every retry sends the same MS-RequestId per call, so
    # Partner Center answers a repeat with its first result instead of placing the order twice.
    placement_request_id: str = Field(default="", max_length=36)
    placement_attempts: int = 0
    placement_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    placement_problem: str = Field(default="", max_length=500)  # the last failure, in words
    # The Microsoft Customer Agreement as accepted on the page (a customer new to Partner
    # Center), exactly what Partner Center's agreement API records.
    mca_first_name: str = Field(default="", max_length=100)
    mca_last_name: str = Field(default="", max_length=100)
    mca_phone: str = Field(default="", max_length=40)
    mca_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Database model: a Slack message to deliver, written in the transaction that decided to send it
class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # The claim walks pending rows in id order; a reply checks its thread's earlier ones.
        Index("ix_outbox_message_state_id", "state", "id"),
        Index("ix_outbox_message_parent_state", "parent_key", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Unique per message the bot means to send: writing it twice stores it once.
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    partner_id: int | None = Field(default=None, foreign_key="partner.id", ondelete="CASCADE")
    # A thread reply or an edit waits for the message it belongs to, whose ts it needs.
    parent_key: str | None = Field(default=None, max_length=200)
    method: str = Field(max_length=40)  # Web API method, e.g. chat.postMessage
    channel: str = Field(max_length=32)  # a channel id, or a user id for a DM
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON arguments of the call
    state: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ts: str = Field(default="", max_length=32)  # the posted message's Slack timestamp
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: a service incident, from the vendor (hook or feed) or declared by a partner
class Incident(SQLModel, table=True):
    __table_args__ = (Index("ix_incident_service_start", "service", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The vendor's id (Graph's `id`, e.g. EX123456); partner-declared ones get P<partner>-<n>.
    external_id: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    partner_id: int | None = Field(default=None, foreign_key="partner.id", ondelete="CASCADE")
    service: str = Field(max_length=100)
    feature: str = Field(default="", max_length=200)
    title: str = Field(max_length=500)
    classification: str = Field(max_length=20)  # incident | advisory
    status: str = Field(max_length=40)  # Graph's serviceHealthStatus, e.g. serviceDegradation
    impact_description: str = Field(sa_column=Column(Text, nullable=False, default=""))
    regions: str = Field(default="", max_length=500)  # JSON list; "" means every region
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_resolved: bool = False
    latest_post: str = Field(sa_column=Column(Text, nullable=False, default=""))
    posts_seen: int = 0
    version: int = 1  # goes up with every change; names the messages each change causes
    body_hash: str = Field(default="", max_length=64)  # of the last body: the same body is a no-op
    # The vendor's lastModifiedDateTime of that body: an older body never overwrites it.
    last_modified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # The Slack user who declared a partner's own outage (staff see it; customers never do).
    declared_by: str = Field(default="", max_length=32)


# Database model: how far an incident feed has been read, so each poll asks only for what changed
class IncidentFeedMark(SQLModel, table=True):
    __tablename__ = "incident_feed_mark"

    # SHA-256 of the feed's URL and tenant: another feed (or tenant) starts from the beginning.
    feed: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=500)  # for people reading the table
    # The newest lastModifiedDateTime of the issues read in full so far.
    last_modified_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# Database model: one partner's alert about one incident (the root message of its thread)
class IncidentAlert(SQLModel, table=True):
    __tablename__ = "incident_alert"
    __table_args__ = (
        UniqueConstraint("incident_id", "partner_id", name="uq_alert_incident_partner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", ondelete="CASCADE")
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE", index=True)
    channel: str = Field(max_length=32)
    root_key: str = Field(max_length=200)  # the outbox key of the root message
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: where a vendor incident that names no regions hit one partner's customers, as
# that partner says (its own workspace only; the vendor's regions, once given, come first)
class IncidentScope(SQLModel, table=True):
    __tablename__ = "incident_scope"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    regions: str = Field(max_length=500)  # JSON list, never empty
    set_by: str = Field(default="", max_length=32)
    set_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: someone who asked for every later update of an incident by DM
class IncidentFollower(SQLModel, table=True):
    __tablename__ = "incident_follower"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(primary_key=True, max_length=32)


# Database model: a partner's own wording of an apology (replaces the shipped template)
class ApologyTemplate(SQLModel, table=True):
    __tablename__ = "apology_template"

    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=20)  # apology | closing
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(default="", max_length=32)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: when a partner's managers get the weekly summary in their channel
class SummarySchedule(SQLModel, table=True):
    __tablename__ = "summary_schedule"

    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    weekday: int = 0  # Monday is 0
    at_minutes: int = 9 * 60  # minutes after midnight, in the partner's time zone
    enabled: bool = True
    updated_by: str = Field(default="", max_length=32)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# Database model: the run ledger: one row per partner and week, claimed before the summary goes
class SummaryRun(SQLModel, table=True):
    __tablename__ = "summary_run"

    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    week_start: date = Field(primary_key=True)  # the Monday of the week summarised
    claimed_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    claimed_by: str = Field(default="", max_length=100)  # host and process, for the operator


# slack_sdk's tables for many workspaces (OAuth mode): its installation store keeps every install
# and the newest bot token of each workspace, its state store the OAuth `state` values in flight.
# Declared here in slack_sdk's own shape, so that the migrations create them (the stores never
# do) and the migration test compares them like every other table.
slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(
    SQLModel.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
# Our own lookups: a workspace's newest bot token by team id alone (the outbox knows a partner's
# team, not its Enterprise Grid org), and a `state` coming back from Slack.
Index("ix_slack_bots_team_installed", slack_bots.c.team_id, slack_bots.c.installed_at)
Index("ix_slack_oauth_states_state", slack_oauth_states.c.state)


# Database model: a Slack request already acted on (its signature, or an event's id), so that a
# replay or Slack's own retry is acknowledged and not acted on again, by any `serve` process
class SeenSlackRequest(SQLModel, table=True):
    __tablename__ = "seen_slack_request"

    key: str = Field(primary_key=True, max_length=100)
    seen_at: datetime = Field(sa_type=UTCDateTime, index=True)


# Database model: a partner's connection to its Partner Center: an app registered in the
# partner's own Microsoft Entra tenant, its client secret sealed with PARTNER_CENTER_KEY
class PartnerCenterConnection(SQLModel, table=True):
    __tablename__ = "partner_center_connection"

    partner_id: int = Field(foreign_key="partner.id", primary_key=True, ondelete="CASCADE")
    tenant_id: str = Field(max_length=64)  # the partner's Entra tenant (id or domain)
    client_id: str = Field(max_length=64)  # the app's Application (client) ID
    # The client secret as a Fernet token; never stored, shown or logged in clear.
    sealed_secret: str = Field(sa_column=Column(Text, nullable=False))
    mpn_id: str = Field(default="", max_length=20)  # the partner's own MPN (partner) id
    connected_by: str = Field(default="", max_length=64)
    connected_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # The schedule's claim: a process syncs the partner only after moving this forward.
    next_sync_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, index=True)
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # last success
    # Why the last sync failed, in words for the partner's admins; "" once one succeeds.
    problem: str = Field(default="", max_length=500)
    problem_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A partner admin's refresh token (App+User, for the agreement API), sealed like the secret.
    sealed_user_token: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )


# Database model: what one customer's own service health said of a vendor incident, asked through
# its partner's app (Graph, app-only in the customer's tenant); asked once per incident
class IncidentTenantCheck(SQLModel, table=True):
    __tablename__ = "incident_tenant_check"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE", index=True)
    result: str = Field(max_length=12)  # confirmed | not_listed | unknown
    # Why unknown: refused (no consent, 401/403), throttled, unavailable, no_tenant
    reason: str = Field(default="", max_length=20)
    checked_at: datetime = Field(sa_type=UTCDateTime)
