"""titan-ops' own module API (what a custom module imports as ``ansible.module_utils``), on the controller:
parameter validation with ansible-core's messages, masking of ``no_log`` values, key conversions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from titan_ops.modules.custom import api
from titan_ops.modules.custom.api.ansible.module_utils.basic import remove_values
from titan_ops.modules.custom.api.ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from titan_ops.modules.custom.api.ansible.module_utils.common.dict_transformations import (
    camel_dict_to_snake_dict, dict_merge, recursive_diff, snake_dict_to_camel_dict,
)

SUBOPTIONS = {
    "secret": {"no_log": True},
    "subopt_dict": {"type": "dict", "options": {
        "str_sub_opt1": {"no_log": True}, "str_sub_opt2": {},
        "nested_subopt": {"type": "dict", "options": {"n_subopt1": {"no_log": True}}}}},
    "subopt_list": {"type": "list", "elements": "dict", "options": {"subopt1": {"no_log": True}, "subopt2": {}}},
}


def _validate(spec, params, **checks):
    return ArgumentSpecValidator(spec, **checks).validate(params)


def test_suboptions_are_validated_and_their_no_log_values_collected():
    result = _validate(SUBOPTIONS, {"secret": "S1", "subopt_dict": "str_sub_opt1=S2",
                                    "subopt_list": [{"subopt1": "S3"}, {"subopt1": "S4", "subopt2": "x"}]})
    assert result.error_messages == []
    assert result.validated_parameters["subopt_dict"] == {"str_sub_opt1": "S2", "str_sub_opt2": None,
                                                          "nested_subopt": None}
    assert result.validated_parameters["subopt_list"][0] == {"subopt1": "S3", "subopt2": None}
    assert result.no_log_values == {"S1", "S2", "S3", "S4"}


@pytest.mark.parametrize("params, messages", [
    ({"subopt_dict": {"str_sub_opt1": "a", "bad": 1}},
     ["subopt_dict.bad. Supported parameters include: nested_subopt, str_sub_opt1, str_sub_opt2."]),
    ({"subopt_list": {"foo": "bar"}},
     ["argument 'subopt_list' is of type dict and we were unable to convert to list: <class 'dict'> cannot be "
      "converted to a list", "subopt_list.foo. Supported parameters include: subopt1, subopt2."]),
    ({"subopt_list": [1]}, ["Value '1' in the sub parameter field 'subopt_list' must be a list, not 'int'",
                            "Elements value for option 'subopt_list' is of type int and we were unable to convert "
                            "to dict: <class 'int'> cannot be converted to a dict"]),
])
def test_suboption_errors_have_ansibles_messages(params, messages):
    """Every error, in ansible-core's order (its ArgumentSpecValidator gives these lists)."""
    assert _validate(SUBOPTIONS, params).error_messages == messages


SPEC = {"i": {"type": "int"}, "b": {"type": "bool"}, "l": {"type": "list", "elements": "int"},
        "name": {}, "path": {"type": "path"}, "st": {"choices": ["present", "absent"], "default": "present"},
        "d": {"type": "dict", "options": {"req": {"required": True}}}, "size": {"type": "bytes"}}


@pytest.mark.parametrize("params, checks, message", [
    ({"b": "maybe"}, {}, "argument 'b' is of type str and we were unable to convert to bool: The value 'maybe' "
                         "is not a valid boolean. Valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 1, "
                         "'n', 'no', 'off', '0', 'false', 'f', 0"),
    ({"i": 1.5}, {}, "argument 'i' is of type float and we were unable to convert to int: \"1.5\" cannot be "
                     "converted to an int"),
    ({"l": "1,x"}, {}, "Elements value for option 'l' is of type str and we were unable to convert to int: "
                       "\"'x'\" cannot be converted to an int"),
    ({"d": {}}, {}, "missing required arguments: req found in d"),
    ({"name": "a", "path": "b"}, {"mutually_exclusive": [["name", "path"]]},
     "parameters are mutually exclusive: name|path"),
    ({"st": "absent"}, {"required_if": [["st", "absent", ["name", "path"], True]]},
     "st is absent but any of the following are missing: name, path"),
    ({"st": "absent", "name": "a"}, {"required_if": [["st", "absent", ["name", "path"]]]},
     "st is absent but all of the following are missing: path"),
    ({"i": 1}, {"required_together": [["i", "b"]]}, "parameters are required together: i, b"),
    ({}, {"required_one_of": [["i", "b"]]}, "one of the following is required: i, b"),
    ({"name": "a"}, {"required_by": {"name": "path"}}, "missing parameter(s) required by 'name': path"),
])
def test_parameter_errors_have_ansibles_messages(params, checks, message):
    assert _validate(SPEC, params, **checks).error_messages == [message]


def test_parameters_are_converted_and_defaults_set():
    result = _validate(SPEC, {"i": "7", "b": "yes", "l": "1,2", "size": "1K", "path": "~/x"})
    assert result.error_messages == []
    params = result.validated_parameters
    assert (params["i"], params["b"], params["l"], params["size"], params["st"], params["d"]) == \
        (7, True, [1, 2], 1024, "present", None)
    assert not params["path"].startswith("~")


def test_no_log_values_are_masked_longest_first():
    masked = remove_values({"a": "SECRET101", "b": "x SECRET101 and RET", "c": ["RET"], "n": 5},
                           {"SECRET101", "RET", "5"})
    assert masked == {"a": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "b": "x ******** and ********",
                      "c": ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"], "n": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}


def test_dict_transformations():
    assert camel_dict_to_snake_dict({"TOPLevelKey": {"NESTEDKey": "DoNotConvert"}}) == \
        {"top_level_key": {"nested_key": "DoNotConvert"}}
    assert camel_dict_to_snake_dict({"TargetGroupARNs": [{"IAMUser": 1}], "Tags": {"KeepMe": 1}}, True, ["Tags"]) == \
        {"target_group_a_r_ns": [{"i_a_m_user": 1}], "tags": {"KeepMe": 1}}
    assert camel_dict_to_snake_dict({"TargetGroupARNs": 1, "CPUsPerCore": 2}) == \
        {"target_group_arns": 1, "cp_us_per_core": 2}
    assert snake_dict_to_camel_dict({"top_level_key": {"x__y": 1}}) == {"topLevelKey": {"x_Y": 1}}
    assert snake_dict_to_camel_dict({"top_level": 1, "_lead": 2}, capitalize_first=True) == \
        {"TopLevel": 1, "_Lead": 2}
    assert dict_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
    assert recursive_diff({"a": {"b": 1}, "c": 1}, {"a": {"b": 2}, "c": 1}) == ({"a": {"b": 1}}, {"a": {"b": 2}})
    assert recursive_diff({"a": 1}, {"a": 1}) is None


def test_the_api_is_written_for_python_3_7_hosts():
    """What runs on the host parses as Python 3.7 (older hosts cannot run ``from __future__ import
    annotations``); Python's own check of the grammar, not of the standard library used."""
    root = Path(api.__file__).parent
    for path in root.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
        assert "from __future__ import annotations" in path.read_text() or not path.read_text().strip() \
            or path.name == "__init__.py", path


def test_every_missing_required_option_is_named_sorted_and_validation_goes_on():
    result = _validate({"b": {"required": True}, "a": {"required": True}, "n": {"type": "int"}}, {"n": "x"})
    assert result.error_messages == [
        "missing required arguments: a, b",
        "argument 'n' is of type str and we were unable to convert to int: \"'x'\" cannot be converted to an int"]
