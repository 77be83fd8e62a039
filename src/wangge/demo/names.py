"""Name pools for the demo city. Place names are real or plausible for 姑苏区 (Suzhou's old
town); people's names are drawn from common surnames (weighted towards Suzhou) and given-name
characters. Everything here is data; the drawing is seeded by the caller."""

from __future__ import annotations

import random

# Street name → an approximate real location (lon, lat, WGS-84) used as its Voronoi seed, so the
# streets sit roughly where they are on a map of Suzhou (平江 in the north-east of the old town,
# 吴门桥 in the south, 白洋湾 and 虎丘 to the north-west …).
STREET_ANCHORS: list[tuple[str, float, float]] = [
    ("白洋湾街道", 120.5905, 31.3275),
    ("虎丘街道", 120.6085, 31.3315),
    ("平江街道", 120.6405, 31.3235),
    ("金阊街道", 120.6010, 31.3065),
    ("观前街道", 120.6250, 31.3110),
    ("沧浪街道", 120.6085, 31.2875),
    ("双塔街道", 120.6450, 31.2975),
    ("吴门桥街道", 120.6275, 31.2810),
]

# Community name stems per street (the 社区 suffix is added); more than any street needs.
COMMUNITY_STEMS: dict[str, list[str]] = {
    "白洋湾街道": [
        "白洋湾",
        "金政",
        "山塘新村",
        "里河",
        "杨家",
        "新星",
        "永福",
        "宝邻",
        "虎阜",
        "金筑",
    ],
    "虎丘街道": [
        "虎丘",
        "山塘",
        "新庄",
        "朱家庄",
        "西塘河",
        "白莲",
        "何山塘",
        "留园东",
        "新塘",
        "花园弄",
    ],
    "平江街道": [
        "平江路",
        "钮家巷",
        "大儒巷",
        "仓街",
        "悬桥",
        "华阳",
        "北园",
        "东园",
        "菉葭巷",
        "新桥",
    ],
    "金阊街道": [
        "石路",
        "阊门",
        "彩香",
        "三香",
        "西园",
        "留园",
        "桐泾",
        "友联",
        "西津桥",
        "南浩街",
    ],
    "观前街道": [
        "观前",
        "临顿路",
        "察院场",
        "醋库巷",
        "大成坊",
        "碧凤坊",
        "北局",
        "宫巷",
        "玄妙",
        "因果巷",
    ],
    "沧浪街道": [
        "沧浪亭",
        "道前",
        "胥江",
        "盘门",
        "南门",
        "三元",
        "杨枝",
        "新沧浪",
        "府前",
        "文庙",
    ],
    "双塔街道": [
        "双塔",
        "定慧寺",
        "滚绣坊",
        "十全街",
        "南园",
        "葑门",
        "官太尉",
        "锦帆",
        "竹辉",
        "瑞光",
    ],
    "吴门桥街道": [
        "吴门桥",
        "南环",
        "新郭",
        "长桥",
        "友新",
        "龙桥",
        "泰南",
        "觅渡",
        "石湖东",
        "蟠螭",
    ],
}

# Facilities that get a 专属网格 (dedicated grid): schools, hospitals, markets, parks.
FACILITIES: list[str] = [
    "苏州中学",
    "草桥中学",
    "平江实验学校",
    "沧浪中学",
    "苏州市第十中学",
    "金阊实验小学",
    "三元实验小学",
    "善耕实验小学",
    "敬文实验小学",
    "景范中学",
    "振华中学",
    "立达中学",
    "苏州大学附属第一医院",
    "苏州市立医院本部",
    "苏州市中医医院",
    "姑苏区人民医院",
    "苏州市第五人民医院",
    "苏州大学附属儿童医院",
    "平江社区卫生服务中心",
    "南环桥农贸市场",
    "双塔菜场",
    "娄门农贸市场",
    "石路商圈",
    "观前街商圈",
    "南门商圈",
    "阊门农贸市场",
    "相门菜场",
    "十全街商业街",
    "拙政园景区",
    "虎丘景区",
    "狮子林景区",
    "沧浪亭景区",
    "留园景区",
    "盘门景区",
    "桐泾公园",
    "北寺塔景区",
    "平门府公园",
    "环古城河公园",
    "东园公园",
    "山塘街景区",
]

# Common surnames, Suzhou-flavoured ones repeated so they come up more often.
SURNAMES: list[str] = [
    *"陆顾沈钱周朱徐吴张王" * 3,
    *"李刘陈杨黄赵孙马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "姚卢姜崔钟谭汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺毛郝龚邵万严戴孔汤",
]

GIVEN_CHARS: str = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯婷雪琳晨"
    "欣怡佳颖思雨子轩梓涵一诺嘉琪雅琴慧娴蕾薇晓燕春梅海波永新立群德福宏伟俊峰家豪昊天逸飞"
)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name: surname plus one or two given-name characters."""
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
    return rng.choice(SURNAMES) + given


def community_names(street_name: str, count: int, rng: random.Random) -> list[str]:
    """``count`` distinct community names for a street, in a seeded order."""
    stems = list(COMMUNITY_STEMS[street_name])
    rng.shuffle(stems)
    names = [f"{stem}社区" for stem in stems]
    extra = 1
    while len(names) < count:  # never needed by the demo's sizes, but keep it total
        names.append(f"{stems[extra % len(stems)]}第{extra + 1}社区")
        extra += 1
    return names[:count]
