"""Every notebook runs top to bottom in a fresh kernel with no error and no warning."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BROKEN = Path(__file__).parent / "fixtures" / "broken.ipynb"


def execute(path):
    """Run a notebook in a fresh kernel (cwd: its folder); return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def problems(notebook):
    """Every output a learner would read as something gone wrong: errors, warnings, anything on stderr."""
    found = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {number}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(f"cell {number}: stderr: {output.text.strip()[:300]}")
    return found


def test_there_are_notebooks():
    assert ROOT / "notebooks" / "00_start_here.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_stored_without_outputs_and_with_a_kernel(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3", "a notebook without kernelspec opens a dialog"
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs: strip them"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_runs_top_to_bottom_without_error_or_warning(path):
    assert problems(execute(path)) == []


@pytest.mark.notebooks
def test_the_check_catches_errors_warnings_and_stderr():
    found = problems(execute(BROKEN))
    assert len(found) == 3, found
    assert any("UserWarning" in line for line in found)
    assert any("to stderr" in line for line in found)
    assert any("RuntimeError" in line for line in found)



PAPER = "https://arxiv.org/abs/1609.02943"


def bullets_after(heading, text):
    """The bullet lines of the block that follows a heading, up to the next blank-line-separated paragraph."""
    block = text.split(heading, 1)[1].strip().split("\n\n")[0]
    return [line for line in block.splitlines() if line.lstrip().startswith(("* ", "- "))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_opens_with_objectives_and_the_paper_and_ends_with_take_aways(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first, last = ("".join(cells[index]["source"]) for index in (0, -1))
    assert cells[0]["cell_type"] == "markdown" and "### What you will be able to do" in first
    assert 3 <= len(bullets_after("### What you will be able to do", first)) <= 5
    assert PAPER in first and "(notation.md)" in first, "link the paper (with its section) and the notation page"
    assert cells[-1]["cell_type"] == "markdown" and "## Take-aways" in last and "Further reading" in last
    assert len(bullets_after("## Take-aways", last)) >= 2
