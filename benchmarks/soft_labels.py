"""Benchmark: `kwls soft-labels` against the scipy and authors'-loop baselines.

Every implementation runs as a child process (jsonl.gz in, float32 .npy out).
Wall seconds are end to end (interpreter start, imports, reading, writing);
peak RSS is the child's ru_maxrss from os.wait4 (Linux: KiB; the larger of the
child and any descendants it reaped, not a sum). Inputs are made under
benchmarks/_data/, outputs and logs go to benchmarks/_out/ (both git-ignored).

  python benchmarks/soft_labels.py --corpora imdb,imdb400k --repeat 3 --warmup
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"
OUT = ROOT / "benchmarks" / "_out"
SHARED = Path(os.environ.get("KWLS_SHARED_DATASETS",
                            ROOT.parent / "shared" / "datasets"))
IMDB_TRAIN = SHARED / "imdb" / "train.jsonl.gz"
LARGE_DOCS = 100_000  # --skip-authors-on-large skips corpora above this size

AG_TEST = SHARED / "ag_news" / "test.jsonl.gz"
CORPORA = {  # name -> (file under _data, documents)
    "imdb": ("imdb_train.jsonl.gz", 25_000),
    "imdb400k": ("imdb400k.jsonl.gz", 400_000),
    # The scale claim: 10 million short documents (AG News test, 7,600 rows,
    # repeated), kwls only: `--corpora ag10m --impls kwls`.
    "ag10m": ("ag10m/train.jsonl.gz", 10_000_000),
}
IMPLS = {
    "kwls": [sys.executable, "-m", "kwls_jax.cli", "soft-labels"],
    "scipy": [sys.executable, str(ROOT / "benchmarks/baselines/scipy_sparse.py")],
    "authors": [sys.executable, str(ROOT / "benchmarks/baselines/authors_loop.py")],
}
BASELINES = ("scipy", "authors")


def make_corpus(name: str) -> Path:
  """IMDb train copied, or repeated 16 times as one deterministic gzip member."""
  DATA.mkdir(parents=True, exist_ok=True)
  path = DATA / CORPORA[name][0]
  if path.exists():
    return path
  tmp = path.with_suffix(".tmp")
  if name == "ag10m":
    path.parent.mkdir(exist_ok=True)
    rows = gzip.decompress(AG_TEST.read_bytes()).splitlines(keepends=True)
    with gzip.GzipFile(tmp, "wb", compresslevel=1, mtime=0) as f:
      for i in range(CORPORA[name][1]):
        f.write(rows[i % len(rows)])
    shutil.copyfile(AG_TEST.parent / "labels.json", path.parent / "labels.json")
    tmp.rename(path)
    return path
  if name == "imdb":
    shutil.copyfile(IMDB_TRAIN, tmp)
  else:
    raw = gzip.decompress(IMDB_TRAIN.read_bytes())
    if not raw.endswith(b"\n"):
      raw += b"\n"
    with open(tmp, "wb") as fh, gzip.GzipFile(
        filename="", mode="wb", fileobj=fh, compresslevel=6, mtime=0) as gz:
      for _ in range(CORPORA[name][1] // 25_000):
        gz.write(raw)
  os.replace(tmp, path)
  return path


def run_child(cmd: list[str], log: Path) -> dict:
  """Runs cmd to completion; wall seconds, CPU seconds and peak RSS (MiB)."""
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
  with open(log, "wb") as fh:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                            cwd=ROOT, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
  proc.returncode = os.waitstatus_to_exitcode(status)
  return {"rc": proc.returncode, "seconds": seconds,
          "cpu_s": ru.ru_utime + ru.ru_stime, "peak_mib": ru.ru_maxrss / 1024}


def _version(pkg: str) -> str:
  try:
    return importlib.metadata.version(pkg)
  except importlib.metadata.PackageNotFoundError:
    return "absent"


def machine() -> dict:
  """CPU, cores, RAM, versions and the commit the figures belong to."""
  cpu = platform.processor()
  try:
    for line in open("/proc/cpuinfo"):
      if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
  except OSError:
    pass
  try:
    import psutil
    ram = psutil.virtual_memory().total / 2**30
  except ImportError:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30

  def git(*args):
    r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"

  return {
      "cpu": cpu, "cores": os.cpu_count(),
      "cores_usable": len(os.sched_getaffinity(0)), "ram_gib": round(ram, 1),
      "python": platform.python_version(), "jax": _version("jax"),
      "jaxlib": _version("jaxlib"), "numpy": _version("numpy"),
      "scipy": _version("scipy"), "commit": git("rev-parse", "HEAD"),
      "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
      "jax_compilation_cache_dir": os.environ.get("JAX_COMPILATION_CACHE_DIR"),
  }


def agreement(outputs: dict[str, Path]) -> dict[str, float]:
  """Max |difference| between every pair of implementations' soft labels."""
  arrays = {k: np.load(p) for k, p in outputs.items() if p.exists()}
  out = {}
  for a, b in itertools.combinations(sorted(arrays), 2):
    if arrays[a].shape != arrays[b].shape:
      out[f"{a}~{b}"] = float("inf")
    else:
      out[f"{a}~{b}"] = float(np.abs(arrays[a].astype(np.float64)
                                     - arrays[b]).max(initial=0.0))
  return out


def _tail(log: Path, lines: int = 8) -> str:
  return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def write_markdown(path: Path, results, agree, info, args, paths) -> None:
  """The table as Markdown, headed by what produced it."""
  sys.path.insert(0, str(ROOT))
  from kwls_jax import provenance  # pylint: disable=g-import-not-at-top
  command = "python benchmarks/soft_labels.py " + " ".join(
      a for a in sys.argv[1:] if not a.startswith("--markdown") and
      a != args.markdown)
  lines = ["# `kwls soft-labels` against the baselines\n",
           provenance.header(command, [str(p) for p in paths.values()]),
           f"\n{args.stat} of {args.repeat} run(s); tokenizer {args.tokenizer}; "
           "wall seconds end to end (a child process: start-up, reading and "
           "writing included); peak = the child's max RSS, max over runs; "
           "speedup = baseline seconds / these seconds.\n",
           "| corpus | implementation | N x P | seconds | CPU s | peak MiB | "
           "x scipy | x authors |", "|---|---|---|---:|---:|---:|---:|---:|"]
  fmt = lambda v, f: format(v, f) if v is not None else "-"
  for r in results:
    shape = " x ".join(map(str, r["shape"])) if r["shape"] else "failed"
    lines.append(
        f"| {r['corpus']} | {r['impl']} | {shape} | {fmt(r['seconds'], '.2f')} "
        f"| {fmt(r['cpu_s'], '.1f')} | {fmt(r['peak_mib'], '.0f')} | "
        f"{fmt(r.get('speedup_vs_scipy'), '.2f')} | "
        f"{fmt(r.get('speedup_vs_authors'), '.2f')} |")
  lines.append("\nAgreement (max absolute difference of the soft labels): " +
               "; ".join(f"{c}: " + ", ".join(f"{k} {v:.2g}" for k, v in d.items())
                         for c, d in agree.items() if d))
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--corpora", default="imdb,imdb400k")
  ap.add_argument("--impls", default="kwls,scipy,authors")
  ap.add_argument("--tokenizer", default="whitespace",
                  choices=["word", "whitespace"])
  ap.add_argument("--repeat", type=int, default=1)
  ap.add_argument("--stat", choices=["median", "best"], default="median",
                  help="which of the --repeat runs the table reports")
  ap.add_argument("--skip-authors-on-large", action="store_true",
                  help=f"skip the authors' loop above {LARGE_DOCS:,} documents")
  ap.add_argument("--warmup", action="store_true",
                  help="run the CLI once (untimed) first, so timings are warm")
  ap.add_argument("--tolerance", type=float, default=1e-5,
                  help="max abs difference allowed between implementations")
  ap.add_argument("--json", help="write the figures here")
  ap.add_argument("--markdown", help="write a Markdown report (with the "
                  "command, commit, data and machine) here")
  args = ap.parse_args(argv)
  corpora = [c for c in args.corpora.split(",") if c]
  impls = [i for i in args.impls.split(",") if i]
  for name in corpora + impls:
    if name not in CORPORA and name not in IMPLS:
      ap.error(f"unknown corpus or implementation {name!r}")
  OUT.mkdir(parents=True, exist_ok=True)
  info = machine()
  print(f"machine: {info}", flush=True)
  paths = {c: make_corpus(c) for c in corpora}
  stat = statistics.median if args.stat == "median" else min

  cli_runs = 0
  if args.warmup and "kwls" in impls:
    r = run_child(IMPLS["kwls"] + [str(paths[corpora[0]]), "--out",
                                   str(OUT / "warmup.npy"), "--tokenizer",
                                   args.tokenizer], OUT / "warmup.log")
    cli_runs += 1
    print(f"warm-up: kwls on {corpora[0]}: {r['seconds']:.2f} s, rc {r['rc']}",
          flush=True)

  results, agree, failed = [], {}, False
  for corpus in corpora:
    todo = [i for i in impls if not (
        i == "authors" and args.skip_authors_on_large
        and CORPORA[corpus][1] > LARGE_DOCS)]
    runs = {i: [] for i in todo}
    outputs = {i: OUT / f"{corpus}.{i}.npy" for i in todo}
    for rep in range(args.repeat):
      for impl in todo:
        outputs[impl].unlink(missing_ok=True)
        log = OUT / f"{corpus}.{impl}.log"
        r = run_child(IMPLS[impl] + [str(paths[corpus]), "--out",
                                     str(outputs[impl]), "--tokenizer",
                                     args.tokenizer], log)
        if impl == "kwls":
          r["cold"] = cli_runs == 0
          cli_runs += 1
        runs[impl].append(r)
        print(f"{corpus} {impl} run {rep + 1}/{args.repeat}: "
              f"{r['seconds']:.2f} s, {r['peak_mib']:.0f} MiB, rc {r['rc']}"
              + (" (cold)" if r.get("cold") else ""), flush=True)
        if r["rc"] != 0:
          failed = True
          print(_tail(log), flush=True)
    ok = {i: outputs[i] for i in todo if runs[i][-1]["rc"] == 0}
    agree[corpus] = agreement(ok)
    shapes = {i: list(np.load(p, mmap_mode="r").shape) for i, p in ok.items()}
    for impl in todo:
      good = [r for r in runs[impl] if r["rc"] == 0]
      results.append({
          "corpus": corpus, "impl": impl, "shape": shapes.get(impl),
          "stat": args.stat, "runs": runs[impl],
          "seconds": stat([r["seconds"] for r in good]) if good else None,
          "cpu_s": stat([r["cpu_s"] for r in good]) if good else None,
          "peak_mib": max(r["peak_mib"] for r in good) if good else None,
          "cold_runs": sum(bool(r.get("cold")) for r in good),
      })
    for pair, diff in agree[corpus].items():
      flag = "ok" if diff <= args.tolerance else "DISAGREE"
      failed |= diff > args.tolerance
      print(f"{corpus}: max |{pair}| = {diff:.3g} ({flag})", flush=True)

  print(f"\n{args.stat} of {args.repeat} run(s); tokenizer {args.tokenizer}; "
        f"peak = max over runs; speedup = baseline seconds / these seconds")
  head = (f"{'corpus':<9} {'impl':<8} {'shape':<13} {'seconds':>9} {'cpu s':>8}"
          f" {'peak MiB':>9} {'x scipy':>8} {'x authors':>9}  cold runs")
  print(head + "\n" + "-" * len(head))
  for r in results:
    base = {b: next((x["seconds"] for x in results if x["corpus"] == r["corpus"]
                     and x["impl"] == b), None) for b in BASELINES}
    for b in BASELINES:
      r[f"speedup_vs_{b}"] = (base[b] / r["seconds"]
                              if base[b] and r["seconds"] else None)
    fmt = lambda v, f: format(v, f) if v is not None else "-".rjust(int(f[0]))
    shape = "x".join(map(str, r["shape"])) if r["shape"] else "failed"
    print(f"{r['corpus']:<9} {r['impl']:<8} {shape:<13} "
          f"{fmt(r['seconds'], '9.2f')} {fmt(r['cpu_s'], '8.1f')} "
          f"{fmt(r['peak_mib'], '9.0f')} {fmt(r['speedup_vs_scipy'], '8.2f')} "
          f"{fmt(r['speedup_vs_authors'], '9.2f')}  "
          f"{r['cold_runs'] if r['impl'] == 'kwls' else '-'}")
  print(f"\n{info['cpu']}, {info['cores_usable']}/{info['cores']} cores, "
        f"{info['ram_gib']} GiB RAM; python {info['python']}, jax {info['jax']}, "
        f"numpy {info['numpy']}, scipy {info['scipy']}; commit "
        f"{info['commit'][:12]}{' (dirty)' if info['dirty'] else ''}")
  if args.markdown:
    write_markdown(Path(args.markdown), results, agree, info, args, paths)
  if args.json:
    Path(args.json).write_text(json.dumps(
        {"machine": info, "config": vars(args), "results": results,
         "agreement": agree}, indent=1) + "\n")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
