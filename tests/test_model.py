"""Value objects of the model: frozen, validated at the boundary, labelled in two languages."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
import shapely

from linerisk.model import (
    BUILTIN_CATEGORIES,
    Action,
    AreaClass,
    Band,
    Category,
    CategoryCatalog,
    ChainBreak,
    Event,
    Fence,
    FenceCondition,
    KmPost,
    Line,
    Location,
    Neighbourhood,
    Parties,
    PoliceArea,
    Risk,
    Segment,
    Severity,
    Side,
    Status,
    Vertical,
    Zone,
)
from linerisk.settings import Settings
from linerisk.zones import ZoneRules

CST = dt.timezone(dt.timedelta(hours=8))
TRACK = shapely.LineString([(0, 0), (1000, 0)])
SQUARE = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])


def line(**changes) -> Line:
    fields = dict(
        id="JD", name_zh="津东线", name_en="Jindong Line", geometry=TRACK, start_chainage=2350
    )
    return Line(**(fields | changes))


def segment(**changes) -> Segment:
    fields = dict(
        id="JD-01",
        line="JD",
        from_chainage=2350,
        to_chainage=4200,
        works_section="天津工务段",
        workshop="天津东线路车间",
        work_area="天津东线路工区",
        area_class="urban",
    )
    return Segment(**(fields | changes))


def location(**changes) -> Location:
    fields = dict(
        line="JD", measure_m=130.0, chainage_m=2480.0, side="right", offset_m=25.0, x=1.0, y=2.0
    )
    return Location(**(fields | changes))


def risk(**changes) -> Risk:
    fields = dict(
        id=1,
        category="garbage",
        severity="general",
        status="reported",
        location=location(),
        parties=Parties(
            police="天津站派出所", workshop="天津东线路车间", street_office="大王庄街道"
        ),
        zone=Zone(AreaClass.URBAN, 8.0, 17.5, Band.WITHIN_200M),
        lead="local",
        found_at=dt.datetime(2026, 8, 3, 9, 30, tzinfo=CST),
        found_by="天津站派出所 孙丽娜",
        deadline="2026-09-02T09:30:00+08:00",
    )
    return Risk(**(fields | changes))


# --------------------------------------------------------------------------- valid objects


def test_valid_objects_convert_at_the_boundary():
    assert line().start_chainage == 2350.0 and line().tracks == 1
    seg = segment(patrol_per_week="14", formation_half_width_left_m=6.5)
    assert seg.area_class is AreaClass.URBAN
    assert seg.patrol_per_week == 14.0
    assert seg.half_width(Side.LEFT, 6.0) == 6.5
    assert seg.half_width(Side.RIGHT, 6.0) == 6.0  # not given: the default
    assert location(side="左侧").side is Side.LEFT
    r = risk()
    assert (r.severity, r.status, r.lead) == (Severity.GENERAL, Status.REPORTED, Vertical.LOCAL)
    assert r.deadline == dt.datetime(2026, 9, 2, 9, 30, tzinfo=CST)
    assert r.is_open and r.lead_party == "大王庄街道"
    fence = Fence("JD-FL01", "JD", "右侧", 2350, 3000, "破损")
    assert (fence.side, fence.condition) == (Side.RIGHT, FenceCondition.DAMAGED)


@pytest.mark.parametrize(
    "obj",
    [
        line(),
        segment(),
        location(),
        risk(),
        Parties(),
        KmPost("JD", 3000, shapely.Point(0, 0)),
        Settings(),
        Category("my_kind", "自定义", "my kind", "police"),
    ],
    ids=lambda o: type(o).__name__,
)
def test_value_objects_are_frozen(obj):
    name = attrs.fields(type(obj))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, name, getattr(obj, name))


def test_changed_copies_are_validated_too():
    assert attrs.evolve(line(), high_speed=True).high_speed is True
    with pytest.raises(ValueError, match="must increase"):
        attrs.evolve(segment(), to_chainage=1000)


# --------------------------------------------------------------------------- invalid objects


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: line(id=""), "id must be a non-empty string"),
        (lambda: line(id="   "), "id must be a non-empty string"),
        (lambda: line(name_zh=""), "name_zh"),
        (lambda: line(geometry=shapely.Point(0, 0)), "geometry must be a LineString"),
        (lambda: line(geometry=shapely.LineString()), "geometry must not be empty"),
        (lambda: line(geometry=shapely.LineString([(0, 0), (0, 0)])), "not a valid geometry"),
        (lambda: line(geometry="LINESTRING (0 0, 1 1)"), "geometry must be a LineString"),
        (lambda: line(start_chainage=-1), "start_chainage must be >= 0"),
        (lambda: line(tracks=0), "at least one track"),
        (lambda: KmPost("JD", -5, shapely.Point(0, 0)), "chainage must be >= 0"),
        (lambda: KmPost("", 5, shapely.Point(0, 0)), "line must be a non-empty string"),
        (lambda: KmPost("JD", 5, TRACK), "geometry must be a Point"),
        (lambda: ChainBreak("JD", 11620, 11620), "different back and ahead"),
        (lambda: ChainBreak("JD", -1, 10), "back must be >= 0"),
        (lambda: segment(id=""), "id must be a non-empty string"),
        (lambda: segment(to_chainage=2350), "K2+350-K2+350 must increase"),
        (lambda: segment(to_chainage=1000), "K2+350-K1+000 must increase"),
        (lambda: segment(from_chainage=-10), "from_chainage must be >= 0"),
        (lambda: segment(area_class="downtown"), "unknown area class 'downtown'"),
        (lambda: segment(formation_half_width_left_m=-1), "must be >= 0"),
        (lambda: segment(patrol_per_week=-2), "patrol_per_week must be >= 0"),
        (lambda: segment(work_area=""), "work_area must be a non-empty string"),
        (lambda: segment(geometry=SQUARE), "geometry must be a LineString or MultiLineString"),
        (lambda: PoliceArea("PS-TJ", "天津站派出所", TRACK), "Polygon or MultiPolygon"),
        (lambda: PoliceArea("PS-TJ", "", SQUARE), "name must be a non-empty string"),
        (lambda: Neighbourhood("NB01", "河东区", "大王庄街道", "", SQUARE), "community"),
        (lambda: Fence("F1", "JD", "middle", 0, 10, "intact"), "unknown side 'middle'"),
        (lambda: Fence("F1", "JD", "left", 10, 0, "intact"), "must increase"),
        (lambda: Fence("F1", "JD", "left", 0, 10, "fine"), "unknown fence condition 'fine'"),
        (lambda: location(side="up"), "unknown side 'up'"),
        (lambda: location(offset_m=-3.0), "offset_m must be >= 0"),
        (lambda: risk(category=""), "category must be a non-empty string"),
        (lambda: risk(severity="huge"), "unknown severity 'huge'"),
        (lambda: risk(status="open"), "unknown status 'open'"),
        (lambda: risk(lead="army"), "unknown vertical 'army'"),
        (lambda: risk(found_by=" "), "found_by must be a non-empty string"),
        (lambda: risk(found_at=dt.datetime(2026, 8, 3, 9, 30)), "needs a time zone"),
        (lambda: risk(found_at="2026-08-03T09:30:00"), "needs a time zone"),
        (lambda: risk(found_at="yesterday"), "yesterday"),
        (lambda: risk(deadline=dt.datetime(2026, 9, 2)), "needs a time zone"),
        (lambda: risk(found_at=dt.date(2026, 8, 3)), "not a date and time"),
        (
            lambda: Event(1, 1, "2026-08-03T10:00:00", "王磊", "assign", "reported", "assigned"),
            "needs a time zone",
        ),
        (
            lambda: Event(1, 1, "2026-08-03T10:00:00+08:00", "王磊", "fly", None, None),
            "unknown action 'fly'",
        ),
        (lambda: Category("Bad Key", "坏", "bad", "police"), "lower-case"),
        (lambda: Category("ok_key", "", "bad", "police"), "zh label must not be empty"),
        (lambda: Category("ok_key", "好", "ok", "army"), "unknown vertical 'army'"),
    ],
)
def test_invalid_objects_cannot_be_built(build, message):
    with pytest.raises(ValueError, match=message.replace("+", r"\+").replace("(", r"\(")):
        build()


def test_chain_break_kinds():
    short = ChainBreak("JD", 11620, 11660)
    long = ChainBreak("JD", 10500, 10450)
    assert (short.kind, short.length) == ("short", 40.0)
    assert (long.kind, long.length) == ("long", 50.0)


# --------------------------------------------------------------------------- enums

ENUMS = [Severity, Status, Side, AreaClass, Vertical, Band, FenceCondition, Action]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_enums_parse_keys_and_both_labels(enum):
    for member in enum:
        zh, en = member.label("zh"), member.label("en")
        assert zh and en and zh != en
        for text in (member.value, f" {member.value} ", en, en.upper(), zh, member):
            assert enum.parse(text) is member


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_unknown_enum_value_lists_the_choices(enum):
    with pytest.raises(ValueError) as err:
        enum.parse("no such thing")
    message = str(err.value)
    assert "'no such thing'" in message and "choose one of" in message
    for member in enum:
        assert f"{member.value} ({member.label('zh')})" in message


def test_some_labels():
    assert Severity.parse("较大") is Severity.MAJOR
    assert Status.parse("awaiting re-inspection") is Status.AWAITING_RECHECK
    assert Status.parse("已销号") is Status.CLEARED
    assert AreaClass.parse("村镇居民居住区") is AreaClass.VILLAGE
    assert Vertical.parse("local government") is Vertical.LOCAL
    assert Vertical.parse("地方") is Vertical.LOCAL
    assert Band.parse("200米内") is Band.WITHIN_200M
    assert Side.LEFT.sign == 1 and Side.RIGHT.sign == -1
    assert [s for s in Status if s.is_open] == [
        Status.REPORTED,
        Status.ASSIGNED,
        Status.RECTIFYING,
        Status.AWAITING_RECHECK,
    ]
    with pytest.raises(ValueError, match=r"choose one of left \(左侧\), right \(右侧\)"):
        Side.parse("上行")


# --------------------------------------------------------------------------- parties, location


def test_parties_name_the_gaps():
    assert Parties().uncovered == (Vertical.POLICE, Vertical.RAILWAY, Vertical.LOCAL)
    p = Parties(works_section="天津工务段", workshop="天津东线路车间", street_office="新立街道")
    assert p.uncovered == (Vertical.POLICE,)
    assert p.party(Vertical.POLICE) is None
    assert p.party(Vertical.RAILWAY) == "天津东线路车间"
    assert p.party(Vertical.LOCAL) == "新立街道"


def test_location_describes_itself_in_both_languages():
    loc = location(chainage_m=5200.04, side="left", offset_m=30.2)
    assert loc.chainage == "K5+200"
    assert loc.describe("en") == "JD K5+200, left side, 30 m off the track"
    assert loc.describe("zh") == "JD K5+200 左侧 距线路中心30米"
    assert location(chainage_m=5200.25, prefix="DK").chainage == "DK5+200.2"


def test_risk_overdue():
    r = risk(severity="critical", deadline="2026-08-04T09:30:00+08:00")
    assert not r.is_overdue(dt.date(2026, 8, 3))
    assert r.is_overdue(dt.date(2026, 8, 4))  # a date means the end of that day
    assert not r.is_overdue(dt.datetime(2026, 8, 4, 9, 0, tzinfo=CST))
    assert not risk(status="cleared").is_overdue(dt.date(2027, 1, 1))


# --------------------------------------------------------------------------- categories

# The categories of DOMAIN.md ("What gets registered"), in its order.
DOMAIN_CATEGORIES = {
    "fence_damage": "护网破损",
    "illegal_crossing": "非法穿越",
    "light_floating_object": "轻质飘浮物",
    "hard_floating_object": "硬质飘浮物",
    "kite_balloon_drone": "风筝气球无人机",
    "tree_encroachment": "树木侵限",
    "illegal_construction": "违法施工",
    "illegal_building": "违建违占",
    "garbage": "垃圾堆积",
    "burning": "烧荒",
    "livestock": "牲畜上道",
    "water_extraction": "违法取水",
    "mining_blasting": "采矿爆破",
    "sand_soil_digging": "挖沙取土",
    "farm_machinery": "农机具侵限",
    "stone_throwing": "击打列车",
    "level_crossing": "道口隐患",
    "flood_geology": "水害地质",
    "cable_theft": "盗割电缆",
}


def test_catalog_has_the_domain_categories():
    catalog = CategoryCatalog.default()
    assert catalog.keys() == list(DOMAIN_CATEGORIES)
    assert {c.key: c.zh for c in catalog} == DOMAIN_CATEGORIES
    assert len({c.en for c in catalog}) == 19
    assert all(c.label("en") == c.en and c.label("zh") == c.zh for c in catalog)
    assert catalog.categories == BUILTIN_CATEGORIES


def test_catalog_lookup_by_key_or_name():
    catalog = CategoryCatalog.default()
    for key, zh in DOMAIN_CATEGORIES.items():
        assert catalog.get(key).key == key
        assert catalog.get(zh).key == key
        assert catalog.get(f" {zh} ").key == key
        assert key in catalog and zh in catalog
    assert catalog.get("Rubbish").key == "garbage"  # the English label, any case
    assert "unicorns" not in catalog
    with pytest.raises(ValueError, match="unknown category 'unicorns'; known categories") as err:
        catalog.get("unicorns")
    assert "garbage (垃圾堆积)" in str(err.value)


def test_catalog_takes_a_sites_own_category_and_lead_changes():
    own = Category("signal_box_break_in", "信号箱被撬", "signal box break-in", "公安")
    catalog = CategoryCatalog.default().with_category(own)
    assert catalog.get("信号箱被撬") is own and own.lead is Vertical.POLICE
    assert len(catalog.keys()) == 20
    assert "signal_box_break_in" not in CategoryCatalog.default()  # the default is untouched
    # Replacing a category by key keeps one entry.
    relabelled = catalog.with_category(attrs.evolve(own, en="signal cabinet break-in"))
    assert len(relabelled.keys()) == 20
    assert relabelled.get("signal_box_break_in").en == "signal cabinet break-in"

    changed = catalog.with_leads({"garbage": "railway", "signal_box_break_in": Vertical.LOCAL})
    assert changed.get("garbage").lead is Vertical.RAILWAY
    assert changed.get("signal_box_break_in").lead is Vertical.LOCAL
    assert catalog.get("garbage").lead is Vertical.LOCAL
    with pytest.raises(ValueError, match="unknown category 'unicorns'"):
        catalog.with_leads({"unicorns": "police"})
    with pytest.raises(ValueError, match="unknown vertical"):
        catalog.with_leads({"garbage": "army"})


def test_catalog_refuses_a_name_twice():
    with pytest.raises(ValueError, match="'垃圾堆积' is defined twice"):
        CategoryCatalog.default().with_category(
            Category("rubbish_2", "垃圾堆积", "rubbish", "local")
        )


# --------------------------------------------------------------------------- settings


def test_settings_round_trip_through_json():
    own = Category("signal_box_break_in", "信号箱被撬", "signal box break-in", "police")
    settings = Settings(
        deadline_days={"major": 5, "general": 20.5},
        max_distance_m=800,
        duplicate_radius_m=25,
        default_half_width_m=7.5,
        zones=ZoneRules(
            widths={"urban": (9, 11)}, bands=(100, 500, 1000), unknown_area_class="村镇居民居住区"
        ),
        lead_overrides={"garbage": "railway", "signal_box_break_in": "local"},
        extra_categories=[own],
        lang="en",
        default_actor="天津站派出所 王磊",
        timezone="+08:00",
    )
    data = json.loads(json.dumps(settings.to_dict(), ensure_ascii=False))
    again = Settings.from_dict(data)
    assert again == settings
    assert again.to_dict() == settings.to_dict()
    assert again.zones.width("urban", high_speed=True) == 11.0
    assert again.zones.unknown_area_class == "village"
    assert again.categories.get("garbage").lead is Vertical.RAILWAY
    assert again.categories.get("信号箱被撬").lead is Vertical.LOCAL
    assert Settings.from_dict(Settings().to_dict()) == Settings()
    assert Settings.from_dict({}) == Settings()


def test_settings_defaults_follow_the_regulations():
    s = Settings()
    assert s.deadline_days == {"critical": 1, "major": 7, "general": 30}
    assert s.max_distance_m == 1000.0
    assert s.zones.bands == (200.0, 500.0, 1000.0)
    widths = {a.value: s.zones.widths[a.value] for a in AreaClass}
    assert widths == {
        "urban": (8.0, 10.0),
        "suburban": (10.0, 12.0),
        "village": (12.0, 15.0),
        "other": (15.0, 20.0),
    }
    found = dt.datetime(2026, 8, 3, 9, 30, tzinfo=CST)
    assert s.deadline_for("较大", found) == found + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Settings.from_dict({"max_distance": 5}), "unknown setting 'max_distance'"),
        (lambda: Settings(max_distance_m=0), "max_distance_m must be positive"),
        (lambda: Settings(deadline_days={"major": 0}), "deadline for 'major'"),
        (lambda: Settings(deadline_days={"huge": 3}), "unknown severity 'huge'"),
        (lambda: Settings(lang="fr"), "language must be zh or en"),
        (lambda: Settings(timezone="CST"), "time zone 'CST' must be an offset"),
        (lambda: Settings(timezone=""), "time zone '' must be an offset"),
        (lambda: Settings(lead_overrides={"unicorns": "police"}), "unknown category"),
        (lambda: ZoneRules(widths={"urban": (0, 10)}), "must be positive"),
        (lambda: ZoneRules(bands=(500, 200, 1000)), "three increasing distances"),
        (lambda: ZoneRules(unknown_area_class="nowhere"), "unknown area class 'nowhere'"),
    ],
)
def test_invalid_settings_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()
