"""Cold start: wall time of `footnote ask "..."` as a fresh process on the sample corpus, and where it goes.

    python -m bench.cold_start [--runs 5]
    python -m bench.cold_start --data-dir DIR --question Q --label 20k   # an existing (e.g. 20k-chunk) index


examples/corpus is ingested into a temp data dir; then, from a clean working directory (no .env), with
FOOTNOTE_DATA_DIR pointing there and extractive answers:
- `footnote ask QUESTION`, `--runs` times: median / min / max wall time (target: median <= 2 s);
- baselines in the same run: `python -c pass` (interpreter start) and `footnote --help`;
- a phase breakdown in one fresh process: imports, build_engine (model + Chroma + BM25), first ask;
- `python -X importtime` of the same command: top modules by cumulative and by self import time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.datasets import REPO_ROOT
from bench.pipeline import print_table, write_result

QUESTION = "How many people did Tajikistan say were killed in the September clashes?"
TARGET_S = 2.0
PHASES = """
import json, time
t0 = time.perf_counter()
from bot.cli import _parser, _settings, build_engine
t1 = time.perf_counter()
args = _parser().parse_args(["ask", {q!r}])
engine = build_engine(_settings(args))
t2 = time.perf_counter()
first = engine.ask({q!r})
t3 = time.perf_counter()
answer = engine.ask({q!r})
t4 = time.perf_counter()
print("PHASES " + json.dumps({{"imports_s": t1 - t0, "build_engine_s": t2 - t1, "first_ask_s": t3 - t2,
                              "second_ask_s": t4 - t3, "refused": answer.refused,
                              "first_ask_stages_ms": first.trace.get("timings_ms", {{}}),
                              "first_retrieve_ms": first.trace.get("retrieval", {{}}).get("timings_ms", {{}})}}))
"""


def footnote_bin() -> str:
    exe = Path(sys.executable).with_name("footnote")
    return str(exe) if exe.exists() else "footnote"


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, out


def import_profile(stderr: str, top: int = 15) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append({"module": m.group(4), "self_ms": int(m.group(1)) / 1000,
                         "cumulative_ms": int(m.group(2)) / 1000, "depth": len(m.group(3)) // 2})
    roots = sorted((r for r in rows if r["depth"] == 0), key=lambda r: -r["cumulative_ms"])[:top]
    selfs = sorted(rows, key=lambda r: -r["self_ms"])[:top]
    packages: dict[str, float] = {}
    for r in rows:
        packages[r["module"].split(".")[0]] = packages.get(r["module"].split(".")[0], 0.0) + r["self_ms"]
    by_pkg = [{"package": k, "self_ms_total": round(v, 1)} for k, v in sorted(packages.items(), key=lambda kv: -kv[1])]
    return {"top_level_cumulative": roots, "top_self": selfs, "by_package_self": by_pkg[:top],
            "total_ms": round(sum(r["self_ms"] for r in rows), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="an existing data dir (default: ingest examples/corpus)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--label", default="", help="suffix of the result name: cold_start_<label>")
    args = parser.parse_args()
    question = args.question
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTNOTE_", "OPENAI_", "CHROMA_"))}
        data_dir = args.data_dir.resolve() if args.data_dir else cwd / "data"
        env.update(FOOTNOTE_DATA_DIR=str(data_dir), FOOTNOTE_ANSWER_MODE="extractive",
                   TOKENIZERS_PARALLELISM="false")
        ingest_s = 0.0
        if args.data_dir is None:
            ingest_s, out = timed([footnote_bin(), "ingest", str(REPO_ROOT / "examples" / "corpus")], env, cwd)
            if out.returncode:
                raise SystemExit(f"ingest failed: {out.stderr}")
        timed([footnote_bin(), "ask", question], env, cwd)  # first run after ingest: page cache, .pyc
        interp = [timed([sys.executable, "-c", "pass"], env, cwd)[0] for _ in range(args.runs)]
        helps = [timed([footnote_bin(), "--help"], env, cwd)[0] for _ in range(args.runs)]
        asks = []
        for _ in range(args.runs):
            secs, out = timed([footnote_bin(), "ask", question], env, cwd)
            if out.returncode:
                raise SystemExit(f"footnote ask failed: {out.stderr}")
            asks.append(secs)
        answer = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
        _, ph = timed([sys.executable, "-c", PHASES.format(q=question)], env, cwd)
        phases_line = next((ln for ln in ph.stdout.splitlines() if ln.startswith("PHASES ")), None)
        if phases_line is None:
            raise SystemExit(f"phase breakdown failed: {ph.stderr[-3000:]}")
        import json

        phases = json.loads(phases_line.removeprefix("PHASES "))
        _, prof = timed([sys.executable, "-X", "importtime", "-m", "bot.cli", "ask", question], env, cwd)
    profile = import_profile(prof.stderr)

    def stats(xs: list[float]) -> dict[str, float]:
        return {"median_s": round(statistics.median(xs), 3), "min_s": round(min(xs), 3), "max_s": round(max(xs), 3)}

    rows = {"python -c pass": stats(interp), "footnote --help": stats(helps), "footnote ask": stats(asks)}
    print_table(["command (fresh process)", "median s", "min s", "max s"],
                [[k, v["median_s"], v["min_s"], v["max_s"]] for k, v in rows.items()],
                title=f"cold start on {args.data_dir or 'examples/corpus'}, {args.runs} runs each")
    med = rows["footnote ask"]["median_s"]
    print(f"footnote ask median {med:.2f} s (target <= {TARGET_S:.0f} s: {'met' if med <= TARGET_S else 'MISSED'})")
    print(f"answer: {answer[:100]!r}")
    print_table(["phase (one fresh process)", "seconds"],
                [[k, round(v, 3)] for k, v in phases.items() if k.endswith("_s")], title="where the time goes")
    print_table(["top-level import", "cumulative ms", "self ms"],
                [[r["module"], r["cumulative_ms"], r["self_ms"]] for r in profile["top_level_cumulative"]],
                title=f"python -X importtime (total self time {profile['total_ms']:.0f} ms)")
    print_table(["package", "self ms (all its modules)"],
                [[r["package"], r["self_ms_total"]] for r in profile["by_package_self"]])
    write_result("cold_start" + (f"_{args.label}" if args.label else ""),
                 {"question": question, "data_dir": str(args.data_dir or "examples/corpus"), "runs": args.runs,
                  "ingest_s": round(ingest_s, 2), "wall": rows, "target_median_s": TARGET_S,
                  "met": med <= TARGET_S, "phases": phases, "import_profile": profile})


if __name__ == "__main__":
    main()
