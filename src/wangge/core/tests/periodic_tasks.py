"""A real task used by the periodic-job tests (tasks must be importable module attributes)."""

from django_tasks import task


@task()
def touch() -> str:
    return "touched"
