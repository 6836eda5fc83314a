"""eif-xlsx benchmark: generation, the import end to end, and two baselines, measured in one run.

    python benchmarks/bench.py                  # N=300 workbooks, all cores
    python benchmarks/bench.py --memory         # ... plus the memory check (import 200 and 1,000 returns)
    python benchmarks/bench.py --n 1000 --jobs 4 --json /tmp/result.json --check

What is measured (see benchmarks/README.md):

1. generation: N personalised workbooks, filled realistically (demo.fill_answers -> generate_workbooks' prefill),
   in --jobs processes; workbooks per second (wall clock).
2. import: `eif-xlsx import DIR --manifest DIR/manifest.csv --out OUT --jobs J --quiet` as a subprocess (read,
   check, consolidate, write every output), wall clock including interpreter start-up; peak RSS.
3. baselines on the same files, single process, each in its own subprocess (timed inside the loop, so without
   start-up): (a) python-calamine reading every sheet's values (the floor) and (b) openpyxl's default
   load_workbook(p) on an evenly spaced sample, scaled per file to N (what a typical script does).
4. --memory: the import of a small and a large set (default 200 and 1,000 returns): peak RSS and its growth.

Memory: peak RSS of the largest single process of the measured tree (os.wait4's ru_maxrss, which covers the
process and the children it waited for: the worker pool) and, on Linux, the peak of the tree's summed PSS
(proportional set size, shared pages split between the processes sharing them), sampled every 20 ms, so a
short spike can be missed. MB here means 2**20 bytes.

Targets are printed as PASS/FAIL; the script exits 0 regardless unless --check is given (then 1 if one fails).
"""

from __future__ import annotations

import argparse
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
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
MATRIX_ID = "maternity-early-years"
INDICATORS_ID = "staffordshire-best-start"
MB = 1024 * 1024

# (name, op, target): op is ">=", "<=" or "<".
TARGETS = {
    "generation_per_second": (">=", 30.0),
    "import_returns_per_second": (">=", 150.0),
    "import_over_calamine": ("<=", 3.0),
    "openpyxl_over_import": (">=", 10.0),
    "memory_peak_rss_mb": ("<", 200.0),
    "memory_growth": ("<=", 1.10),  # peak RSS at the large N / peak RSS at the small N
}

# --- realistic partners ----------------------------------------------------------------------------------------

ROLES = [  # id prefix (PH and COM partners also fill in indicator values), organisation, role
    ("NMW", "Maternity Services", "Head of Midwifery"),
    ("HV", "Health Visiting Service", "Health Visiting Lead"),
    ("FH", "Family Hub", "Family Hub Manager"),
    ("CC", "Children's Centre", "Centre Coordinator"),
    ("EY", "Nursery Group", "Early Years Manager"),
    ("PH", "Public Health", "Consultant in Public Health"),
    ("COM", "Commissioning", "Children's Commissioning Manager"),
]
PLACES = ["Northshire", "Riverside", "Eastgate", "Westbrook", "Oakfield", "Millbank", "Harbourside", "Kingsmead",
          "Ashworth", "Fenwick", "Stonebridge", "Larkhill"]
FIRST = ["Priya", "Tom", "Grace", "Dafydd", "Amira", "Liam", "Sofia", "Hannah", "Kwame", "Eleanor", "Rebecca",
         "Marcus", "Zainab", "Oliver", "Siobhan", "Mateusz", "Aisha", "Callum", "Mei", "Rhiannon", "Tomás", "Zoë"]
LAST = ["Raman", "Okafor", "Whitfield", "Morgan", "Haddad", "O'Connor", "Novak", "Lee", "Mensah", "Price", "Hall",
        "Bell", "Hussain", "Kowalski", "Nguyen", "Evans", "Byrne", "Adeyemi", "Müller", "Patel"]


def make_partner(i: int):
    from eif_xlsx.partners import Partner

    prefix, org, role = ROLES[i % len(ROLES)]
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    place = PLACES[(i // len(ROLES)) % len(PLACES)]
    email = f"{first}.{last}.{i}".lower().replace("'", "").replace(" ", "") + f"@{place.lower()}.example"
    email = email.encode("ascii", "ignore").decode()
    return Partner(f"{prefix}-{i:05d}", f"{first} {last}", f"{place} {org} {i // 84 + 1}", email, role)


# --- generation ------------------------------------------------------------------------------------------------


def _generate_chunk(pool_dir: str, start: int, stop: int) -> tuple[list[dict[str, str]], float]:
    """Worker: generate partners start..stop-1 filled in, move them into pool_dir; (manifest rows, seconds)."""
    from eif_xlsx import layout
    from eif_xlsx.catalog import Catalog
    from eif_xlsx.demo import fill_answers
    from eif_xlsx.generate import generate_workbooks

    t0 = time.perf_counter()
    catalog = Catalog.default()
    matrix, iset = catalog.matrix(MATRIX_ID), catalog.indicator_set(INDICATORS_ID)
    lay = layout.build(matrix, iset)
    partners = [make_partner(i) for i in range(start, stop)]
    prefill = {p.id: ("", fill_answers(matrix, lay, p, seed=1000 + i, twelve_months=(i % 4 == 1), indicators=iset),
                      {})
               for i, p in zip(range(start, stop), partners, strict=True)}
    chunk = Path(pool_dir) / f".chunk-{start:06d}"
    result = generate_workbooks(matrix, chunk, partners, indicators=iset, area="Northshire (benchmark)",
                                deadline="2026-12-11", return_to="early.years@northshire-council.example",
                                prefill=prefill)
    seconds = time.perf_counter() - t0
    for row in result.rows:
        os.replace(chunk / row["file"], Path(pool_dir) / row["file"])
    shutil.rmtree(chunk, ignore_errors=True)
    return result.rows, seconds


def generate(pool_dir: Path, start: int, stop: int, jobs: int) -> dict:
    """Generate workbooks start..stop-1 into pool_dir with `jobs` processes (wall clock includes the pool)."""
    count = stop - start
    pool_dir.mkdir(parents=True, exist_ok=True)
    chunk_size = max(1, min(25, -(-count // (jobs * 4))))
    bounds = [(s, min(stop, s + chunk_size)) for s in range(start, stop, chunk_size)]
    t0 = time.perf_counter()
    if jobs == 1:
        parts = [_generate_chunk(str(pool_dir), s, e) for s, e in bounds]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(bounds))) as pool:
            parts = list(pool.map(_generate_chunk, [str(pool_dir)] * len(bounds), *zip(*bounds, strict=True)))
    seconds = time.perf_counter() - t0
    rows = [row for chunk_rows, _ in parts for row in chunk_rows]
    busy = sum(s for _, s in parts)
    size = sum((pool_dir / r["file"]).stat().st_size for r in rows)
    return {"workbooks": count, "jobs": jobs, "seconds": seconds, "per_second": count / seconds,
            "ms_per_workbook": 1000 * seconds / count, "ms_per_workbook_one_process": 1000 * busy / count,
            "mean_file_kb": size / count / 1024, "rows": rows}


def write_manifest(folder: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    from eif_xlsx.generate import MANIFEST_COLUMNS

    path = folder / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_set(pool_dir: Path, rows: list[dict[str, str]], count: int, dest: Path) -> tuple[Path, list[Path]]:
    """A folder with the first `count` returns (hard links when possible) and their manifest."""
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    for row in rows[:count]:
        target = dest / row["file"]
        if not target.exists():
            try:
                os.link(pool_dir / row["file"], target)
            except OSError:
                shutil.copyfile(pool_dir / row["file"], target)
        files.append(target)
    return write_manifest(dest, rows[:count]), files


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
    return {"seconds": seconds, "exit_code": code,
            "peak_rss_mb": maxrss / MB if maxrss else None,
            "tree_peak_mb": peak[0] / MB if peak[0] else None,
            "stdout": stdout.decode(errors="replace"), "stderr": stderr.decode(errors="replace")}


def compile_package() -> None:
    """Compile the package's bytecode first, as installing it does. Otherwise an editable install run where
    PYTHONDONTWRITEBYTECODE is set (this project's machine sets it) compiles every module again on every run:
    ~0.05 s of each import's start-up that no installed copy pays."""
    import compileall

    import eif_xlsx

    compileall.compile_dir(str(Path(eif_xlsx.__file__).parent), quiet=1)


def import_command(folder: Path, manifest: Path, out: Path, jobs: int) -> list[str]:
    script = Path(sys.executable).with_name("eif-xlsx")
    exe = [str(script)] if script.exists() else (
        [shutil.which("eif-xlsx")] if shutil.which("eif-xlsx")
        else [sys.executable, "-c", "from eif_xlsx.cli import run; run()"])
    return exe + ["import", str(folder), "--manifest", str(manifest), "--out", str(out), "--jobs", str(jobs),
                  "--quiet"]


def run_import(folder: Path, manifest: Path, out: Path, jobs: int, sample: bool = True) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    run = run_measured(import_command(folder, manifest, out, jobs), sample=sample)
    if run["exit_code"] not in (0, 1):  # 1: some return was rejected (still a completed import)
        raise SystemExit(f"bench: the import failed (exit {run['exit_code']}):\n{run['stdout']}\n{run['stderr']}")
    import csv

    with (out / "register.csv").open(newline="", encoding="utf-8-sig") as fh:
        statuses: dict[str, int] = {}
        for row in csv.DictReader(fh):
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    run["statuses"] = statuses
    run["outputs_mb"] = sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / MB
    del run["stdout"], run["stderr"]
    return run


def run_baseline(kind: str, files: list[Path], work: Path, repeat: int) -> dict:
    listing = work / f"{kind}-files.txt"
    listing.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
    result_file = work / f"{kind}-result.json"
    run = run_measured([sys.executable, str(Path(__file__).resolve()), "_baseline", kind, str(listing),
                        str(result_file), str(repeat)])
    if run["exit_code"] != 0:
        raise SystemExit(f"bench: the {kind} baseline failed (exit {run['exit_code']}):\n{run['stderr']}")
    inner = json.loads(result_file.read_text(encoding="utf-8"))
    return {"files": len(files), "passes": inner["passes"], "cells": inner["cells"],
            "peak_rss_mb": run["peak_rss_mb"], "tree_peak_mb": run["tree_peak_mb"]}


def _baseline_main(kind: str, listing: str, result_file: str, repeat: str) -> None:
    """Child process: read every listed file `repeat` times; write the seconds of each pass (loop only)."""
    files = [line for line in Path(listing).read_text(encoding="utf-8").splitlines() if line]
    if kind == "calamine":
        from python_calamine import CalamineWorkbook

        def read(path: str) -> int:
            wb = CalamineWorkbook.from_path(path)
            return sum(len(row) for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python())
    elif kind == "openpyxl":
        import warnings

        from openpyxl import load_workbook

        warnings.simplefilter("ignore")  # data-validation extension warnings, once per file

        def read(path: str) -> int:
            wb = load_workbook(path)
            return sum(ws.max_row * ws.max_column for ws in wb.worksheets)
    else:
        raise SystemExit(f"unknown baseline {kind}")
    passes, cells = [], 0
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        cells = sum(read(f) for f in files)
        passes.append(time.perf_counter() - t0)
    Path(result_file).write_text(json.dumps({"passes": passes, "cells": cells}), encoding="utf-8")


# --- profile ---------------------------------------------------------------------------------------------------


def profile_import(folder: Path, manifest: Path, out: Path, top: int = 20) -> dict:
    """cProfile of one in-process import (consolidate.run), the files read in this process, not a pool."""
    import cProfile
    import importlib
    import pstats

    batch = importlib.import_module("eif_xlsx.batch")
    consolidate = importlib.import_module("eif_xlsx.consolidate")

    def serial(sources, *, jobs=None, expected_matrix=None, partners_by_email=None, progress=None):
        return [batch._work(s, expected_matrix, partners_by_email or {}) for s in sources]

    original = batch.run
    batch.run = serial
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        prof.enable()
        consolidate.run([folder], out, manifest=manifest, jobs=1)
        prof.disable()
    finally:
        batch.run = original
    seconds = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        if "eif_xlsx" in filename:
            where = filename[filename.rfind("eif_xlsx"):]
            rows.append({"function": f"{where}:{line}({func})", "calls": ncalls, "tottime": tottime,
                         "cumtime": cumtime})
    by_self = sorted(rows, key=lambda r: -r["tottime"])[:top]
    by_cum = sorted(rows, key=lambda r: -r["cumtime"])[:top]
    return {"seconds": seconds, "by_tottime": by_self, "by_cumtime": by_cum}


# --- report ----------------------------------------------------------------------------------------------------


def machine() -> dict:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return ""

    return {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "packages": {d: version(d) for d in ("eif-xlsx", "python-calamine", "openpyxl", "XlsxWriter")}}


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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="workbooks to generate and import (default 300)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes for generation and for the import (default: all cores)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="import and calamine runs to take the median of (default 3)")
    ap.add_argument("--openpyxl-sample", type=int, default=30,
                    help="files timed with openpyxl, evenly spaced, scaled per file to N (default 30)")
    ap.add_argument("--memory", action="store_true",
                    help="also import a small and a large set and compare peak RSS (see --memory-n)")
    ap.add_argument("--memory-n", default="200,1000", help="SMALL,LARGE returns for --memory (default 200,1000)")
    ap.add_argument("--profile", type=int, default=0, metavar="K",
                    help="also cProfile one in-process import of K files and list the package's hotspots")
    ap.add_argument("--json", default=str(HERE / "result.json"), help="result file (default benchmarks/result.json)")
    ap.add_argument("--workdir", default=None, help="folder for the generated files (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    args = ap.parse_args(argv)
    if args.n < 1 or args.jobs < 1 or args.repeat < 1 or args.openpyxl_sample < 1:
        ap.error("--n, --jobs, --repeat and --openpyxl-sample must be at least 1")
    mem_small = mem_large = 0
    if args.memory:
        try:
            mem_small, mem_large = (int(x) for x in args.memory_n.split(","))
        except ValueError:
            ap.error("--memory-n takes SMALL,LARGE, e.g. 200,1000")
        if not 0 < mem_small < mem_large:
            ap.error("--memory-n: SMALL must be at least 1 and less than LARGE")

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="eif-xlsx-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    compile_package()
    # The import keeps its blank templates between runs (eif_xlsx/blank.py): a cache of the bench's own, empty at
    # the start, so that the figures do not depend on what an earlier run left in ~/.cache.
    template_cache = work / "template-cache"
    shutil.rmtree(template_cache, ignore_errors=True)
    os.environ["EIF_XLSX_CACHE"] = str(template_cache)
    pool_dir = work / "pool"
    shutil.rmtree(pool_dir, ignore_errors=True)
    n, jobs = args.n, args.jobs
    say = print
    load_before = load_average()
    say(f"eif-xlsx benchmark: N={n}, jobs={jobs}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, "
        f"{platform.platform()}, load average {load_before}")
    if load_before and load_before[0] > 0.5 * (os.cpu_count() or 1):
        say("  warning: the machine is busy; the figures will be low")
    try:
        # 1. Generation.
        say(f"\n[1/4] generating {n} filled workbooks with {jobs} process(es) ...")
        gen = generate(pool_dir, 0, n, jobs)
        rows = gen.pop("rows")
        say(f"  {gen['per_second']:8.1f} workbooks/s   {gen['ms_per_workbook']:7.1f} ms per workbook (wall)   "
            f"{gen['ms_per_workbook_one_process']:7.1f} ms per workbook in one process   "
            f"{gen['mean_file_kb']:.0f} KB per file")
        extra = None
        if mem_large > n:
            say(f"  (generating {mem_large - n} more for the memory check, not part of the figure above)")
            extra = generate(pool_dir, n, mem_large, jobs)
            rows += extra.pop("rows")
        main_dir = work / f"set-{n}"
        manifest, files = make_set(pool_dir, rows, n, main_dir)

        # 2. Import end to end.
        say(f"\n[2/4] eif-xlsx import of {n} returns, --jobs {jobs}, {args.repeat} run(s) ...")
        # The first run makes the blank templates and keeps them (reported on its own); the timed runs after it are
        # what every later import on the machine does. Timed runs go without the PSS sampler (it takes CPU from
        # the import); one more run samples the tree's memory.
        cold = run_import(main_dir, manifest, work / "out-import", jobs, sample=False)
        runs = [run_import(main_dir, manifest, work / "out-import", jobs, sample=False) for _ in range(args.repeat)]
        sampled = run_import(main_dir, manifest, work / "out-import", jobs)
        imp_s = statistics.median(r["seconds"] for r in runs)
        imp = {"files": n, "jobs": jobs, "seconds": imp_s, "runs": [r["seconds"] for r in runs],
               "per_second": n / imp_s, "ms_per_file": 1000 * imp_s / n,
               "peak_rss_mb": max((r["peak_rss_mb"] or 0) for r in [*runs, sampled]) or None,
               "tree_peak_mb": sampled["tree_peak_mb"],
               "exit_code": runs[-1]["exit_code"], "statuses": runs[-1]["statuses"],
               "outputs_mb": runs[-1]["outputs_mb"],
               "first_run": {"seconds": cold["seconds"], "per_second": n / cold["seconds"],
                             "note": "the machine's first import: the blank templates are made and kept"}}
        say(f"  {imp['per_second']:8.1f} returns/s   {imp['ms_per_file']:7.2f} ms per file   "
            f"peak RSS {_mb(imp['peak_rss_mb'])} (largest process), {_mb(imp['tree_peak_mb'])} (tree PSS, sampled)"
            f"   register: {imp['statuses']}")
        say(f"  (the first run, making the blank templates it then keeps: {cold['seconds']:.2f} s, "
            f"{n / cold['seconds']:.1f} returns/s)")

        # 3. Baselines.
        say(f"\n[3/4] baselines, one process: python-calamine ({args.repeat} pass(es)), openpyxl "
            f"(sample of {min(args.openpyxl_sample, n)}) ...")
        cal = run_baseline("calamine", files, work, args.repeat)
        cal_s = statistics.median(cal["passes"])
        cal.update(seconds=cal_s, per_second=n / cal_s, ms_per_file=1000 * cal_s / n)
        k = min(args.openpyxl_sample, n)
        sample = [files[round(i * (n - 1) / max(1, k - 1))] for i in range(k)] if k > 1 else files[:1]
        opx = run_baseline("openpyxl", sample, work, 1)
        per_file = opx["passes"][0] / k
        opx.update(sample=k, sample_seconds=opx["passes"][0], ms_per_file=1000 * per_file,
                   seconds=per_file * n, per_second=1 / per_file, scaled_to=n,
                   note=f"timed on {k} evenly spaced files, scaled per file to {n}")
        for name, b in (("python-calamine", cal), ("openpyxl load_workbook", opx)):
            say(f"  {name:24s}{b['per_second']:8.1f} files/s   {b['ms_per_file']:7.2f} ms per file   "
                f"peak RSS {_mb(b['peak_rss_mb'])}")
        ratios = {"import_over_calamine": imp_s / cal_s, "openpyxl_over_import": opx["seconds"] / imp_s}

        # 4. Memory.
        memory = None
        if args.memory:
            say(f"\n[4/4] memory: eif-xlsx import of {mem_small} and {mem_large} returns, --jobs {jobs} ...")
            mem_runs = []
            for count in (mem_small, mem_large):
                m_manifest, _ = make_set(pool_dir, rows, count, work / f"set-{count}")
                r = run_import(work / f"set-{count}", m_manifest, work / f"out-memory-{count}", jobs)
                mem_runs.append({"returns": count, "seconds": r["seconds"], "per_second": count / r["seconds"],
                                 "peak_rss_mb": r["peak_rss_mb"], "tree_peak_mb": r["tree_peak_mb"],
                                 "statuses": r["statuses"], "outputs_mb": r["outputs_mb"]})
                say(f"  {count:6d} returns: {r['seconds']:6.1f} s   peak RSS {_mb(r['peak_rss_mb'])} (largest "
                    f"process), {_mb(r['tree_peak_mb'])} (tree PSS, sampled)")
            small, large = mem_runs
            growth = (large["peak_rss_mb"] / small["peak_rss_mb"]) if small["peak_rss_mb"] else None
            memory = {"jobs": jobs, "runs": mem_runs, "peak_rss_mb": large["peak_rss_mb"], "growth": growth,
                      "extra_generation": extra}
        else:
            say("\n[4/4] memory check skipped (add --memory)")

        profile = None
        if args.profile:
            k = min(args.profile, n)
            p_manifest, _ = make_set(pool_dir, rows, k, work / f"set-{k}")
            say(f"\n[profile] cProfile of one in-process import of {k} files (consolidate.run, reading serially)")
            profile = profile_import(work / f"set-{k}", p_manifest, work / "out-profile")
            say(f"  {profile['seconds']:.2f} s under the profiler; package functions by own time:")
            for r in profile["by_tottime"][:15]:
                say(f"  {r['tottime']:7.3f} s own {r['cumtime']:7.3f} s cum {r['calls']:9d} calls  {r['function']}")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    figures = {"generation_per_second": gen["per_second"], "import_returns_per_second": imp["per_second"],
               **ratios}
    if memory:
        figures.update(memory_peak_rss_mb=memory["peak_rss_mb"], memory_growth=memory["growth"])
    targets = evaluate(figures)
    say("\nratios: import / calamine = {:.2f}x   openpyxl / import = {:.2f}x".format(*ratios.values()))
    say("targets:")
    for t in targets:
        say(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['name']:28s} {t['value']:10.2f}  (target {t['op']} "
            f"{t['target']:g})")
    result = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": {**machine(), "load_average_before": load_before, "load_average_after": load_average()},
              "config": {"n": n, "jobs": jobs, "repeat": args.repeat, "openpyxl_sample": args.openpyxl_sample,
                         "memory_n": [mem_small, mem_large] if args.memory else None,
                         "matrix": MATRIX_ID, "indicators": INDICATORS_ID,
                         "bytecode": "compiled before timing, as installing does (see compile_package)"},
              "generation": gen, "import": imp, "calamine": cal, "openpyxl": opx, "ratios": ratios,
              "memory": memory, "profile": profile, "targets": targets,
              "passed": all(t["pass"] for t in targets)}
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    say(f"\nwrote {out}")
    return 1 if args.check and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
