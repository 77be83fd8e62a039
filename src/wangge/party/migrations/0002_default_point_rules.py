"""Default points rules (积分规则), editable afterwards as data."""

from django.db import migrations

RULES = [
    ("ATTEND", "attend_activity", "参加组织生活", 5),
    ("ORDER-DONE", "complete_order", "完成服务订单", 10),
    ("ORDER-5STAR", "rated_five", "服务获五星好评", 5),
    ("DUAL-REPORT", "dual_report", "到社区报到", 10),
]


def forwards(apps, schema_editor):
    PointRule = apps.get_model("party", "PointRule")
    for code, event, name, points in RULES:
        PointRule.objects.get_or_create(
            event=event, defaults={"code": code, "name": name, "points": points}
        )


def backwards(apps, schema_editor):
    PointRule = apps.get_model("party", "PointRule")
    PointRule.objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("party", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
