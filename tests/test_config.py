"""Config validation and sweep expansion."""

from pathlib import Path

import pytest

from neurocode.config import ConfigError, load_yaml, parse_set, resolve

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
BASE = {"name": "t", "model": {"rule": "relu-l1-fc"}, "train": {"iterations": 10}}


def test_article_configs_expand_to_the_article_grids():
    fc = resolve(load_yaml(EXPERIMENTS / "article_fc.yaml"))
    assert [s.get("model.l1") for s in fc] == [0, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 2.7e-3]
    assert {s.get("train.iterations") for s in fc} == {20000}
    assert {(s.get("train.batch_size"), s.get("train.lr"), s.get("train.eval_every")) for s in fc} == {(100, 1e-3, 100)}
    cnn = resolve(load_yaml(EXPERIMENTS / "article_cnn.yaml"))
    assert [s.get("model.l1") for s in cnn] == [0, 1e-5, 5e-5, 1e-4, 5e-4]
    ae = resolve(load_yaml(EXPERIMENTS / "article_ae.yaml"))
    assert len(ae) == 10
    assert {(s.get("model.decoder"), s.get("model.l1")) for s in ae} == {
        (d, l) for d in ("subpixel", "transposed") for l in (0, 1e-5, 5e-5, 1e-4, 5e-4)}
    names = {s.filename for s in fc + cnn + ae}
    assert len(names) == 22  # every run has its own file


def test_set_overrides_nested_keys_with_yaml_values():
    specs = resolve(load_yaml(EXPERIMENTS / "article_fc.yaml"),
                    parse_set(["train.iterations=2000", "seed=3"]))
    assert {s.get("train.iterations") for s in specs} == {2000}
    assert {s.get("seed") for s in specs} == {3}
    pinned = resolve(load_yaml(EXPERIMENTS / "article_fc.yaml"), parse_set(["model.l1=1e-4"]))
    assert [s.get("model.l1") for s in pinned] == [1e-4]
    swept = resolve(BASE, parse_set(["sweep.seed=[1, 2]"]))
    assert [s.get("seed") for s in swept] == [1, 2]


def test_changed_config_gives_a_new_file_name():
    a = resolve(BASE)[0]
    b = resolve(BASE, {"train.iterations": 11})[0]
    assert a.filename != b.filename
    assert a.filename == resolve(dict(BASE))[0].filename


@pytest.mark.parametrize("raw,overrides,key", [
    ({**BASE, "modle": {"rule": "relu-l1-fc"}}, {}, "modle"),
    ({**BASE, "model": {"rule": "relu-l1-fc", "lambda": 0.1}}, {}, "model.lambda"),
    (BASE, {"train.iterations": "many"}, "train.iterations"),
    (BASE, {"train.iterations": 2.5}, "train.iterations"),
    (BASE, {"train.iterations": 0}, "train.iterations"),
    (BASE, {"model.l1": -1.0}, "model.l1"),
    (BASE, {"model.l1": float("nan")}, "model.l1"),
    (BASE, {"model.rule": "mlp"}, "model.rule"),
    (BASE, {"train.l1": 0.1}, "train.l1"),  # a model parameter in the train section
    (BASE, {"train.lr": True}, "train.lr"),
    (BASE, {"model.decoder": "subpixel"}, "model.decoder"),
    (BASE, {"sweep.model.l1": 0.1}, "sweep.model.l1"),
    (BASE, {"sweep.model.l1": [0.1, -2]}, "sweep.model.l1"),
    ({"model": {"rule": "relu-l1-fc"}}, {}, "name"),
    ({"name": "t"}, {}, "model.rule"),
    ({**BASE, "train": [1, 2]}, {}, "train"),
])
def test_bad_configs_name_the_key(raw, overrides, key):
    with pytest.raises(ConfigError) as err:
        resolve(raw, overrides)
    assert f"'{key}'" in str(err.value)


def test_unknown_rule_suggests_the_closest():
    with pytest.raises(ConfigError, match="did you mean 'relu-l1-cnn'"):
        resolve(BASE, {"model.rule": "relu-l1-cnm"})


def test_rule_parameters_come_from_the_rule():
    spec = resolve(BASE)[0]
    assert spec.config["model"] == {"rule": "relu-l1-fc", "hidden": 784, "l1": 0.0}
    assert spec.config["train"]["batch_size"] == 100  # the rule's default, filled in
    assert spec.rule_params["random_state"] == 0
    with pytest.raises(ConfigError, match="'model.decoder'"):
        resolve(BASE, {"model.decoder": "subpixel"})  # only the autoencoder has one


def test_malformed_set_and_yaml(tmp_path):
    with pytest.raises(ConfigError, match="key=value"):
        parse_set(["train.iterations"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(lst)
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "none.yaml")


def test_parameters_added_later_stay_out_of_configs_that_do_not_set_them():
    """data.patch_size and train.sparse_backward came after run files existed: a config that
    does not set them resolves without them (so its run name is unchanged); one that does,
    with them."""
    from neurocode import config as c

    raw = {"name": "x", "model": {"rule": "relu-l1-fc", "hidden": 8}, "data": {"dataset": "mnist"}}
    spec = c.resolve(raw)[0]
    assert "sparse_backward" not in spec.config["train"] and "patch_size" not in spec.config["data"]
    assert spec.rule_params.get("sparse_backward") is None
    on = c.resolve(raw, {"train.sparse_backward": True, "data.patch_size": 8})[0]
    assert on.config["train"]["sparse_backward"] is True and on.config["data"]["patch_size"] == 8
    assert on.digest != spec.digest
