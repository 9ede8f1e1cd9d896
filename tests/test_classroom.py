"""A class gets what was tested: the lock, the Zero to JupyterHub configuration, and the classroom benchmark."""

import asyncio
import json
import re
from importlib import metadata

import pytest
import yaml

import run
from benchmarks import classroom

from .browser.harness import ROOT

HUB = ROOT / "deploy" / "jupyterhub"

Z2JH_KEYS = {
    # the keys of Zero to JupyterHub's values.schema.yaml (chart 4) this configuration may use
    "": {"hub", "proxy", "singleuser", "scheduling", "prePuller", "cull", "ingress"},
    "singleuser": {"image", "defaultUrl", "cmd", "memory", "cpu", "extraEnv", "extraFiles", "lifecycleHooks",
                   "storage", "startTimeout", "networkPolicy", "profileList", "uid", "fsGid"},
    "singleuser.image": {"name", "tag", "pullPolicy", "pullSecrets"},
    "singleuser.memory": {"limit", "guarantee"},
    "singleuser.cpu": {"limit", "guarantee"},
    "singleuser.lifecycleHooks": {"postStart", "preStop"},
    "singleuser.storage": {"type", "capacity", "homeMountPath", "dynamic", "static", "extraVolumes",
                           "extraVolumeMounts", "extraLabels"},
    "cull": {"enabled", "users", "adminUsers", "removeNamedServers", "timeout", "every", "concurrency", "maxAge"},
    "scheduling": {"userScheduler", "podPriority", "userPlaceholder", "corePods", "userPods"},
    "scheduling.userPlaceholder": {"enabled", "replicas", "resources", "image", "revisionHistoryLimit",
                                   "containerSecurityContext"},
    "prePuller": {"hook", "continuous", "pullProfileListImages", "extraImages", "pause", "resources"},
}
BYTES = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
"""KubeSpawner's byte suffixes (JupyterHub's ByteSpecification: powers of 1024)."""


def mebibytes(specification) -> float:
    """A Z2JH memory value ("512M", "1.5G", or bytes) in MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", str(specification))
    assert match, f"not a KubeSpawner byte specification: {specification!r}"
    number, suffix = match.groups()
    return float(number) * BYTES.get(suffix, 1) / 2**20


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((HUB / "config.yaml").read_text())


@pytest.fixture(scope="module")
def measured():
    """The figures of ``python -m benchmarks.classroom --save deploy/jupyterhub/measured.json``."""
    return json.loads((HUB / "measured.json").read_text())


def test_the_configuration_uses_only_keys_zero_to_jupyterhub_knows(config):
    for path, known in Z2JH_KEYS.items():
        section = config
        for key in filter(None, path.split(".")):
            section = section.get(key, {})
        assert set(section) <= known, f"{path or 'top level'}: unknown keys {set(section) - known}"


def test_the_image_is_built_from_this_repository_and_opens_the_first_notebook(config):
    single = config["singleuser"]
    assert single["image"]["name"] and single["image"]["tag"]
    assert single["defaultUrl"] == f"/lab/tree/{run.FIRST_NOTEBOOK}" and (ROOT / run.FIRST_NOTEBOOK).is_file()
    copy = " ".join(single["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert "$REPO_DIR/notebooks" in copy and "$HOME/notebooks" in copy  # a student's home gets the notebooks once
    server = single["extraFiles"]["jupyter-server-config"]["data"]
    assert server["ServerApp"]["root_dir"] == "/home/jovyan"  # the home volume, not the image's repository folder
    assert "--target-repo-dir" in (HUB / "README.md").read_text()  # the repository outside the home volume


def test_memory_holds_the_measured_peak_and_cpus_are_bounded(config, measured):
    memory, cpu = config["singleuser"]["memory"], config["singleuser"]["cpu"]
    guarantee, limit = mebibytes(memory["guarantee"]), mebibytes(memory["limit"])
    assert limit >= measured["user"]["peak_mib"], "the limit would stop a student at the measured peak"
    assert measured["server_mib"] + min(row["kernel_peak_mib"] for rows in measured["tables"].values()
                                        for row in rows if "kernel_peak_mib" in row) <= guarantee <= limit
    assert 0 < cpu["guarantee"] <= cpu["limit"]
    users = (16 - classroom.NODE_RESERVE_GIB) * 1024 // guarantee  # on a 4-core, 16 GiB node, by memory
    assert users * cpu["guarantee"] <= 4 - 0.5, "the CPU guarantee, not memory, would limit a node's users"
    assert config["singleuser"]["extraEnv"]["OMP_NUM_THREADS"] == "1"  # as measured, and as binder/start sets


def test_idle_servers_and_kernels_are_culled(config):
    cull = config["cull"]
    assert cull["enabled"] is True and 0 < cull["every"] <= cull["timeout"]
    server = config["singleuser"]["extraFiles"]["jupyter-server-config"]
    assert server["mountPath"] == "/etc/jupyter/jupyter_server_config.json"  # on Jupyter's system config path
    assert server["data"]["MappingKernelManager"]["cull_idle_timeout"] > 0


@pytest.mark.parametrize(("specification", "mib"), [("512M", 512), ("1.5G", 1536), ("1048576", 1), ("2048K", 2)])
def test_byte_specifications_read_as_kubespawner_reads_them(specification, mib):
    assert mebibytes(specification) == mib


def pins():
    """The lock's ``name==version`` lines, names normalised as pip does."""
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[^\s=]+", line) for line in lines), "only exact pins in the lock"
    return dict((normalised(name), version) for name, version in (line.split("==") for line in lines))


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path):
    names = [re.match(r"[A-Za-z0-9._-]+", line).group() for line in path.read_text().splitlines()
             if line.strip() and not line.startswith(("#", "-"))]
    return {normalised(name) for name in names}


def test_the_lock_pins_every_requirement_of_the_lab_but_not_the_kit():
    locked = pins()
    assert requirement_names(ROOT / "requirements.txt") - set(locked) == set(), "refresh: bash deploy/refresh-lock.sh"
    assert "model-extraction-lab" not in locked


def test_what_is_installed_is_what_the_lock_pins():
    installed = {normalised(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    differ = {name: (locked, installed.get(name)) for name, locked in pins().items() if installed.get(name) != locked}
    assert differ == {}, "(locked, installed): python3 run.py test installs the lock, deploy/refresh-lock.sh renews it"


def test_binder_and_the_hub_image_install_the_lock():
    assert "-c requirements.lock" in (ROOT / "binder" / "postBuild").read_text()


@pytest.fixture
def fake_setup(tmp_path, monkeypatch):
    """run.setup in a scratch venv whose pip steps are recorded; ``codes`` are what the install steps return."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    monkeypatch.setattr(run, "VENV", venv)
    monkeypatch.setattr(run, "BIN", venv / "bin")
    commands, codes = [], []

    def step(number, total, what, command):
        commands.append(command)
        return codes.pop(0) if "-r" in command else 0  # updating pip always works here

    monkeypatch.setattr(run, "_step", step)
    return commands, codes


def test_setup_installs_at_the_locked_versions(fake_setup):
    commands, codes = fake_setup
    codes.append(0)
    run.setup("requirements.txt")
    install = commands[-1]
    assert install[install.index("-c") + 1] == "requirements.lock" and "-r" in install


def test_setup_falls_back_to_the_newest_versions_when_the_lock_does_not_install(fake_setup, capsys):
    commands, codes = fake_setup
    codes.extend([1, 0])
    run.setup("requirements.txt")
    assert "-c" in commands[-2] and "-c" not in commands[-1] and "-r" in commands[-1]
    assert "do not install here" in capsys.readouterr().out


def test_setup_fails_loudly_when_nothing_installs(fake_setup):
    _, codes = fake_setup
    codes.extend([1, 1])
    with pytest.raises(SystemExit, match="installing requirements.txt failed"):
        run.setup("requirements.txt")


def test_node_capacity_is_the_smaller_of_cpu_at_half_load_and_memory():
    rows = [{"students": n, "move_cpu_median_s": 0.25, "notebook_cpu_s": 5.0} for n in (1, 2)]
    # a student exploring keeps 0.25 / (4.75 + 0.25) = 5% of a core busy; half of them at once; half of 4 cores
    node = classroom.node_capacity(rows, think=4.75, active=0.5, guarantee_mib=512, node_cores=4, node_gib=16)
    assert (node["by_cpu"], node["by_memory"], node["users"]) == (80, 29, 29)
    assert node["run_all_s"] == 29 * 5.0 / 4
    busy = classroom.node_capacity(rows, think=0.25, active=1.0, guarantee_mib=512, node_cores=4, node_gib=16)
    assert busy["users"] == busy["by_cpu"] == 4


def test_a_stopped_student_is_counted_and_left_out_of_the_figures():
    done = {"seconds": 10.0, "cpu_seconds": 4.0, "moves": [[0.1, 0.05], [0.3, 0.2]], "peak_mib": 300.0,
            "problems": 0}
    row = classroom.summary(2, [done, None])
    assert row["stopped"] == 1 and row["total_peak_mib"] == 300.0 and row["notebook_cpu_s"] == 4.0
    assert row["latency_max_s"] == 0.3 and row["move_cpu_median_s"] == 0.125
    assert classroom.summary(1, [None]) == {"students": 1, "stopped": 1}


def test_a_user_may_hold_two_kernels_at_their_peak():
    user = classroom.per_user(kernel_peak_mib=300, server_mib=100, kernels=2)
    assert user == {"guarantee_mib": 448, "limit_mib": 768, "peak_mib": 700}


@pytest.mark.notebooks
def test_a_student_runs_the_notebook_and_moves_the_sliders():
    path = ROOT / "notebooks" / "01_equation_solving.ipynb"
    (result,) = asyncio.run(classroom.classroom(path, students=1, moves=1, pause=0, timeout=300))
    assert result["problems"] == 0 and len(result["moves"]) == 2
    assert all(0 < wall < 60 and 0 < cpu < 60 for wall, cpu in result["moves"])
    assert 100 < result["peak_mib"] < 4096 and 0 < result["cpu_seconds"] and 0 < result["seconds"]


def test_the_estimate_can_be_made_again_from_saved_figures(tmp_path, capsys):
    saved = tmp_path / "figures.json"
    classroom.main(["--figures", str(HUB / "measured.json"), "--guarantee", "512", "--think", "5", "--save",
                    str(saved)])
    figures = json.loads(saved.read_text())
    assert figures["tables"] == json.loads((HUB / "measured.json").read_text())["tables"]
    assert figures["assumptions"]["guarantee_mib"] == 512
    small_node = figures["nodes"][0]
    assert small_node["users"] == min(small_node["by_cpu"], small_node["by_memory"])
    assert f"{small_node['users']:>3} users" in capsys.readouterr().out
