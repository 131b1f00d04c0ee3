"""What the space page says while a JupyterLab start waits for a worker: something a user can
act on or wait out, never a bare "Waiting for a worker…"."""

from studio.core.queue import Wait
from studio.web.dashboard.waits import wait_in_words


def test_with_no_worker_running_the_user_is_told_to_ask_an_admin():
    state, text = wait_in_words(Wait(ahead=2, workers=0, slots=0, running=[]))
    assert state == "no-worker"
    assert "No Studio worker is running" in text
    assert "Ask your admin" in text
    assert "2 starts ahead of yours" in text


def test_a_queued_start_says_how_many_starts_are_ahead():
    assert wait_in_words(Wait(ahead=1, workers=1, slots=4, running=[])) == (
        "queued",
        "1 start ahead of yours in the queue.",
    )
    assert wait_in_words(Wait(ahead=3, workers=1, slots=4, running=[]))[1].startswith(
        "3 starts ahead of yours"
    )


def test_when_every_slot_is_busy_it_says_with_what():
    running = [
        "domains.tasks.start_app",
        "jobs.tasks.run_training_job",
        "jobs.tasks.run_training_job",
        "jobs.tasks.reconcile_jobs",
    ]
    state, text = wait_in_words(Wait(ahead=0, workers=1, slots=4, running=running))
    assert state == "next"
    assert text == (
        "Next in line for a worker. All 4 worker slots are busy: 2 training jobs starting, "
        "a JupyterLab start, a housekeeping task."
    )


def test_free_slots_are_not_called_busy():
    state, text = wait_in_words(
        Wait(ahead=0, workers=2, slots=8, running=["jobs.tasks.run_training_job"])
    )
    assert (state, text) == ("next", "Next in line for a worker.")


def test_a_start_a_worker_has_taken_says_the_container_comes_next():
    state, text = wait_in_words(Wait(ahead=None, workers=1, slots=4, running=[]))
    assert state == "picked-up"
    assert "container comes next" in text
