"""Administrative regions (province → city → county → township → village) and village profiles."""

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel, ScopedQuerySet
from common.sync import sync_index, sync_stamp_field, sync_triggers


class Level(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县")
    TOWNSHIP = 4, _("乡镇")
    VILLAGE = 5, _("村")


# Significant digits of the 12-digit statistical code (统计用区划代码) at each level.
PREFIX_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}


def significant_prefix(code: str, level: int) -> str:
    return code[: PREFIX_LENGTH[Level(level)]]


def validate_region_code(code: str, level: int, parent: "Region | None") -> None:
    """Length and digits, zeros after the level's significant part, prefix of the parent."""
    if len(code) != 12 or not code.isdigit():
        raise ValidationError({"code": _g("区划代码应为12位数字。")})
    size = PREFIX_LENGTH[Level(level)]
    own = {
        Level.PROVINCE: code[0:2],
        Level.CITY: code[2:4],
        Level.COUNTY: code[4:6],
        Level.TOWNSHIP: code[6:9],
        Level.VILLAGE: code[9:12],
    }[Level(level)]
    if set(own) == {"0"} or code[0] == "0":
        raise ValidationError({"code": _g("区划代码中本级部分不能全为0。")})
    if set(code[size:]) - {"0"}:
        raise ValidationError(
            {
                "code": _g("%(level)s级区划代码第%(start)d位以后应为0。")
                % {"level": Level(level).label, "start": size + 1}
            }
        )
    if level == Level.PROVINCE:
        if parent is not None:
            raise ValidationError({"parent": _g("省级区划没有上级。")})
        return
    if parent is None:
        raise ValidationError({"parent": _g("请选择上级区划。")})
    if parent.level != level - 1:
        raise ValidationError(
            {"parent": _g("上级区划应为%(level)s级。") % {"level": Level(level - 1).label}}
        )
    if not code.startswith(parent.prefix):
        raise ValidationError(
            {"code": _g("区划代码应以上级代码 %(prefix)s 开头。") % {"prefix": parent.prefix}}
        )


class RegionQuerySet(ScopedQuerySet):
    scope_path = "code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Region(BaseModel):
    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sync_xid = sync_stamp_field()

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [
            models.Index(
                fields=["code"], name="region_code_like", opclasses=["varchar_pattern_ops"]
            ),
            sync_index("region"),
        ]
        triggers = sync_triggers(RegionQuerySet.scope_path)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{12}$"), name="region_code_12_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(level=1, parent__isnull=True)
                | models.Q(level__gt=1, parent__isnull=False),
                name="region_parent_by_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return significant_prefix(self.code, self.level)

    def clean(self) -> None:
        validate_region_code(self.code or "", self.level, self.parent)


class PovertyStatus(models.TextChoices):
    POOR = "poor", _("贫困村")
    NON_POOR = "non_poor", _("非贫困村")
    EXITED = "exited", _("已出列")


class VillageQuerySet(ScopedQuerySet):
    scope_path = "code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Village(BaseModel):
    """The profile of an administrative village (行政村); `code` repeats its region's code."""

    region = models.OneToOneField(
        Region,
        verbose_name=_("区划"),
        on_delete=models.PROTECT,
        related_name="village",
        limit_choices_to={"level": Level.VILLAGE},
    )
    code = models.CharField(_("区划代码"), max_length=12, unique=True, editable=False)
    name = models.CharField(_("村名"), max_length=64)
    township = models.ForeignKey(
        Region,
        verbose_name=_("乡镇"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Level.TOWNSHIP},
        editable=False,
    )
    poverty_status = models.CharField(
        _("贫困状态"), max_length=16, choices=PovertyStatus.choices, default=PovertyStatus.POOR
    )
    exit_year = models.PositiveSmallIntegerField(_("出列年份"), null=True, blank=True)
    is_deep_poverty = models.BooleanField(_("深度贫困村"), default=False)
    is_weak_organisation = models.BooleanField(_("软弱涣散村"), default=False)
    is_relocation_site = models.BooleanField(_("易地搬迁安置点"), default=False)
    population = models.PositiveIntegerField(_("户籍人口"), default=0)
    household_count = models.PositiveIntegerField(_("户数"), default=0)
    collective_income = models.DecimalField(
        _("村集体经济收入（元）"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    sync_xid = sync_stamp_field()

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = _("村")
        verbose_name_plural = _("村")
        ordering = ["code"]
        indexes = [
            models.Index(
                fields=["code"], name="village_code_like", opclasses=["varchar_pattern_ops"]
            ),
            sync_index("village"),
        ]
        triggers = sync_triggers(VillageQuerySet.scope_path)
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(poverty_status="exited") | models.Q(exit_year__isnull=False),
                name="village_exit_year_when_exited",
                violation_error_message=_("已出列的村须填写出列年份。"),
            ),
            models.CheckConstraint(
                condition=models.Q(exit_year__isnull=True)
                | models.Q(exit_year__gte=2000, exit_year__lte=2100),
                name="village_exit_year_range",
                violation_error_message=_("出列年份不合理。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.region_id and self.region.level != Level.VILLAGE:
            raise ValidationError({"region": _g("只能为村级区划建立村档案。")})
        if self.poverty_status == PovertyStatus.EXITED and not self.exit_year:
            raise ValidationError({"exit_year": _g("已出列的村须填写出列年份。")})
