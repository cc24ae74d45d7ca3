"""Every scheduled job in one place, each with its trigger beside it.

Each `serve` process runs its own AsyncIOScheduler with in-memory jobs (APScheduler's job stores
must not be shared between processes). Jobs are safe to run in several processes at once: each
claims its rows with a conditional UPDATE, so every expiry and reminder is reported once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.orders import sweeps as order_sweeps
from bot.outages.feed import poll_feed
from bot.partner_center.placing import place_due_orders
from bot.partner_center.sync import sync_due_partners
from bot.replays import forget_old_requests
from bot.services import Services
from bot.summaries import flows as summary_flows
from bot.zones import utc_now
from storage import installations

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    does: str
    trigger: IntervalTrigger
    run: Callable[[Services], Awaitable[int]]


async def expire_orders(services: Services) -> int:
    async with services.sessions() as session:
        return await order_sweeps.expire_orders(session, now=services.clock())


async def remind_filers(services: Services) -> int:
    async with services.sessions() as session:
        return await order_sweeps.remind_filers(
            session,
            now=services.clock(),
            ttl_days=services.settings.order_link_ttl_days,
        )


async def post_weekly_summaries(services: Services) -> int:
    return await summary_flows.post_due_summaries(
        services.sessions, catalogue=services.catalogue, rule=services.rule, now=services.clock()
    )


async def forget_oauth_states(services: Services) -> int:
    # slack_sdk's state store deletes a state when it is used, never when it runs out.
    async with services.sessions() as session:
        deleted = await installations.delete_expired_states(session=session, now=utc_now())
        await session.commit()
    return deleted


async def forget_seen_requests(services: Services) -> int:
    return await forget_old_requests(services.sessions, now=services.clock())


JOBS = (
    Job(
        "expire-orders",
        "expires pending orders past ORDER_LINK_TTL_DAYS and tells the filer",
        IntervalTrigger(minutes=5),
        expire_orders,
    ),
    Job(
        "weekly-summaries",
        "posts each partner's weekly summary when its schedule comes, once",
        IntervalTrigger(minutes=1),
        post_weekly_summaries,
    ),
    Job(
        "remind-filers",
        "reminds the filer of an order that has waited 3 days",
        IntervalTrigger(minutes=15),
        remind_filers,
    ),
    Job(
        "forget-seen-requests",
        "deletes the record of Slack requests too old to be replayed or retried",
        IntervalTrigger(minutes=10),
        forget_seen_requests,
    ),
)


async def run_job(job: Job, services: Services) -> int:
    """Runs one job in its own session; a failure is logged, and the scheduler carries on."""
    try:
        done = await job.run(services)
    except asyncio.CancelledError:
        # Shutting down mid-run: the job's transaction rolls back and the next start redoes it.
        logger.info("scheduled job %s interrupted by shutdown; it runs again at start", job.id)
        return 0
    except Exception:  # noqa: BLE001 - one failed run must not stop the scheduler
        logger.exception("scheduled job %s failed; it runs again at its next time", job.id)
        services.metrics.errors.labels("job").inc()
        return 0
    if done:
        logger.info("scheduled job %s: %d done", job.id, done)
        services.wake_outbox()
    return done


def jobs_for(services: Services) -> tuple[Job, ...]:
    """The jobs this process runs: the feed poll only when there is a feed (INCIDENT_FEED_URL,
    or the feed's Entra app), the Partner Center syncs only with PARTNER_CENTER_KEY, the clean-up
    of OAuth states only with many workspaces."""
    jobs = JOBS
    if services.settings.feed_url:
        feed = Job(
            "poll-incident-feed",
            "fetches the incident feed and feeds it to the intake",
            IntervalTrigger(seconds=services.settings.incident_feed_interval),
            poll_feed,
        )
        jobs = (*jobs, feed)
    if services.settings.partner_center_key is not None:
        partner_center = Job(
            "partner-center-sync",
            "syncs each connected partner from Partner Center every PARTNER_CENTER_SYNC_MINUTES",
            IntervalTrigger(minutes=1),
            sync_due_partners,
        )
        placing = Job(
            "partner-center-orders",
            "places confirmed orders of connected partners in Partner Center, retrying failures",
            IntervalTrigger(seconds=30),
            place_due_orders,
        )
        jobs = (*jobs, partner_center, placing)
    if services.workspaces is not None:
        states = Job(
            "forget-oauth-states",
            "deletes the OAuth states of installs never finished in time",
            IntervalTrigger(hours=1),
            forget_oauth_states,
        )
        jobs = (*jobs, states)
    return jobs


class JobScheduler(AsyncIOScheduler):
    """APScheduler's AsyncIOScheduler, stopped only once the runs under way have finished.

    Its own shutdown cancels them, and a run cut half-way leaves its database statement's
    connection (and on SQLite the write lock) to the garbage collector: other writers fail with
    "database is locked" meanwhile. Runs end by themselves, within the database's timeouts."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.runs_under_way = 0
        self._all_finished: asyncio.Event | None = None
        self.add_listener(
            self._count_runs, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def _count_runs(self, event: JobEvent) -> None:
        self.runs_under_way += 1 if event.code == EVENT_JOB_SUBMITTED else -1
        if self.runs_under_way == 0 and self._all_finished is not None:
            self._all_finished.set()

    async def stop(self) -> None:
        """Starts no new run, waits for the runs under way, then shuts down."""
        if not self.running:
            return
        self.pause()
        if self.runs_under_way:
            self._all_finished = asyncio.Event()
            await self._all_finished.wait()
        self.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown itself runs as the loop's next callback


def build_scheduler(services: Services) -> JobScheduler:
    """Builds the scheduler with every job; start it inside the running event loop."""
    scheduler = JobScheduler(
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1}
    )
    for job in jobs_for(services):
        # Every job also runs once soon after start, so a bot that was down catches up.
        scheduler.add_job(
            run_job,
            job.trigger,
            args=(job, services),
            id=job.id,
            name=job.id,
            next_run_time=utc_now(),
        )
    return scheduler


def describe_jobs(scheduler: AsyncIOScheduler) -> str:
    """The jobs of a scheduler in one line, e.g. "expire-orders every 0:05:00, …"."""
    return ", ".join(
        f"{job.name} every {job.trigger.interval}"
        if isinstance(job.trigger, IntervalTrigger)
        else f"{job.name} ({job.trigger})"
        for job in scheduler.get_jobs()
    )
