"""eif-xlsx benchmark on returns as partners really send them, measured side by side in one run.

    python benchmarks/bench.py                    # N=300 distinct returns (built once into benchmarks/.corpus)
    python benchmarks/bench.py --large 1000       # ... and the import of 100 and 1,000 returns (memory)
    python benchmarks/bench.py --json /tmp/result.json --check

The corpus is tests/realworld.py's: returns typed with openpyxl into workbooks eif-xlsx generated, then saved by
LibreOffice (xlsx and ods), Gnumeric, openpyxl or the project's own writer, some wrapped in .eml/.msg. It is built
once (LibreOffice takes minutes) and reused.

On the same files, in the same run: python-calamine reading every sheet (one process, the floor); openpyxl
load_workbook(read_only=True) reading every cell (one process); `eif-xlsx import` end to end (every output but the
PDF, --no-pdf: that is Chromium's time); `eif-xlsx validate`; and per source, one process, the project's reading
and checking of each file (read_return + check, and its safety pass alone) beside calamine's and openpyxl's. Then `eif-xlsx generate` of 200
personalised workbooks with email drafts, and (--large) the import of 100 and 1,000 returns for memory. The 1,000
are the distinct returns again under other file names (LibreOffice would take ~50 minutes to save 1,000): each
partner then has several returns, the later ones 'superseded'.

Targets print as PASS/FAIL; the exit code is 0 whatever the figures unless --check is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MB = 1024 * 1024

TARGETS = {  # name: (op, target)
    "import_returns_per_second": (">=", 150.0),
    "import_over_calamine": ("<=", 2.0),
    "openpyxl_over_import": (">=", 10.0),
    "memory_peak_rss_mb": ("<", 200.0),
    "memory_growth_100_to_large": ("<=", 1.10),
    "generate_per_second": (">=", 40.0),
}


def corpus(n: int, seed: int, folder: Path | None = None, sources: set[str] | None = None) -> list:
    """The realworld corpus of n distinct returns (tests/realworld.py), built once into benchmarks/.corpus (or
    folder) and reused while its parameters stay the same."""
    sys.path.insert(0, str(ROOT / "tests"))
    import realworld

    named = folder is not None
    if folder is None:  # one cached corpus per set of parameters: building one takes minutes (LibreOffice)
        name = ".corpus" if (n, seed) == (300, 0) else f".corpus-{n}-{seed}"
        folder = HERE / (f"{name}-{'-'.join(sorted(sources))}" if sources else name)
    try:
        return realworld.build(folder, n, seed, sources=sources, replace=not named)
    except ValueError as exc:
        raise SystemExit(f"bench: {exc}") from None


def workbooks_of(returns: list, scratch: Path) -> list[tuple[str, Path]]:
    """(source, workbook) per return, an e-mail's attachment taken out once by the project's intake (untimed): what
    the baselines read."""
    from eif_xlsx.intake import sources as intake

    out = []
    for r in returns:
        path = r.path
        if path.suffix in (".eml", ".msg"):
            folder = scratch / path.stem
            folder.mkdir(parents=True, exist_ok=True)
            found = intake.open_email(intake.source_of(path), folder).found
            kept = scratch / f"{path.stem}{Path(found[0].name).suffix or '.xlsx'}"
            shutil.copyfile(found[0].path, kept)
            path = kept
        out.append((r.source, path))
    return out


# --- measured subprocesses -------------------------------------------------------------------------------------


# The measured command runs under this small launcher, which forks it, waits for it with wait4 and writes
# "exit code, ru_maxrss, seconds" to a file. Forked straight from this (larger) process, the command's ru_maxrss
# would start at this process's RSS: Linux carries the high-water mark across fork and exec. The launcher, run
# with -I -S, is a few MB, well under anything measured.
LAUNCHER = """
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    fh.write("%d %d %r" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss, seconds))
"""


def _memory_of(pid: int) -> int:
    """A process's proportional set size (shared pages split between their sharers), else its RSS; bytes."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return 0


def _tree_memory(root: int) -> int:
    """Summed memory (_memory_of) of a process's descendants, not the process itself, from Linux /proc."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if pid != root:
            total += _memory_of(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                    stack.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_measured(cmd: list[str], interval: float = 0.02, sample: bool = True) -> dict:
    """Run cmd; its seconds, exit code, the peak RSS of its largest process and (with sample) the sampled peak of
    the tree's summed PSS. Sampling reads /proc/*/smaps_rollup every `interval`, which costs CPU the command would
    have had: timed runs go without it."""
    fork = hasattr(os, "fork") and hasattr(os, "wait4")
    with tempfile.TemporaryDirectory(prefix="eif-xlsx-bench-run-") as tmp:
        report = Path(tmp) / "rusage"
        full = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *cmd] if fork else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_memory(proc.pid) if fork else 0)
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample and fork and os.path.isdir("/proc"):
            sampler.start()
        stdout, stderr = proc.communicate()
        seconds = time.perf_counter() - t0
        stop.set()
        if sampler.is_alive():
            sampler.join()
        code, maxrss = proc.returncode, None
        if fork and report.exists():
            code_text, rss_text, seconds_text = report.read_text().split()
            # Linux reports ru_maxrss in KiB, macOS in bytes.
            code, maxrss = int(code_text), int(rss_text) * (1 if sys.platform == "darwin" else 1024)
            seconds = float(seconds_text)
    return {
        "seconds": seconds,
        "exit_code": code,
        "peak_rss_mb": maxrss / MB if maxrss else None,
        "tree_peak_mb": peak[0] / MB if peak[0] else None,
        "stdout": stdout.decode(errors="replace"),
        "stderr": stderr.decode(errors="replace"),
    }


def compile_package() -> None:
    """Compile the package's bytecode first, as installing it does. Otherwise an editable install run where
    PYTHONDONTWRITEBYTECODE is set (this project's machine sets it) compiles every module again on every run:
    ~0.05 s of each import's start-up that no installed copy pays."""
    import compileall

    import eif_xlsx

    compileall.compile_dir(str(Path(eif_xlsx.__file__).parent), quiet=1)


def import_command(folder: Path, manifest: Path | None, out: Path, jobs: int) -> list[str]:
    return [
        *_cli(),
        "import",
        str(folder),
        *(["--manifest", str(manifest)] if manifest else []),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
        "--quiet",
        "--no-pdf",
    ]


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("eif-xlsx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "eif_xlsx.cli"]


def run_import(folder: Path, manifest: Path | None, out: Path, jobs: int, sample: bool = False) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    run = run_measured(import_command(folder, manifest, out, jobs), sample=sample)
    if run["exit_code"] not in (0, 1):  # 1: some return was rejected (still a completed import)
        raise SystemExit(f"bench: the import failed (exit {run['exit_code']}):\n{run['stdout']}\n{run['stderr']}")
    with (out / "register.csv").open(newline="", encoding="utf-8-sig") as fh:
        statuses: dict[str, int] = {}
        for row in csv.DictReader(fh):
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    run["statuses"] = statuses
    del run["stdout"], run["stderr"]
    return run


def run_validate(folder: Path, jobs: int) -> dict:
    run = run_measured([*_cli(), "validate", str(folder), "--jobs", str(jobs), "--quiet"], sample=False)
    if run["exit_code"] not in (0, 1):
        raise SystemExit(f"bench: validate failed (exit {run['exit_code']}):\n{run['stderr']}")
    del run["stdout"], run["stderr"]
    return run


def run_generate(out: Path, n: int, jobs: int, work: Path) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    import realworld

    partners = work / f"partners-{n}.csv"
    with partners.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "organisation", "email", "role"])
        for p in realworld.partners(n, seed=7):
            w.writerow([p.id, p.name, p.organisation, p.email, p.role])
    shutil.rmtree(out, ignore_errors=True)
    run = run_measured(
        [
            *_cli(),
            "generate",
            "maternity-early-years",
            "--partners",
            str(partners),
            "--indicators",
            "staffordshire-best-start",
            "--area",
            "Northshire",
            "--deadline",
            "2026-12-11",
            "--email-drafts",
            "--sender",
            "early.years@northshire.example",
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--quiet",
        ],
        sample=False,
    )
    if run["exit_code"] != 0:
        raise SystemExit(f"bench: generate failed (exit {run['exit_code']}):\n{run['stderr']}")
    drafts = len(list((out / "emails").glob("*.eml")))
    del run["stdout"], run["stderr"]
    return {**run, "workbooks": n, "drafts": drafts, "per_second": n / run["seconds"]}


def run_baseline(kind: str, files: list[Path], work: Path, repeat: int) -> dict:
    """One subprocess reading every file `repeat` times with calamine, openpyxl (read-only) or the project's
    read_return + check; seconds per pass and per file (the best pass's)."""
    listing = work / f"{kind}-files.txt"
    listing.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
    result_file = work / f"{kind}-result.json"
    run = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "_baseline", kind, str(listing), str(result_file), str(repeat)],
        sample=False,
    )
    if run["exit_code"] != 0:
        raise SystemExit(f"bench: the {kind} baseline failed (exit {run['exit_code']}):\n{run['stderr']}")
    inner = json.loads(result_file.read_text(encoding="utf-8"))
    return {
        "files": len(files),
        "passes": inner["passes"],
        "per_file": inner["per_file"],
        "seconds": statistics.median(inner["passes"]),
        "peak_rss_mb": run["peak_rss_mb"],
    }


def _baseline_main(kind: str, listing: str, result_file: str, repeat: str) -> None:
    files = [line for line in Path(listing).read_text(encoding="utf-8").splitlines() if line]
    if kind == "calamine":
        from python_calamine import CalamineWorkbook

        def read(path: str) -> None:
            wb = CalamineWorkbook.from_path(path)
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()
    elif kind == "openpyxl":
        import warnings

        from openpyxl import load_workbook

        warnings.simplefilter("ignore")

        def read(path: str) -> None:
            wb = load_workbook(path, read_only=True)
            for ws in wb.worksheets:
                for _ in ws.iter_rows(values_only=True):
                    pass
            wb.close()
    elif kind == "eif-xlsx":
        from eif_xlsx.api import read_return
        from eif_xlsx.intake.checks import check

        def read(path: str) -> None:
            check(read_return(path))
    elif kind == "xlsxwriter":
        # The write floor: the cells of the import's own summary.xlsx and tracker.xlsx (read back by calamine,
        # untimed) written again through XlsxWriter (constant memory, no formats), as calamine is the read floor.
        import xlsxwriter
        from python_calamine import CalamineWorkbook

        cells_of = {}
        for path in files:
            wb = CalamineWorkbook.from_path(path)
            cells_of[path] = [(name, wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names]
        scratch = Path(tempfile.mkdtemp(prefix="eif-xlsx-bench-write-"))

        def read(path: str) -> None:
            book = xlsxwriter.Workbook(str(scratch / Path(path).name), {"constant_memory": True})
            for name, rows in cells_of[path]:
                ws = book.add_worksheet(name)
                for r, row in enumerate(rows):
                    ws.write_row(r, 0, row)
            book.close()
    elif kind == "xml-proof":
        # The proof floor: expat (no handlers) parsing the sheets of each workbook (an .xlsx's worksheets, an
        # .ods's content.xml), inflated beforehand (untimed): what the safety pass proves well-formed, the least a
        # reader must do that does not take a parser's word for it.
        import zipfile
        from xml.parsers import expat

        def is_sheet(name: str) -> bool:
            return name == "content.xml" or (name.startswith("xl/worksheets/") and name.endswith(".xml"))

        parts_of = {}
        for path in files:
            with zipfile.ZipFile(path) as zf:
                parts_of[path] = [zf.read(n) for n in zf.namelist() if is_sheet(n)]

        def read(path: str) -> None:
            for data in parts_of[path]:
                expat.ParserCreate().Parse(data, True)
    elif kind == "safety-pass":
        from eif_xlsx.errors import ReadError
        from eif_xlsx.intake.container import inspect

        def read(path: str) -> None:
            try:
                inspect(Path(path))
            except ReadError:  # timed all the same: a refused file costs its safety pass
                pass
    else:
        raise SystemExit(f"unknown baseline {kind}")
    passes = []
    per_file = [float("inf")] * len(files)
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        for i, f in enumerate(files):
            t = time.perf_counter()
            read(f)
            per_file[i] = min(per_file[i], time.perf_counter() - t)
        passes.append(time.perf_counter() - t0)
    Path(result_file).write_text(json.dumps({"passes": passes, "per_file": per_file}), encoding="utf-8")


def larger_set(returns: list, count: int, dest: Path, manifest: Path) -> Path:
    """count returns: the distinct ones again and again under other names (hard links), with the manifest."""
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        r = returns[i % len(returns)].path
        target = dest / (r.name if i < len(returns) else f"{r.stem}-again-{i // len(returns)}{r.suffix}")
        if not target.exists():
            try:
                os.link(r, target)
            except OSError:
                shutil.copyfile(r, target)
    shutil.copyfile(manifest, dest / "manifest.csv")
    return dest


def machine() -> dict:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return ""

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": {d: version(d) for d in ("eif-xlsx", "python-calamine", "openpyxl", "XlsxWriter")},
    }


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def evaluate(figures: dict[str, float | None]) -> list[dict]:
    out = []
    for name, (op, target) in TARGETS.items():
        value = figures.get(name)
        if value is None:
            continue
        ok = {">=": value >= target, "<=": value <= target, "<": value < target}[op]
        out.append({"name": name, "value": value, "op": op, "target": target, "pass": ok})
    return out


def _mb(value: float | None) -> str:
    return f"{value:7.1f} MB" if value else "      n/a"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_baseline":
        _baseline_main(*argv[1:5])
        return 0
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=300, help="distinct returns in the corpus (default 300)")
    ap.add_argument("--seed", type=int, default=0, help="the corpus's seed (default 0)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    ap.add_argument("--repeat", type=int, default=3, help="import and calamine runs, the median kept (default 3)")
    ap.add_argument(
        "--openpyxl-sample",
        type=int,
        default=60,
        help="files timed with openpyxl, evenly spaced, scaled per file to N (default 60)",
    )
    ap.add_argument("--small", type=int, default=100, help="the small import for memory (default 100)")
    ap.add_argument("--large", type=int, default=1000, help="the large import for memory (default 1000; 0: none)")
    ap.add_argument("--corpus", default=None, help="folder of the corpus (default benchmarks/.corpus)")
    ap.add_argument(
        "--sources",
        default=None,
        help="only these sources, comma-separated (e.g. openpyxl,eif-xlsx,eml; default: all available)",
    )
    ap.add_argument("--generate", type=int, default=200, help="partners to generate workbooks for (default 200)")
    ap.add_argument("--json", default=str(HERE / "result.json"), help="result file (default benchmarks/result.json)")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    args = ap.parse_args(argv)
    say = print
    load_before = load_average()
    say(
        f"eif-xlsx benchmark: {os.cpu_count()} CPU(s), --jobs {args.jobs}, Python {sys.version.split()[0]}, "
        f"{platform.platform()}, load average {load_before}"
    )
    if load_before and load_before[0] > 0.5 * (os.cpu_count() or 1):
        say("  warning: the machine is busy: absolute figures are low; the ratios (same run, same files) hold better")
    t0 = time.perf_counter()
    returns = corpus(
        args.n,
        args.seed,
        Path(args.corpus) if args.corpus else None,
        set(args.sources.split(",")) if args.sources else None,
    )
    say(
        f"corpus: {len(returns)} distinct returns ({time.perf_counter() - t0:.1f} s to build or find): "
        + ", ".join(f"{s} {sum(r.source == s for r in returns)}" for s in sorted({r.source for r in returns}))
    )
    folder = returns[0].path.parent
    manifest = folder.parent / "manifest.csv"
    compile_package()
    work = Path(tempfile.mkdtemp(prefix="eif-xlsx-bench-"))
    os.environ["EIF_XLSX_CACHE"] = str(work / "template-cache")
    try:
        books = workbooks_of(returns, work / "attachments")
        files = [p for _, p in books]
        n, jobs = len(returns), args.jobs

        say(f"\n[1] eif-xlsx import of {n} returns (--jobs {jobs}, --no-pdf), {args.repeat} run(s) after a first ...")
        first = run_import(folder, manifest, work / "out", jobs)
        runs = [run_import(folder, manifest, work / "out", jobs) for _ in range(args.repeat)]
        imp_s = statistics.median(r["seconds"] for r in runs)
        imp = {
            "seconds": imp_s,
            "runs": [r["seconds"] for r in runs],
            "first_run": first["seconds"],
            "per_second": n / imp_s,
            "peak_rss_mb": max(r["peak_rss_mb"] or 0 for r in runs) or None,
            "statuses": runs[-1]["statuses"],
        }
        say(
            f"  {imp['per_second']:.1f} returns/s, {imp_s:.2f} s (runs {', '.join(f'{s:.2f}' for s in imp['runs'])}; "
            f"first run, making the blank templates: {first['seconds']:.2f} s), peak RSS {_mb(imp['peak_rss_mb'])}, "
            f"register {imp['statuses']}"
        )

        say(f"[2] eif-xlsx validate of the same {n} ...")
        val = run_validate(folder, jobs)
        val["per_second"] = n / val["seconds"]
        say(f"  {val['per_second']:.1f} returns/s, {val['seconds']:.2f} s, peak RSS {_mb(val['peak_rss_mb'])}")

        say(
            f"[3] one process on the same workbooks: python-calamine ({args.repeat} passes), openpyxl read-only "
            f"(every {max(1, n // args.openpyxl_sample)}th file), eif-xlsx read_return + check (1 pass) and its "
            "safety pass alone (1 pass) ..."
        )
        cal = run_baseline("calamine", files, work, args.repeat)
        k = min(args.openpyxl_sample, n)
        picks = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})
        opx_files = [files[i] for i in picks if files[i].suffix != ".ods"]  # openpyxl cannot read .ods
        opx = run_baseline("openpyxl", opx_files, work, 1)
        opx_per_file = statistics.fmean(opx["per_file"])
        opx["seconds_scaled"] = opx_per_file * n
        own = run_baseline("eif-xlsx", files, work, 1)
        safety = run_baseline("safety-pass", files, work, 1)  # the part of read_return that is container.inspect
        written = [work / "out" / name for name in ("summary.xlsx", "tracker.xlsx") if (work / "out" / name).exists()]
        xw = run_baseline("xlsxwriter", written, work, args.repeat)
        proof = run_baseline("xml-proof", files, work, args.repeat)
        floor = cal["seconds"] + xw["seconds"]
        # The most any import could reach here that proves, reads and writes as these do: the three floors and
        # nothing else, spread over its processes without loss.
        ceiling = n / ((floor + proof["seconds"]) / jobs)
        ratios = {
            "import_over_read_and_write_floors": imp_s / floor,
            "import_over_calamine": imp_s / cal["seconds"],
            "openpyxl_over_import": opx["seconds_scaled"] / imp_s,
            "validate_over_calamine": val["seconds"] / cal["seconds"],
        }
        say(
            f"  python-calamine {n / cal['seconds']:7.1f} files/s   {1000 * cal['seconds'] / n:6.2f} ms/file   "
            f"peak RSS {_mb(cal['peak_rss_mb'])}"
        )
        say(
            f"  openpyxl r/o    {1 / opx_per_file:7.1f} files/s   {1000 * opx_per_file:6.2f} ms/file   "
            f"peak RSS {_mb(opx['peak_rss_mb'])}   ({len(opx_files)} .xlsx files, scaled to {n})"
        )
        say(
            f"  XlsxWriter writing the import's summary.xlsx and tracker.xlsx cells again (no formats): "
            f"{xw['seconds']:.2f} s"
        )
        say(f"  expat proving the returns' sheets well-formed: {proof['seconds']:.2f} s")
        say(
            f"  eif-xlsx read+check {n / sum(own['per_file']):5.1f} files/s   "
            f"{1000 * sum(own['per_file']) / n:6.2f} ms/file (one process)"
        )

        by_source: dict[str, dict] = {}
        opx_at = {
            picks_i: t
            for picks_i, t in zip([i for i in picks if files[i].suffix != ".ods"], opx["per_file"], strict=True)
        }
        for i, (source, _) in enumerate(books):
            s = by_source.setdefault(
                source, {"files": 0, "calamine": 0.0, "eif": 0.0, "safety_pass": 0.0, "openpyxl": []}
            )
            s["files"] += 1
            s["calamine"] += cal["per_file"][i]
            s["eif"] += own["per_file"][i]
            s["safety_pass"] += safety["per_file"][i]
            if i in opx_at:
                s["openpyxl"].append(opx_at[i])

        gen = None
        if args.generate:
            say(f"[4] eif-xlsx generate for {args.generate} partners with email drafts (--jobs {jobs}) ...")
            gen = run_generate(work / "generated", args.generate, jobs, work)
            say(
                f"  {gen['per_second']:.1f} workbooks/s, {gen['seconds']:.2f} s, {gen['drafts']} drafts, "
                f"peak RSS {_mb(gen['peak_rss_mb'])}"
            )

        memory = None
        if args.large:
            say(
                f"[5] memory: eif-xlsx import of {args.small} and {args.large} returns (the {n} distinct ones under other "
                "names past the first) ..."
            )
            memory = {}
            for count in (args.small, args.large):
                dest = larger_set(returns, count, work / f"set-{count}", manifest)
                r = run_import(dest, dest / "manifest.csv", work / f"out-{count}", jobs)
                memory[count] = {
                    "seconds": r["seconds"],
                    "per_second": count / r["seconds"],
                    "peak_rss_mb": r["peak_rss_mb"],
                    "statuses": r["statuses"],
                }
                say(
                    f"  {count:5d} returns: {r['seconds']:6.2f} s, {count / r['seconds']:6.1f} returns/s, "
                    f"peak RSS {_mb(r['peak_rss_mb'])}, register {r['statuses']}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    figures = {"import_returns_per_second": imp["per_second"], **ratios}
    if gen:
        figures["generate_per_second"] = gen["per_second"]
    if memory:
        small, large = memory[args.small], memory[args.large]
        figures["memory_peak_rss_mb"] = max(small["peak_rss_mb"] or 0, large["peak_rss_mb"] or 0)
        figures["memory_growth_100_to_large"] = (
            large["peak_rss_mb"] / small["peak_rss_mb"] if small["peak_rss_mb"] else None
        )
    targets = evaluate(figures)

    say(
        f"\n=== {n} returns, {os.cpu_count()} CPU(s), --jobs {jobs}; load average before {load_before}, "
        f"after {load_average()} ==="
    )
    say(f"{'':34s}{'files/s':>9s}{'ms/file':>9s}{'peak RSS':>11s}{'x calamine':>12s}")
    rows = [
        ("python-calamine, every sheet (1 proc)", n / cal["seconds"], cal["peak_rss_mb"], cal["seconds"]),
        ("openpyxl read_only (1 proc, scaled)", 1 / opx_per_file, opx["peak_rss_mb"], opx["seconds_scaled"]),
        (f"eif-xlsx import, end to end ({jobs} proc)", imp["per_second"], imp["peak_rss_mb"], imp_s),
        (f"eif-xlsx validate ({jobs} proc)", val["per_second"], val["peak_rss_mb"], val["seconds"]),
    ]
    for label, fps, rss, secs in rows:
        say(f"{label:34s}{fps:9.1f}{1000 / fps:9.2f}{_mb(rss):>11s}{secs / cal['seconds']:12.2f}")
    say(
        f"openpyxl / import = {ratios['openpyxl_over_import']:.1f}x   import / calamine = "
        f"{ratios['import_over_calamine']:.2f}x   validate / calamine = {ratios['validate_over_calamine']:.2f}x"
    )
    say(
        f"the floors, one process each: calamine reading the returns {cal['seconds']:.2f} s + XlsxWriter writing "
        f"the outputs' cells {xw['seconds']:.2f} s = {floor:.2f} s; import / floors = "
        f"{ratios['import_over_read_and_write_floors']:.2f}x"
    )
    say(
        f"with expat's proof of the returns' sheets ({proof['seconds']:.2f} s), the three floors and nothing else over "
        f"{jobs} processes without loss: at most {ceiling:.1f} returns/s (import: {imp['per_second']:.1f})"
    )
    say(
        "\nper source, one process, ms per file (read_return + check vs the two readers; 'safety': the part of it "
        "that is the safety pass, container.inspect, timed apart):"
    )
    say(f"{'source':18s}{'files':>6s}{'calamine':>10s}{'openpyxl':>10s}{'eif-xlsx':>10s}{'safety':>8s}{'eif/cal':>9s}")
    for source in sorted(by_source):
        s = by_source[source]
        o = f"{1000 * statistics.fmean(s['openpyxl']):10.2f}" if s["openpyxl"] else f"{'n/a':>10s}"
        say(
            f"{source:18s}{s['files']:6d}{1000 * s['calamine'] / s['files']:10.2f}{o}"
            f"{1000 * s['eif'] / s['files']:10.2f}{1000 * s['safety_pass'] / s['files']:8.2f}"
            f"{s['eif'] / s['calamine']:9.2f}"
        )
    if gen:
        say(
            f"\ngenerate: {gen['workbooks']} workbooks + {gen['drafts']} drafts in {gen['seconds']:.2f} s = "
            f"{gen['per_second']:.1f}/s, peak RSS {_mb(gen['peak_rss_mb'])}"
        )
    if memory:
        say(
            "memory: "
            + "   ".join(
                f"{c} returns: peak RSS {_mb(m['peak_rss_mb'])} ({m['per_second']:.1f}/s)" for c, m in memory.items()
            )
        )
    say("targets:")
    for t in targets:
        say(
            f"  {'PASS' if t['pass'] else 'FAIL'}  {t['name']:28s} {t['value']:10.2f}  (target {t['op']} {t['target']:g})"
        )
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "load_average_before": load_before, "load_average_after": load_average()},
        "config": vars(args),
        "import": imp,
        "validate": val,
        "calamine": cal,
        "openpyxl": opx,
        "xlsxwriter_outputs": xw,
        "xml_proof": proof,
        "ceiling_returns_per_second": ceiling,
        "eif_one_process": own,
        "safety_pass": safety,
        "by_source": by_source,
        "generate": gen,
        "memory": memory,
        "ratios": ratios,
        "targets": targets,
        "passed": all(t["pass"] for t in targets),
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    say(f"\nwrote {out}")
    return 1 if args.check and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
