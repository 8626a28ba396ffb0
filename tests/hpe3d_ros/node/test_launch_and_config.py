"""What can be checked of launch/lift.launch.py, config/lift.yaml and rviz/hpe3d.rviz without launch/launch_ros/RViz."""
from __future__ import annotations

import ast
from pathlib import Path

import yaml

from hpe3d_ros.node.params import PARAM_BY_NAME, PARAMS

REPO = Path(__file__).resolve().parents[3]
LAUNCH = REPO / "launch" / "lift.launch.py"
CONFIG = REPO / "config" / "lift.yaml"
RVIZ = REPO / "rviz" / "hpe3d.rviz"


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Name) and n.func.id == name)
            or (isinstance(n.func, ast.Attribute) and n.func.attr == name)
        )
    ]


def _kw(call: ast.Call, key: str):
    for k in call.keywords:
        if k.arg == key:
            return k.value
    return None


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_launch_file_uses_the_official_api_and_names_the_right_node():
    tree = ast.parse(LAUNCH.read_text(), str(LAUNCH))
    imported = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("launch", "LaunchDescription") in imported and ("launch_ros.actions", "Node") in imported
    assert ("launch.actions", "DeclareLaunchArgument") in imported
    assert ("ament_index_python.packages", "get_package_share_directory") in imported
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)
    share = _calls(tree, "get_package_share_directory")
    assert share and all(ast.literal_eval(c.args[0]) == "hpe3d_ros" for c in share)
    nodes = [c for c in _calls(tree, "Node") if ast.literal_eval(_kw(c, "package")) == "hpe3d_ros"]
    assert len(nodes) == 1
    node = nodes[0]
    assert ast.literal_eval(_kw(node, "executable")) == "lift_node"
    setup = (REPO / "setup.py").read_text()
    assert '"lift_node = hpe3d_ros.node.lift_node:main"' in setup
    # the lifecycle variant: the same node name, parameters and remappings, its own executable, by condition
    managed = [c for c in _calls(tree, "LifecycleNode") if ast.literal_eval(_kw(c, "package")) == "hpe3d_ros"]
    assert len(managed) == 1 and ast.literal_eval(_kw(managed[0], "executable")) == "lift_lifecycle_node"
    assert ast.literal_eval(_kw(managed[0], "name")) == ast.literal_eval(_kw(node, "name"))
    for key in ("parameters", "remappings"):
        assert ast.unparse(_kw(managed[0], key)) == ast.unparse(_kw(node, key))
    conditions = {ast.unparse(_kw(c, "condition")) for c in (node, managed[0])}
    assert conditions == {"UnlessCondition(lifecycle)", "IfCondition(lifecycle)"}
    assert '"lift_lifecycle_node = hpe3d_ros.node.lifecycle_node:main"' in setup
    # The parameter file: share/config/lift.yaml, installed by setup.py's config/*.yaml rule.
    joins = [c for c in _calls(tree, "join") if [ast.literal_eval(a) for a in c.args[1:]] == ["config", "lift.yaml"]]
    assert joins, "the launch file does not pass config/lift.yaml"
    assert 'share("config", "*.yaml")' in setup and CONFIG.is_file()


def test_every_launch_argument_is_a_node_parameter_and_every_configuration_is_declared():
    tree = ast.parse(LAUNCH.read_text())
    declared = [ast.literal_eval(c.args[0]) for c in _calls(tree, "DeclareLaunchArgument")]
    for want in ("image_topic", "camera_info_topic", "backend", "model_file_path"):
        assert want in declared
    for name in declared:
        assert name in PARAM_BY_NAME or name == "lifecycle", f"launch argument {name!r} is not a lift_node parameter"
    used = {ast.literal_eval(c.args[0]) for c in _calls(tree, "LaunchConfiguration")}
    assert used <= set(declared), f"undeclared launch configurations {used - set(declared)}"
    assert set(declared) <= used, f"declared but unused launch arguments {set(declared) - used}"
    # Parameters passed to the node carry their own names; remappings start from the node's default topic names.
    assigned = {t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    params_dict = [e for e in assigned["parameters"].elts if isinstance(e, ast.Dict)][0]
    for k, v in zip(params_dict.keys, params_dict.values):
        assert ast.literal_eval(k) == ast.literal_eval(v.args[0])
    remapped = {ast.literal_eval(t.elts[0]) for t in assigned["remappings"].elts}
    assert remapped == {
        PARAM_BY_NAME["image_topic"].default,
        PARAM_BY_NAME["image_topic"].default + "/compressed",
        PARAM_BY_NAME["camera_info_topic"].default,
    }


def test_config_sets_every_parameter_with_a_valid_value():
    doc = yaml.safe_load(CONFIG.read_text())
    values = _flatten(doc["/**"]["ros__parameters"])
    assert set(values) == set(PARAM_BY_NAME), f"config/lift.yaml vs node: {set(values) ^ set(PARAM_BY_NAME)}"
    for spec in PARAMS:
        v = values[spec.name]
        assert type(v) is type(spec.default), f"{spec.name}: {v!r} is not a {type(spec.default).__name__}"
        if spec.low is not None:
            assert spec.low <= v <= spec.high, spec.name
        if spec.choices:
            assert v in spec.choices, spec.name
        assert spec.description


def test_rviz_config_shows_image_and_markers_in_the_camera_frame():
    cfg = yaml.safe_load(RVIZ.read_text())
    vm = cfg["Visualization Manager"]
    assert vm["Global Options"]["Fixed Frame"] == PARAM_BY_NAME["default_frame_id"].default
    displays = {d["Class"]: d for d in vm["Displays"]}
    ns = PARAM_BY_NAME["output_namespace"].default
    assert displays["rviz_default_plugins/MarkerArray"]["Topic"]["Value"] == f"/{ns}/markers"
    tree = ast.parse(LAUNCH.read_text())
    image_default = [
        ast.literal_eval(_kw(c, "default_value"))
        for c in _calls(tree, "DeclareLaunchArgument")
        if ast.literal_eval(c.args[0]) == "image_topic"
    ][0]
    assert displays["rviz_default_plugins/Image"]["Topic"]["Value"] == image_default


def test_docs_parameter_table_matches_the_node():
    from hpe3d_ros.node.params import parameters_table_markdown

    text = (REPO / "docs" / "node.md").read_text()
    begin, end = "<!-- BEGIN parameters_table_markdown() -->\n", "<!-- END parameters_table_markdown() -->"
    assert begin in text and end in text
    assert text.split(begin)[1].split(end)[0] == parameters_table_markdown()


def test_rviz_cloud_display_reads_the_skeleton_fields():
    from hpe3d_ros.node.skeleton_msgs import POINT_DTYPE

    displays = {d["Class"]: d for d in yaml.safe_load(RVIZ.read_text())["Visualization Manager"]["Displays"]}
    cloud = displays["rviz_default_plugins/PointCloud2"]
    assert cloud["Topic"]["Value"] == f"/{PARAM_BY_NAME['output_namespace'].default}/skeletons"
    assert cloud["Channel Name"] in POINT_DTYPE.names
