"""Seed GeoReport v2 attribute definitions for a few public matter types (see
``wangge.api.open311.seed``). Administrators add more rows; the rows are keyed by catalogue code,
so a matter type missing from a deployment's catalogue is simply never offered."""

from django.db import migrations


def seed(apps, schema_editor):
    from wangge.api.open311.seed import seed_service_attributes

    seed_service_attributes(apps.get_model("api", "ServiceAttribute"))


def unseed(apps, schema_editor):
    from wangge.api.open311.seed import SEED

    ServiceAttribute = apps.get_model("api", "ServiceAttribute")
    for code, attr, *_rest in SEED:
        ServiceAttribute.objects.filter(service_code=code, code=attr).delete()


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
