"""Issue 12, the command line (items 10-15): dates, sources, broken pipes, damaged stores, read-only data dirs,
hostile titles and file names, claimed URLs. Real ingest into embedded Chroma, the real `main`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.test_cli import cli, ingested  # noqa: F401  (fixtures)
from tests.conftest import SAMPLE_CORPUS

REPO = Path(__file__).resolve().parents[2]
KILLED = "How many people were killed?"


# --- item 10: dates ---------------------------------------------------------------------------------------


def test_since_and_until_take_the_obvious_forms(cli, ingested) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for since in ("2022/09/01", "2022-09-01T00:00", "2022-09"):
        code, out, err = cli("ask", "--json", "--since", since, KILLED)
        assert code == 0 and "Traceback" not in err, (since, err)
        assert all(c["date"] >= "2022-09-01" for c in json.loads(out)["citations"])
    # "2022-9-30" used to compare as the string "2022930" and silently filter out everything
    code, out, _ = cli("ask", "--json", "--until", "2022-9-30", KILLED)
    cited = json.loads(out)["citations"]
    assert code == 0 and cited and all("2022-09-01" <= c["date"] <= "2022-09-30" for c in cited)
    code, out, _ = cli("ask", "--json", "--since", "yesterday", KILLED)
    assert code == 0 and json.loads(out)["refused"]  # nothing in the corpus is that recent: refused, no traceback


def test_impossible_dates_are_refused_before_anything_loads(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    code, out, err = cli("ask", "--since", "2022-13-45", KILLED)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "--since/--until: '2022-13-45' is not a real date (month must be in 1..12)" in err
    code, _, err = cli("ask", "--since", "2022-10-01", "--until", "2022-09-30", KILLED)
    assert code == 2 and "no document can match" in err


# --- item 11: --source by path (from anywhere), folder, URL, or refused ------------------------------------


def test_source_is_matched_by_path_folder_url_or_refused(cli, ingested, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    wanted = "corpus/02-kyrgyz-casualty-report.md"
    from_here = os.path.relpath(SAMPLE_CORPUS / "02-kyrgyz-casualty-report.md", tmp_path)  # the README's form
    for source in (wanted, from_here, "02-kyrgyz-casualty-report.md",
                   "https://example.org/footnote-sample/kyrgyz-casualty-report"):
        code, out, err = cli("ask", "--json", "--source", source, KILLED)
        assert code == 0, (source, err)
        assert {c["source"] for c in json.loads(out)["citations"]} == {wanted}, source
    code, out, _ = cli("ask", "--json", "--source", "corpus", "--source", "https://example.org/footnote-sample/",
                       KILLED)  # a folder, a URL prefix: the whole corpus
    assert code == 0 and len({c["source"] for c in json.loads(out)["citations"]}) >= 2
    code, out, err = cli("ask", "--source", "corpus/99-no-such-report.md", KILLED)
    assert code == 2 and out == ""
    assert "No indexed document matches --source 'corpus/99-no-such-report.md'" in err
    assert "corpus/01-border-dispute-timeline.md" in err  # what sources look like


# --- item 12: broken pipe, damaged store -----------------------------------------------------------------


def test_status_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    env = {**os.environ, "FOOTNOTE_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "status"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that has already exited: every write gets EPIPE
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""


def test_damaged_store_is_one_message_and_rebuild_starts_over(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from chromadb.api.shared_system_client import SharedSystemClient

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\nTajikistan says 41 people died in the fighting.\n")
    assert cli("ingest", str(docs))[0] == 0
    sqlite = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    data = bytearray(sqlite.read_bytes())
    data[100:20000] = b"\xff" * 19900
    sqlite.write_bytes(bytes(data))
    SharedSystemClient.clear_system_cache()  # as a new process would see it
    for args in (("status",), ("ask", "How many died?"), ("ingest", str(docs))):
        code, out, err = cli(*args)
        assert code == 2 and out == "" and "Traceback" not in err, (args, err)
        assert err.count("\n") == 1 and "Cannot open the Chroma store" in err and "--rebuild" in err, err
    code, out, err = cli("ingest", "--rebuild", str(docs))
    assert code == 0 and "indexed 1" in out and "1 documents, 1 chunks" in out, err
    code, out, _ = cli("ask", "--json", "How many people died according to Tajikistan?")
    assert code == 0 and "41" in json.loads(out)["answer"]


# --- item 13: read-only data dir -------------------------------------------------------------------------

# Root ignores file modes; without these capabilities it obeys them like any user.
_NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
           "--inh-caps=-dac_override,-dac_read_search,-fowner"]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.mark.slow
def test_nothing_is_written_outside_the_data_dir_and_a_read_only_one_serves_status_and_ask(tmp_path: Path) -> None:
    """Item 16 (onnxruntime telemetry: ~/.cache/Microsoft/DeveloperTools, $TMPDIR/.ses) and item 13."""
    data, scratch, home = tmp_path / "data", tmp_path / "tmp", tmp_path / "home"
    scratch.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(FOOTNOTE_DATA_DIR=str(data), TMPDIR=str(scratch), HOME=str(home), PYTHONPATH=str(REPO))

    def footnote(*args: str, wrap: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*wrap, sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    ingest = footnote("ingest", str(SAMPLE_CORPUS), wrap=[])
    assert ingest.returncode == 0, ingest.stderr
    assert [p.name for p in home.rglob("*")] == [] and [p.name for p in scratch.rglob("*")] == []  # item 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "home", "tmp"]

    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: a read-only directory cannot be enforced")
        prefix = _NO_DAC
    before = _tree(data)
    for folder in [data, *[p for p in data.rglob("*") if p.is_dir()]]:
        folder.chmod(0o555)
    try:
        status = footnote("status", "--json", wrap=prefix)
        asked = footnote("ask", "--json", "How many homes were damaged in Kyrgyzstan?", wrap=prefix)
    finally:
        for folder in [data, *[p for p in data.rglob("*") if p.is_dir()]]:
            folder.chmod(0o755)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["documents"] == 8
    assert asked.returncode == 0, asked.stderr
    assert "613" in json.loads(asked.stdout)["answer"]
    assert _tree(data) == before  # nothing created, nothing touched
    assert list(scratch.iterdir()) == [] and list(home.iterdir()) == []  # Chroma's temporary copy is gone too


# --- items 14 and 15: hostile titles and file names, claimed URLs -----------------------------------------

HOSTILE_TITLE = "Drones\x1b[2J\x1b]0;pwned\x07 report\u202e"


@pytest.fixture
def hostile(cli, tmp_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "claims.md").write_text(
        # YAML escapes: \e is ESC, \a is BEL
        '---\ntitle: "Drones\\e[2J\\e]0;pwned\\a report\\u202e"\nurl: https://phish.example/login\n---\n'
        "Kyrgyzstan bought Bayraktar TB2 drones from Turkey in 2021.\n"
    )
    (docs / "evil\x1b]0;owned\x07.txt").write_text("\x1b[31mTajikistan\x1b[0m says 41 people died.\x9b2J\n")
    code, out, err = cli("ingest", str(docs))
    assert code == 0, err
    return out


def test_nothing_the_cli_prints_carries_control_characters(cli, hostile: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    def clean(text: str) -> bool:
        return not any(ch in text for ch in ("\x1b", "\x07", "\x9b", "\u202e"))

    assert clean(hostile) and "indexed 2" in hostile
    for args in (("ask", "Who bought TB2 drones?"), ("ask", "How many died according to Tajikistan?"),
                 ("ask", "What is the price of tea in Paris?"), ("status",)):
        code, out, err = cli(*args)
        assert code == 0 and clean(out) and clean(err), args
    code, out, _ = cli("ask", "--json", "Who bought TB2 drones?")
    assert clean(out)
    answer = json.loads(out)  # escaped, not lost
    assert answer["citations"][0]["title"] == HOSTILE_TITLE
    code, out, _ = cli("ingest", "--json", str(Path.cwd() / "docs"))
    assert code == 0 and clean(out)


def test_a_claimed_url_is_shown_beside_the_real_path(  # type: ignore[no-untyped-def]
    cli, hostile: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    code, out, _ = cli("ask", "Who bought TB2 drones?")
    assert code == 0 and "— docs/claims.md · claims https://phish.example/login" in out
    monkeypatch.setenv("FOOTNOTE_URL_ALLOWLIST", "example.org")
    code, out, _ = cli("ask", "Who bought TB2 drones?")
    assert code == 0 and "phish.example" not in out
    assert "— docs/claims.md (claims a link to a host not in FOOTNOTE_URL_ALLOWLIST)" in out
