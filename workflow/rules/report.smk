# Aggregation: paper-style tables, figures, and the W&B record of the experiment.
# Local on a cluster too: the rerun command (profiles_given) comes from this
# process's command line.

localrules: report, publish


rule report:
    input:
        runs=ALL_RUNS,
    output:
        md=REPORT + "/table.md",
        tex=REPORT + "/table.tex",
        csv=REPORT + "/table.csv",
        runs=REPORT + "/runs.csv",
        metrics=REPORT + "/metrics.md",
        calibration=REPORT + "/calibration.png",
        figures=[REPORT + f"/{f}.png" for f in FIGURES],
    log:
        WORK + "/logs/report.log",
    params:
        run_dirs=lambda w, input: " ".join(os.path.dirname(p) for p in input.runs),
        flags=REPORT_FLAGS,
    shell:
        "python -m kwls_jax.reporting.report {params.run_dirs} "
        "--experiment {EXPERIMENT} --out-dir {REPORT} {params.flags} > {log} 2>&1"


# The report is built in work/ and copied to results/ (committed): a fresh
# checkout, which has results/ but no work/, still runs the whole job.
rule publish:
    input:
        rules.report.output,
    output:
        touch(WORK + "/published"),
    shell:
        "mkdir -p {RESULTS} && cp {input} {RESULTS}/"
