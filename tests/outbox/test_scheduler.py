"""The scheduler that runs the jobs which queue outbox rows: every job registered with its id, the
feed poll when configured, a failing job logged, and the outbox woken only when a job did
something."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete

from bot.app import build_services
from bot.scheduler import JOBS, Job, build_scheduler, run_job
from bot.settings import load_settings
from storage.models import OutboxMessage


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def job_running(run) -> Job:
    return Job("test-job", "a job for the test", IntervalTrigger(minutes=1), run)


def test_build_scheduler_registers_every_job_with_its_id(services):
    scheduler = build_scheduler(services)
    registered = {job.id: job for job in scheduler.get_jobs()}
    assert set(registered) == {job.id for job in JOBS}
    assert len(registered) == len(JOBS)
    for job in JOBS:
        scheduled = registered[job.id]
        assert scheduled.func is run_job
        assert scheduled.args == (job, services)
        assert scheduled.trigger is job.trigger
    assert not scheduler.running


def test_build_scheduler_adds_the_feed_poll_when_a_feed_is_configured(engine, database_url):
    settings = load_settings(
        database_url=database_url,
        secret_key="x" * 20,
        incident_feed_url="http://127.0.0.1:9/feed",
        incident_feed_interval=30,
    )
    scheduler = build_scheduler(build_services(settings, engine=engine))
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {job.id for job in JOBS} | {"poll-incident-feed"}


def test_an_entra_app_alone_polls_microsoft_graph(engine, database_url):
    settings = load_settings(
        database_url=database_url,
        secret_key="x" * 20,
        incident_feed_tenant_id="contoso.onmicrosoft.com",
        incident_feed_client_id="3fa85f64-5717-4562-b3fc-2c963f66afa6",
        incident_feed_client_secret="secret-value",
    )
    scheduler = build_scheduler(build_services(settings, engine=engine))
    assert "poll-incident-feed" in {job.id for job in scheduler.get_jobs()}


async def test_a_failing_job_is_logged_and_returns_zero(services, caplog):
    wakes = Recorder()
    services.wake_outbox = wakes

    async def fail(_services) -> int:
        raise RuntimeError("the job broke")

    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert await run_job(job_running(fail), services) == 0

    failures = [r for r in caplog.records if "scheduled job test-job failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "the job broke" in str(failures[0].exc_info[1])
    assert services.metrics.errors.labels("job")._value.get() == 1
    assert wakes.calls == 0


async def test_a_job_that_did_something_wakes_the_outbox(services):
    wakes = Recorder()
    services.wake_outbox = wakes
    seen = []

    async def queue_three(given) -> int:
        seen.append(given)
        return 3

    assert await run_job(job_running(queue_three), services) == 3
    assert seen == [services]
    assert wakes.calls == 1


async def test_a_job_that_did_nothing_does_not_wake_the_outbox(services):
    wakes = Recorder()
    services.wake_outbox = wakes

    async def nothing(_services) -> int:
        return 0

    assert await run_job(job_running(nothing), services) == 0
    assert wakes.calls == 0


async def test_a_stop_waits_for_the_run_under_way_instead_of_cutting_it(services, sessions, caplog):
    services.wake_outbox = Recorder()
    started, finished = asyncio.Event(), []

    async def write_slowly(given) -> int:
        async with given.sessions() as session:
            started.set()
            await asyncio.sleep(0.3)  # the run is under way when the stop comes
            await session.exec(delete(OutboxMessage))
            await session.commit()
        finished.append(True)
        return 0

    scheduler = build_scheduler(services)
    for scheduled in scheduler.get_jobs():
        scheduled.remove()
    scheduler.add_job(
        run_job, IntervalTrigger(minutes=1), args=(job_running(write_slowly), services),
        next_run_time=datetime.now(UTC),
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        scheduler.start()
        await asyncio.wait_for(started.wait(), 10)
        await scheduler.stop()

    # APScheduler's own shutdown would have cancelled the run in the middle of its statement.
    assert finished == [True]
    assert "interrupted by shutdown" not in caplog.text
    assert not scheduler.running
