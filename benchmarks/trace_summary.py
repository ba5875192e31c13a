"""Where an accelerator's time goes, from a jax.profiler trace (Perfetto JSON).

  python benchmarks/trace_summary.py DIR [--steps 10] [--top 25]

DIR is what `jax.profiler.trace(DIR, create_perfetto_trace=True)` wrote (or
the perfetto_trace.json.gz itself); the newest trace below it is read. For
each timeline of a device (a process named /device:...; on a GPU one per
stream plus the profiler's op lines) it prints events and busy milliseconds
per step; for the busiest kernel timeline, the time per class of kernel
(matmul, fused attention, random numbers, reductions, data movement, other
fusions) and the top kernels by total time. Busy time is the union of a
line's events, so nested events are not counted twice.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import pathlib
import re

# First match wins; tested on the lower-cased kernel name plus its HLO op.
CLASSES = (
    ("fused attention", r"fmha|flash|cudnn|kwls_attention"),
    ("matmul", r"gemm|xmma|cutlass|cublas|matmul|\bdot|triton_gemm|nvjet"),
    ("random numbers", r"threefry|philox|rng|random"),
    ("reduction", r"reduce|softmax|norm"),
    ("data movement", r"copy|transpose|memcpy|memset|concatenate|slice"),
    ("other fusion", r"fusion|loop_|input_"),
)


def find_trace(path: str | os.PathLike) -> pathlib.Path:
  """The trace file: path itself, or the newest perfetto trace below it."""
  path = pathlib.Path(path)
  if path.is_file():
    return path
  found = sorted(path.rglob("perfetto_trace.json.gz"),
                 key=lambda p: p.stat().st_mtime)
  if not found:
    raise FileNotFoundError(
        f"{path}: no perfetto_trace.json.gz below it; trace with "
        "jax.profiler.trace(dir, create_perfetto_trace=True)")
  return found[-1]


def load(path: pathlib.Path):
  """(complete events, {pid: process name}, {(pid, tid): thread name})."""
  opener = gzip.open if path.suffix == ".gz" else open
  with opener(path, "rt", encoding="utf-8") as f:
    data = json.load(f)
  events = data["traceEvents"] if isinstance(data, dict) else data
  processes, threads, complete = {}, {}, []
  for e in events:
    if e.get("ph") == "M" and e.get("name") == "process_name":
      processes[e["pid"]] = e["args"]["name"]
    elif e.get("ph") == "M" and e.get("name") == "thread_name":
      threads[(e["pid"], e.get("tid"))] = e["args"]["name"]
    elif e.get("ph") == "X" and "dur" in e:
      complete.append(e)
  return complete, processes, threads


def busy_us(events) -> float:
  """Microseconds covered by at least one event (the union of intervals)."""
  total, end = 0.0, float("-inf")
  for start, stop in sorted((e["ts"], e["ts"] + e["dur"]) for e in events):
    if start > end:
      total += stop - start
      end = stop
    elif stop > end:
      total += stop - end
      end = stop
  return total


def classify(name: str, hlo_op: str = "") -> str:
  """The class of a kernel, from its name and HLO op (CLASSES)."""
  text = f"{name} {hlo_op}".lower()
  for label, pattern in CLASSES:
    if re.search(pattern, text):
      return label
  return "other"


def _table(rows, header):
  lines = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:"
                          for i in range(len(header))) + "|"]
  lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
  return "\n".join(lines)


def summarize(path: str | os.PathLike, steps: int = 1, top: int = 25) -> str:
  """A markdown summary of a trace of `steps` training steps."""
  trace = find_trace(path)
  events, processes, threads = load(trace)
  device = {pid for pid, name in processes.items() if "/device:" in name}
  lines = collections.defaultdict(list)
  for e in events:
    if not device or e["pid"] in device:
      lines[(e["pid"], e.get("tid"))].append(e)
  if not lines:
    return f"{trace}: no events"
  out = [f"trace: {trace}" + ("" if device else
                               " (no device timeline: host events only)"),
         "", "per step, each timeline:", ""]
  busy_by_line = {key: busy_us(evs) for key, evs in lines.items()}
  rows, busiest = [], None
  for key, evs in sorted(lines.items(), key=lambda kv: -busy_by_line[kv[0]]):
    name = f"{processes.get(key[0], key[0])} / {threads.get(key, key[1])}"
    busy = busy_by_line[key]
    rows.append((name, f"{len(evs) / steps:.0f}", f"{busy / steps / 1e3:.3f}"))
    # Kernels live on stream lines; the profiler's own module/op lines repeat
    # them (XLA Modules spans the whole step), so prefer a stream.
    is_stream = "stream" in str(threads.get(key, "")).lower()
    if busiest is None or (is_stream and not busiest[0]):
      busiest = (is_stream, key, evs)
  out.append(_table(rows, ("timeline", "events", "busy ms")))
  _, key, evs = busiest
  busy = busy_by_line[key]
  by_class = collections.Counter()
  by_name = collections.defaultdict(lambda: [0.0, 0])
  for e in evs:
    hlo_op = str((e.get("args") or {}).get("hlo_op", ""))
    by_class[classify(e["name"], hlo_op)] += e["dur"]
    entry = by_name[(e["name"], hlo_op)]
    entry[0] += e["dur"]
    entry[1] += 1
  summed = sum(by_class.values()) or 1.0
  out += ["", f"kernel classes on {threads.get(key, key[1])} "
          f"(busy {busy / steps / 1e3:.3f} ms per step):", ""]
  out.append(_table(
      [(c, f"{us / steps / 1e3:.3f}", f"{100 * us / summed:.1f}")
       for c, us in by_class.most_common()],
      ("class", "ms per step", "% of kernel time")))
  out += ["", f"top {top} kernels:", ""]
  ranked = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]
  out.append(_table(
      [(n[:70], h[:30], f"{c / steps:.0f}", f"{us / steps / 1e3:.3f}",
        f"{100 * us / summed:.1f}", classify(n, h))
       for (n, h), (us, c) in ranked],
      ("kernel", "hlo op", "calls", "ms per step", "%", "class")))
  return "\n".join(out)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("path", help="the trace directory or file")
  parser.add_argument("--steps", type=int, default=1,
                      help="steps the trace holds (figures are per step)")
  parser.add_argument("--top", type=int, default=25)
  args = parser.parse_args()
  print(summarize(args.path, steps=args.steps, top=args.top))


if __name__ == "__main__":
  main()
