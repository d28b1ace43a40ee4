"""Code lists of the household registry (domain.md section 2 and 3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HouseholdType(models.TextChoices):
    GENERAL = "general", _("一般贫困户")
    DIBAO = "dibao", _("低保户")
    WUBAO = "wubao", _("五保户")
    DIBAO_POOR = "dibao_poor", _("低保贫困户")


class IdentificationStandard(models.TextChoices):
    NATIONAL = "national", _("国家标准")
    PROVINCIAL = "provincial", _("省定标准")
    CITY = "city", _("市定标准")


class Cause(models.TextChoices):
    ILLNESS = "illness", _("因病")
    DISABILITY = "disability", _("因残")
    SCHOOLING = "schooling", _("因学")
    DISASTER = "disaster", _("因灾")
    LAND = "land", _("缺土地")
    WATER = "water", _("缺水")
    SKILLS = "skills", _("缺技术")
    LABOUR = "labour", _("缺劳力")
    FUNDS = "funds", _("缺资金")
    TRANSPORT = "transport", _("交通条件落后")
    MOTIVATION = "motivation", _("自身发展动力不足")
    OTHER = "other", _("其它")


class CardColour(models.TextChoices):
    RED = "red", _("红卡")
    BLUE = "blue", _("蓝卡")
    YELLOW = "yellow", _("黄卡")


class HousingGrade(models.TextChoices):
    A = "A", _("A级（安全）")
    B = "B", _("B级（基本安全）")
    C = "C", _("C级（局部危房）")
    D = "D", _("D级（整栋危房）")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    SON = "son", _("之子")
    DAUGHTER = "daughter", _("之女")
    DAUGHTER_IN_LAW = "daughter_in_law", _("之儿媳")
    SON_IN_LAW = "son_in_law", _("之女婿")
    GRANDCHILD = "grandchild", _("之孙子女")
    PARENT = "parent", _("之父母")
    GRANDPARENT = "grandparent", _("之祖父母")
    SIBLING = "sibling", _("之兄弟姐妹")
    OTHER = "other", _("其他")


ETHNICITIES = (
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
)
# GB/T 3304 codes 01-56, in that order.
EthnicityChoices = [(f"{i + 1:02d}", name) for i, name in enumerate(ETHNICITIES)]


class Education(models.TextChoices):
    PRESCHOOL = "preschool", _("学龄前儿童")
    ILLITERATE = "illiterate", _("文盲或半文盲")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中专")
    COLLEGE = "college", _("大专及以上")


class SchoolStatus(models.TextChoices):
    NONE = "none", _("非在校生")
    PRESCHOOL = "preschool", _("学前教育")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    HIGHER_VOCATIONAL = "higher_vocational", _("高职高专")
    UNDERGRADUATE = "undergraduate", _("本科及以上")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    CHRONIC = "chronic", _("长期慢性病")
    SERIOUS = "serious", _("患有大病")
    DISABLED = "disabled", _("残疾")


class DisabilityGrade(models.TextChoices):
    NONE = "", _("无")
    G1 = "1", _("一级")
    G2 = "2", _("二级")
    G3 = "3", _("三级")
    G4 = "4", _("四级")


class Labour(models.TextChoices):
    SKILLED = "skilled", _("技能劳动力")
    ORDINARY = "ordinary", _("普通劳动力")
    WEAK = "weak", _("弱劳动力或半劳动力")
    LOST = "lost", _("丧失劳动力")
    NONE = "none", _("无劳动力")


# Members who can work: a household with none of them is never marked 风险消除.
WORKING_LABOUR = (Labour.SKILLED, Labour.ORDINARY, Labour.WEAK)


class MonitoringCategory(models.TextChoices):
    UNSTABLE = "unstable", _("脱贫不稳定户")
    MARGINAL = "marginal", _("边缘易致贫户")
    SUDDEN = "sudden", _("突发严重困难户")


class RiskType(models.TextChoices):
    ILLNESS = "illness", _("因病")
    DISABILITY = "disability", _("因残")
    SCHOOLING = "schooling", _("因学")
    DISASTER = "disaster", _("因自然灾害")
    ACCIDENT = "accident", _("因意外事故")
    EMPLOYMENT = "employment", _("因务工就业不稳")
    INDUSTRY = "industry", _("因产业项目失败")
    HOUSING = "housing", _("住房安全问题")
    WATER = "water", _("饮水安全问题")
    EXPENSES = "expenses", _("刚性支出较大")
    INCOME_DROP = "income_drop", _("收入骤减")
    OTHER = "other", _("其他")


class Discovery(models.TextChoices):
    SELF = "self", _("农户自主申报")
    VISIT = "visit", _("基层干部走访排查")
    SCREENING = "screening", _("部门筛查预警")


class MeasureKind(models.TextChoices):
    INDUSTRY = "industry", _("产业帮扶")
    EMPLOYMENT = "employment", _("就业帮扶")
    HEALTH = "health", _("健康帮扶")
    EDUCATION = "education", _("教育帮扶")
    HOUSING = "housing", _("住房安全保障")
    RELOCATION = "relocation", _("易地搬迁")
    SOCIAL_SECURITY = "social_security", _("综合保障（兜底）")
    MICROCREDIT = "microcredit", _("小额信贷")
    PUBLIC_WELFARE_JOB = "public_welfare_job", _("公益岗位")
    TRAINING = "training", _("技能培训")
    OTHER = "other", _("其他")
