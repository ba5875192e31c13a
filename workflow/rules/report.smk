# Aggregation: paper-style tables, figures, and the W&B record of the experiment.


rule report:
    input:
        runs=ALL_RUNS,
    output:
        md=RESULTS + "/table.md",
        tex=RESULTS + "/table.tex",
        csv=RESULTS + "/table.csv",
        runs=RESULTS + "/runs.csv",
        metrics=RESULTS + "/metrics.md",
        figures=[RESULTS + f"/{f}.png" for f in FIGURES],
    log:
        WORK + "/logs/report.log",
    params:
        run_dirs=lambda w, input: " ".join(os.path.dirname(p) for p in input.runs),
        flags=REPORT_FLAGS,
    shell:
        "python -m kwls_jax.reporting.report {params.run_dirs} "
        "--experiment {EXPERIMENT} --out-dir {RESULTS} {params.flags} > {log} 2>&1"
